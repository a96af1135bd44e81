package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.InternalServerException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.simulator.Fault;
import dev.tollgate.simulator.SimulatorBehavior;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * #20 R4: when every target and fallback of a request fails, a route with serveStaleOnError answers
 * from its response cache, answers past their ttl included, marked {@code x-tollgate-cache: stale},
 * counted and metered as a hit; a route without it, a request that bypasses the cache and a
 * question never answered before still get the error. Through a real sidecar, the simulator and the
 * official OpenAI SDK.
 */
class StaleAnswersIT {
  static final String ROUTES =
      """
        - model: stale-ok
          retry: {attempts: 1}
          cache: {response: {enabled: true, ttl: 1s, serveStaleOnError: {enabled: true, maxAge: 1h}}}
          tiers:
            - name: main
              targets: [{credential: openai, model: gpt-4o-mini}]
              fallbacks: [{credential: anthropic, model: claude-3-5-sonnet-20241022}]
        - model: no-stale
          retry: {attempts: 0}
          cache: {response: {enabled: true, ttl: 1s}}
          tiers:
            - name: main
              targets: [{credential: openai, model: gpt-4o-mini}]
      """;

  private static TestBed bed;
  private static OpenAIClient openai;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start(ROUTES);
    openai = SdkClients.openAi(bed.sidecar.baseUrl(), "app-key-ignored");
  }

  @AfterAll
  static void stop() throws Exception {
    openai.close();
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private static ChatCompletionCreateParams params(String route, String question) {
    return builder(route, question).build();
  }

  private static ChatCompletionCreateParams.Builder builder(String route, String question) {
    return ChatCompletionCreateParams.builder()
        .model(route)
        .addUserMessage(question)
        .maxTokens(40)
        .temperature(0.0);
  }

  private static String cacheHeader(com.openai.core.http.HttpResponse r) {
    return r.headers().values("x-tollgate-cache").get(0);
  }

  private static double staleMetric(String route) throws Exception {
    return bed.metric(
        "tollgate_response_cache_requests_total{result=\"stale\",route=\"" + route + "\"}");
  }

  /** Answers {@code question} once, then waits until that answer is past its 1 s ttl. */
  private static String answerThenAge(String route, String question) throws Exception {
    ChatCompletion c = openai.chat().completions().create(params(route, question));
    Thread.sleep(1_200);
    return c.choices().get(0).message().content().orElseThrow();
  }

  private static void everyProviderDown() {
    bed.sim.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
  }

  @Test
  void everyTargetDownAnswersStaleAsJsonAndAsStream() throws Exception {
    String original = answerThenAge("stale-ok", "How do I reset my password?");
    double staleBefore = staleMetric("stale-ok");
    UsageLedger.Totals before = bed.sidecar.ledger().total();

    everyProviderDown();
    long callsBefore = bed.sim.stats().requests();
    HttpResponseFor<ChatCompletion> r =
        openai
            .chat()
            .completions()
            .withRawResponse()
            .create(params("stale-ok", "How do I reset my password?"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(cacheHeader(r)).isEqualTo("stale");
    assertThat(r.parse().choices().get(0).message().content()).contains(original);
    // the target and the fallback, each with its retry, were all asked before the stale answer
    assertThat(bed.sim.stats().requests() - callsBefore).isEqualTo(4);

    HttpResponseFor<StreamResponse<ChatCompletionChunk>> streamed =
        openai
            .chat()
            .completions()
            .withRawResponse()
            .createStreaming(params("stale-ok", "How do I reset my password?"));
    assertThat(cacheHeader(streamed)).isEqualTo("stale");
    StringBuilder text = new StringBuilder();
    try (StreamResponse<ChatCompletionChunk> s = streamed.parse()) {
      s.stream()
          .forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
    }
    assertThat(text.toString()).isEqualTo(original);

    assertThat(staleMetric("stale-ok") - staleBefore).isEqualTo(2);
    UsageLedger.Totals after = bed.sidecar.ledger().total();
    assertThat(after.cacheHits() - before.cacheHits()).as("metered as hits").isEqualTo(2);
    assertThat(after.costUsd()).as("nothing spent").isEqualByComparingTo(before.costUsd());
  }

  @Test
  void aHealthyProviderStillAnswersFreshPastTheTtl() throws Exception {
    answerThenAge("stale-ok", "Where is my invoice?");
    long callsBefore = bed.sim.stats().requests();
    HttpResponseFor<ChatCompletion> r =
        openai
            .chat()
            .completions()
            .withRawResponse()
            .create(params("stale-ok", "Where is my invoice?"));
    assertThat(cacheHeader(r)).isEqualTo("miss");
    assertThat(bed.sim.stats().requests() - callsBefore).isEqualTo(1);
  }

  @Test
  void noStaleAnswerForABypassAQuestionNeverAskedOrARouteWithoutIt() throws Exception {
    answerThenAge("stale-ok", "Can I change my plan?");
    answerThenAge("no-stale", "Can I change my plan?");
    everyProviderDown();

    // Cache-Control: no-cache bypasses the lookup, so no stale answer either
    assertThatThrownBy(
            () ->
                openai
                    .chat()
                    .completions()
                    .create(
                        builder("stale-ok", "Can I change my plan?")
                            .putAdditionalHeader("Cache-Control", "no-cache")
                            .build()))
        .isInstanceOf(InternalServerException.class);
    assertThatThrownBy(
            () -> openai.chat().completions().create(params("stale-ok", "Never asked before?")))
        .isInstanceOf(InternalServerException.class);
    assertThatThrownBy(
            () -> openai.chat().completions().create(params("no-stale", "Can I change my plan?")))
        .isInstanceOf(InternalServerException.class);
  }
}
