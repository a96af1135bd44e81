package dev.tollgate.sidecar.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.Json;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ResponseCachesTest {
  private final AtomicLong nanos = new AtomicLong();
  private final ProxyMetrics metrics = new ProxyMetrics();
  private final UsageLedger ledger = new UsageLedger();
  private final ResponseCaches caches =
      new ResponseCaches(metrics, ledger, nanos::get, Runnable::run);

  private static SidecarConfig config(String namespace, String cache) throws Exception {
    return SidecarConfigCodec.read(
        """
        namespace: %s
        routes:
          - model: faq
            cache: {response: %s}
            tiers: [{name: main, targets: [{credential: openai, model: gpt-4o-mini}]}]
          - model: other
            cache: {response: %s}
            tiers: [{name: main, targets: [{credential: openai, model: gpt-4o-mini}]}]
          - model: plain
            tiers: [{name: main, targets: [{credential: openai, model: gpt-4o-mini}]}]
        credentials:
          - {name: openai, provider: openai, endpoint: "http://127.0.0.1:1/v1", apiKeyFile: /k}
        """
            .formatted(namespace, cache, cache));
  }

  private static ObjectNode request(String question, String temperature) {
    ObjectNode r =
        (ObjectNode)
            Json.parseOrNull(
                "{\"model\":\"faq\",\"messages\":[{\"role\":\"user\",\"content\":\""
                    + question
                    + "\"}]}");
    if (temperature != null) {
      r.put("temperature", new BigDecimal(temperature));
    }
    return r;
  }

  private static CachedAnswer answer(String text) {
    return new CachedAnswer(
        new ChatResponse(
            "chatcmpl-1",
            "gpt-4o-mini",
            List.of(new ChatRequest.Text(text)),
            FinishReason.STOP,
            new Usage(100, 20, 0, 0)),
        "main",
        "openai",
        "openai",
        "gpt-4o-mini",
        new BigDecimal("0.000027"));
  }

  private CacheTicket ticket(SidecarConfig cfg, String route, ObjectNode r, String cacheControl) {
    RouteConfig rc = cfg.route(route).orElseThrow();
    return caches.ticket(
        cfg.namespace(), rc, rc.tiers().get(0), ApiFormat.OPENAI, r, cacheControl, null);
  }

  private CachedAnswer lookup(CacheTicket t) {
    return t.lookup().join();
  }

  @Test
  void anIdenticalRequestHitsAndAChangedOneMisses() throws Exception {
    SidecarConfig cfg = config("team-a", "{enabled: true}");
    caches.configure(cfg);
    CacheTicket first = ticket(cfg, "faq", request("reset password?", "0"), null);
    assertThat(lookup(first)).isNull();
    assertThat(first.header()).isEqualTo("miss");
    first.store(answer("Use the link."));

    CacheTicket again = ticket(cfg, "faq", request("reset password?", "0"), null);
    assertThat(lookup(again).response().text()).isEqualTo("Use the link.");
    assertThat(again.header()).isEqualTo("hit");
    assertThat(lookup(ticket(cfg, "faq", request("reset password!", "0"), null))).isNull();
  }

  @Test
  void routesAndNamespacesNeverShareAnswers() throws Exception {
    SidecarConfig a = config("team-a", "{enabled: true}");
    caches.configure(a);
    ticket(a, "faq", request("q", "0"), null).store(answer("for faq"));
    assertThat(lookup(ticket(a, "other", request("q", "0"), null))).isNull();

    // another tenant's sidecar with the same route name and request
    ResponseCaches otherPod =
        new ResponseCaches(new ProxyMetrics(), ledger, nanos::get, Runnable::run);
    SidecarConfig b = config("team-b", "{enabled: true}");
    otherPod.configure(b);
    RouteConfig faq = b.route("faq").orElseThrow();
    CacheTicket t =
        otherPod.ticket(
            "team-b", faq, faq.tiers().get(0), ApiFormat.OPENAI, request("q", "0"), null, null);
    assertThat(t.key()).isNotEqualTo(ticket(a, "faq", request("q", "0"), null).key());
    assertThat(lookup(t)).isNull();
  }

  @Test
  void aRouteWithoutACacheGetsNoTicket() throws Exception {
    SidecarConfig cfg = config("team-a", "{enabled: false}");
    caches.configure(cfg);
    assertThat(ticket(cfg, "faq", request("q", "0"), null)).isNull();
    assertThat(ticket(cfg, "plain", request("q", "0"), null)).isNull();
  }

  @Test
  void noCacheSkipsTheReadButStoresAndNoStoreDoesNeither() throws Exception {
    SidecarConfig cfg = config("team-a", "{enabled: true}");
    caches.configure(cfg);
    CacheTicket noCache = ticket(cfg, "faq", request("q", "0"), "No-Cache");
    assertThat(noCache.mayRead()).isFalse();
    assertThat(noCache.mayStore()).isTrue();
    assertThat(noCache.header()).isEqualTo("bypass");
    noCache.store(answer("fresh"));
    assertThat(lookup(ticket(cfg, "faq", request("q", "0"), null)).response().text())
        .isEqualTo("fresh");

    CacheTicket noStore = ticket(cfg, "faq", request("q2", "0"), "max-age=0, no-store");
    assertThat(noStore.mayRead()).isFalse();
    assertThat(noStore.mayStore()).isFalse();
    noStore.store(answer("secret"));
    assertThat(lookup(ticket(cfg, "faq", request("q2", "0"), null))).isNull();
  }

  @Test
  void requestsHotterThanTheRouteAllowsAreBypassedUnlessTheRouteSaysSo() throws Exception {
    SidecarConfig cfg = config("team-a", "{enabled: true, maxTemperature: 0.3}");
    caches.configure(cfg);
    assertThat(ticket(cfg, "faq", request("q", "0.3"), null).mayRead()).isTrue();
    CacheTicket hot = ticket(cfg, "faq", request("q", "0.7"), null);
    assertThat(hot.mayRead()).isFalse();
    assertThat(hot.mayStore()).isFalse();
    assertThat(hot.header()).isEqualTo("bypass");
    // no temperature: the provider samples at 1
    assertThat(ticket(cfg, "faq", request("q", null), null).mayRead()).isFalse();
    ObjectNode several = request("q", "0");
    several.put("n", 2);
    assertThat(ticket(cfg, "faq", several, null).mayRead()).isFalse();

    SidecarConfig anyway =
        config("team-a", "{enabled: true, maxTemperature: 0.3, cacheAboveMaxTemperature: true}");
    caches.configure(anyway);
    CacheTicket t = ticket(anyway, "faq", request("q", "0.7"), null);
    assertThat(t.mayRead()).isTrue();
    assertThat(t.mayStore()).isTrue();
  }

  @Test
  void entriesExpireAfterTheTtl() throws Exception {
    SidecarConfig cfg = config("team-a", "{enabled: true, ttl: 10m}");
    caches.configure(cfg);
    ticket(cfg, "faq", request("q", "0"), null).store(answer("a"));
    nanos.addAndGet(Duration.ofMinutes(10).minusNanos(1).toNanos());
    assertThat(lookup(ticket(cfg, "faq", request("q", "0"), null))).isNotNull();
    nanos.addAndGet(1);
    assertThat(lookup(ticket(cfg, "faq", request("q", "0"), null))).isNull();
    assertThat(caches.local("faq").entries()).isZero();
  }

  @Test
  void theEntryBoundEvictsOldAnswers() throws Exception {
    SidecarConfig cfg = config("team-a", "{enabled: true, maxEntries: 3}");
    caches.configure(cfg);
    for (int i = 0; i < 10; i++) {
      ticket(cfg, "faq", request("q" + i, "0"), null).store(answer("answer " + i));
    }
    assertThat(caches.local("faq").entries()).isEqualTo(3);
    long hits = 0;
    for (int i = 0; i < 10; i++) {
      hits += lookup(ticket(cfg, "faq", request("q" + i, "0"), null)) == null ? 0 : 1;
    }
    assertThat(hits).isEqualTo(3);
  }

  @Test
  void theByteBoundEvictsAndAnAnswerBiggerThanTheCacheIsNotKept() throws Exception {
    int one = answer("x".repeat(1000)).toBytes().length;
    SidecarConfig cfg =
        config("team-a", "{enabled: true, maxEntries: 1000, maxSizeBytes: " + (3 * one) + "}");
    caches.configure(cfg);
    for (int i = 0; i < 10; i++) {
      ticket(cfg, "faq", request("q" + i, "0"), null).store(answer("x".repeat(1000)));
    }
    LocalAnswerCache local = caches.local("faq");
    assertThat(local.bytes()).isLessThanOrEqualTo(3L * one).isGreaterThan(0);
    assertThat(local.entries()).isBetween(1L, 3L);

    ticket(cfg, "faq", request("huge", "0"), null).store(answer("y".repeat(4 * one)));
    assertThat(lookup(ticket(cfg, "faq", request("huge", "0"), null))).isNull();
  }

  @Test
  void unfinishedOrFilteredAnswersAreNotCached() throws Exception {
    SidecarConfig cfg = config("team-a", "{enabled: true}");
    caches.configure(cfg);
    CachedAnswer filtered =
        new CachedAnswer(
            new ChatResponse(
                "x",
                "m",
                List.of(new ChatRequest.Text("...")),
                FinishReason.CONTENT_FILTER,
                Usage.ZERO),
            "main",
            "openai",
            "openai",
            "gpt-4o-mini",
            null);
    ticket(cfg, "faq", request("q", "0"), null).store(filtered);
    assertThat(lookup(ticket(cfg, "faq", request("q", "0"), null))).isNull();
  }

  @Test
  void aHitIsMeteredAsSavingsNotAsARequest() throws Exception {
    SidecarConfig cfg = config("team-a", "{enabled: true}");
    caches.configure(cfg);
    caches.meterHit("faq", answer("a"));
    UsageLedger.Totals t = ledger.total();
    assertThat(t.requests()).isZero();
    assertThat(t.costUsd()).isZero();
    assertThat(t.cacheHits()).isEqualTo(1);
    assertThat(t.savedInputTokens()).isEqualTo(100);
    assertThat(t.savedOutputTokens()).isEqualTo(20);
    assertThat(t.savedCostUsd()).isEqualByComparingTo("0.000027");
    String scrape = new String(metrics.scrape(), StandardCharsets.UTF_8);
    assertThat(scrape)
        .contains("tollgate_response_cache_saved_tokens_total{route=\"faq\",type=\"output\"} 20");
  }

  @Test
  void aCachedAnswerSurvivesItsStoredForm() {
    CachedAnswer a =
        new CachedAnswer(
            new ChatResponse(
                "msg_1",
                "claude",
                List.of(
                    new ChatRequest.Text("Let me look."),
                    new ChatRequest.ToolCall("call_1", "lookup", "{\"q\":\"pw\"}")),
                FinishReason.TOOL_CALLS,
                new Usage(10, 5, 3, 2)),
            "main",
            "anthropic",
            "anthropic",
            "claude",
            new BigDecimal("0.0123"));
    assertThat(CachedAnswer.fromBytes(a.toBytes())).isEqualTo(a);
    assertThat(CachedAnswer.fromBytes("{\"v\":99}".getBytes(StandardCharsets.UTF_8))).isNull();
  }
}
