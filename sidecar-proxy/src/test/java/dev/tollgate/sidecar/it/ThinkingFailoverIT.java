package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.anthropic.client.AnthropicClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.ThinkingBlock;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.ReasoningEffort;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.tollgate.simulator.Fault;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Extended thinking survives failover (issue #20), checked with the official SDKs as callers: the
 * primary (Anthropic) is down, Claude on Bedrock answers with signed reasoning, whole and streamed;
 * an Anthropic caller gets the thinking block with its signature and can send it back next turn (it
 * reaches Bedrock as {@code reasoningContent} intact); an OpenAI caller's {@code reasoning_effort}
 * becomes Claude's thinking budget and the answer reaches it without the thinking.
 */
class ThinkingFailoverIT {
  private static ProviderSimulator down;
  private static TestBed bed;
  private static AnthropicClient anthropic;
  private static OpenAIClient openai;

  @BeforeAll
  static void start() throws Exception {
    down = ProviderSimulator.start();
    bed =
        TestBed.start(
            """
              - model: think
                retry: {attempts: 0}
                circuitBreaker: {minRequests: 100000}
                tiers:
                  - name: main
                    targets: [{credential: anthropic-down, model: claude-sonnet-4-5}]
                    fallbacks: [{credential: bedrock, model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0"}]
            """,
            """
              - name: anthropic-down
                provider: anthropic
                endpoint: "%s"
                apiKeyFile: "%%2$s/anthropic.key"
            """
                .formatted(down.baseUrl()));
    anthropic = SdkClients.anthropic(bed.sidecar.baseUrl(), "app-key-ignored");
    openai = SdkClients.openAi(bed.sidecar.baseUrl(), "app-key-ignored");
  }

  @AfterAll
  static void stop() throws Exception {
    anthropic.close();
    openai.close();
    bed.close();
    down.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
    down.reset();
    down.behavior(SimulatorBehavior.defaults().withFault(Fault.SERVER_ERROR));
  }

  private static MessageCreateParams.Builder ask() {
    return MessageCreateParams.builder()
        .model("think")
        .maxTokens(2048)
        .enabledThinking(1024)
        .addUserMessage("What is 27 * 453?");
  }

  private static void assertSigned(Message m) {
    ThinkingBlock t = m.content().get(0).thinking().orElseThrow();
    assertThat(t.thinking()).isEqualTo("Let me think this through.");
    assertThat(t.signature()).isEqualTo("EqoBCkgIARABGAIiQL2sim");
    assertThat(m.content().get(1).text().orElseThrow().text()).isNotEmpty();
  }

  @Test
  void anAnthropicCallerGetsSignedThinkingFromBedrockAndSendsItBack() {
    Message m = anthropic.messages().create(ask().build());
    assertSigned(m);
    assertThat(down.stats().requests()).as("the primary was tried").isEqualTo(1);
    JsonNode sent = bed.sim.lastRequest().body();
    assertThat(sent.at("/additionalModelRequestFields/thinking/budget_tokens").asInt())
        .isEqualTo(1024);

    // the next turn carries the signed block back; Bedrock gets it as reasoningContent, intact
    anthropic.messages().create(ask().addMessage(m).addUserMessage("And times two?").build());
    JsonNode turn = bed.sim.lastRequest().body().at("/messages/1/content/0/reasoningContent");
    assertThat(turn.at("/reasoningText/text").asText()).isEqualTo("Let me think this through.");
    assertThat(turn.at("/reasoningText/signature").asText()).isEqualTo("EqoBCkgIARABGAIiQL2sim");
  }

  @Test
  void anAnthropicCallerGetsSignedThinkingStreamedFromBedrock() {
    MessageAccumulator acc = MessageAccumulator.create();
    try (StreamResponse<RawMessageStreamEvent> s =
        anthropic.messages().createStreaming(ask().build())) {
      s.stream().forEach(acc::accumulate);
    }
    assertSigned(acc.message());
    assertThat(down.stats().requests()).isEqualTo(1);
  }

  @Test
  void anOpenAiCallersEffortThinksOnBedrockAndTheAnswerComesWithoutTheThinking() {
    ChatCompletionCreateParams params =
        ChatCompletionCreateParams.builder()
            .model("think")
            .reasoningEffort(ReasoningEffort.LOW)
            .addUserMessage("What is 27 * 453?")
            .build();
    ChatCompletion c = openai.chat().completions().create(params);
    assertThat(c.choices().get(0).message().content().orElseThrow())
        .isNotEmpty()
        .doesNotContain("think this through");
    JsonNode sent = bed.sim.lastRequest().body();
    assertThat(sent.at("/additionalModelRequestFields/thinking/budget_tokens").asInt())
        .isEqualTo(1024);

    ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
    try (com.openai.core.http.StreamResponse<ChatCompletionChunk> s =
        openai.chat().completions().createStreaming(params)) {
      s.stream().forEach(acc::accumulate);
    }
    assertThat(acc.chatCompletion().choices().get(0).message().content().orElseThrow())
        .isNotEmpty()
        .doesNotContain("think this through");
    assertThat(down.stats().requests()).isEqualTo(2);
  }
}
