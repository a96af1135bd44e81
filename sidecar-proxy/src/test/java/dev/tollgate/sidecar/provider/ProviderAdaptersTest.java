package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProviderAdaptersTest {
  private static final SidecarConfig CFG;

  static {
    try {
      CFG =
          SidecarConfigCodec.read(
              """
              namespace: t
              credentials:
                - {name: oa, provider: openai, apiKeyFile: /k/oa}
                - {name: az, provider: azure-openai, endpoint: "https://r.openai.azure.com", apiKeyFile: /k/az, azure: {deployment: "my dep", apiVersion: "2024-06-01"}}
                - {name: an, provider: anthropic, apiKeyFile: /k/an}
                - {name: ge, provider: gemini, apiKeyFile: /k/ge}
                - {name: br, provider: bedrock, apiKeyFile: /k/br, bedrock: {region: eu-west-1}}
                - {name: vx, provider: vertex-ai, apiKeyFile: /k/vx, vertex: {project: p, location: us-east5}}
                - {name: ol, provider: ollama, endpoint: "http://127.0.0.1:11434/v1"}
              routes:
                - model: r
                  tiers: [{name: t, targets: [{credential: oa, model: m}]}]
              """);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static CredentialConfig credential(String name) {
    return CFG.credential(name).orElseThrow();
  }

  private static ProviderAdapter adapter(String credential) {
    return ProviderAdapters.forProvider(credential(credential).provider());
  }

  private static final CredentialSecrets SECRETS =
      new CredentialSecrets() {
        private final Map<String, String> keys = Map.of("/k/oa", "sk-oa", "/k/an", "sk-an");

        @Override
        public String apiKey(String file) {
          return file == null ? null : keys.get(file);
        }

        @Override
        public String accessToken(String file) {
          return "/k/vx".equals(file) ? "ya29.token" : null;
        }
      };

  @Test
  void everyProviderKindIsRegistered() {
    for (ProviderKind k : ProviderKind.values()) {
      assertThat(ProviderAdapters.forProvider(k)).as(k.wireName()).isNotNull();
    }
  }

  @Test
  void eachProviderHasItsUrl() {
    assertThat(adapter("oa").url(credential("oa"), "gpt-4o", false))
        .hasToString("https://api.openai.com/v1/chat/completions");
    assertThat(adapter("az").url(credential("az"), "gpt-4o", true))
        .hasToString(
            "https://r.openai.azure.com/openai/deployments/my+dep/chat/completions?api-version=2024-06-01");
    assertThat(adapter("an").url(credential("an"), "claude", true))
        .hasToString("https://api.anthropic.com/v1/messages");
    assertThat(adapter("br").url(credential("br"), "anthropic.claude-3-5-sonnet", false).toString())
        .startsWith("https://bedrock-runtime.eu-west-1.amazonaws.com/model/")
        .endsWith("/converse");
    assertThat(adapter("vx").url(credential("vx"), "claude-sonnet-4", true))
        .hasToString(
            "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4:streamRawPredict");
    assertThat(adapter("vx").url(credential("vx"), "gemini-2.0-flash", false).toString())
        .endsWith("/publishers/google/models/gemini-2.0-flash:generateContent");
  }

  @Test
  void eachProviderAuthenticatesItsOwnWay() {
    HttpHeaders h = new DefaultHttpHeaders();
    adapter("oa").authenticate(h, credential("oa"), "k");
    assertThat(h.get("authorization")).isEqualTo("Bearer k");
    h = new DefaultHttpHeaders();
    adapter("az").authenticate(h, credential("az"), "k");
    assertThat(h.get("api-key")).isEqualTo("k");
    h = new DefaultHttpHeaders();
    adapter("an").authenticate(h, credential("an"), "k");
    assertThat(h.get("x-api-key")).isEqualTo("k");
    assertThat(h.get("anthropic-version")).isEqualTo("2023-06-01");
    h = new DefaultHttpHeaders();
    adapter("ge").authenticate(h, credential("ge"), "k");
    assertThat(h.get("x-goog-api-key")).isEqualTo("k");
    h = new DefaultHttpHeaders();
    adapter("ol").authenticate(h, credential("ol"), null);
    assertThat(h.isEmpty()).isTrue();
  }

  @Test
  void theSecretIsTheApiKeyOrVertexAisAccessToken() {
    assertThat(adapter("oa").secret(SECRETS, credential("oa"))).isEqualTo("sk-oa");
    assertThat(adapter("ol").secret(SECRETS, credential("ol"))).as("Ollama needs none").isNull();
    assertThat(adapter("vx").secret(SECRETS, credential("vx"))).isEqualTo("ya29.token");
    assertThatThrownBy(() -> adapter("ge").secret(SECRETS, credential("ge")))
        .isInstanceOfSatisfying(
            ProxyException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.MISSING_CREDENTIAL))
        .hasMessageContaining("credential ge");
    CredentialSecrets none =
        new CredentialSecrets() {
          @Override
          public String apiKey(String file) {
            return null;
          }

          @Override
          public String accessToken(String file) {
            return null;
          }
        };
    assertThatThrownBy(() -> adapter("vx").secret(none, credential("vx")))
        .hasMessageStartingWith("no Vertex AI access token for credential vx");
  }

  @Test
  void onlyTheProvidersSpeakingACallerFormatForwardAndOnlyClaudeTakesCacheMarks() {
    assertThat(adapter("oa").nativeFormat()).isEqualTo(ApiFormat.OPENAI);
    assertThat(adapter("ol").nativeFormat()).isEqualTo(ApiFormat.OPENAI);
    assertThat(adapter("an").nativeFormat()).isEqualTo(ApiFormat.ANTHROPIC);
    assertThat(adapter("ge").nativeFormat()).isNull();
    assertThat(adapter("br").nativeFormat()).isNull();
    assertThat(adapter("vx").nativeFormat()).isNull();
    assertThat(adapter("an").promptCacheDialect("claude-haiku"))
        .isEqualTo(PromptCacheMarker.Dialect.MESSAGES);
    assertThat(adapter("vx").promptCacheDialect("Claude-sonnet-4"))
        .isEqualTo(PromptCacheMarker.Dialect.MESSAGES);
    assertThat(adapter("vx").promptCacheDialect("gemini-2.0-flash")).isNull();
    assertThat(adapter("br").promptCacheDialect("anthropic.claude-3-7-sonnet-20250219-v1:0"))
        .isEqualTo(PromptCacheMarker.Dialect.CONVERSE);
    assertThat(adapter("br").promptCacheDialect("anthropic.claude-3-haiku-20240307-v1:0")).isNull();
    assertThat(adapter("oa").promptCacheDialect("gpt-4o")).isNull();
    assertThat(adapter("br").streamFraming(1024)).isNotInstanceOf(SseFraming.class);
    assertThat(adapter("an").streamFraming(1024)).isInstanceOf(SseFraming.class);
  }
}
