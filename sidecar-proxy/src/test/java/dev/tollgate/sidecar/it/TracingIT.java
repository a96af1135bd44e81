package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.sidecar.trace.Tracing;
import dev.tollgate.sidecar.trace.TracingSettings;
import dev.tollgate.simulator.Fault;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * OpenTelemetry traces end to end: a sidecar in front of two simulated providers exports its spans
 * to an in-memory exporter (and, in one test, over OTLP/HTTP to a small local receiver); the tests
 * assert the GenAI attributes, the attempt spans and the W3C trace context the providers receive.
 */
class TracingIT {
  private static final String PRIMARY = "gpt-4o-mini";
  private static final String FALLBACK = "claude-3-haiku-20240307";
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String APP_SPAN = "00f067aa0ba902b7";
  private static final String TRACEPARENT = "00-" + TRACE_ID + "-" + APP_SPAN + "-01";

  private static TwoProviders bed;
  private static ProviderSimulator simA;
  private static ProviderSimulator simB;
  private static Sidecar sidecar;
  private InMemorySpanExporter spans;

  @BeforeAll
  static void start() throws Exception {
    bed =
        TwoProviders.start(
            """
          - model: fo
            retry: {attempts: 0}
            circuitBreaker: {minRequests: 100000}
            tiers:
              - name: main
                targets: [{credential: a, model: %1$s}]
                fallbacks: [{credential: b, model: %2$s}]
          - model: retry
            retry: {attempts: 2, backoffBase: 10ms, backoffCap: 50ms}
            circuitBreaker: {minRequests: 100000}
            tiers:
              - name: main
                targets: [{credential: a, model: %1$s}]
          - model: escalating
            escalation: {fromTier: cheap, toTier: strong, lowConfidenceMarker: "t0"}
            tiers:
              - name: cheap
                when: {maxInputTokens: 1000}
                targets: [{credential: a, model: %1$s}]
              - name: strong
                targets: [{credential: b, model: claude-3-5-sonnet-20241022}]
          - model: classified
            classifier:
              target: {credential: a, model: %1$s}
              labels: [t0, hard]
              defaultTier: easy
            tiers:
              - name: strong
                when: {classifierLabels: [t0]}
                targets: [{credential: b, model: claude-3-5-sonnet-20241022}]
              - name: easy
                targets: [{credential: b, model: %2$s}]
          - model: cached
            cache: {response: {enabled: true}}
            tiers:
              - name: main
                targets: [{credential: a, model: %1$s}]
        """
                .formatted(PRIMARY, FALLBACK),
            "");
    simA = bed.simA;
    simB = bed.simB;
    sidecar = bed.sidecar;
  }

  @BeforeEach
  void traced() {
    bed.reset();
    spans = InMemorySpanExporter.create();
    sidecar.traced(Tracing.with(spans, settings()));
  }

  @AfterEach
  void untraced() {
    sidecar.context().tracing().close();
    sidecar.traced(Tracing.off());
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  /** Every span exported at once (a short schedule delay, and a flush before reading). */
  private static TracingSettings settings() {
    TracingSettings d = TracingSettings.to(URI.create("http://127.0.0.1:1/v1/traces"));
    return new TracingSettings(
        d.endpoint(),
        d.headers(),
        d.exportTimeout(),
        "always_on",
        1.0,
        java.util.Map.of("service.name", "tollgate-sidecar", "k8s.namespace.name", "it"),
        64,
        64,
        Duration.ofMillis(20),
        false,
        d.contentMaxChars());
  }

  @Test
  void aFailedOverCallIsOneGenAiSpanWithAnAttemptSpanPerProvider() throws Exception {
    simA.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
    HttpResponse<String> r =
        chat(
            "fo",
            false,
            "traceparent",
            TRACEPARENT,
            "tracestate",
            "vendor=1",
            "x-tollgate-user",
            "alice",
            "x-tollgate-feature",
            "faq",
            "x-tollgate-conversation",
            "c-42");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);

    SpanData call = callSpan("chat fo");
    assertThat(call.getKind()).isEqualTo(SpanKind.CLIENT);
    assertThat(call.getTraceId()).as("the application's trace").isEqualTo(TRACE_ID);
    assertThat(call.getParentSpanId()).isEqualTo(APP_SPAN);
    assertThat(call.getResource().getAttribute(AttributeKey.stringKey("service.name")))
        .isEqualTo("tollgate-sidecar");
    assertThat(str(call, "gen_ai.operation.name")).isEqualTo("chat");
    assertThat(str(call, "gen_ai.request.model")).isEqualTo("fo");
    assertThat(str(call, "gen_ai.provider.name")).isEqualTo("anthropic");
    assertThat(str(call, "gen_ai.response.model")).isEqualTo(FALLBACK);
    assertThat(num(call, "gen_ai.usage.input_tokens")).isPositive();
    assertThat(num(call, "gen_ai.usage.output_tokens")).isPositive();
    assertThat(
            call.getAttributes().get(AttributeKey.stringArrayKey("gen_ai.response.finish_reasons")))
        .containsExactly("stop");
    assertThat(call.getAttributes().get(AttributeKey.doubleKey("gen_ai.request.temperature")))
        .isEqualTo(0.3);
    assertThat(num(call, "gen_ai.request.max_tokens")).isEqualTo(50);
    assertThat(call.getAttributes().get(AttributeKey.doubleKey("tollgate.cost_usd"))).isPositive();
    assertThat(call.getAttributes().get(AttributeKey.booleanKey("tollgate.cost_priced")))
        .as("set only when the cost is not priced")
        .isNull();
    assertThat(num(call, "tollgate.failovers")).isEqualTo(1);
    assertThat(str(call, "tollgate.route"))
        .as("the route is gen_ai.request.model: not repeated")
        .isNull();
    assertThat(call.getAttributes().get(AttributeKey.booleanKey("tollgate.stream"))).isNull();
    assertThat(call.getAttributes().get(AttributeKey.doubleKey("tollgate.ttft_seconds")))
        .as("only of a streamed answer")
        .isNull();
    assertThat(str(call, "user.id")).isEqualTo("alice");
    assertThat(str(call, "tollgate.feature")).isEqualTo("faq");
    assertThat(str(call, "gen_ai.conversation.id")).isEqualTo("c-42");
    assertThat(call.getStatus().getStatusCode()).isNotEqualTo(StatusCode.ERROR);
    assertThat(call.getEvents()).as("no content unless enabled").isEmpty();

    List<SpanData> attempts = children(call, "tollgate.attempt");
    assertThat(attempts).hasSize(2);
    SpanData first = attempts.get(0);
    SpanData second = attempts.get(1);
    assertThat(str(first, "tollgate.attempt.kind")).isEqualTo("first");
    assertThat(str(first, "gen_ai.provider.name")).isEqualTo("openai");
    assertThat(str(first, "gen_ai.request.model")).isEqualTo(PRIMARY);
    assertThat(str(first, "error.type")).isEqualTo("upstream_error");
    assertThat(num(first, "http.response.status_code")).isEqualTo(500);
    assertThat(first.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(str(first, "server.address")).isEqualTo("127.0.0.1");
    assertThat(str(second, "tollgate.attempt.kind")).isEqualTo("failover");
    assertThat(str(second, "gen_ai.provider.name")).isEqualTo("anthropic");
    assertThat(str(second, "error.type")).isNull();

    // the first attempt's span is recorded after the fact (a call answered at once has none), so
    // its provider got the call span's context; every later provider got its own attempt's
    assertThat(first.getStartEpochNanos()).isGreaterThanOrEqualTo(call.getStartEpochNanos());
    assertThat(first.getEndEpochNanos()).isLessThanOrEqualTo(second.getStartEpochNanos());
    assertThat(simA.lastRequest().header("traceparent"))
        .isEqualTo("00-" + TRACE_ID + "-" + call.getSpanId() + "-01");
    assertThat(simB.lastRequest().header("traceparent"))
        .isEqualTo("00-" + TRACE_ID + "-" + second.getSpanId() + "-01");
    assertThat(simB.lastRequest().header("tracestate")).isEqualTo("vendor=1");
  }

  @Test
  void retriesAreAttemptSpansOfTheirOwnAndAFailedCallIsAnError() throws Exception {
    simA.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
    HttpResponse<String> r = chat("retry", true);
    assertThat(r.statusCode()).isGreaterThanOrEqualTo(500);

    SpanData call = callSpan("chat retry");
    assertThat(call.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(str(call, "error.type")).isEqualTo("upstream_error");
    assertThat(call.getParentSpanId())
        .as("no incoming context: a root span")
        .isEqualTo(io.opentelemetry.api.trace.SpanId.getInvalid());
    assertThat(children(call, "tollgate.attempt"))
        .extracting(s -> str(s, "tollgate.attempt.kind"))
        .containsExactly("first", "retry", "retry");
    assertThat(simA.lastRequest().header("traceparent")).contains(call.getTraceId());
  }

  @Test
  void classifierCacheLookupAndEscalationAreChildSpans() throws Exception {
    assertThat(chat("classified", false).statusCode()).isEqualTo(200);
    SpanData classified = callSpan("chat classified");
    assertThat(children(classified, "tollgate.classifier"))
        .singleElement()
        .satisfies(s -> assertThat(str(s, "tollgate.classifier.label")).isEqualTo("t0"));
    assertThat(str(classified, "tollgate.tier")).isEqualTo("strong");

    spans.reset();
    assertThat(chat("escalating", false).statusCode()).isEqualTo(200);
    SpanData escalated = callSpan("chat escalating");
    assertThat(children(escalated, "tollgate.attempt"))
        .extracting(s -> str(s, "tollgate.attempt.kind"))
        .containsExactly("first", "escalation");
    assertThat(escalated.getEvents())
        .extracting(EventData::getName)
        .contains("tollgate.escalation");
    assertThat(str(escalated, "tollgate.tier")).isEqualTo("strong");

    spans.reset();
    String body =
        "{\"model\":\"cached\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"same\"}]}";
    assertThat(post(body).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> simA.stats().answered() >= 1);
    HttpResponse<String> again = post(body);
    assertThat(again.statusCode()).isEqualTo(200);
    sidecar.context().tracing().flush(2000);
    List<SpanData> lookups =
        spans.getFinishedSpanItems().stream()
            .filter(s -> s.getName().equals("tollgate.cache.lookup"))
            .toList();
    assertThat(lookups)
        .extracting(s -> s.getAttributes().get(AttributeKey.booleanKey("tollgate.cache.hit")))
        .contains(true);
  }

  @Test
  void aCallAnsweredByItsFirstAttemptIsOneSpanThatTheProviderSeesAsItsParent() throws Exception {
    assertThat(chat("fo", false, "traceparent", TRACEPARENT).statusCode()).isEqualTo(200);
    SpanData call = callSpan("chat fo");
    assertThat(children(call, "tollgate.attempt")).isEmpty();
    assertThat(spans.getFinishedSpanItems()).hasSize(1);
    assertThat(str(call, "gen_ai.provider.name")).isEqualTo("openai");
    assertThat(str(call, "server.address")).isEqualTo("127.0.0.1");
    assertThat(num(call, "server.port")).isPositive();
    assertThat(num(call, "http.response.status_code")).isEqualTo(200);
    assertThat(num(call, "tollgate.failovers")).as("set only when there were some").isNull();
    assertThat(call.getAttributes().size())
        .as("16 attributes or fewer: the SDK's attribute map does not grow")
        .isLessThanOrEqualTo(16);
    assertThat(simA.lastRequest().header("traceparent"))
        .isEqualTo("00-" + TRACE_ID + "-" + call.getSpanId() + "-01");

    spans.reset();
    assertThat(chat("fo", true).statusCode()).isEqualTo(200);
    SpanData streamed = callSpan("chat fo");
    assertThat(streamed.getAttributes().get(AttributeKey.booleanKey("tollgate.stream"))).isTrue();
    assertThat(streamed.getAttributes().get(AttributeKey.doubleKey("tollgate.ttft_seconds")))
        .isPositive();
  }

  @Test
  void aPassthroughCallIsASpanWithItsOperationProviderStatusAndBytes() throws Exception {
    com.openai.client.OpenAIClient openai =
        com.openai.client.okhttp.OpenAIOkHttpClient.builder()
            .baseUrl(sidecar.baseUrl() + "/v1")
            .apiKey("app-key")
            .putHeader("traceparent", TRACEPARENT)
            .maxRetries(0)
            .build();
    try {
      byte[] jsonl =
          ("{\"custom_id\":\"1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                  + "\"body\":{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n")
              .getBytes(StandardCharsets.UTF_8);
      openai
          .files()
          .create(
              com.openai.models.files.FileCreateParams.builder()
                  .file(jsonl)
                  .purpose(com.openai.models.files.FilePurpose.BATCH)
                  .build());
      SpanData upload = callSpan("POST files");
      assertThat(upload.getKind()).isEqualTo(SpanKind.CLIENT);
      assertThat(upload.getTraceId()).isEqualTo(TRACE_ID);
      assertThat(upload.getParentSpanId()).isEqualTo(APP_SPAN);
      assertThat(str(upload, "tollgate.passthrough.operation")).isEqualTo("files");
      assertThat(str(upload, "http.request.method")).isEqualTo("POST");
      assertThat(str(upload, "url.path")).isEqualTo("/v1/files");
      assertThat(str(upload, "tollgate.route")).isEqualTo("_passthrough");
      assertThat(str(upload, "gen_ai.provider.name")).isEqualTo("openai");
      assertThat(str(upload, "tollgate.credential")).isEqualTo("a");
      assertThat(str(upload, "server.address")).isEqualTo("127.0.0.1");
      assertThat(num(upload, "http.response.status_code")).isEqualTo(200);
      assertThat(num(upload, "http.request.body.size")).isGreaterThan((long) jsonl.length);
      assertThat(num(upload, "http.response.body.size")).isPositive();
      assertThat(upload.getStatus().getStatusCode()).isNotEqualTo(StatusCode.ERROR);
      assertThat(simA.lastRequest().header("traceparent"))
          .isEqualTo("00-" + TRACE_ID + "-" + upload.getSpanId() + "-01");

      assertThat(openai.files().list().data()).hasSize(1); // the simulator keeps the upload
      SpanData list = callSpan("GET files");
      assertThat(num(list, "http.request.body.size")).isZero();
      assertThat(num(list, "http.response.body.size")).isPositive();

      assertThat(
              org.junit.jupiter.api.Assertions.assertThrows(
                  com.openai.errors.NotFoundException.class,
                  () -> openai.files().retrieve("file-missing")))
          .isNotNull();
      SpanData missing = callSpan("GET files");
      assertThat(str(missing, "url.path")).isEqualTo("/v1/files/file-missing");
      assertThat(num(missing, "http.response.status_code")).isEqualTo(404);
      assertThat(str(missing, "error.type")).isEqualTo("upstream_rejected");
      assertThat(missing.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    } finally {
      openai.close();
    }
  }

  @Test
  void contentIsCapturedOnlyWhenEnabledAndCapped() throws Exception {
    assertThat(chat("fo", false).statusCode()).isEqualTo(200);
    assertThat(callSpan("chat fo").getEvents()).isEmpty();

    sidecar.context().tracing().close();
    spans = InMemorySpanExporter.create();
    sidecar.traced(Tracing.with(spans, settings().withContent(5)));
    assertThat(chat("fo", false).statusCode()).isEqualTo(200);
    SpanData call = callSpan("chat fo");
    assertThat(call.getEvents())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getName()).isEqualTo("gen_ai.client.inference.operation.details");
              String in = e.getAttributes().get(AttributeKey.stringKey("gen_ai.input.messages"));
              assertThat(in).contains("\"role\":\"user\"").contains("\"content\":\"hello\"");
              assertThat(in).doesNotContain("hello there");
              assertThat(e.getAttributes().get(AttributeKey.stringKey("gen_ai.output.messages")))
                  .contains("\"role\":\"assistant\"");
            });
  }

  @Test
  void withTracingOffTheApplicationsContextStillReachesTheProvider() throws Exception {
    sidecar.context().tracing().close();
    sidecar.traced(Tracing.off());
    assertThat(chat("fo", false, "traceparent", TRACEPARENT).statusCode()).isEqualTo(200);
    assertThat(simA.lastRequest().header("traceparent")).isEqualTo(TRACEPARENT);
    assertThat(spans.getFinishedSpanItems()).isEmpty();
  }

  @Test
  void aStuckCollectorDropsSpansAndCountsThemWithoutHoldingCalls() throws Exception {
    sidecar.context().tracing().close();
    CountDownLatch release = new CountDownLatch(1);
    SpanExporter stuck =
        new SpanExporter() {
          @Override
          public CompletableResultCode export(Collection<SpanData> batch) {
            CompletableResultCode r = new CompletableResultCode();
            Thread waiter =
                new Thread(
                    () -> {
                      try {
                        release.await();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                      r.succeed();
                    });
            waiter.setDaemon(true);
            waiter.start();
            return r;
          }

          @Override
          public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode shutdown() {
            release.countDown();
            return CompletableResultCode.ofSuccess();
          }
        };
    TracingSettings s = settings();
    sidecar.traced(
        Tracing.with(
            stuck,
            new TracingSettings(
                s.endpoint(),
                s.headers(),
                Duration.ofSeconds(30),
                s.sampler(),
                1.0,
                s.resource(),
                2,
                1,
                Duration.ofMillis(10),
                false,
                100)));
    for (int i = 0; i < 10; i++) {
      assertThat(chat("fo", false).statusCode()).isEqualTo(200);
    }
    assertThat(sidecar.context().tracing().droppedSpans()).isPositive();
    assertThat(metric("tollgate_trace_spans_dropped_total")).isPositive();
    release.countDown();
  }

  @Test
  void spansReachAnOtlpHttpReceiver() throws Exception {
    List<byte[]> received = new CopyOnWriteArrayList<>();
    List<String> types = new CopyOnWriteArrayList<>();
    HttpServer receiver =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    receiver.createContext(
        "/v1/traces",
        ex -> {
          ByteArrayOutputStream b = new ByteArrayOutputStream();
          ex.getRequestBody().transferTo(b);
          received.add(b.toByteArray());
          types.add(ex.getRequestHeaders().getFirst("content-type"));
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    receiver.start();
    try {
      sidecar.context().tracing().close();
      Tracing otlp =
          Tracing.start(
              TracingSettings.fromEnv(
                  java.util.Map.of(
                      "OTEL_EXPORTER_OTLP_ENDPOINT",
                      "http://127.0.0.1:" + receiver.getAddress().getPort(),
                      "OTEL_SERVICE_NAME",
                      "tollgate-it")));
      assertThat(otlp.enabled()).isTrue();
      sidecar.traced(otlp);
      assertThat(chat("fo", false, "traceparent", TRACEPARENT).statusCode()).isEqualTo(200);
      otlp.flush(5000);
      await().atMost(Duration.ofSeconds(10)).until(() -> !received.isEmpty());
      String payload = new String(received.get(0), StandardCharsets.ISO_8859_1);
      assertThat(types.get(0)).isEqualTo("application/x-protobuf");
      assertThat(payload)
          .contains("tollgate-it")
          .contains("chat fo")
          .contains("gen_ai.usage.output_tokens")
          .contains("server.address");
    } finally {
      receiver.stop(0);
    }
  }

  // ---- helpers ----

  private SpanData callSpan(String name) {
    sidecar.context().tracing().flush(2000);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> spans.getFinishedSpanItems().stream().anyMatch(s -> s.getName().equals(name)));
    return spans.getFinishedSpanItems().stream()
        .filter(s -> s.getName().equals(name))
        .reduce((a, b) -> b)
        .orElseThrow();
  }

  private List<SpanData> children(SpanData parent, String name) {
    return spans.getFinishedSpanItems().stream()
        .filter(s -> s.getParentSpanId().equals(parent.getSpanId()) && s.getName().equals(name))
        .sorted(java.util.Comparator.comparingLong(SpanData::getStartEpochNanos))
        .toList();
  }

  private static String str(SpanData s, String key) {
    return s.getAttributes().get(AttributeKey.stringKey(key));
  }

  private static Long num(SpanData s, String key) {
    return s.getAttributes().get(AttributeKey.longKey(key));
  }

  private static HttpResponse<String> chat(String model, boolean stream, String... headers)
      throws Exception {
    return post(
        "{\"model\":\""
            + model
            + "\",\"stream\":"
            + stream
            + ",\"temperature\":0.3,\"max_tokens\":50,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}",
        headers);
  }

  private static HttpResponse<String> post(String body, String... headers) throws Exception {
    return bed.post("/v1/chat/completions", body, headers);
  }

  private static double metric(String sample) throws Exception {
    return bed.metric(sample);
  }
}
