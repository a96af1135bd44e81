package dev.tollgate.sidecar.metering;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;

/**
 * Cost so far of each conversation (the conversation header's key) in this sidecar, to count the
 * conversations that cross a cost threshold without a conversation label on any metric. Bounded: at
 * most {@link #MAX_CONVERSATIONS} conversations, each forgotten a day after its last call (a
 * conversation forgotten and resumed starts again from zero, and can be counted again).
 */
public final class ConversationCosts {
  public static final int MAX_CONVERSATIONS = 10_000;

  /** The default threshold, as the chart's {@code prometheusRule.conversationCostUsd}. */
  public static final BigDecimal DEFAULT_THRESHOLD = new BigDecimal("2");

  private static final class Spent {
    BigDecimal usd = BigDecimal.ZERO;
    boolean over;
  }

  private final BigDecimal threshold;
  private final Cache<String, Spent> spent =
      Caffeine.newBuilder()
          .maximumSize(MAX_CONVERSATIONS)
          .expireAfterAccess(Duration.ofDays(1))
          .build();

  public ConversationCosts(BigDecimal threshold) {
    this.threshold = threshold;
  }

  /**
   * {@code TOLLGATE_CONVERSATION_COST_USD} (a positive decimal), else {@link #DEFAULT_THRESHOLD}.
   */
  public static ConversationCosts fromEnv(Map<String, String> env) {
    String v = env.get("TOLLGATE_CONVERSATION_COST_USD");
    if (v == null || v.isBlank()) {
      return new ConversationCosts(DEFAULT_THRESHOLD);
    }
    BigDecimal t;
    try {
      t = new BigDecimal(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("TOLLGATE_CONVERSATION_COST_USD is not a decimal: " + v);
    }
    if (t.signum() <= 0) {
      throw new IllegalArgumentException("TOLLGATE_CONVERSATION_COST_USD must be positive: " + v);
    }
    return new ConversationCosts(t);
  }

  public BigDecimal threshold() {
    return threshold;
  }

  /**
   * Adds a call's cost to {@code conversation}; true the one time its cost so far reaches the
   * threshold.
   */
  public boolean add(String conversation, BigDecimal usd) {
    Spent s = spent.get(conversation, k -> new Spent());
    synchronized (s) {
      s.usd = s.usd.add(usd);
      if (!s.over && s.usd.compareTo(threshold) >= 0) {
        s.over = true;
        return true;
      }
      return false;
    }
  }
}
