package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.simulator.RecordedRequest;
import dev.tollgate.simulator.SimulatorBehavior;
import java.math.BigDecimal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code POST /v1/completions} (legacy) through the OpenAI SDK: routed, forwarded, metered. */
class CompletionsIT {
  private static TestBed bed;
  private static OpenAIClient client;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
    client = SdkClients.openAi(bed.sidecar.baseUrl(), "app-key-never-forwarded");
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private static CompletionCreateParams params(String route) {
    return CompletionCreateParams.builder()
        .model(route)
        .prompt("Say something")
        .maxTokens(50)
        .build();
  }

  private static BigDecimal cost() {
    UsageLedger.Totals t =
        bed.sidecar
            .ledger()
            .snapshot()
            .get(new UsageLedger.Key("oa", "main", "openai", "gpt-4o-mini"));
    return t == null ? BigDecimal.ZERO : t.costUsd();
  }

  @Test
  void legacyCompletionsAreRoutedForwardedAndMetered() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 8, 0, 0));
    BigDecimal before = cost();

    Completion c = client.completions().create(params("oa"));

    assertThat(c.choices().get(0).text()).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    RecordedRequest up = bed.sim.lastRequest();
    assertThat(up.uri()).isEqualTo("/v1/completions");
    assertThat(up.header("authorization")).isEqualTo("Bearer " + TestBed.OPENAI_KEY);
    assertThat(up.body().path("model").asText()).isEqualTo("gpt-4o-mini");
    // gpt-4o-mini: 1,000 x $0.15/M + 8 x $0.60/M
    assertThat(cost().subtract(before)).isEqualByComparingTo(new BigDecimal("0.0001548"));
  }

  @Test
  void streamedCompletionsAreMeteredFromTheUsageChunkTheSidecarAskedFor() {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(1000, 8, 0, 0));
    BigDecimal before = cost();
    StringBuilder text = new StringBuilder();
    try (StreamResponse<Completion> s = client.completions().createStreaming(params("oa"))) {
      s.stream()
          .forEach(
              c -> {
                assertThat(c.usage()).isEmpty();
                c.choices().forEach(ch -> text.append(ch.text()));
              });
    }
    assertThat(text.toString()).isEqualTo("t0 t1 t2 t3 t4 t5 t6 t7");
    assertThat(bed.sim.lastRequest().body().at("/stream_options/include_usage").asBoolean())
        .isTrue();
    assertThat(cost().subtract(before)).isEqualByComparingTo(new BigDecimal("0.0001548"));
  }

  @Test
  void aNonOpenAiTargetIsA400() {
    assertThatThrownBy(() -> client.completions().create(params("an")))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("legacy completions are served by OpenAI-format providers only");
  }
}
