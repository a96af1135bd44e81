package dev.tollgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class SidecarConfigCodecTest {

  static String fullYaml() throws IOException {
    try (InputStream in = SidecarConfigCodecTest.class.getResourceAsStream("/full-config.yaml")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void readsEveryKindOfFieldAndFillsDefaults() throws Exception {
    SidecarConfig config = SidecarConfigCodec.read(fullYaml());

    assertThat(config.namespace()).isEqualTo("shop");
    assertThat(config.server().port()).isEqualTo(4000);
    assertThat(config.server().bindAddress()).isEqualTo("127.0.0.1");
    assertThat(config.server().shutdownGrace()).isEqualTo(Duration.ofSeconds(20));
    RouteConfig route = config.route("support-chat").orElseThrow();
    assertThat(route.defaultRoute()).isTrue();
    assertThat(config.defaultRoute()).contains(route);
    assertThat(route.tiers())
        .extracting(RouteConfig.Tier::name)
        .containsExactly("simple", "complex");
    assertThat(route.tiers().get(0).targets().get(0).weight()).isEqualTo(90);
    assertThat(route.tiers().get(1).targets().get(0).weight()).isEqualTo(100);
    assertThat(route.retry().backoffCap()).isEqualTo(Duration.ofSeconds(90));
    assertThat(route.retry().retryOn())
        .containsExactly(RouteConfig.RetryOn.RATE_LIMITED, RouteConfig.RetryOn.TIMEOUT);
    assertThat(route.timeouts().firstToken()).isEqualTo(Duration.ofSeconds(2));
    assertThat(route.timeouts().connect()).isEqualTo(Duration.ofSeconds(5));
    assertThat(route.circuitBreaker().errorRatePercent()).isEqualTo(10);
    assertThat(route.classifier().timeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(route.cache().response().enabled()).isFalse();
    CredentialConfig anthropic = config.credential("anthropic").orElseThrow();
    assertThat(anthropic.provider()).isEqualTo(ProviderKind.ANTHROPIC);
    assertThat(anthropic.effectiveEndpoint()).contains("https://api.anthropic.com");
    assertThat(anthropic.markupPercent()).isEqualByComparingTo("10");
    assertThat(config.credential("azure").orElseThrow().azure().apiVersion())
        .isEqualTo("2024-10-21");
    BudgetConfig budget = config.budget("monthly").orElseThrow();
    assertThat(budget.limit()).isEqualTo(new BigDecimal("2500.00"));
    assertThat(budget.alerts()).containsExactly(50, 90);
    assertThat(budget.onExceeded()).isEqualTo(BudgetConfig.ExceededAction.DOWNGRADE);
  }

  @Test
  void roundTripKeepsEverything() throws Exception {
    SidecarConfig config = SidecarConfigCodec.read(fullYaml());
    String text = SidecarConfigCodec.write(config);
    SidecarConfig again = SidecarConfigCodec.read(text);

    assertThat(again).isEqualTo(SidecarConfigCodec.canonical(config));
    assertThat(SidecarConfigCodec.write(again)).isEqualTo(text);
    assertThat(text)
        .contains("default: true")
        .contains("backoffCap: 1m30s")
        .contains("limit: \"2500.00\"");
  }

  @Test
  void outputDoesNotDependOnTheOrderOfNamedLists() throws Exception {
    SidecarConfig config = SidecarConfigCodec.read(fullYaml());
    List<CredentialConfig> reversed = new ArrayList<>(config.credentials());
    Collections.reverse(reversed);
    SidecarConfig shuffled =
        new SidecarConfig(
            config.version(),
            config.namespace(),
            config.server(),
            config.routes(),
            reversed,
            config.budgets());

    assertThat(SidecarConfigCodec.write(shuffled)).isEqualTo(SidecarConfigCodec.write(config));
    assertThat(SidecarConfigCodec.withContentHash(shuffled).version())
        .isEqualTo(SidecarConfigCodec.withContentHash(config).version());
  }

  @Test
  void contentHashChangesWithContentOnly() throws Exception {
    SidecarConfig config = SidecarConfigCodec.read(fullYaml());
    String hash = SidecarConfigCodec.withContentHash(config).version();
    String sameHash = SidecarConfigCodec.withContentHash(config.withVersion("whatever")).version();
    SidecarConfig changed =
        new SidecarConfig(
            null,
            "other",
            config.server(),
            config.routes(),
            config.credentials(),
            config.budgets());

    assertThat(hash).matches("sha256:[0-9a-f]{16}").isEqualTo(sameHash);
    assertThat(SidecarConfigCodec.withContentHash(changed).version()).isNotEqualTo(hash);
  }

  @Test
  void ignoresUnknownFieldsFromANewerRenderer() throws Exception {
    SidecarConfig config =
        SidecarConfigCodec.read("namespace: a\nfutureField: 1\nserver:\n  somethingNew: x\n");
    assertThat(config.namespace()).isEqualTo("a");
  }

  @Test
  void namesUnknownFieldsSoTyposCanBeLogged() {
    assertThat(
            SidecarConfigCodec.unknownFields(
                "namespace: a\nroutes:\n  - model: m\n    timeout: {total: 5s}\n    tiers:\n"
                    + "      - name: t\n        targets: [{credential: c, model: x, wieght: 5}]\n"))
        .containsExactly("routes[0].timeout", "routes[0].tiers[0].targets[0].wieght");
    assertThat(SidecarConfigCodec.unknownFields("namespace: a\n")).isEmpty();
  }

  @Test
  void renamedFieldsAreKnown() {
    // RouteConfig.defaultRoute is written as "default"; the renderer always writes it.
    assertThat(
            SidecarConfigCodec.unknownFields(
                "namespace: a\nroutes:\n  - model: m\n    default: true\n    tiers:\n"
                    + "      - name: t\n        targets: [{credential: c, model: x}]\n"))
        .isEmpty();
  }

  @Test
  void reportsUnreadableValuesWithTheirPath() {
    assertThatThrownBy(
            () ->
                SidecarConfigCodec.read(
                    "namespace: a\nroutes:\n  - model: m\n    timeouts:\n      total: soon\n"))
        .isInstanceOf(SidecarConfigException.class)
        .hasMessageContaining("routes[0].timeouts.total")
        .hasMessageContaining("'soon' is not a duration");
    assertThatThrownBy(
            () ->
                SidecarConfigCodec.read(
                    "namespace: a\ncredentials:\n  - name: x\n    provider: acme\n"))
        .hasMessageContaining("credentials[0].provider")
        .hasMessageContaining("unknown provider 'acme'");
    assertThatThrownBy(() -> SidecarConfigCodec.read("namespace: [unclosed"))
        .isInstanceOf(SidecarConfigException.class);
    assertThatThrownBy(() -> SidecarConfigCodec.read("  "))
        .isInstanceOf(SidecarConfigException.class)
        .hasMessageContaining("empty");
  }

  @Test
  void neverWritesASecretValueOnlyItsPath() throws Exception {
    String text = SidecarConfigCodec.write(SidecarConfigCodec.read(fullYaml()));
    assertThat(text).contains("apiKeyFile: /var/run/tollgate/secrets/groq/api-key");
  }
}
