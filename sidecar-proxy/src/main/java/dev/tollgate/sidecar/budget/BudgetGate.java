package dev.tollgate.sidecar.budget;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.config.BudgetConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Enforces budgets on the call path from the live state of the operator's last reply: a budget that
 * is exceeded, or whose allowance for this sidecar is used up, blocks (HTTP 429 with a
 * budget-exceeded error in the caller's format), downgrades (the route is narrowed to the named
 * tier or target) or only reports, as the Budget's {@code onExceeded} says. Before the first reply
 * nothing is enforced; with the operator away the last reply stays in force.
 */
public final class BudgetGate {
  private static final ObjectMapper JSON = SidecarConfigCodec.jsonMapper();
  private static final BigDecimal DECAY = new BigDecimal("0.8");

  /** A budget as last heard from the operator; {@code mark} is our spend when that report left. */
  private record State(
      String phase,
      String action,
      BigDecimal allowance,
      BigDecimal mark,
      BigDecimal percentUsed,
      BigDecimal batchMark) {}

  /** The key under which {@link #marks} carries a budget's admitted batch estimates. */
  private static final String BATCH_MARK = "batch/";

  private volatile Map<String, State> states = Map.of();
  private volatile Runnable onAllowanceSpent = () -> {};
  private final CallerQuotas callers = new CallerQuotas();
  // cost per budget metered since this sidecar started; compared with the marks above
  private final ConcurrentHashMap<String, BigDecimal> spent = new ConcurrentHashMap<>();
  // estimates of the provider batches this sidecar admitted, per budget, since it started: the
  // operator holds each from the report that carries it, so until its reply to that report the
  // sidecar counts them itself (two batches submitted back to back must not both fit)
  private final ConcurrentHashMap<String, BigDecimal> batches = new ConcurrentHashMap<>();
  // per budget: the expected cost of the calls admitted and not yet ended, and a call's typical
  // cost (moving average of the priced calls), which is what each admitted call holds
  private final ConcurrentHashMap<String, BigDecimal> held = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, BigDecimal> typical = new ConcurrentHashMap<>();

  /**
   * What an admitted call holds against its budget's allowance until it ends: the budget's typical
   * call cost. Without it, every call admitted while the allowance was not yet used up would be
   * served: with 8 concurrent callers a sidecar overshoots by up to 8 calls. With it, a sidecar
   * stops admitting once its spend plus the calls in flight reach the allowance.
   */
  public static final class Hold {
    private final String budget;
    private final BigDecimal amount;
    private boolean released;

    private Hold(String budget, BigDecimal amount) {
      this.budget = budget;
      this.amount = amount;
    }
  }

  /** Meters a finished call against its route's budget. */
  public void recorded(CallRecord r, SidecarConfig cfg) {
    if (cfg == null || r.cost() == null || !r.cost().priced() || r.cost().usd().signum() == 0) {
      return;
    }
    budgetOf(cfg, r.route())
        .ifPresent(
            b -> {
              spent.merge(b, r.cost().usd(), BigDecimal::add);
              typical.merge(
                  b,
                  r.cost().usd(),
                  (avg, cost) ->
                      avg.multiply(DECAY)
                          .add(cost.multiply(BigDecimal.ONE.subtract(DECAY)))
                          .setScale(9, RoundingMode.HALF_UP));
            });
  }

  /**
   * Holds the typical call cost of {@code budget} for a call just admitted on it; null when there
   * is nothing to hold (no budget, no reply yet, no priced call yet). Released by {@link #release}.
   */
  public Hold hold(String budget) {
    if (budget == null || !states.containsKey(budget)) {
      return null;
    }
    BigDecimal amount = typical.get(budget);
    if (amount == null || amount.signum() == 0) {
      return null;
    }
    held.merge(budget, amount, BigDecimal::add);
    return new Hold(budget, amount);
  }

  /** The call of {@code h} ended (its real cost is metered through {@link #recorded}). */
  public void release(Hold h) {
    if (h == null || h.released) {
      return;
    }
    h.released = true;
    held.merge(h.budget, h.amount.negate(), BigDecimal::add);
  }

  /** Called (off the hot path's locks) when a call finds this pod's allowance used up. */
  public void onAllowanceSpent(Runnable r) {
    onAllowanceSpent = r;
    callers.onCrossed(r);
  }

  /** The per-caller quotas of the budgets; fed by the same replies. */
  public CallerQuotas callers() {
    return callers;
  }

  /** A provider accepted a batch this sidecar admitted with {@code estimates} (USD per budget). */
  public void batchAdmitted(Map<String, String> estimates) {
    estimates.forEach(
        (budget, usd) -> {
          try {
            BigDecimal v = new BigDecimal(usd);
            if (v.signum() > 0) {
              batches.merge(budget, v, BigDecimal::add);
            }
          } catch (NumberFormatException e) {
            // estimates are written by this sidecar; an unreadable one counts nothing
          }
        });
  }

  /** Our spend (and admitted batch estimates) per budget so far; taken when a report is built. */
  public Map<String, BigDecimal> marks() {
    Map<String, BigDecimal> marks = new HashMap<>(spent);
    batches.forEach((b, v) -> marks.put(BATCH_MARK + b, v));
    return marks;
  }

  /** Takes the live state of a reply to a report built when spend stood at {@code marks}. */
  public void update(
      dev.tollgate.sidecar.config.report.ReportReply reply, Map<String, BigDecimal> marks) {
    Map<String, State> next = new HashMap<>();
    for (ReportReply.BudgetState b : reply.budgets()) {
      next.put(
          b.name(),
          new State(
              b.phase(),
              b.action(),
              new BigDecimal(b.allowanceUsd()),
              marks.getOrDefault(b.name(), BigDecimal.ZERO),
              percent(b.percentUsed()),
              marks.getOrDefault(BATCH_MARK + b.name(), BigDecimal.ZERO)));
    }
    states = Map.copyOf(next);
    callers.update(reply);
  }

  /** The phase the operator last gave {@code budget}, or null. */
  public String phase(String budget) {
    State s = states.get(budget);
    return s == null ? null : s.phase();
  }

  /**
   * The route to serve {@code route} with: itself, or narrowed to the downgrade of its exhausted
   * budget.
   *
   * @throws ProxyException BUDGET_EXCEEDED when the budget is exhausted and its action is Block
   */
  public RouteConfig admit(RouteConfig route, SidecarConfig cfg) {
    String name = route.budget();
    State s = name == null ? null : states.get(name);
    if (s == null || !exhausted(name, s)) {
      return route;
    }
    if (!"Exceeded".equals(s.phase())) {
      // only this pod's share is spent: ask for a new one now rather than at the next interval
      onAllowanceSpent.run();
    }
    switch (s.action()) {
      case "AlertOnly" -> {
        return route;
      }
      case "Downgrade" -> {
        Optional<BudgetConfig.Downgrade> d = cfg.budget(name).map(BudgetConfig::downgrade);
        if (d.isPresent()) {
          return downgraded(route, d.get());
        }
      }
      default -> {}
    }
    throw new ProxyException(
        ErrorKind.BUDGET_EXCEEDED,
        "budget "
            + name
            + " of namespace "
            + cfg.namespace()
            + ("Exceeded".equals(s.phase())
                ? " is spent for this period"
                : " is almost spent and this pod's share of what remains is used up")
            + "; route "
            + route.model()
            + " is blocked until the period ends or the limit is raised");
  }

  /**
   * The refusal of a call no route governs (passthrough to files, batches, audio...): the first
   * budget of the namespace that is exhausted and blocks, or null when none does.
   */
  public ProxyException blocksUnrouted(SidecarConfig cfg) {
    for (Map.Entry<String, State> e : states.entrySet()) {
      State s = e.getValue();
      if ("Block".equals(s.action()) && exhausted(e.getKey(), s)) {
        return new ProxyException(
            ErrorKind.BUDGET_EXCEEDED,
            "budget "
                + e.getKey()
                + " of namespace "
                + cfg.namespace()
                + " is spent and blocks calls; passthrough calls are blocked with it until the"
                + " period ends or the limit is raised");
      }
    }
    return null;
  }

  /**
   * Admission of a provider batch estimated at {@code estimates} (USD per budget): the refusal of
   * the first budget it does not fit ({@link #admitsBatch(SidecarConfig, String, BigDecimal)}),
   * thrown.
   */
  public void admitBatch(SidecarConfig cfg, Map<String, BigDecimal> estimates) {
    for (Map.Entry<String, BigDecimal> e : estimates.entrySet()) {
      ProxyException refused = admitsBatch(cfg, e.getKey(), e.getValue());
      if (refused != null) {
        throw refused;
      }
    }
  }

  /**
   * Admission of a provider batch estimated at {@code estimate} USD against {@code budget}: refused
   * (BUDGET_EXCEEDED) when the budget blocks and the estimate exceeds what is left of it, as the
   * operator last reported its use ({@code percentUsed} of the limit) less what this sidecar has
   * metered since and the estimates of the batches it admitted since (the operator holds those only
   * from its next reply). Before the first reply, or for a budget that does not block, it is
   * admitted.
   */
  public ProxyException admitsBatch(SidecarConfig cfg, String budget, BigDecimal estimate) {
    State s = states.get(budget);
    Optional<dev.tollgate.sidecar.config.BudgetConfig> config = cfg.budget(budget);
    if (s == null || !"Block".equals(s.action()) || config.isEmpty()) {
      return null;
    }
    BigDecimal limit = config.get().limit();
    BigDecimal used =
        s.percentUsed() == null
            ? BigDecimal.ZERO
            : limit.multiply(s.percentUsed()).divide(BigDecimal.valueOf(100));
    BigDecimal since = spent.getOrDefault(budget, BigDecimal.ZERO).subtract(s.mark());
    BigDecimal batchesSince =
        batches.getOrDefault(budget, BigDecimal.ZERO).subtract(s.batchMark()).max(BigDecimal.ZERO);
    BigDecimal left =
        limit.subtract(used).subtract(since.max(BigDecimal.ZERO)).subtract(batchesSince);
    if (!exhausted(budget, s) && estimate.compareTo(left) <= 0) {
      return null;
    }
    return new ProxyException(
        ErrorKind.BUDGET_EXCEEDED,
        "budget "
            + budget
            + " of namespace "
            + cfg.namespace()
            + " has about "
            + left.max(BigDecimal.ZERO).setScale(6, java.math.RoundingMode.DOWN).toPlainString()
            + " USD left and blocks; this batch is estimated at "
            + estimate.setScale(6, java.math.RoundingMode.UP).toPlainString()
            + " USD at batch prices (input characters / 4 and every item's max_tokens): split"
            + " it, lower max_tokens or raise the limit");
  }

  private boolean exhausted(String budget, State s) {
    if ("Exceeded".equals(s.phase())) {
      return true;
    }
    BigDecimal since = spent.getOrDefault(budget, BigDecimal.ZERO).subtract(s.mark());
    BigDecimal inFlight = held.getOrDefault(budget, BigDecimal.ZERO);
    return since.add(inFlight).compareTo(s.allowance()) >= 0;
  }

  private static BigDecimal percent(String text) {
    try {
      return text == null ? null : new BigDecimal(text);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Optional<String> budgetOf(SidecarConfig cfg, String route) {
    return cfg.route(route).map(RouteConfig::budget);
  }

  /**
   * {@code route} with only the downgrade tier (its {@code when} dropped so that it takes every
   * request), or with one tier sending everything to the downgrade target. Built through the JSON
   * form so that it keeps every other setting of the route, whatever components the record has.
   */
  static RouteConfig downgraded(RouteConfig route, BudgetConfig.Downgrade d) {
    ObjectNode tree = JSON.valueToTree(route);
    ArrayNode tiers = JSON.createArrayNode();
    if (d.tier() != null) {
      for (JsonNode t : tree.withArray("tiers")) {
        if (d.tier().equals(t.path("name").asText())) {
          ObjectNode copy = ((ObjectNode) t).deepCopy();
          copy.remove("when");
          tiers.add(copy);
        }
      }
    } else if (d.target() != null) {
      ObjectNode tier = tiers.addObject();
      tier.put("name", "budget-downgrade");
      ObjectNode target = tier.putArray("targets").addObject();
      target.put("credential", d.target().credential());
      target.put("model", d.target().model());
      target.put("weight", 100);
    }
    if (tiers.isEmpty()) {
      return route;
    }
    tree.set("tiers", tiers);
    try {
      return JSON.treeToValue(tree, RouteConfig.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot build the downgraded route " + route.model(), e);
    }
  }
}
