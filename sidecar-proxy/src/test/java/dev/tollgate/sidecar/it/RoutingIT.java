package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.simulator.Fault;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Routing and resilience end to end: two simulators play two providers (an OpenAI account and an
 * Anthropic account) behind one sidecar; tests break one and watch where requests go.
 */
class RoutingIT {
  private static final String CHAT = "/v1/chat/completions";
  private static final String MESSAGES = "/v1/messages";
  private static final String PRIMARY = "gpt-4o-mini";
  private static final String FALLBACK = "claude-3-5-haiku-20241022";

  private static TwoProviders bed;
  private static ProviderSimulator simA;
  private static ProviderSimulator simB;
  private static Sidecar sidecar;

  @BeforeAll
  static void start() throws Exception {
    bed =
        TwoProviders.start(
            routes(),
            """
              - name: c
                provider: openai
                endpoint: "%1$s/v1"
                apiKeyFile: "%2$s/a.key"
                limits: {requestsPerMinute: 3}
            """);
    simA = bed.simA;
    simB = bed.simB;
    sidecar = bed.sidecar;
  }

  private static String routes() {
    String primaryThenFallback =
        """
              - name: main
                targets: [{credential: a, model: %s}]
                fallbacks: [{credential: b, model: %s}]
        """
            .formatted(PRIMARY, FALLBACK);
    return """
          - model: tiered
            tiers:
              - name: vip
                when: {headers: [{name: x-plan, values: [gold]}]}
                targets: [{credential: b, model: claude-3-5-sonnet-20241022}]
              - name: legal
                when: {keywords: [contract]}
                targets: [{credential: b, model: claude-3-5-sonnet-20241022}]
              - name: code
                when: {patterns: ["stack ?trace"]}
                targets: [{credential: b, model: claude-3-5-sonnet-20241022}]
              - name: long
                when: {minInputTokens: 200}
                targets: [{credential: b, model: claude-3-5-sonnet-20241022}]
              - name: cheap
                maxTokens: 16
                targets: [{credential: a, model: %1$s}]
          - model: fo
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            timeouts: {firstToken: 1s, total: 5s}
            tiers:
        %3$s
          - model: cb
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 4, errorRatePercent: 50, window: 30s, cooldown: 1h}
            tiers:
        %3$s
          - model: cbprobe
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 4, errorRatePercent: 50, window: 30s, cooldown: 300ms}
            tiers:
        %3$s
          - model: lonely
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 4, errorRatePercent: 50, window: 30s, cooldown: 1h}
            tiers:
              - name: main
                targets: [{credential: a, model: %1$s}]
          - model: retry
            retry: {attempts: 2, backoffBase: 10ms, backoffCap: 100ms}
            circuitBreaker: {minRequests: 100000}
            tiers:
              - name: main
                targets: [{credential: a, model: %1$s}]
          - model: split
            affinity: {header: x-user}
            tiers:
              - name: main
                targets:
                  - {credential: a, model: %1$s, weight: 50}
                  - {credential: b, model: %2$s, weight: 50}
          - model: limited
            rateLimit: {requestsPerMinute: 20}
            tiers:
              - name: main
                targets: [{credential: a, model: %1$s}]
          - model: scarce
            rateLimit: {requestsPerMinute: 1}
            tiers:
              - name: main
                targets: [{credential: a, model: %1$s}]
          - model: classified
            classifier:
              target: {credential: a, model: %1$s}
              prompt: Is this question hard?
              labels: [t0, hard]
              defaultTier: easy
            tiers:
              - name: strong
                when: {classifierLabels: [t0]}
                targets: [{credential: b, model: claude-3-5-sonnet-20241022}]
              - name: easy
                targets: [{credential: b, model: %2$s}]
          - model: unlabelled
            classifier:
              target: {credential: a, model: %1$s}
              labels: [simple, hard]
              defaultTier: easy
            tiers:
              - name: strong
                when: {classifierLabels: [hard]}
                targets: [{credential: b, model: claude-3-5-sonnet-20241022}]
              - name: other
                targets: [{credential: b, model: claude-3-5-sonnet-20241022}]
              - name: easy
                targets: [{credential: b, model: %2$s}]
          - model: escalating
            escalation: {fromTier: cheap, toTier: strong, lowConfidenceMarker: "t0"}
            tiers:
              - name: cheap
                when: {maxInputTokens: 1000}
                targets: [{credential: a, model: %1$s}]
              - name: strong
                targets: [{credential: b, model: claude-3-5-sonnet-20241022}]
          - model: confident
            escalation: {fromTier: cheap, toTier: strong, lowConfidenceMarker: "UNSURE:"}
            tiers:
              - name: cheap
                when: {maxInputTokens: 1000}
                targets: [{credential: a, model: %1$s}]
              - name: strong
                targets: [{credential: b, model: claude-3-5-sonnet-20241022}]
          - model: credlimited
            tiers:
              - name: main
                targets: [{credential: c, model: %1$s}]
                fallbacks: [{credential: b, model: %2$s}]
          - model: percaller
            rateLimit: {callerHeader: x-user, perCaller: {requestsPerMinute: 2}}
            tiers:
              - name: main
                targets: [{credential: a, model: %1$s}]
          - model: queued
            rateLimit: {requestsPerMinute: 30, maxQueueWait: 10s}
            tiers:
              - name: main
                targets: [{credential: a, model: %1$s}]
        """
        .formatted(PRIMARY, FALLBACK, primaryThenFallback);
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.reset();
  }

  private static HttpResponse<String> post(String path, String body, String... headers)
      throws Exception {
    return bed.post(path, body, headers);
  }

  private static HttpResponse<String> chat(String route, String text, boolean stream)
      throws Exception {
    return post(
        CHAT,
        Json.MAPPER
            .createObjectNode()
            .put("model", route)
            .put("stream", stream)
            .put("max_tokens", 500)
            .set(
                "messages",
                Json.MAPPER
                    .createArrayNode()
                    .add(Json.MAPPER.createObjectNode().put("role", "user").put("content", text)))
            .toString());
  }

  private static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  private static double metric(String sample) throws Exception {
    return bed.metric(sample);
  }

  @Test
  void eachRuleTypeChoosesItsTierAndTheCheapTierClampsOutput() throws Exception {
    assertThat(header(chat("tiered", "hello", false), "x-tollgate-tier")).isEqualTo("cheap");
    assertThat(simA.lastRequest().body().path("max_tokens").asInt())
        .as("the tier's maxTokens clamps the caller's 500")
        .isEqualTo(16);
    assertThat(header(chat("tiered", "Review this Contract", false), "x-tollgate-tier"))
        .isEqualTo("legal");
    assertThat(header(chat("tiered", "here is my stacktrace", false), "x-tollgate-tier"))
        .isEqualTo("code");
    HttpResponse<String> longOne = chat("tiered", "word ".repeat(200), false);
    assertThat(header(longOne, "x-tollgate-tier")).isEqualTo("long");
    assertThat(header(longOne, "x-tollgate-provider")).isEqualTo("anthropic");
    assertThat(header(longOne, "x-tollgate-model")).isEqualTo("claude-3-5-sonnet-20241022");
    String body = "{\"model\":\"tiered\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    assertThat(header(post(CHAT, body, "x-plan", "gold"), "x-tollgate-tier")).isEqualTo("vip");
    assertThat(header(post(CHAT, body, "x-tollgate-tier", "legal"), "x-tollgate-tier"))
        .isEqualTo("legal");
    // the Anthropic format: max_tokens is required there, and clamped the same way
    HttpResponse<String> anthropic =
        post(
            MESSAGES,
            "{\"model\":\"tiered\",\"max_tokens\":900,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(anthropic.statusCode()).isEqualTo(200);
    assertThat(simA.lastRequest().body().path("max_tokens").asInt()).isEqualTo(16);
  }

  @Test
  void everyFailureKindOfThePrimaryFailsOverAndEveryRequestSucceeds() throws Exception {
    long failoversBefore = sidecar.ledger().total().failovers();
    int served = 0;
    for (Fault f :
        List.of(
            Fault.RATE_LIMITED,
            Fault.SERVER_ERROR,
            Fault.OVERLOADED,
            Fault.RESET,
            Fault.GARBAGE,
            Fault.TRUNCATED_BODY,
            Fault.STALL)) {
      simA.behavior(SimulatorBehavior.defaults().withFault(f));
      for (boolean stream : new boolean[] {false, true}) {
        if (f == Fault.STALL && !stream) {
          continue; // a whole answer is bounded only by the total timeout (see README)
        }
        if (f == Fault.TRUNCATED_BODY && stream) {
          continue; // the simulator truncates whole answers only
        }
        HttpResponse<String> r = chat("fo", "hi", stream);
        assertThat(r.statusCode()).as("%s stream=%s: %s", f, stream, r.body()).isEqualTo(200);
        assertThat(header(r, "x-tollgate-provider"))
            .as("%s stream=%s", f, stream)
            .isEqualTo("anthropic");
        assertThat(header(r, "x-tollgate-model")).isEqualTo(FALLBACK);
        assertThat(header(r, "x-tollgate-failovers")).isEqualTo("1");
        assertThat(r.body()).contains(stream ? "[DONE]" : "\"choices\"");
        served++;
      }
    }
    assertThat(simB.stats().answered()).isEqualTo(served);
    assertThat(sidecar.ledger().total().failovers() - failoversBefore).isEqualTo(served);
    assertThat(
            metric(
                "tollgate_failovers_total{model=\"gpt-4o-mini\",provider=\"openai\",route=\"fo\"}"))
        .isGreaterThanOrEqualTo(served);
  }

  @Test
  void officialSdkSeesNoFailureWhenThePrimaryIsDown() {
    simA.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
    OpenAIClient client = SdkClients.openAi(sidecar.baseUrl(), "ignored");
    try {
      for (int i = 0; i < 5; i++) {
        ChatCompletion c =
            client
                .chat()
                .completions()
                .create(
                    ChatCompletionCreateParams.builder().model("fo").addUserMessage("hi").build());
        assertThat(c.choices().get(0).message().content()).isPresent();
      }
    } finally {
      client.close();
    }
    assertThat(simB.stats().answered()).isEqualTo(5);
  }

  @Test
  void aRequestTheProviderRejectsIsReturnedNotRetried() throws Exception {
    simA.behavior(SimulatorBehavior.defaults().withFault(Fault.BAD_REQUEST));
    HttpResponse<String> r = chat("fo", "hi", false);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("this request is invalid");
    assertThat(header(r, "x-tollgate-failovers")).isEqualTo("0");
    assertThat(simA.stats().requests()).isEqualTo(1);
    assertThat(simB.stats().requests()).isZero();
  }

  @Test
  void aStreamBrokenAfterItsFirstByteIsNotRetried() throws Exception {
    simA.behavior(
        SimulatorBehavior.defaults().withFault(Fault.BREAK_STREAM).withUsage(30, 8, 0, 0));
    HttpResponse<String> r = chat("fo", "hi", true);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"error\"").doesNotContain("[DONE]");
    assertThat(simB.stats().requests()).as("no second attempt").isZero();
  }

  @Test
  void retriesTheSameTargetWithBackoffThenReturnsTheProvidersAnswer() throws Exception {
    simA.behavior(SimulatorBehavior.defaults().withFault(Fault.RATE_LIMITED).withRetryAfter(0));
    HttpResponse<String> r = chat("retry", "hi", false);
    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(simA.stats().requests()).as("first attempt and two retries").isEqualTo(3);
    assertThat(header(r, "x-tollgate-failovers")).isEqualTo("2");

    // a provider asking for more patience than the backoff cap allows is answered at once
    simA.reset();
    simA.behavior(SimulatorBehavior.defaults().withFault(Fault.RATE_LIMITED).withRetryAfter(1));
    HttpResponse<String> patient = chat("retry", "hi", false);
    assertThat(patient.statusCode()).isEqualTo(429);
    assertThat(header(patient, "retry-after")).isEqualTo("1");
    assertThat(simA.stats().requests()).as("no retry sooner than Retry-After").isEqualTo(1);
  }

  /** The circuit's gauge for the primary target of {@code route}. */
  private static String circuitState(String route) {
    return "tollgate_circuit_state{model=\"gpt-4o-mini\",provider=\"openai\",route=\"%s\"}"
        .formatted(route);
  }

  /** Four calls whose primary fails, each served by the fallback: enough to open the circuit. */
  private static void failThePrimaryFourTimes(String route) throws Exception {
    simA.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> r = chat(route, "hi", false);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(header(r, "x-tollgate-failovers")).isEqualTo("1");
    }
    assertThat(metric(circuitState(route))).as("open").isEqualTo(1);
  }

  /**
   * The cooldown is an hour, so that the next call cannot be the half-open probe however slowly the
   * machine gets to it (with a short cooldown a pause of that length here sent it to the dead
   * target); the probe is {@link #anOpenCircuitIsProbedAfterItsCooldownAndClosesOnSuccess}'s.
   */
  @Test
  void circuitOpensOnErrorsAndTheNextCallSkipsTheDeadTarget() throws Exception {
    failThePrimaryFourTimes("cb");
    HttpResponse<String> skipped = chat("cb", "hi", false);
    assertThat(skipped.statusCode()).isEqualTo(200);
    assertThat(header(skipped, "x-tollgate-provider")).isEqualTo("anthropic");
    assertThat(header(skipped, "x-tollgate-failovers"))
        .as("the dead target is not even tried")
        .isEqualTo("0");
    assertThat(simA.stats().requests()).isEqualTo(4);
    assertThat(metric(circuitState("cb"))).as("still open").isEqualTo(1);
  }

  @Test
  void anOpenCircuitIsProbedAfterItsCooldownAndClosesOnSuccess() throws Exception {
    failThePrimaryFourTimes("cbprobe");
    simA.behavior(SimulatorBehavior.defaults());
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> "openai".equals(header(chat("cbprobe", "hi", false), "x-tollgate-provider")));
    assertThat(simA.stats().requests()).as("the four failures and one probe").isEqualTo(5);
    assertThat(metric(circuitState("cbprobe"))).as("closed after a successful probe").isZero();
  }

  @Test
  void splitIsStickyPerCallerAndSpreadsCallers() throws Exception {
    String body = "{\"model\":\"split\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    String first = header(post(CHAT, body, "x-user", "alice"), "x-tollgate-provider");
    for (int i = 0; i < 10; i++) {
      assertThat(header(post(CHAT, body, "x-user", "alice"), "x-tollgate-provider"))
          .isEqualTo(first);
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 40; i++) {
      seen.add(header(post(CHAT, body, "x-user", "user-" + i), "x-tollgate-provider"));
    }
    assertThat(seen).containsExactlyInAnyOrder("openai", "anthropic");
  }

  @Test
  void routeRateLimitHoldsWithinFivePercentAndAnswers429InTheCallersFormat() throws Exception {
    int ok = 0;
    HttpResponse<String> limited = null;
    long start = System.nanoTime();
    for (int i = 0; i < 30; i++) {
      HttpResponse<String> r = chat("limited", "hi", false);
      if (r.statusCode() == 200) {
        ok++;
      } else {
        limited = r;
      }
    }
    // 20 per minute, with a burst of one minute's worth; one more refills every 3 s the loop takes
    // (none, or one, unless the machine is slow)
    long refills = Duration.ofNanos(System.nanoTime() - start).toMillis() / 3_000;
    assertThat(ok).isBetween(20, 21 + (int) refills);
    assertThat(limited).isNotNull();
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(Integer.parseInt(header(limited, "retry-after"))).isPositive();
    JsonNode err = Json.MAPPER.readTree(limited.body());
    assertThat(err.at("/error/type").asText()).isEqualTo("rate_limit_error");
    assertThat(simA.stats().requests()).isEqualTo(ok);

    // on a route of one a minute, so that no token can refill between the two calls
    String scarce =
        "{\"model\":\"scarce\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    assertThat(post(MESSAGES, scarce).statusCode()).isEqualTo(200);
    HttpResponse<String> anthropic = post(MESSAGES, scarce);
    assertThat(anthropic.statusCode()).isEqualTo(429);
    JsonNode a = Json.MAPPER.readTree(anthropic.body());
    assertThat(a.path("type").asText()).isEqualTo("error");
    assertThat(a.at("/error/type").asText()).isEqualTo("rate_limit_error");
  }

  private static long ledgerRequests(String route, String tier) {
    return sidecar.ledger().snapshot().entrySet().stream()
        .filter(e -> e.getKey().route().equals(route) && tier.equals(e.getKey().tier()))
        .mapToLong(e -> e.getValue().requests())
        .sum();
  }

  @Test
  void classifierLabelChoosesTheTierIsCachedAndMeteredOnItsOwnLine() throws Exception {
    // the simulator answers "t0 t1 ...", so the classifier's label is t0
    long before = ledgerRequests("classified", "classifier");
    HttpResponse<String> r = chat("classified", "Prove the Riemann hypothesis", false);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(header(r, "x-tollgate-tier")).isEqualTo("strong");
    assertThat(simA.stats().requests()).as("the classifier call").isEqualTo(1);
    assertThat(simA.lastRequest().body().toString()).contains("Is this question hard?");
    assertThat(ledgerRequests("classified", "classifier") - before).isEqualTo(1);
    assertThat(
            sidecar.ledger().snapshot().entrySet().stream()
                .filter(e -> "classifier".equals(e.getKey().tier()))
                .filter(e -> e.getKey().route().equals("classified"))
                .mapToLong(e -> e.getValue().inputTokens())
                .sum())
        .as("the classifier's tokens are metered")
        .isPositive();

    HttpResponse<String> again = chat("classified", "Prove the Riemann hypothesis", false);
    assertThat(header(again, "x-tollgate-tier")).isEqualTo("strong");
    assertThat(simA.stats().requests()).as("served from the classifier cache").isEqualTo(1);
    assertThat(ledgerRequests("classified", "classifier") - before).isEqualTo(1);
  }

  @Test
  void classifierFailureOrUnknownLabelFallsBackToTheDefaultTier() throws Exception {
    HttpResponse<String> unknown = chat("unlabelled", "hello there", false);
    assertThat(unknown.statusCode()).isEqualTo(200);
    assertThat(header(unknown, "x-tollgate-tier")).isEqualTo("easy");

    simA.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
    HttpResponse<String> failed = chat("classified", "a question never asked before", false);
    assertThat(failed.statusCode()).isEqualTo(200);
    assertThat(header(failed, "x-tollgate-tier")).isEqualTo("easy");
    assertThat(header(failed, "x-tollgate-model")).isEqualTo(FALLBACK);
  }

  @Test
  void lowConfidenceAnswerIsAskedAgainOfTheStrongerTierAndBothAreMetered() throws Exception {
    long cheapBefore = ledgerRequests("escalating", "cheap");
    long strongBefore = ledgerRequests("escalating", "strong");
    HttpResponse<String> r = chat("escalating", "hi", false);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(header(r, "x-tollgate-tier")).isEqualTo("strong");
    assertThat(header(r, "x-tollgate-provider")).isEqualTo("anthropic");
    assertThat(simA.stats().answered()).isEqualTo(1);
    assertThat(simB.stats().answered()).isEqualTo(1);
    assertThat(ledgerRequests("escalating", "cheap") - cheapBefore).isEqualTo(1);
    assertThat(ledgerRequests("escalating", "strong") - strongBefore).isEqualTo(1);

    HttpResponse<String> streamed = chat("escalating", "hi", true);
    assertThat(header(streamed, "x-tollgate-tier"))
        .as("streams are not escalated")
        .isEqualTo("cheap");
    assertThat(simB.stats().requests()).isEqualTo(1);

    HttpResponse<String> confident = chat("confident", "hi", false);
    assertThat(header(confident, "x-tollgate-tier")).isEqualTo("cheap");
    assertThat(simB.stats().requests()).isEqualTo(1);
  }

  @Test
  void aCredentialAtItsLimitSendsTheRequestToATargetWithCapacity() throws Exception {
    int primary = 0;
    long start = System.nanoTime();
    for (int i = 0; i < 8; i++) {
      HttpResponse<String> r = chat("credlimited", "hi", false);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(header(r, "x-tollgate-failovers")).isEqualTo("0");
      if ("openai".equals(header(r, "x-tollgate-provider"))) {
        primary++;
      }
    }
    // 3 per minute through credential c: one more refills every 20 s the loop takes
    long refills = Duration.ofNanos(System.nanoTime() - start).toMillis() / 20_000;
    assertThat(primary).as("3 per minute through credential c").isBetween(3, 4 + (int) refills);
    assertThat(simB.stats().answered()).isEqualTo(8 - primary);
  }

  @Test
  void aTierForcedAtRuntimeWinsOverRulesAndTheCallersHeader() throws Exception {
    String body = "{\"model\":\"tiered\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    sidecar.context().tierOverrides().force("tiered", "cheap");
    try {
      assertThat(header(post(CHAT, body, "x-tollgate-tier", "vip"), "x-tollgate-tier"))
          .isEqualTo("cheap");
      assertThat(header(chat("tiered", "a contract", false), "x-tollgate-tier")).isEqualTo("cheap");
    } finally {
      sidecar.context().tierOverrides().clear("tiered");
    }
    assertThat(header(chat("tiered", "a contract", false), "x-tollgate-tier")).isEqualTo("legal");
  }

  @Test
  void callersKeyedByAHeaderHaveTheirOwnLimit() throws Exception {
    String body = "{\"model\":\"percaller\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    assertThat(post(CHAT, body, "x-user", "alice").statusCode()).isEqualTo(200);
    assertThat(post(CHAT, body, "x-user", "alice").statusCode()).isEqualTo(200);
    HttpResponse<String> third = post(CHAT, body, "x-user", "alice");
    assertThat(third.statusCode()).isEqualTo(429);
    assertThat(third.body()).contains("rate_limit_error");
    assertThat(post(CHAT, body, "x-user", "bob").statusCode()).isEqualTo(200);
  }

  @Test
  void aRequestOverTheLimitWaitsUpToMaxQueueWaitInsteadOfFailing() throws Exception {
    for (int i = 0; i < 30; i++) {
      assertThat(chat("queued", "hi", false).statusCode()).isEqualTo(200);
    }
    // the bucket is empty; one request refills every 2 s, well within the 10 s allowed to wait
    assertThat(chat("queued", "hi", false).statusCode()).isEqualTo(200);
    assertThat(simA.stats().requests()).isEqualTo(31);
  }

  @Test
  void aRoutesOnlyTargetIsStillTriedWhenItsCircuitIsOpen() throws Exception {
    simA.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
    for (int i = 0; i < 4; i++) {
      assertThat(chat("lonely", "hi", false).statusCode()).isEqualTo(502);
    }
    assertThat(metric(circuitState("lonely"))).as("open, for an hour").isEqualTo(1);
    simA.behavior(SimulatorBehavior.defaults());
    HttpResponse<String> r = chat("lonely", "hi", false);
    assertThat(r.statusCode()).as("ejection does not take the route down").isEqualTo(200);
    assertThat(header(r, "x-tollgate-provider")).isEqualTo("openai");
    assertThat(simA.stats().requests()).isEqualTo(5);
  }
}
