package dev.tollgate.operator.status;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.operator.ledger.CallerAccounting;
import dev.tollgate.operator.ledger.SpendLedger;
import dev.tollgate.sidecar.config.report.UsageReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The per-caller part of a Budget's status: the biggest callers of the period and the callers that
 * reached their quota (each announced once per period with a {@code CallerQuotaExceeded} Event).
 * Keys are shown as the sidecars report them, so hashed when the budget hashes keys.
 */
public final class CallerQuotaStatus {
  /** How many callers {@code status.topCallers} lists. */
  public static final int TOP = 10;

  private CallerQuotaStatus() {}

  /**
   * Sets {@code topCallers} and {@code callersOverQuota} from {@code spend} (already in the current
   * period).
   */
  static void apply(Budget budget, BudgetStatus status, SpendLedger.BudgetSpend spend) {
    BudgetSpec.CallerQuota quota = budget.getSpec().getPerCaller();
    if (quota == null) {
      status.setTopCallers(List.of());
      status.setCallersOverQuota(List.of());
      return;
    }
    // _other is not a caller: the callers folded into it are not listed
    Map<String, SpendLedger.Item> callers = new TreeMap<>(spend.byCaller);
    callers.remove(UsageReport.CallerSpend.OTHER);
    status.setTopCallers(BudgetSpendStatus.items(callers).stream().limit(TOP).toList());
    // the callers refused now: one whose quota was raised drops out (the Event stays once per
    // period: the recorder refuses a second Event of the same caller and period)
    status.setCallersOverQuota(new ArrayList<>(CallerAccounting.overQuota(spend, quota)));
  }

  /** Callers over quota in {@code now} that {@code before} (null: none) did not list yet. */
  public static List<String> newlyOverQuota(BudgetStatus before, BudgetStatus now) {
    if (now.getCallersOverQuota() == null) {
      return List.of();
    }
    boolean samePeriod =
        before != null
            && before.getPeriodStart() != null
            && before.getPeriodStart().equals(now.getPeriodStart());
    List<String> known =
        samePeriod && before.getCallersOverQuota() != null
            ? before.getCallersOverQuota()
            : List.of();
    return now.getCallersOverQuota().stream().filter(c -> !known.contains(c)).toList();
  }
}
