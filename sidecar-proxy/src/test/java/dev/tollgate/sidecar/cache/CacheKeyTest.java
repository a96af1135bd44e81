package dev.tollgate.sidecar.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.Json;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CacheKeyTest {
  private static final RouteConfig.Tier TIER =
      new RouteConfig.Tier(
          "main",
          null,
          List.of(
              new RouteConfig.Target("openai", "gpt-4o-mini", 70),
              new RouteConfig.Target("azure", "gpt-4o-mini", 30)),
          List.of(new RouteConfig.TargetRef("anthropic", "claude-3-5-haiku")),
          null);

  private static final String BASE =
      """
      {"model": "faq", "messages": [
         {"role": "system", "content": "You answer FAQs."},
         {"role": "user", "content": "How do I reset my password?"}],
       "temperature": 0, "top_p": 1, "max_tokens": 200, "stop": ["END"],
       "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
       "tool_choice": "auto", "response_format": {"type": "text"}, "seed": 7}
      """;

  private static ObjectNode base() {
    return (ObjectNode) Json.parseOrNull(BASE);
  }

  private static String key(JsonNode request) {
    return CacheKey.of("team-a", "faq", TIER, ApiFormat.OPENAI, request, null);
  }

  private static String changed(Consumer<ObjectNode> change) {
    ObjectNode r = base();
    change.accept(r);
    return key(r);
  }

  @Test
  void theSameRequestSpelledDifferentlyHasOneKey() {
    String reordered =
        """
        {"seed": 7.0, "response_format": {"type": "text"}, "tool_choice": "auto",
         "tools": [{"function": {"parameters": {"type": "object"}, "name": "lookup"}, "type": "function"}],
         "stop": ["END"], "max_tokens": 200.0, "top_p": 1.00, "temperature": 0.0,
         "messages": [
           {"content": "You answer FAQs.", "role": "system"},
           {"content": "How do I reset my password?", "role": "user"}],
         "model": "faq"}
        """;
    assertThat(key(Json.parseOrNull(reordered))).isEqualTo(key(base())).hasSize(64);
  }

  @Test
  void deliveryAndCallerIdentityAreNotKeyed() {
    String k = key(base());
    assertThat(changed(r -> r.put("stream", true))).isEqualTo(k);
    assertThat(
            changed(
                r -> {
                  r.put("stream", true);
                  r.putObject("stream_options").put("include_usage", true);
                }))
        .isEqualTo(k);
    assertThat(changed(r -> r.put("user", "customer-42"))).isEqualTo(k);
    assertThat(changed(r -> r.putObject("metadata").put("user_id", "u-1"))).isEqualTo(k);
    // the asked model is the route name, already keyed as the route
    assertThat(changed(r -> r.put("model", "other-alias"))).isEqualTo(k);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "system",
        "user",
        "role",
        "extraMessage",
        "temperature",
        "top_p",
        "max_tokens",
        "stop",
        "tools",
        "toolSchema",
        "tool_choice",
        "response_format",
        "seed",
        "unknownField",
        "nestedStream"
      })
  void everyAnswerChangingFieldIsKeyed(String field) {
    String changed =
        changed(
            r -> {
              ObjectNode sys = (ObjectNode) r.get("messages").get(0);
              ObjectNode user = (ObjectNode) r.get("messages").get(1);
              switch (field) {
                case "system" -> sys.put("content", "You answer FAQs briefly.");
                case "user" -> user.put("content", "How do I reset my password? ");
                case "role" -> user.put("role", "assistant");
                case "extraMessage" ->
                    r.withArray("messages").addObject().put("role", "user").put("content", "hi");
                case "temperature" -> r.put("temperature", 0.1);
                case "top_p" -> r.put("top_p", 0.9);
                case "max_tokens" -> r.put("max_tokens", 201);
                case "stop" -> r.putArray("stop").add("STOP");
                case "tools" -> r.remove("tools");
                case "toolSchema" ->
                    ((ObjectNode) r.get("tools").get(0).get("function").get("parameters"))
                        .putObject("properties");
                case "tool_choice" -> r.put("tool_choice", "none");
                case "response_format" -> r.putObject("response_format").put("type", "json_object");
                case "seed" -> r.put("seed", 8);
                case "unknownField" -> r.put("reasoning_effort", "high");
                // only top-level "stream" is ignored; a field of that name deeper is content
                case "nestedStream" -> user.put("stream", true);
                default -> throw new IllegalArgumentException(field);
              }
            });
    assertThat(changed).isNotEqualTo(key(base()));
  }

  @Test
  void namespaceRouteTierModelsFormatAndBetaAreKeyed() {
    String k = key(base());
    ObjectNode r = base();
    assertThat(CacheKey.of("team-b", "faq", TIER, ApiFormat.OPENAI, r, null)).isNotEqualTo(k);
    assertThat(CacheKey.of("team-a", "faq2", TIER, ApiFormat.OPENAI, r, null)).isNotEqualTo(k);
    assertThat(CacheKey.of("team-a", "faq", TIER, ApiFormat.ANTHROPIC, r, null)).isNotEqualTo(k);
    assertThat(CacheKey.of("team-a", "faq", TIER, ApiFormat.OPENAI, r, "some-beta"))
        .isNotEqualTo(k);
    RouteConfig.Tier renamed =
        new RouteConfig.Tier("premium", null, TIER.targets(), TIER.fallbacks(), null);
    assertThat(CacheKey.of("team-a", "faq", renamed, ApiFormat.OPENAI, r, null)).isNotEqualTo(k);
    RouteConfig.Tier otherModel =
        new RouteConfig.Tier(
            "main",
            null,
            List.of(
                new RouteConfig.Target("openai", "gpt-4o", 70),
                new RouteConfig.Target("azure", "gpt-4o-mini", 30)),
            TIER.fallbacks(),
            null);
    assertThat(CacheKey.of("team-a", "faq", otherModel, ApiFormat.OPENAI, r, null)).isNotEqualTo(k);
    // weights only decide which target answers first, not which models may answer
    RouteConfig.Tier reweighted =
        new RouteConfig.Tier(
            "main",
            null,
            List.of(
                new RouteConfig.Target("azure", "gpt-4o-mini", 50),
                new RouteConfig.Target("openai", "gpt-4o-mini", 50)),
            TIER.fallbacks(),
            null);
    assertThat(CacheKey.of("team-a", "faq", reweighted, ApiFormat.OPENAI, r, null)).isEqualTo(k);
  }
}
