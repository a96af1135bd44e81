package dev.tollgate.sidecar.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.math.BigDecimal;
import java.util.List;

/**
 * One Budget as the sidecar needs it to enforce the action locally once the operator says the
 * budget is exceeded.
 *
 * @param limit US dollars per period
 * @param period UTC period (default Monthly)
 * @param alerts thresholds in percent (default 50, 90)
 * @param onExceeded action at the limit (default Block)
 * @param downgrade where traffic goes when the action is Downgrade
 * @param routes the routes covered; empty: the whole namespace
 * @param perCaller per-caller quotas inside the budget
 */
public record BudgetConfig(
    String name,
    BigDecimal limit,
    Period period,
    List<Integer> alerts,
    ExceededAction onExceeded,
    Downgrade downgrade,
    List<String> routes,
    CallerQuota perCaller) {

  public BudgetConfig {
    period = Defaults.or(period, Period.MONTHLY);
    alerts = alerts == null || alerts.isEmpty() ? List.of(50, 90) : List.copyOf(alerts);
    onExceeded = Defaults.or(onExceeded, ExceededAction.BLOCK);
    routes = Defaults.list(routes);
  }

  /** Budget period in UTC. */
  public enum Period {
    @JsonProperty("Daily")
    DAILY,
    @JsonProperty("Weekly")
    WEEKLY,
    @JsonProperty("Monthly")
    MONTHLY
  }

  /** The action at the limit. */
  public enum ExceededAction {
    @JsonProperty("Block")
    BLOCK,
    @JsonProperty("Downgrade")
    DOWNGRADE,
    @JsonProperty("AlertOnly")
    ALERT_ONLY
  }

  /** A cheaper tier or target; exactly one of the two. */
  public record Downgrade(String tier, RouteConfig.TargetRef target) {}

  /** A quota per caller keyed by a header value. */
  public record CallerQuota(String header, BigDecimal limit, Boolean hashKeys) {
    public CallerQuota {
      hashKeys = Defaults.or(hashKeys, false);
    }
  }
}
