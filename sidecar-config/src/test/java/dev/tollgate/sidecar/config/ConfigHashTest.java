package dev.tollgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The integrity hash the operator announces and the sidecar checks: one value for one
 * configuration, whatever order its name-keyed parts come in, stable across a read and a write, and
 * different as soon as a value that matters (an endpoint) changes.
 */
class ConfigHashTest {
  private static final String YAML =
      """
      namespace: team-a
      routes:
        - model: chat
          budget: monthly
          tiers:
            - name: main
              targets:
                - {credential: openai, model: gpt-4o}
                - {credential: anthropic, model: claude-3-5-haiku-20241022}
        - model: assist
          tiers:
            - name: main
              targets:
                - {credential: anthropic, model: claude-3-5-sonnet-20241022}
      credentials:
        - name: openai
          provider: openai
          endpoint: https://api.openai.com/v1
          apiKeyFile: /var/run/tollgate/secrets/openai-key/api-key
          prices:
            - {model: gpt-4o, input: "2.50", output: "10.00"}
            - {model: gpt-4o-mini, input: "0.15", output: "0.60"}
        - name: anthropic
          provider: anthropic
          apiKeyFile: /var/run/tollgate/secrets/anthropic-key/api-key
      budgets:
        - {name: monthly, limit: "100.00", period: Monthly, onExceeded: Block}
        - {name: daily, limit: "5.00", period: Daily, onExceeded: AlertOnly}
      """;

  @Test
  void theHashIsTheSha256OfTheCanonicalTextInHex() throws Exception {
    SidecarConfig config = SidecarConfigCodec.read(YAML);
    String text = SidecarConfigCodec.write(config);
    assertThat(SidecarConfigCodec.sha256(config))
        .isEqualTo(SidecarConfigCodec.sha256(text))
        .hasSize(64)
        .matches("[0-9a-f]{64}");
    // the empty text's SHA-256, as every other tool computes it
    assertThat(SidecarConfigCodec.sha256(""))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }

  @Test
  void theOrderOfRoutesCredentialsBudgetsAndPricesDoesNotChangeTheHash() throws Exception {
    SidecarConfig config = SidecarConfigCodec.read(YAML);
    SidecarConfig shuffled =
        new SidecarConfig(
            config.version(),
            config.namespace(),
            config.server(),
            reversed(config.routes()),
            reversed(
                config.credentials().stream()
                    .map(c -> c.withPrices(reversed(c.prices())))
                    .toList()),
            reversed(config.budgets()));
    assertThat(SidecarConfigCodec.write(shuffled)).isEqualTo(SidecarConfigCodec.write(config));
    assertThat(SidecarConfigCodec.sha256(shuffled)).isEqualTo(SidecarConfigCodec.sha256(config));
  }

  @Test
  void aReadAndAWriteGiveTheSameBytesBack() throws Exception {
    String rendered = SidecarConfigCodec.write(SidecarConfigCodec.read(YAML));
    String again = SidecarConfigCodec.write(SidecarConfigCodec.read(rendered));
    assertThat(again).isEqualTo(rendered);
    assertThat(SidecarConfigCodec.sha256(again)).isEqualTo(SidecarConfigCodec.sha256(rendered));
  }

  @Test
  void anEndpointPointedElsewhereChangesTheHash() throws Exception {
    SidecarConfig config = SidecarConfigCodec.read(YAML);
    String rendered = SidecarConfigCodec.write(config);
    String tampered = rendered.replace("https://api.openai.com/v1", "https://attacker.example/v1");
    assertThat(tampered).isNotEqualTo(rendered);
    assertThat(SidecarConfigCodec.sha256(tampered))
        .isNotEqualTo(SidecarConfigCodec.sha256(rendered));
    // also when the text is not canonical: every byte counts, so a comment or a blank line does
    assertThat(SidecarConfigCodec.sha256(rendered + "\n"))
        .isNotEqualTo(SidecarConfigCodec.sha256(rendered));
    // the short version is blind to the version line; the hash is not
    assertThat(SidecarConfigCodec.sha256(config.withVersion("sha256:0000000000000000")))
        .isNotEqualTo(SidecarConfigCodec.sha256(config));
  }

  private static <T> List<T> reversed(List<T> list) {
    List<T> copy = new ArrayList<>(list);
    Collections.reverse(copy);
    return copy;
  }
}
