package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import lombok.Data;
import lombok.NoArgsConstructor;

/** Desired state of a {@link Budget}. */
@Data
@NoArgsConstructor
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@ValidationRule(
    value = "self.onExceeded != 'Downgrade' || has(self.downgrade)",
    message = "downgrade is required when onExceeded is Downgrade")
@ValidationRule(
    value = "!has(self.alerts) || self.alerts.all(a, a >= 1 && a <= 100)",
    message = "alert thresholds are percentages from 1 to 100")
public class BudgetSpec {
  @Required
  @Pattern(ApiFormats.POSITIVE_MONEY)
  @JsonPropertyDescription("USD per period as a decimal string, e.g. \"2500.00\".")
  private String limit;

  @Default("Monthly")
  @JsonPropertyDescription("Budget period in UTC; default Monthly.")
  private Period period;

  @Size(max = 10)
  @JsonPropertyDescription(
      "Thresholds in percent of the limit; each crossing emits one Event per period. Default"
          + " [50, 90].")
  private List<Integer> alerts = new ArrayList<>();

  // A schema default, not only prose: the API server fills it in before the CEL rules read it.
  @Default("Block")
  @JsonPropertyDescription("What happens at the limit; default Block.")
  private ExceededAction onExceeded;

  @JsonPropertyDescription(
      "Where traffic goes at the limit when onExceeded is Downgrade. A tier keeps its own"
          + " fallbacks; a target has none, so its outage fails calls until the period ends.")
  private Downgrade downgrade;

  @JsonPropertyDescription("Names of the LLMRoutes this budget covers; empty: the whole namespace.")
  private List<String> routes = new ArrayList<>();

  @JsonPropertyDescription(
      "Per-caller quotas inside the budget: a caller over its quota is refused (budget-exceeded"
          + " error) whatever onExceeded says; calls without the header count against the budget"
          + " only.")
  private CallerQuota perCaller;

  /** Budget period; periods start at 00:00 UTC (weeks on Monday, months on the 1st). */
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
    /** Reject with a budget-exceeded error in the caller's format. */
    @JsonProperty("Block")
    BLOCK,
    /** Serve from a named cheaper tier or target. */
    @JsonProperty("Downgrade")
    DOWNGRADE,
    /** Only report: Event, condition and metric. */
    @JsonProperty("AlertOnly")
    ALERT_ONLY
  }

  /** The cheaper tier or target used after the limit; name one of the two. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "has(self.tier) != has(self.target)",
      message = "name exactly one of downgrade.tier and downgrade.target")
  public static class Downgrade {
    @Pattern(ApiFormats.DNS_LABEL)
    @JsonPropertyDescription("A tier of each covered route, e.g. simple.")
    private String tier;

    private LLMRouteSpec.TargetRef target;
  }

  /** A quota per caller, keyed by a request header. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class CallerQuota {
    @Required
    @Pattern(ApiFormats.HEADER_NAME)
    @JsonPropertyDescription("Request header naming the caller, e.g. x-tollgate-user.")
    private String header;

    @Required
    @Pattern(ApiFormats.POSITIVE_MONEY)
    @JsonPropertyDescription("USD per caller per period.")
    private String limit;

    @JsonPropertyDescription(
        "Replace caller ids in the sidecar by keyed SHA-256 pseudonyms (sha256:<16 hex>) before"
            + " they reach reports, status and Events. Ids that are not short identifiers are"
            + " always hashed.")
    private Boolean hashKeys;
  }
}
