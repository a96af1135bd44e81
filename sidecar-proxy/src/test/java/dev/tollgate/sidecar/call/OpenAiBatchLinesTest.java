package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OpenAiBatchLinesTest {
  private static final SidecarConfig CFG =
      read(
          """
          namespace: team
          routes:
            - model: triage
              budget: monthly
              tiers:
                - name: main
                  targets: [{credential: openai, model: gpt-4o}]
            - model: vectors
              budget: monthly
              tiers:
                - name: main
                  targets: [{credential: openai, model: text-embedding-3-small}]
          credentials:
            - {name: openai, provider: openai, apiKeyFile: /k}
          budgets:
            - {name: monthly, limit: "10", onExceeded: Block}
          """);

  private static SidecarConfig read(String yaml) {
    try {
      return SidecarConfigCodec.read(yaml);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static OpenAiBatchLines lines() {
    return new OpenAiBatchLines(
        CFG, CFG.credential("openai").orElseThrow(), PriceCatalogue.builtIn(), 4096);
  }

  private static String read(OpenAiBatchLines lines, String line) {
    byte[] b = line.getBytes(StandardCharsets.UTF_8);
    byte[] out = lines.line(b, 0, b.length, 1);
    return out == null ? null : new String(out, StandardCharsets.UTF_8);
  }

  private static String chat(String model, String limit) {
    return "{\"custom_id\":\"1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
        + "{\"model\":\""
        + model
        + "\""
        + limit
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}";
  }

  @Test
  void anAliasIsResolvedAndTheLineEstimatedWithItsMaximumOrTheDefault() {
    OpenAiBatchLines with = lines();
    assertThat(read(with, chat("triage", ",\"max_completion_tokens\":1000")))
        .contains("\"model\":\"gpt-4o\"");
    // gpt-4o in a batch: $1.25 in, $5 out per million; ~19 input tokens, 1,000 out
    assertThat(with.estimate().estimates().get("monthly"))
        .isBetween(new BigDecimal("0.005"), new BigDecimal("0.00503"));

    OpenAiBatchLines without = lines();
    read(without, chat("triage", ""));
    // no maximum: 4,096 output tokens
    assertThat(without.estimate().estimates().get("monthly"))
        .isBetween(new BigDecimal("0.02048"), new BigDecimal("0.02051"));
    assertThat(without.estimate().routes())
        .containsExactly(new UsageReport.BatchRoute("triage", "gpt-4o", "monthly"));
  }

  @Test
  void aProviderModelCountsForTheRouteThatTargetsItAndEmbeddingsHaveNoOutput() {
    OpenAiBatchLines l = lines();
    read(
        l,
        "{\"custom_id\":\"e\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":"
            + "{\"model\":\"text-embedding-3-small\",\"input\":\"hello\"}}");
    assertThat(l.estimate().routes())
        .containsExactly(
            new UsageReport.BatchRoute("vectors", "text-embedding-3-small", "monthly"));
    // a dozen input tokens of an embedding model: far under a thousandth of a cent
    assertThat(l.estimate().estimates().get("monthly")).isLessThan(new BigDecimal("0.000001"));
    assertThat(read(l, "   ")).isNull();
    assertThat(l.estimate().items()).isEqualTo(1);
  }

  @Test
  void aLineOverTheBoundIs413AndABrokenLineIs400() {
    String big = chat("triage", ",\"max_tokens\":1,\"pad\":\"" + "x".repeat(5000) + "\"");
    assertThatThrownBy(() -> read(lines(), big))
        .isInstanceOfSatisfying(
            ProxyException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.TOO_LARGE));
    assertThatThrownBy(() -> read(lines(), "{\"custom_id\":\"1\",\"body\":{\"model\":\"x\"}}"))
        .isInstanceOfSatisfying(
            ProxyException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_REQUEST))
        .hasMessageContaining("has no url");
  }
}
