package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.anthropic.client.AnthropicClient;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.RateLimitException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.simulator.SimulatorBehavior;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The response cache through a real sidecar and the provider simulator, with the official SDKs:
 * identical requests are answered without a provider call, as JSON or as a stream, whichever way
 * the first answer came; changed requests, hot requests and callers saying no-cache or no-store go
 * to the provider.
 */
class ResponseCacheIT {
  static final String ROUTES =
      """
        - model: faq-oa
          retry: {attempts: 0}
          cache: {response: {enabled: true, maxTemperature: 0.2}}
          tiers:
            - name: main
              targets: [{credential: openai, model: gpt-4o-mini}]
        - model: faq-an
          retry: {attempts: 0}
          cache: {response: {enabled: true, maxTemperature: 0.2}}
          tiers:
            - name: main
              targets: [{credential: anthropic, model: claude-3-5-sonnet-20241022}]
        - model: faq-budget
          retry: {attempts: 0}
          budget: support
          cache: {response: {enabled: true}}
          tiers:
            - name: main
              targets: [{credential: openai, model: gpt-4o-mini}]
      budgets:
        - {name: support, limit: "10.00", onExceeded: Block}
      """;

  private static TestBed bed;
  private static OpenAIClient openai;
  private static AnthropicClient anthropic;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start(ROUTES);
    openai = SdkClients.openAi(bed.sidecar.baseUrl(), "app-key-ignored");
    anthropic = SdkClients.anthropic(bed.sidecar.baseUrl(), "app-key-ignored");
  }

  @AfterAll
  static void stop() throws Exception {
    openai.close();
    anthropic.close();
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private static ChatCompletionCreateParams.Builder openAiParams(String route, String question) {
    return ChatCompletionCreateParams.builder()
        .model(route)
        .addSystemMessage("You answer support questions.")
        .addUserMessage(question)
        .maxTokens(40)
        .temperature(0.0);
  }

  private static MessageCreateParams.Builder anthropicParams(String route, String question) {
    return MessageCreateParams.builder()
        .model(route)
        .system("You answer support questions.")
        .addUserMessage(question)
        .maxTokens(40)
        // this SDK version has no temperature setter; the field goes in the body as sent
        .putAdditionalBodyProperty("temperature", com.anthropic.core.JsonValue.from(0));
  }

  private static String cacheHeader(com.openai.core.http.HttpResponse r) {
    return r.headers().values("x-tollgate-cache").get(0);
  }

  private static String cacheHeader(com.anthropic.core.http.HttpResponse r) {
    return r.headers().values("x-tollgate-cache").get(0);
  }

  private static long providerCalls() {
    return bed.sim.stats().requests();
  }

  private static double cacheMetric(String route, String result) throws Exception {
    // the client writes labels sorted by name
    return bed.metric(
        "tollgate_response_cache_requests_total{result=\""
            + result
            + "\",route=\""
            + route
            + "\"}");
  }

  private static String streamText(
      StreamResponse<ChatCompletionChunk> s, List<ChatCompletionChunk> chunks) {
    StringBuilder sb = new StringBuilder();
    s.stream()
        .forEach(
            c -> {
              chunks.add(c);
              c.choices().forEach(ch -> ch.delta().content().ifPresent(sb::append));
            });
    return sb.toString();
  }

  @Test
  void openAiIdenticalRequestsHitAsJsonAndAsStream() throws Exception {
    UsageLedger.Totals before = bed.sidecar.ledger().total();
    double hitsBefore = cacheMetric("faq-oa", "hit");
    ChatCompletionCreateParams p = openAiParams("faq-oa", "How do I reset my password?").build();

    HttpResponseFor<ChatCompletion> first = openai.chat().completions().withRawResponse().create(p);
    assertThat(cacheHeader(first)).isEqualTo("miss");
    ChatCompletion original = first.parse();
    assertThat(providerCalls()).isEqualTo(1);

    HttpResponseFor<ChatCompletion> second =
        openai.chat().completions().withRawResponse().create(p);
    assertThat(cacheHeader(second)).isEqualTo("hit");
    ChatCompletion replayed = second.parse();
    assertThat(replayed.choices().get(0).message().content())
        .isEqualTo(original.choices().get(0).message().content())
        .isPresent();
    assertThat(replayed.choices().get(0).finishReason().asString()).isEqualTo("stop");
    assertThat(replayed.usage()).isEqualTo(original.usage());
    assertThat(providerCalls()).isEqualTo(1);

    // the same request streamed: replayed as a well-formed stream the SDK parses, usage included
    List<ChatCompletionChunk> chunks = new ArrayList<>();
    HttpResponseFor<StreamResponse<ChatCompletionChunk>> streamed =
        openai
            .chat()
            .completions()
            .withRawResponse()
            .createStreaming(
                openAiParams("faq-oa", "How do I reset my password?")
                    .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                    .build());
    assertThat(cacheHeader(streamed)).isEqualTo("hit");
    String text;
    try (StreamResponse<ChatCompletionChunk> s = streamed.parse()) {
      text = streamText(s, chunks);
    }
    assertThat(text).isEqualTo(original.choices().get(0).message().content().orElseThrow());
    assertThat(chunks.get(chunks.size() - 1).usage()).isEqualTo(original.usage());
    assertThat(chunks)
        .anySatisfy(
            c ->
                assertThat(c.choices())
                    .anySatisfy(ch -> assertThat(ch.finishReason()).isPresent()));
    assertThat(providerCalls()).isEqualTo(1);

    // metered: two hits saving the original call's tokens, one provider call spent
    UsageLedger.Totals after = bed.sidecar.ledger().total();
    long output = original.usage().orElseThrow().completionTokens();
    assertThat(after.requests() - before.requests()).isEqualTo(1);
    assertThat(after.cacheHits() - before.cacheHits()).isEqualTo(2);
    assertThat(after.savedOutputTokens() - before.savedOutputTokens()).isEqualTo(2 * output);
    assertThat(after.savedCostUsd().subtract(before.savedCostUsd()))
        .isEqualByComparingTo(
            after.costUsd().subtract(before.costUsd()).multiply(java.math.BigDecimal.valueOf(2)));
    assertThat(cacheMetric("faq-oa", "hit") - hitsBefore).isEqualTo(2);
  }

  @Test
  void anthropicStreamedAnswerIsReplayedAsJsonAndAsStream() {
    MessageCreateParams p = anthropicParams("faq-an", "Where is my invoice?").build();

    List<String> firstTypes = new ArrayList<>();
    var first = anthropic.messages().withRawResponse().createStreaming(p);
    assertThat(cacheHeader(first)).isEqualTo("miss");
    Message original = accumulate(first.parse(), firstTypes);
    assertThat(providerCalls()).isEqualTo(1);

    var json = anthropic.messages().withRawResponse().create(p);
    assertThat(cacheHeader(json)).isEqualTo("hit");
    Message replayed = json.parse();
    assertThat(text(replayed)).isEqualTo(text(original)).isNotEmpty();
    assertThat(replayed.stopReason()).contains(StopReason.END_TURN);
    assertThat(replayed.usage().outputTokens()).isEqualTo(original.usage().outputTokens());
    assertThat(replayed.usage().inputTokens()).isEqualTo(original.usage().inputTokens());

    List<String> types = new ArrayList<>();
    var again = anthropic.messages().withRawResponse().createStreaming(p);
    assertThat(cacheHeader(again)).isEqualTo("hit");
    Message streamed = accumulate(again.parse(), types);
    assertThat(text(streamed)).isEqualTo(text(original));
    assertThat(streamed.stopReason()).contains(StopReason.END_TURN);
    assertThat(types)
        .startsWith("message_start", "content_block_start", "content_block_delta")
        .endsWith("content_block_stop", "message_delta", "message_stop");
    assertThat(providerCalls()).isEqualTo(1);
  }

  @Test
  void aTranslatedStreamIsCachedToo() {
    // an OpenAI caller on an Anthropic target: the stream is translated event by event
    ChatCompletionCreateParams p = openAiParams("faq-an", "Can I change my plan?").build();
    List<ChatCompletionChunk> chunks = new ArrayList<>();
    String streamed;
    try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(p)) {
      streamed = streamText(s, chunks);
    }
    HttpResponseFor<ChatCompletion> hit = openai.chat().completions().withRawResponse().create(p);
    assertThat(cacheHeader(hit)).isEqualTo("hit");
    assertThat(hit.parse().choices().get(0).message().content()).contains(streamed);
    assertThat(providerCalls()).isEqualTo(1);
  }

  @Test
  void aChangedRequestMisses() {
    openai.chat().completions().create(openAiParams("faq-oa", "Do you ship abroad?").build());
    var other =
        openai
            .chat()
            .completions()
            .withRawResponse()
            .create(openAiParams("faq-oa", "Do you ship abroad?").maxTokens(41).build());
    assertThat(cacheHeader(other)).isEqualTo("miss");
    var system =
        openai
            .chat()
            .completions()
            .withRawResponse()
            .create(
                ChatCompletionCreateParams.builder()
                    .model("faq-oa")
                    .addSystemMessage("You answer support questions politely.")
                    .addUserMessage("Do you ship abroad?")
                    .maxTokens(40)
                    .temperature(0.0)
                    .build());
    assertThat(cacheHeader(system)).isEqualTo("miss");
    assertThat(providerCalls()).isEqualTo(3);
  }

  @Test
  void noCacheAsksTheProviderAndRefreshesNoStoreLeavesNothing() {
    ChatCompletionCreateParams p = openAiParams("faq-oa", "What are your opening hours?").build();
    openai.chat().completions().create(p);
    var refreshed =
        openai
            .chat()
            .completions()
            .withRawResponse()
            .create(
                openAiParams("faq-oa", "What are your opening hours?")
                    .putAdditionalHeader("Cache-Control", "no-cache")
                    .build());
    assertThat(cacheHeader(refreshed)).isEqualTo("bypass");
    assertThat(providerCalls()).isEqualTo(2);
    assertThat(cacheHeader(openai.chat().completions().withRawResponse().create(p)))
        .isEqualTo("hit");

    ChatCompletionCreateParams secret =
        openAiParams("faq-oa", "My account number is 1234, what is my balance?")
            .putAdditionalHeader("Cache-Control", "no-store")
            .build();
    assertThat(cacheHeader(openai.chat().completions().withRawResponse().create(secret)))
        .isEqualTo("bypass");
    var after =
        openai
            .chat()
            .completions()
            .withRawResponse()
            .create(
                openAiParams("faq-oa", "My account number is 1234, what is my balance?").build());
    assertThat(cacheHeader(after)).isEqualTo("miss");
    assertThat(providerCalls()).isEqualTo(4);
  }

  @Test
  void requestsHotterThanTheRouteAllowsAreNotCached() throws Exception {
    ChatCompletionCreateParams hot =
        openAiParams("faq-oa", "Write a slogan for us.").temperature(0.9).build();
    for (int i = 0; i < 2; i++) {
      assertThat(cacheHeader(openai.chat().completions().withRawResponse().create(hot)))
          .isEqualTo("bypass");
    }
    assertThat(providerCalls()).isEqualTo(2);
    // and a route without a cache says nothing about caching
    HttpResponse<String> plain =
        bed.post(
            "/v1/chat/completions",
            "{\"model\":\"oa\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(plain.statusCode()).isEqualTo(200);
    assertThat(plain.headers().firstValue("x-tollgate-cache")).isEmpty();
  }

  @Test
  void aToolCallAnswerIsReplayedAsAToolCall() {
    bed.sim.behavior(
        SimulatorBehavior.defaults().withToolCall("find_order", "{\"order\":\"A-17\"}"));
    ChatCompletionFunctionTool tool =
        ChatCompletionFunctionTool.builder()
            .function(
                FunctionDefinition.builder()
                    .name("find_order")
                    .parameters(
                        FunctionParameters.builder()
                            .putAdditionalProperty("type", JsonValue.from("object"))
                            .build())
                    .build())
            .build();
    ChatCompletionCreateParams p =
        openAiParams("faq-an", "Where is order A-17?").addTool(tool).build();
    ChatCompletion first = openai.chat().completions().create(p);
    assertThat(first.choices().get(0).finishReason().asString()).isEqualTo("tool_calls");

    // streamed from the cache: the tool call arrives as tool-call deltas
    StringBuilder args = new StringBuilder();
    List<String> names = new ArrayList<>();
    List<String> finish = new ArrayList<>();
    HttpResponseFor<StreamResponse<ChatCompletionChunk>> streamed =
        openai.chat().completions().withRawResponse().createStreaming(p);
    assertThat(cacheHeader(streamed)).isEqualTo("hit");
    try (StreamResponse<ChatCompletionChunk> s = streamed.parse()) {
      s.stream()
          .flatMap(c -> c.choices().stream())
          .forEach(
              ch -> {
                ch.finishReason().ifPresent(f -> finish.add(f.asString()));
                ch.delta()
                    .toolCalls()
                    .ifPresent(
                        tcs ->
                            tcs.forEach(
                                tc -> {
                                  tc.function().flatMap(f -> f.name()).ifPresent(names::add);
                                  tc.function().flatMap(f -> f.arguments()).ifPresent(args::append);
                                }));
              });
    }
    ChatCompletionMessageFunctionToolCall call =
        first.choices().get(0).message().toolCalls().orElseThrow().get(0).asFunction();
    assertThat(names).containsExactly("find_order");
    assertThat(args.toString()).isEqualTo(call.function().arguments());
    assertThat(finish).containsExactly("tool_calls");
    assertThat(providerCalls()).isEqualTo(1);
  }

  @Test
  void aBlockedBudgetStillLetsTheCacheAnswer() {
    ChatCompletionCreateParams p = openAiParams("faq-budget", "What is the refund window?").build();
    openai.chat().completions().create(p);
    bed.sidecar
        .context()
        .budgetGate()
        .update(
            new ReportReply(
                1,
                null,
                List.of(new ReportReply.BudgetState("support", "Exceeded", "Block", "0", "100"))),
            Map.of());
    try {
      assertThat(cacheHeader(openai.chat().completions().withRawResponse().create(p)))
          .isEqualTo("hit");
      // a miss is refused: it would spend
      assertThatThrownBy(
              () ->
                  openai
                      .chat()
                      .completions()
                      .create(openAiParams("faq-budget", "Something new?").build()))
          .isInstanceOf(RateLimitException.class)
          .hasMessageContaining("budget support");
      assertThat(providerCalls()).isEqualTo(1);
    } finally {
      bed.sidecar.context().budgetGate().update(new ReportReply(2, null, List.of()), Map.of());
    }
  }

  private static Message accumulate(
      com.anthropic.core.http.StreamResponse<RawMessageStreamEvent> s, List<String> types) {
    MessageAccumulator acc = MessageAccumulator.create();
    try (s) {
      s.stream()
          .forEach(
              e -> {
                acc.accumulate(e);
                types.add(
                    e.isMessageStart()
                        ? "message_start"
                        : e.isContentBlockStart()
                            ? "content_block_start"
                            : e.isContentBlockDelta()
                                ? "content_block_delta"
                                : e.isContentBlockStop()
                                    ? "content_block_stop"
                                    : e.isMessageDelta() ? "message_delta" : "message_stop");
              });
    }
    return acc.message();
  }

  private static String text(Message m) {
    StringBuilder sb = new StringBuilder();
    m.content().forEach(b -> b.text().ifPresent(t -> sb.append(t.text())));
    return sb.toString();
  }
}
