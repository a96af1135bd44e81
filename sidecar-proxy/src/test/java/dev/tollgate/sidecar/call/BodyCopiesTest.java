package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.wire.Json;
import org.junit.jupiter.api.Test;

class BodyCopiesTest {
  private static ObjectNode body() {
    return (ObjectNode)
        Json.parseOrNull(
            """
            {"model":"r","max_tokens":900,"stream_options":{"include_usage":false},
             "system":[{"type":"text","text":"be brief"}],
             "tools":[{"name":"t","input_schema":{}}],
             "messages":[{"role":"user","content":"hi"}]}
            """);
  }

  @Test
  void anAttemptChangesNothingTheNextAttemptReads() {
    ObjectNode original = body();
    ObjectNode attempt = BodyCopies.forAttempt(original);
    attempt.put("model", "gpt-4o");
    ((ObjectNode) attempt.get("stream_options")).put("include_usage", true);
    ((ObjectNode) attempt.get("system").get(0)).putObject("cache_control").put("type", "ephemeral");
    ((ObjectNode) attempt.get("tools").get(0)).putObject("cache_control").put("type", "ephemeral");

    assertThat(original).isEqualTo(body());
  }

  @Test
  void theMessagesAreSharedNotCopied() {
    ObjectNode original = body();
    assertThat(BodyCopies.forAttempt(original).get("messages")).isSameAs(original.get("messages"));
    assertThat(BodyCopies.forTier(original, 100).get("messages"))
        .isSameAs(original.get("messages"));
  }

  @Test
  void aTierWithoutAnOutputLimitUsesTheCallersBodyAsIs() {
    ObjectNode original = body();
    assertThat(BodyCopies.forTier(original, null)).isSameAs(original);
    assertThat(BodyCopies.forTier(original, 0)).isSameAs(original);
  }

  @Test
  void aTierChangesOnlyItsCopy() {
    ObjectNode original = body();
    ObjectNode tier = BodyCopies.forTier(original, 10);
    assertThat(tier.get("max_tokens").asInt()).isEqualTo(10);
    assertThat(original.get("max_tokens").asInt()).isEqualTo(900);
  }
}
