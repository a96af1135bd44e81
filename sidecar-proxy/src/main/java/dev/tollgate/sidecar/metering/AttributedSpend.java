package dev.tollgate.sidecar.metering;

import dev.tollgate.sidecar.config.report.UsageReport;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Spend per route and end user, and per route and feature tag, metered since the last report, for
 * the operator's ledger ({@code topUsers}, {@code topFeatures} in Budget and LLMRoute status).
 *
 * <p>Bounded: at most {@link #MAX_TRACKED} (route, user or feature) pairs between two reports
 * (later new keys go to {@code _other}); a report carries per route the {@link
 * UsageReport.Attribution#MAX_USERS_PER_ROUTE} biggest users and {@link
 * UsageReport.Attribution#MAX_FEATURES_PER_ROUTE} biggest features, the rest summed into {@code
 * _other}. A drained report that fails is resent unchanged by the reporter, so nothing is counted
 * twice or lost here.
 */
public final class AttributedSpend {
  public static final int MAX_TRACKED = 10_000;

  private record Key(String route, boolean user, String key) {}

  private static final class Sum {
    long requests;
    BigDecimal cost = BigDecimal.ZERO;
  }

  /** The spend a report carries. */
  public record Drained(List<UsageReport.KeySpend> users, List<UsageReport.KeySpend> features) {
    public boolean isEmpty() {
      return users.isEmpty() && features.isEmpty();
    }
  }

  private Map<Key, Sum> pending = new HashMap<>();

  /** Adds a metered call: its cost (zero when unpriced) to its user and its feature. */
  public synchronized void record(CallRecord r) {
    Attribution a = r.attribution();
    if (a == null || r.route() == null) {
      return;
    }
    BigDecimal cost = r.cost() != null && r.cost().priced() ? r.cost().usd() : BigDecimal.ZERO;
    if (a.user() != null) {
      add(new Key(r.route(), true, a.user()), cost);
    }
    if (a.feature() != null) {
      add(new Key(r.route(), false, a.feature()), cost);
    }
  }

  private void add(Key k, BigDecimal cost) {
    Sum s = pending.get(k);
    if (s == null) {
      Key key =
          pending.size() >= MAX_TRACKED
              ? new Key(k.route(), k.user(), UsageReport.Attribution.OTHER)
              : k;
      s = pending.computeIfAbsent(key, x -> new Sum());
    }
    s.requests++;
    s.cost = s.cost.add(cost);
  }

  /**
   * Takes everything metered since the last drain, capped per route, with each route's budget from
   * {@code budgetOf} (null: none).
   */
  public Drained drain(Function<String, String> budgetOf) {
    return drain(budgetOf, (route, user) -> user);
  }

  /**
   * As {@link #drain(Function)}, each user reported as {@code userKey(route, user)}: a pseudonym
   * where the route's Budget hashes caller keys, so that no raw id reaches the operator's ledger or
   * status there.
   */
  public synchronized Drained drain(
      Function<String, String> budgetOf, java.util.function.BinaryOperator<String> userKey) {
    Map<Key, Sum> taken = pending;
    pending = new HashMap<>();
    return new Drained(
        capped(taken, true, UsageReport.Attribution.MAX_USERS_PER_ROUTE, budgetOf, userKey),
        capped(
            taken,
            false,
            UsageReport.Attribution.MAX_FEATURES_PER_ROUTE,
            budgetOf,
            (route, feature) -> feature));
  }

  private static List<UsageReport.KeySpend> capped(
      Map<Key, Sum> taken,
      boolean users,
      int max,
      Function<String, String> budgetOf,
      java.util.function.BinaryOperator<String> keyOf) {
    Map<String, List<Map.Entry<Key, Sum>>> byRoute = new TreeMap<>();
    taken.entrySet().stream()
        .filter(e -> e.getKey().user() == users)
        .forEach(e -> byRoute.computeIfAbsent(e.getKey().route(), r -> new ArrayList<>()).add(e));
    List<UsageReport.KeySpend> out = new ArrayList<>();
    byRoute.forEach(
        (route, entries) -> {
          String budget = budgetOf.apply(route);
          entries.sort(
              Comparator.comparing((Map.Entry<Key, Sum> e) -> e.getValue().cost)
                  .reversed()
                  .thenComparing(e -> e.getKey().key()));
          Sum other = new Sum();
          int kept = 0;
          for (Map.Entry<Key, Sum> e : entries) {
            if (!e.getKey().key().equals(UsageReport.Attribution.OTHER) && kept < max) {
              kept++;
              out.add(
                  new UsageReport.KeySpend(
                      route,
                      budget,
                      keyOf.apply(route, e.getKey().key()),
                      e.getValue().requests,
                      e.getValue().cost.toPlainString()));
            } else {
              other.requests += e.getValue().requests;
              other.cost = other.cost.add(e.getValue().cost);
            }
          }
          if (other.requests > 0) {
            out.add(
                new UsageReport.KeySpend(
                    route,
                    budget,
                    UsageReport.Attribution.OTHER,
                    other.requests,
                    other.cost.toPlainString()));
          }
        });
    return out;
  }
}
