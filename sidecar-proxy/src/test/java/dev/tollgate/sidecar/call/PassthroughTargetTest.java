package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.SidecarConfigException;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import org.junit.jupiter.api.Test;

/** Which credential a passthrough request goes to, and the refusals that say how to enable it. */
class PassthroughTargetTest {
  private static SidecarConfig config(String credentials) {
    try {
      return read(credentials);
    } catch (SidecarConfigException e) {
      throw new IllegalStateException(e);
    }
  }

  private static SidecarConfig read(String credentials) throws SidecarConfigException {
    return SidecarConfigCodec.parse(
        """
        namespace: team
        routes:
          - model: chat
            tiers:
              - name: main
                targets: [{credential: second, model: gpt-4o}]
        credentials:
        %s
        """
            .formatted(credentials));
  }

  private static String pick(SidecarConfig cfg, String path, String model) {
    return PassthroughTarget.choose(cfg, ApiFormat.OPENAI, path, model).name();
  }

  private static final String TWO =
      """
          - {name: first, provider: openai, apiKeyFile: /k/a}
          - {name: second, provider: openai, apiKeyFile: /k/b}
          - {name: claude, provider: anthropic, apiKeyFile: /k/c}
      """;

  @Test
  void theOnlyCredentialOfTheFormatServes() {
    SidecarConfig cfg =
        config(
            """
              - {name: first, provider: openai, apiKeyFile: /k/a}
              - {name: claude, provider: anthropic, apiKeyFile: /k/c}
            """);
    assertThat(pick(cfg, "/v1/files", null)).isEqualTo("first");
    assertThat(
            PassthroughTarget.choose(cfg, ApiFormat.ANTHROPIC, "/v1/messages/batches", null).name())
        .isEqualTo("claude");
  }

  @Test
  void aModelNamingARouteGoesToThatRoutesCredential() {
    assertThat(pick(config(TWO), "/v1/audio/speech", "chat")).isEqualTo("second");
  }

  @Test
  void severalCredentialsNeedADefault() {
    assertThatThrownBy(() -> pick(config(TWO), "/v1/files", null))
        .isInstanceOf(ProxyException.class)
        .hasMessageContaining("first, second")
        .hasMessageContaining("spec.passthrough.default: true")
        .satisfies(e -> assertThat(((ProxyException) e).kind()).isEqualTo(ErrorKind.FORBIDDEN));
    SidecarConfig withDefault =
        config(TWO.replace("apiKeyFile: /k/b}", "apiKeyFile: /k/b, passthrough: {default: true}}"));
    assertThat(pick(withDefault, "/v1/files", null)).isEqualTo("second");
  }

  @Test
  void passthroughCanBeSwitchedOffOrAllowListed() {
    SidecarConfig off =
        config(
            "    - {name: first, provider: openai, apiKeyFile: /k/a, passthrough: {enabled: false}}\n");
    assertThatThrownBy(() -> pick(off, "/v1/files", null))
        .hasMessageContaining("passthrough is off")
        .hasMessageContaining("spec.passthrough");
    SidecarConfig listed =
        config(
            "    - {name: first, provider: openai, apiKeyFile: /k/a, passthrough: {paths: [/v1/files]}}\n");
    assertThat(pick(listed, "/v1/files/abc/content", null)).isEqualTo("first");
    assertThatThrownBy(() -> pick(listed, "/v1/audio/speech", null))
        .satisfies(e -> assertThat(((ProxyException) e).status()).isEqualTo(403));
  }

  @Test
  void noCredentialOfTheFormatIsA404ThatSaysWhatToCreate() {
    SidecarConfig cfg = config("    - {name: claude, provider: anthropic, apiKeyFile: /k/c}\n");
    assertThatThrownBy(() -> pick(cfg, "/v1/files", null))
        .hasMessageContaining("no openai ProviderCredential")
        .satisfies(e -> assertThat(((ProxyException) e).status()).isEqualTo(404));
  }

  @Test
  void openAiEndpointsAlreadyEndInV1() {
    CredentialConfig openai =
        CredentialConfig.builder("o", dev.tollgate.sidecar.config.ProviderKind.OPENAI)
            .apiKeyFile("/k")
            .build();
    assertThat(PassthroughTarget.url(openai, "/v1/files?limit=2").toString())
        .isEqualTo("https://api.openai.com/v1/files?limit=2");
    CredentialConfig claude =
        CredentialConfig.builder("c", dev.tollgate.sidecar.config.ProviderKind.ANTHROPIC)
            .apiKeyFile("/k")
            .build();
    assertThat(PassthroughTarget.url(claude, "/v1/messages/batches").toString())
        .isEqualTo("https://api.anthropic.com/v1/messages/batches");
  }
}
