package dev.tollgate.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.wire.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TierSelectorTest {
  private static RouteConfig.Tier tier(String name, RouteConfig.Match when) {
    return new RouteConfig.Tier(
        name, when, List.of(new RouteConfig.Target("c", name + "-model", null)), null, null);
  }

  private static final RouteConfig ROUTE =
      RouteConfig.builder(
              "r",
              List.of(
                  tier(
                      "vip",
                      new RouteConfig.Match(
                          null,
                          null,
                          null,
                          null,
                          List.of(new RouteConfig.HeaderMatch("x-plan", List.of("gold"))),
                          null)),
                  tier(
                      "legal",
                      new RouteConfig.Match(null, null, List.of("Contract"), null, null, null)),
                  tier(
                      "code",
                      new RouteConfig.Match(
                          null, null, null, List.of("```|\\bstack trace\\b"), null, null)),
                  tier(
                      "hard",
                      new RouteConfig.Match(null, null, null, null, null, List.of("complex"))),
                  tier("long", new RouteConfig.Match(100, null, null, null, null, null)),
                  tier("cheap", null)))
          .build();

  private static String select(String userText, Map<String, String> headers, String label) {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.putArray("messages").addObject().put("role", "user").put("content", userText);
    RequestFacts f = RequestFacts.of(body, headers::get).withClassifierLabel(label);
    return TierSelector.select(ROUTE, f).name();
  }

  @Test
  void firstMatchingRuleWinsForEachRuleType() {
    assertThat(select("hello", Map.of(), null)).isEqualTo("cheap");
    assertThat(select("review this contract please", Map.of(), null)).isEqualTo("legal");
    assertThat(select("here is a stack trace", Map.of(), null)).isEqualTo("code");
    assertThat(select("hello", Map.of("x-plan", "gold"), null)).isEqualTo("vip");
    assertThat(select("hello", Map.of("x-plan", "silver"), null)).isEqualTo("cheap");
    assertThat(select("hello", Map.of(), "complex")).isEqualTo("hard");
    assertThat(select("x".repeat(400), Map.of(), null)).isEqualTo("long");
    assertThat(select("x".repeat(396), Map.of(), null)).isEqualTo("cheap");
    // a keyword rule beats a later token rule, whatever the length
    assertThat(select("contract " + "x".repeat(400), Map.of(), null)).isEqualTo("legal");
  }

  @Test
  void tierHeaderNamesATierDirectlyAndIsIgnoredWhenUnknown() {
    assertThat(select("hello", Map.of("x-tollgate-tier", "long"), null)).isEqualTo("long");
    assertThat(select("hello", Map.of("x-tollgate-tier", "nope"), null)).isEqualTo("cheap");
  }

  @Test
  void inputEstimateIsCharactersOverFourOfSystemAndAllMessages() {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("system", "12345678");
    var msgs = body.putArray("messages");
    msgs.addObject().put("role", "user").put("content", "abcd");
    msgs.addObject()
        .put("role", "assistant")
        .putArray("content")
        .addObject()
        .put("type", "text")
        .put("text", "abcde");
    assertThat(RequestFacts.estimateInputTokens(body)).isEqualTo(5); // 17 chars -> ceil(17/4)
  }

  @Test
  void responsesInputAndEmbeddingInputsAreReadLikeMessages() throws Exception {
    var responses =
        Json.MAPPER.readTree(
            """
            {"instructions":"1234","input":[
              {"role":"user","content":"first question"},
              {"role":"assistant","content":"answer"},
              {"role":"user","content":[{"type":"input_text","text":"order status?"}]}]}
            """);
    assertThat(RequestFacts.lastUserText(responses)).isEqualTo("order status?");
    assertThat(RequestFacts.estimateInputTokens(responses)).isEqualTo(10); // 37 chars
    var single = Json.MAPPER.readTree("{\"input\":\"where is my order\"}");
    assertThat(RequestFacts.lastUserText(single)).isEqualTo("where is my order");
    var embeddings = Json.MAPPER.readTree("{\"input\":[\"abcd\",\"efgh\"]}");
    assertThat(RequestFacts.estimateInputTokens(embeddings)).isEqualTo(2);
  }

  @Test
  void outputLimitClampsAndSets() {
    ObjectNode a = Json.MAPPER.createObjectNode().put("max_tokens", 4000);
    OutputLimit.apply(a, 500);
    assertThat(a.get("max_tokens").asInt()).isEqualTo(500);
    ObjectNode b = Json.MAPPER.createObjectNode().put("max_completion_tokens", 100);
    OutputLimit.apply(b, 500);
    assertThat(b.get("max_completion_tokens").asInt()).isEqualTo(100);
    assertThat(b.has("max_tokens")).isFalse();
    ObjectNode c = Json.MAPPER.createObjectNode();
    OutputLimit.apply(c, 500);
    assertThat(c.get("max_tokens").asInt()).isEqualTo(500);
  }
}
