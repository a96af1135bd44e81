package dev.tollgate.sidecar.metering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.wire.Json;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AttributionTest {
  private static final Attribution.Headers H = Attribution.Headers.DEFAULT;

  private static JsonNode json(String s) throws Exception {
    return Json.MAPPER.readTree(s);
  }

  @Test
  void theHeaderWinsThenOpenAiUserThenAnthropicMetadata() throws Exception {
    JsonNode openai = json("{\"user\":\"u-body\",\"messages\":[]}");
    assertThat(Attribution.of(H, Map.of("x-tollgate-user", "u-head")::get, openai, "ns").user())
        .isEqualTo("u-head");
    assertThat(Attribution.of(H, k -> null, openai, "ns").user()).isEqualTo("u-body");
    JsonNode anthropic = json("{\"metadata\":{\"user_id\":\"u-meta\"},\"messages\":[]}");
    assertThat(Attribution.of(H, k -> null, anthropic, "ns").user()).isEqualTo("u-meta");
    assertThat(Attribution.of(H, k -> null, json("{}"), "ns").user()).isNull();
  }

  @Test
  void idsThatAreNoShortIdentifiersArePseudonymsPerNamespace() throws Exception {
    JsonNode body = json("{\"user\":\"Jane Doe <jane@example.com>\"}");
    String a = Attribution.of(H, k -> null, body, "team-a").user();
    String b = Attribution.of(H, k -> null, body, "team-b").user();
    assertThat(a).startsWith("sha256:").hasSize(7 + 16).doesNotContain("Jane");
    assertThat(b).startsWith("sha256:").isNotEqualTo(a);
    assertThat(Attribution.key("ns", "x".repeat(65))).startsWith("sha256:");
    assertThat(Attribution.key("ns", "jane@example.com")).isEqualTo("jane@example.com");
  }

  @Test
  void featureTagsAreIdentifiersOrInvalid() {
    assertThat(Attribution.feature("support-chat")).isEqualTo("support-chat");
    assertThat(Attribution.feature("search/v2")).isEqualTo("search/v2");
    assertThat(Attribution.feature("<script>")).isEqualTo(Attribution.INVALID);
    assertThat(Attribution.feature("_other")).isEqualTo(Attribution.INVALID);
    assertThat(Attribution.feature("f".repeat(65))).isEqualTo(Attribution.INVALID);
    assertThat(Attribution.feature(" ")).isNull();
  }

  @Test
  void requestFactsOfBothFormats() throws Exception {
    JsonNode openai =
        json(
            "{\"temperature\":0.7,\"max_completion_tokens\":300,"
                + "\"tools\":[{\"type\":\"function\"},{\"type\":\"function\"}],"
                + "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":\"hi\"}]}");
    Attribution o = Attribution.of(H, k -> null, openai, "ns");
    assertThat(o.temperature()).isEqualTo(0.7);
    assertThat(o.maxTokens()).isEqualTo(300);
    assertThat(o.tools()).isEqualTo(2);
    JsonNode anthropic =
        json(
            "{\"max_tokens\":50,\"system\":[{\"type\":\"text\",\"text\":\"Be brief.\"}],"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    Attribution a = Attribution.of(H, k -> null, anthropic, "ns");
    assertThat(a.systemPromptHash())
        .as("the same system text hashes alike in either format")
        .isEqualTo(o.systemPromptHash())
        .startsWith("sha256:");
    assertThat(a.temperature()).isNull();
    assertThat(a.maxTokens()).isEqualTo(50);
    assertThat(Attribution.of(H, k -> null, json("{\"messages\":[]}"), "ns").systemPromptHash())
        .isNull();
  }

  @Test
  void headerNamesFromTheEnvironment() {
    Attribution.Headers h =
        Attribution.Headers.fromEnv(
            Map.of("TOLLGATE_USER_HEADER", "x-end-user", "TOLLGATE_FEATURE_HEADER", "x-feature"));
    assertThat(h.user()).isEqualTo("x-end-user");
    assertThat(h.feature()).isEqualTo("x-feature");
    assertThat(h.conversation()).isEqualTo("x-tollgate-conversation");
    assertThatThrownBy(() -> Attribution.Headers.fromEnv(Map.of("TOLLGATE_USER_HEADER", "a b")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void boundedLabelsKeepTheFirstValuesAndFoldTheRest() {
    BoundedLabel l = new BoundedLabel(2);
    assertThat(l.of("a")).isEqualTo("a");
    assertThat(l.of("b")).isEqualTo("b");
    assertThat(l.of("c")).isEqualTo("_other");
    assertThat(l.of("a")).isEqualTo("a");
  }
}
