package dev.tollgate.operator.status;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetStatus;
import dev.tollgate.operator.batch.OpenBatches;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;

/**
 * The Budget's {@code BatchesMetered} condition from the namespace's open provider batches: False
 * (the reason of the last failure) while a batch counting against the budget cannot be metered,
 * True while its batches run normally or once a Budget that had batches has none open. A Budget
 * that never had a batch gets no condition.
 */
public final class BatchesCondition {
  private BatchesCondition() {}

  public static void apply(Budget budget, BudgetStatus status, OpenBatches.Book book, Instant now) {
    String name = budget.getMetadata().getName();
    int open = 0;
    BigDecimal held = BigDecimal.ZERO;
    Map.Entry<String, OpenBatches.Open> failing = null;
    for (Map.Entry<String, OpenBatches.Open> e : book.open.entrySet()) {
      if (!e.getValue().estimates.containsKey(name)) {
        continue;
      }
      open++;
      held = held.add(new BigDecimal(e.getValue().estimates.get(name)));
      if (failing == null && e.getValue().lastError != null) {
        failing = e;
      }
    }
    boolean had = Conditions.find(status.getConditions(), Conditions.BATCHES_METERED).isPresent();
    if (open == 0 && !had) {
      return;
    }
    Long generation = budget.getMetadata().getGeneration();
    if (failing != null) {
      String error = failing.getValue().lastError;
      int colon = error.indexOf(':');
      String reason = colon > 0 ? error.substring(0, colon) : "MeteringFailed";
      status.setConditions(
          Conditions.set(
              status.getConditions(),
              Conditions.BATCHES_METERED,
              false,
              reason.matches("[A-Z][A-Za-z0-9]*") ? reason : "MeteringFailed",
              "batch "
                  + failing.getKey()
                  + " cannot be metered yet ("
                  + error
                  + "); its estimate stays held and the operator keeps asking, see the Events",
              generation,
              now));
      return;
    }
    status.setConditions(
        Conditions.set(
            status.getConditions(),
            Conditions.BATCHES_METERED,
            true,
            open == 0 ? "NoneOpen" : "Running",
            open == 0
                ? "no batch of this budget is open: each was metered, or released as its Event"
                    + " (BatchGone, BatchNotMetered) says"
                : open + " batches running, " + held.toPlainString() + " USD of estimates held",
            generation,
            now));
  }
}
