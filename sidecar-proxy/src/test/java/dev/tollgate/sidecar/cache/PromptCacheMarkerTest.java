package dev.tollgate.sidecar.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker.Outcome;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.config.RouteConfig.PromptCaching;
import dev.tollgate.sidecar.provider.ProviderAdapters;
import dev.tollgate.sidecar.provider.anthropic.AnthropicWire;
import dev.tollgate.sidecar.provider.bedrock.BedrockAdapter;
import dev.tollgate.sidecar.provider.openai.OpenAiWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.Json;
import org.junit.jupiter.api.Test;

/**
 * The prefix estimate is characters / 3.5, rounded up: 3,584 characters are exactly 1,024 tokens,
 * 3,580 are 1,023 (3,580 × 2 / 7 = 1,022.9, rounded up), 7,168 are 2,048 and 7,164 are 2,047.
 */
class PromptCacheMarkerTest {
  private static final PromptCaching ON = new PromptCaching(true, null);
  private static final PromptCaching OFF = new PromptCaching(false, null);
  private static final String SONNET = "claude-3-5-sonnet-20241022";
  private static final String HAIKU = "claude-3-haiku-20240307";

  /** {@code n} characters of text that is not all one letter (so a mistake in it would show). */
  private static String text(int n) {
    StringBuilder sb = new StringBuilder(n);
    String words = "Refunds within 30 days. Escalate billing disputes to tier 2. ";
    while (sb.length() < n) {
      sb.append(words);
    }
    sb.setLength(n);
    return sb.toString();
  }

  private static ObjectNode anthropicBody(String system) {
    ObjectNode body = Json.object().put("model", "support-chat").put("max_tokens", 100);
    if (system != null) {
      body.put("system", system);
    }
    body.putArray("messages").addObject().put("role", "user").put("content", "Where is my order?");
    return body;
  }

  private static ObjectNode json(String s) {
    return (ObjectNode) Json.parseOrNull(s);
  }

  /** Applies the marker to an Anthropic caller's body forwarded as sent to Anthropic. */
  private static Outcome forward(PromptCaching caching, String model, ObjectNode body) {
    return PromptCacheMarker.apply(
        caching, ProviderKind.ANTHROPIC, model, body, body, ApiFormat.ANTHROPIC);
  }

  @Test
  void stringSystemPromptAtTheMinimumBecomesOneMarkedBlockWithTheTextUnchanged() {
    String system = text(3584);
    ObjectNode body = anthropicBody(system);

    assertThat(forward(ON, SONNET, body)).isEqualTo(Outcome.MARKED);

    JsonNode blocks = body.get("system");
    assertThat(blocks.isArray()).isTrue();
    assertThat(blocks).hasSize(1);
    assertThat(blocks.at("/0/type").asText()).isEqualTo("text");
    assertThat(blocks.at("/0/text").asText()).isEqualTo(system);
    assertThat(blocks.at("/0/cache_control/type").asText()).isEqualTo("ephemeral");
    // the conversation itself is not marked
    assertThat(Json.write(body.get("messages"))).doesNotContain("cache_control");
  }

  @Test
  void systemPromptJustBelowTheMinimumIsLeftAlone() {
    ObjectNode body = anthropicBody(text(3580));
    ObjectNode before = body.deepCopy();

    assertThat(forward(ON, SONNET, body)).isEqualTo(Outcome.TOO_SHORT);
    assertThat(body).isEqualTo(before);
  }

  @Test
  void longSystemPromptIsMarked() {
    ObjectNode body = anthropicBody(text(20_000));
    assertThat(forward(ON, SONNET, body)).isEqualTo(Outcome.MARKED);
    assertThat(body.at("/system/0/cache_control/type").asText()).isEqualTo("ephemeral");
  }

  @Test
  void haikuModelsNeed2048Tokens() {
    ObjectNode below = anthropicBody(text(7164));
    assertThat(forward(ON, HAIKU, below)).isEqualTo(Outcome.TOO_SHORT);
    assertThat(below.get("system").isTextual()).isTrue();

    ObjectNode at = anthropicBody(text(7168));
    assertThat(forward(ON, HAIKU, at)).isEqualTo(Outcome.MARKED);
    assertThat(at.at("/system/0/cache_control/type").asText()).isEqualTo("ephemeral");

    // the same 2,047-token prompt is long enough for Sonnet
    assertThat(forward(ON, SONNET, anthropicBody(text(7164)))).isEqualTo(Outcome.MARKED);
  }

  @Test
  void routeMinTokensReplacesTheModelsMinimum() {
    PromptCaching min500 = new PromptCaching(true, 500);
    assertThat(forward(min500, SONNET, anthropicBody(text(1750)))).isEqualTo(Outcome.MARKED);
    assertThat(forward(min500, SONNET, anthropicBody(text(1745)))).isEqualTo(Outcome.TOO_SHORT);
    assertThat(PromptCacheMarker.minTokens(min500, HAIKU)).isEqualTo(500);
  }

  @Test
  void disabledRouteAddsNothing() {
    ObjectNode body = anthropicBody(text(20_000));
    ObjectNode before = body.deepCopy();
    assertThat(forward(OFF, SONNET, body)).isEqualTo(Outcome.DISABLED);
    assertThat(body).isEqualTo(before);
  }

  @Test
  void lastToolAndLastSystemBlockAreMarkedAndToolsCountTowardsThePrefix() {
    // a short system prompt, but three tools with long descriptions make the prefix long enough
    ObjectNode body =
        json(
            """
            {"model":"r","max_tokens":50,
             "system":[{"type":"text","text":"You are Acme support."},
                       {"type":"text","text":"Be brief."}],
             "tools":[
               {"name":"a","description":"%s","input_schema":{"type":"object"}},
               {"name":"b","description":"%s","input_schema":{"type":"object"}},
               {"name":"c","description":"short","input_schema":{"type":"object"}}],
             "messages":[{"role":"user","content":"hi"}]}
            """
                .formatted(text(2000), text(2000)));

    assertThat(forward(ON, SONNET, body)).isEqualTo(Outcome.MARKED);

    assertThat(body.at("/tools/0").has("cache_control")).isFalse();
    assertThat(body.at("/tools/1").has("cache_control")).isFalse();
    assertThat(body.at("/tools/2/cache_control/type").asText()).isEqualTo("ephemeral");
    assertThat(body.at("/system/0").has("cache_control")).isFalse();
    assertThat(body.at("/system/1/cache_control/type").asText()).isEqualTo("ephemeral");
    assertThat(body.at("/system/1/text").asText()).isEqualTo("Be brief.");
    assertThat(countMarks(body)).isEqualTo(2);
  }

  @Test
  void callerBreakpointsAreKeptAndNothingIsAdded() {
    ObjectNode body =
        json(
            """
            {"model":"r","max_tokens":50,"system":"%s",
             "messages":[{"role":"user","content":[
               {"type":"text","text":"Here is the contract.","cache_control":{"type":"ephemeral","ttl":"1h"}},
               {"type":"text","text":"Summarise it."}]}]}
            """
                .formatted(text(20_000)));
    ObjectNode before = body.deepCopy();

    assertThat(forward(ON, SONNET, body)).isEqualTo(Outcome.CALLER_MARKS);
    assertThat(body).isEqualTo(before);
  }

  @Test
  void openAiCallerRoutedToAnthropicGetsTheMark() {
    String system = text(5000);
    ObjectNode caller =
        json(
            """
            {"model":"support-chat","messages":[
              {"role":"system","content":"%s"},
              {"role":"user","content":"Where is my order?"}]}
            """
                .formatted(system));
    ChatRequest neutral = OpenAiWire.parseRequest(caller);
    ObjectNode out = AnthropicWire.encodeRequest(neutral, SONNET);

    Outcome o =
        PromptCacheMarker.apply(ON, ProviderKind.ANTHROPIC, SONNET, out, caller, ApiFormat.OPENAI);

    assertThat(o).isEqualTo(Outcome.MARKED);
    assertThat(out.at("/system/0/text").asText()).isEqualTo(system);
    assertThat(out.at("/system/0/cache_control/type").asText()).isEqualTo("ephemeral");
  }

  @Test
  void vertexClaudeIsMarkedLikeAnthropic() {
    ObjectNode caller = anthropicBody(text(5000));
    ObjectNode out =
        ProviderAdapters.forProvider(ProviderKind.VERTEX_AI)
            .encode(AnthropicWire.parseRequest(caller), "claude-3-5-sonnet@20240620");

    Outcome o =
        PromptCacheMarker.apply(
            ON,
            ProviderKind.VERTEX_AI,
            "claude-3-5-sonnet@20240620",
            out,
            caller,
            ApiFormat.ANTHROPIC);

    assertThat(o).isEqualTo(Outcome.MARKED);
    assertThat(out.at("/system/0/cache_control/type").asText()).isEqualTo("ephemeral");
  }

  @Test
  void bedrockClaudeGetsCachePointBlocks() {
    ObjectNode caller =
        json(
            """
            {"model":"r","messages":[{"role":"system","content":"%s"},{"role":"user","content":"hi"}],
             "tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}},
                      {"type":"function","function":{"name":"refund","parameters":{"type":"object"}}}]}
            """
                .formatted(text(5000)));
    String model = "anthropic.claude-3-5-sonnet-20241022-v2:0";
    ObjectNode out =
        ProviderAdapters.forProvider(ProviderKind.BEDROCK)
            .encode(OpenAiWire.parseRequest(caller), model);

    Outcome o =
        PromptCacheMarker.apply(ON, ProviderKind.BEDROCK, model, out, caller, ApiFormat.OPENAI);

    assertThat(o).isEqualTo(Outcome.MARKED);
    assertThat(out.at("/system/0/text").asText()).isEqualTo(text(5000));
    assertThat(out.at("/system/1/cachePoint/type").asText()).isEqualTo("default");
    assertThat(out.at("/system")).hasSize(2);
    JsonNode tools = out.at("/toolConfig/tools");
    assertThat(tools).hasSize(3);
    assertThat(tools.at("/1/toolSpec/name").asText()).isEqualTo("refund");
    assertThat(tools.at("/2/cachePoint/type").asText()).isEqualTo("default");
  }

  @Test
  void nonClaudeTargetsAreUntouched() {
    ObjectNode caller = anthropicBody(text(20_000));
    ChatRequest neutral = AnthropicWire.parseRequest(caller);
    record Target(ProviderKind provider, String model) {}
    for (Target t :
        new Target[] {
          new Target(ProviderKind.OPENAI, "gpt-4o"),
          new Target(ProviderKind.GROQ, "llama-3.1-70b-versatile"),
          new Target(ProviderKind.GEMINI, "gemini-1.5-flash"),
          new Target(ProviderKind.VERTEX_AI, "gemini-1.5-flash"),
          new Target(ProviderKind.BEDROCK, "meta.llama3-1-70b-instruct-v1:0")
        }) {
      ObjectNode out = ProviderAdapters.forProvider(t.provider()).encode(neutral, t.model());
      ObjectNode before = out.deepCopy();
      assertThat(
              PromptCacheMarker.apply(
                  ON, t.provider(), t.model(), out, caller, ApiFormat.ANTHROPIC))
          .as(t.toString())
          .isEqualTo(Outcome.NOT_APPLICABLE);
      assertThat(out).as(t.toString()).isEqualTo(before);
    }
  }

  @Test
  void bedrockModelsWithoutPromptCachingAreNeverMarkedNorGivenTheCallersMarks() {
    // Bedrock answers 400 to a cachePoint for these: the original Claude 3 models, 3.5 Sonnet v1
    for (String model :
        new String[] {
          "anthropic.claude-3-haiku-20240307-v1:0",
          "anthropic.claude-3-opus-20240229-v1:0",
          "us.anthropic.claude-3-sonnet-20240229-v1:0",
          "anthropic.claude-3-5-sonnet-20240620-v1:0",
          "anthropic.claude-instant-v1",
          "amazon.nova-pro-v1:0"
        }) {
      for (ObjectNode caller :
          new ObjectNode[] {anthropicBody(text(20_000)), json(MARKED_CALLER)}) {
        ObjectNode out =
            ProviderAdapters.forProvider(ProviderKind.BEDROCK)
                .encode(AnthropicWire.parseRequest(caller), model);
        assertThat(
                PromptCacheMarker.apply(
                    ON, ProviderKind.BEDROCK, model, out, caller, ApiFormat.ANTHROPIC))
            .as(model)
            .isEqualTo(Outcome.NOT_APPLICABLE);
        assertThat(Json.write(out)).as(model).doesNotContain("cachePoint");
      }
    }
    for (String model :
        new String[] {
          "anthropic.claude-3-5-sonnet-20241022-v2:0",
          "anthropic.claude-3-5-haiku-20241022-v1:0",
          "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
          "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
        }) {
      assertThat(BedrockAdapter.cachesPrompts(model)).as(model).isTrue();
    }
  }

  /** An Anthropic caller with marks on a system block, a tool and two message blocks. */
  private static final String MARKED_CALLER =
      """
      {"model":"r","max_tokens":50,
       "system":[{"type":"text","text":"Policies.","cache_control":{"type":"ephemeral"}},
                 {"type":"text","text":"Tone."}],
       "tools":[{"name":"lookup","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}},
                {"name":"refund","input_schema":{"type":"object"}}],
       "messages":[
         {"role":"user","content":[
           {"type":"text","text":"Contract text.","cache_control":{"type":"ephemeral","ttl":"1h"}},
           {"type":"text","text":""},
           {"type":"text","text":"Question one?"}]},
         {"role":"assistant","content":[
           {"type":"text","text":"Let me look."},
           {"type":"tool_use","id":"tu_1","name":"lookup","input":{"id":7}}]},
         {"role":"user","content":[
           {"type":"tool_result","tool_use_id":"tu_1","content":"order 7 shipped",
            "cache_control":{"type":"ephemeral"}}]},
         {"role":"user","content":"And the refund?"}]}
      """;

  @Test
  void callerMarksSurviveTranslationToVertexClaude() {
    ObjectNode caller = json(MARKED_CALLER);
    String model = "claude-3-5-sonnet@20240620";
    ObjectNode out =
        ProviderAdapters.forProvider(ProviderKind.VERTEX_AI)
            .encode(AnthropicWire.parseRequest(caller), model);

    // the route does not even enable prompt caching: the caller's marks are its own
    Outcome o =
        PromptCacheMarker.apply(
            OFF, ProviderKind.VERTEX_AI, model, out, caller, ApiFormat.ANTHROPIC);

    assertThat(o).isEqualTo(Outcome.CALLER_MARKS);
    // translation joins the system blocks: the joined prompt carries the mark
    assertThat(out.at("/system/0/text").asText()).isEqualTo("Policies.\n\nTone.");
    assertThat(out.at("/system/0/cache_control/type").asText()).isEqualTo("ephemeral");
    assertThat(out.at("/tools/0/cache_control/type").asText()).isEqualTo("ephemeral");
    assertThat(out.at("/tools/1").has("cache_control")).isFalse();
    // message 0: the empty text block is dropped, the marked block keeps its mark and its ttl
    assertThat(out.at("/messages/0/content/0/text").asText()).isEqualTo("Contract text.");
    assertThat(out.at("/messages/0/content/0/cache_control/ttl").asText()).isEqualTo("1h");
    assertThat(out.at("/messages/0/content/1").has("cache_control")).isFalse();
    // the tool result and the next user message become one turn; the mark stays on the result
    assertThat(out.at("/messages/2/content/0/type").asText()).isEqualTo("tool_result");
    assertThat(out.at("/messages/2/content/0/cache_control/type").asText()).isEqualTo("ephemeral");
    assertThat(out.at("/messages/2/content/1").has("cache_control")).isFalse();
    assertThat(countMarks(out)).isEqualTo(4);
  }

  @Test
  void callerMarksSurviveTranslationToBedrockClaudeAsCachePoints() {
    ObjectNode caller = json(MARKED_CALLER);
    String model = "anthropic.claude-3-5-sonnet-20241022-v2:0";
    ObjectNode out =
        ProviderAdapters.forProvider(ProviderKind.BEDROCK)
            .encode(AnthropicWire.parseRequest(caller), model);

    Outcome o =
        PromptCacheMarker.apply(ON, ProviderKind.BEDROCK, model, out, caller, ApiFormat.ANTHROPIC);

    assertThat(o).isEqualTo(Outcome.CALLER_MARKS);
    assertThat(out.at("/system/1/cachePoint/type").asText()).isEqualTo("default");
    assertThat(out.at("/toolConfig/tools/0/toolSpec/name").asText()).isEqualTo("lookup");
    assertThat(out.at("/toolConfig/tools/1/cachePoint/type").asText()).isEqualTo("default");
    assertThat(out.at("/toolConfig/tools/2/toolSpec/name").asText()).isEqualTo("refund");
    assertThat(out.at("/messages/0/content/0/text").asText()).isEqualTo("Contract text.");
    assertThat(out.at("/messages/0/content/1/cachePoint/type").asText()).isEqualTo("default");
    assertThat(out.at("/messages/0/content/2/text").asText()).isEqualTo("Question one?");
    assertThat(out.at("/messages/2/content/0/toolResult/toolUseId").asText()).isEqualTo("tu_1");
    assertThat(out.at("/messages/2/content/1/cachePoint/type").asText()).isEqualTo("default");
    assertThat(out.at("/messages/2/content/2/text").asText()).isEqualTo("And the refund?");
    // nothing added beyond the caller's four
    assertThat(Json.write(out).split("cachePoint", -1).length - 1).isEqualTo(4);
  }

  @Test
  void openAiCallerMarksOnContentPartsAreCarriedToAnthropic() {
    ObjectNode caller =
        json(
            """
            {"model":"r","messages":[
              {"role":"system","content":[{"type":"text","text":"Policies.",
                "cache_control":{"type":"ephemeral"}}]},
              {"role":"user","content":[{"type":"text","text":"Contract.",
                "cache_control":{"type":"ephemeral"}}]},
              {"role":"assistant","content":"Read it."},
              {"role":"user","content":"Summarise."}]}
            """);
    ObjectNode out = AnthropicWire.encodeRequest(OpenAiWire.parseRequest(caller), SONNET);

    Outcome o =
        PromptCacheMarker.apply(ON, ProviderKind.ANTHROPIC, SONNET, out, caller, ApiFormat.OPENAI);

    assertThat(o).isEqualTo(Outcome.CALLER_MARKS);
    assertThat(out.at("/system/0/cache_control/type").asText()).isEqualTo("ephemeral");
    assertThat(out.at("/messages/0/content/0/cache_control/type").asText()).isEqualTo("ephemeral");
    assertThat(out.at("/messages/2/content/0").has("cache_control")).isFalse();
    assertThat(countMarks(out)).isEqualTo(2);
  }

  @Test
  void neverMoreThanFourBreakpoints() {
    // five marked caller blocks (more than Anthropic allows) translate to at most four
    ObjectNode caller =
        json(
            """
            {"model":"r","max_tokens":5,"messages":[
              {"role":"user","content":[{"type":"text","text":"1","cache_control":{"type":"ephemeral"}}]},
              {"role":"assistant","content":[{"type":"text","text":"2","cache_control":{"type":"ephemeral"}}]},
              {"role":"user","content":[{"type":"text","text":"3","cache_control":{"type":"ephemeral"}}]},
              {"role":"assistant","content":[{"type":"text","text":"4","cache_control":{"type":"ephemeral"}}]},
              {"role":"user","content":[{"type":"text","text":"5","cache_control":{"type":"ephemeral"}}]}]}
            """);
    ObjectNode out =
        ProviderAdapters.forProvider(ProviderKind.VERTEX_AI)
            .encode(AnthropicWire.parseRequest(caller), "claude-3-5-sonnet@20240620");
    PromptCacheMarker.apply(
        ON, ProviderKind.VERTEX_AI, "claude-3-5-sonnet@20240620", out, caller, ApiFormat.ANTHROPIC);
    assertThat(countMarks(out)).isEqualTo(PromptCacheMarker.MAX_BREAKPOINTS);
    // the latest marks are the ones kept: they cover the longest prefixes
    assertThat(out.at("/messages/4/content/0").has("cache_control")).isTrue();
    assertThat(out.at("/messages/0/content/0").has("cache_control")).isFalse();
  }

  private static int countMarks(JsonNode body) {
    return Json.write(body).split("\"cache_control\"", -1).length - 1;
  }
}
