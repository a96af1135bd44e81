package dev.tollgate.sidecar.it;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;

/**
 * The official SDKs as an application would configure them against the sidecar: the base URL of the
 * sidecar on loopback and any API key (the sidecar never forwards it). Retries are off, so a test
 * sees the sidecar's own answer rather than the SDK's second try.
 */
final class SdkClients {
  private SdkClients() {}

  /** OpenAI's SDK; its base URL includes {@code /v1}, as with OpenAI itself. */
  static OpenAIClient openAi(String sidecarBaseUrl, String apiKey) {
    return OpenAIOkHttpClient.builder()
        .baseUrl(sidecarBaseUrl + "/v1")
        .apiKey(apiKey)
        .maxRetries(0)
        .build();
  }

  /** Anthropic's SDK; it adds {@code /v1} itself. */
  static AnthropicClient anthropic(String sidecarBaseUrl, String apiKey) {
    return AnthropicOkHttpClient.builder()
        .baseUrl(sidecarBaseUrl)
        .apiKey(apiKey)
        .maxRetries(0)
        .build();
  }
}
