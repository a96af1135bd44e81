package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.wire.Json;
import org.junit.jupiter.api.Test;

/** Usage a provider sent but that cannot be read is unknown (metered as incomplete), not zero. */
class UnreadableUsageTest {
  @Test
  void openAiUsageWithTextForANumberIsUnknown() {
    var answer =
        Json.parseOrNull(
            """
            {"id":"c","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant",
             "content":"hi"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":"ten","completion_tokens":5}}
            """);
    assertThat(ProviderAdapters.forProvider(ProviderKind.OPENAI).decode(answer, "gpt-4o").usage())
        .isNull();
  }

  @Test
  void anthropicUsageWithTextForANumberIsUnknown() {
    var answer =
        Json.parseOrNull(
            """
            {"id":"m","type":"message","role":"assistant","model":"claude",
             "content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn",
             "usage":{"input_tokens":10,"output_tokens":"5"}}
            """);
    assertThat(ProviderAdapters.forProvider(ProviderKind.ANTHROPIC).decode(answer, "c").usage())
        .isNull();
  }

  @Test
  void readableUsageStillCounts() {
    var answer =
        Json.parseOrNull(
            """
            {"id":"c","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant",
             "content":"hi"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":10,"completion_tokens":5}}
            """);
    var usage = ProviderAdapters.forProvider(ProviderKind.OPENAI).decode(answer, "gpt-4o").usage();
    assertThat(usage.inputTokens()).isEqualTo(10);
    assertThat(usage.outputTokens()).isEqualTo(5);
  }
}
