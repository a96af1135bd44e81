package dev.tollgate.sidecar.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.wire.AnthropicWire;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.BedrockWire;
import dev.tollgate.sidecar.wire.GeminiWire;
import dev.tollgate.sidecar.wire.OpenAiWire;
import dev.tollgate.sidecar.wire.StreamDecoder;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** The adapters of the supported providers. */
public final class Adapters {
  private static final ProviderAdapter OPENAI = new OpenAiAdapter();
  private static final ProviderAdapter ANTHROPIC = new AnthropicAdapter();
  private static final ProviderAdapter GEMINI = new GeminiAdapter();
  private static final ProviderAdapter BEDROCK = new BedrockAdapter();
  private static final ProviderAdapter VERTEX = new VertexAdapter();

  private Adapters() {}

  /** The adapter for {@code provider}. */
  public static ProviderAdapter forProvider(ProviderKind provider) {
    return switch (provider) {
      case ANTHROPIC -> ANTHROPIC;
      case GEMINI -> GEMINI;
      case BEDROCK -> BEDROCK;
      case VERTEX_AI -> VERTEX;
      default -> OPENAI;
    };
  }

  private static String trimSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /** OpenAI and every provider with an OpenAI-compatible chat-completions API, Azure included. */
  static final class OpenAiAdapter implements ProviderAdapter {
    @Override
    public ApiFormat nativeFormat() {
      return ApiFormat.OPENAI;
    }

    @Override
    public URI url(CredentialConfig c, String model, boolean stream) {
      String base = trimSlash(c.effectiveEndpoint().orElseThrow());
      if (c.provider() == ProviderKind.AZURE_OPENAI) {
        return URI.create(
            base
                + "/openai/deployments/"
                + URLEncoder.encode(c.azure().deployment(), StandardCharsets.UTF_8)
                + "/chat/completions?api-version="
                + c.azure().apiVersion());
      }
      return URI.create(base + "/chat/completions");
    }

    @Override
    public void authenticate(HttpHeaders h, CredentialConfig c, String apiKey) {
      if (apiKey == null) {
        return;
      }
      if (c.provider() == ProviderKind.AZURE_OPENAI) {
        h.set("api-key", apiKey);
      } else {
        h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey);
      }
    }

    @Override
    public ObjectNode encode(ChatRequest request, String model) {
      return OpenAiWire.encodeRequest(request, model);
    }

    @Override
    public ObjectNode forward(ObjectNode body, String model, boolean stream) {
      body.put("model", model);
      if (stream) {
        // always ask for the usage chunk: metering needs it; it is dropped for callers who did not
        // ask
        JsonNode so = body.get("stream_options");
        ObjectNode opts = so instanceof ObjectNode o ? o : body.putObject("stream_options");
        opts.put("include_usage", true);
      }
      return body;
    }

    @Override
    public ChatResponse decode(JsonNode body, String model) {
      return OpenAiWire.decodeResponse(body);
    }

    @Override
    public StreamDecoder streamDecoder(String model) {
      return new OpenAiWire.Decoder();
    }
  }

  /** Anthropic's Messages API. */
  static final class AnthropicAdapter implements ProviderAdapter {
    @Override
    public ApiFormat nativeFormat() {
      return ApiFormat.ANTHROPIC;
    }

    @Override
    public URI url(CredentialConfig c, String model, boolean stream) {
      return URI.create(trimSlash(c.effectiveEndpoint().orElseThrow()) + "/v1/messages");
    }

    @Override
    public void authenticate(HttpHeaders h, CredentialConfig c, String apiKey) {
      if (apiKey != null) {
        h.set("x-api-key", apiKey);
      }
      if (!h.contains("anthropic-version")) {
        h.set("anthropic-version", AnthropicWire.API_VERSION);
      }
    }

    @Override
    public ObjectNode encode(ChatRequest request, String model) {
      return AnthropicWire.encodeRequest(request, model);
    }

    @Override
    public ObjectNode forward(ObjectNode body, String model, boolean stream) {
      return body.put("model", model);
    }

    @Override
    public ChatResponse decode(JsonNode body, String model) {
      return AnthropicWire.decodeResponse(body);
    }

    @Override
    public StreamDecoder streamDecoder(String model) {
      return new AnthropicWire.Decoder();
    }
  }

  /** Google's Gemini API (generativelanguage.googleapis.com). */
  static final class GeminiAdapter implements ProviderAdapter {
    @Override
    public ApiFormat nativeFormat() {
      return null;
    }

    @Override
    public URI url(CredentialConfig c, String model, boolean stream) {
      return URI.create(
          trimSlash(c.effectiveEndpoint().orElseThrow()) + GeminiWire.path(model, stream));
    }

    @Override
    public void authenticate(HttpHeaders h, CredentialConfig c, String apiKey) {
      if (apiKey != null) {
        h.set("x-goog-api-key", apiKey);
      }
    }

    @Override
    public ObjectNode encode(ChatRequest request, String model) {
      return GeminiWire.encodeRequest(request);
    }

    @Override
    public ObjectNode forward(ObjectNode body, String model, boolean stream) {
      throw new IllegalStateException("no caller speaks Gemini's format");
    }

    @Override
    public ChatResponse decode(JsonNode body, String model) {
      return GeminiWire.decodeResponse(body);
    }

    @Override
    public StreamDecoder streamDecoder(String model) {
      return new GeminiWire.Decoder();
    }
  }

  /**
   * Google Vertex AI: Gemini models through {@code publishers/google} (Gemini's wire format) and
   * Claude models through {@code publishers/anthropic} ({@code rawPredict}, Anthropic's format with
   * the model in the URL). Authenticated with an OAuth access token minted from the credential's
   * service-account key (see {@code VertexTokens}), passed here as the API key.
   */
  static final class VertexAdapter implements ProviderAdapter {
    static final String ANTHROPIC_VERSION = "vertex-2023-10-16";

    private static boolean claude(String model) {
      return model.startsWith("claude");
    }

    @Override
    public ApiFormat nativeFormat() {
      return null;
    }

    @Override
    public URI url(CredentialConfig c, String model, boolean stream) {
      String location = c.vertex().location();
      String base =
          c.endpoint() != null
              ? trimSlash(c.endpoint())
              : "global".equals(location)
                  ? "https://aiplatform.googleapis.com"
                  : "https://" + location + "-aiplatform.googleapis.com";
      String verb =
          claude(model)
              ? (stream ? ":streamRawPredict" : ":rawPredict")
              : (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
      return URI.create(
          base
              + "/v1/projects/"
              + c.vertex().project()
              + "/locations/"
              + location
              + "/publishers/"
              + (claude(model) ? "anthropic" : "google")
              + "/models/"
              + model
              + verb);
    }

    @Override
    public void authenticate(HttpHeaders h, CredentialConfig c, String accessToken) {
      if (accessToken != null) {
        h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + accessToken);
      }
    }

    @Override
    public ObjectNode encode(ChatRequest request, String model) {
      if (!claude(model)) {
        return GeminiWire.encodeRequest(request);
      }
      ObjectNode body = AnthropicWire.encodeRequest(request, model);
      body.remove("model");
      body.put("anthropic_version", ANTHROPIC_VERSION);
      return body;
    }

    @Override
    public ObjectNode forward(ObjectNode body, String model, boolean stream) {
      throw new IllegalStateException("Vertex AI calls are always translated");
    }

    @Override
    public ChatResponse decode(JsonNode body, String model) {
      return claude(model) ? AnthropicWire.decodeResponse(body) : GeminiWire.decodeResponse(body);
    }

    @Override
    public StreamDecoder streamDecoder(String model) {
      return claude(model) ? new AnthropicWire.Decoder() : new GeminiWire.Decoder();
    }
  }

  /**
   * AWS Bedrock's Converse API, authenticated with a Bedrock API key (a bearer token). IAM
   * credentials (SigV4 request signing) are not supported.
   */
  static final class BedrockAdapter implements ProviderAdapter {
    @Override
    public ApiFormat nativeFormat() {
      return null;
    }

    @Override
    public URI url(CredentialConfig c, String model, boolean stream) {
      String base =
          c.endpoint() != null
              ? trimSlash(c.endpoint())
              : "https://bedrock-runtime." + c.bedrock().region() + ".amazonaws.com";
      return URI.create(base + BedrockWire.path(model, stream));
    }

    @Override
    public void authenticate(HttpHeaders h, CredentialConfig c, String apiKey) {
      if (apiKey != null) {
        h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey);
      }
    }

    @Override
    public ObjectNode encode(ChatRequest request, String model) {
      return BedrockWire.encodeRequest(request);
    }

    @Override
    public ObjectNode forward(ObjectNode body, String model, boolean stream) {
      throw new IllegalStateException("no caller speaks Bedrock's format");
    }

    @Override
    public ChatResponse decode(JsonNode body, String model) {
      return BedrockWire.decodeResponse(body, model);
    }

    @Override
    public StreamDecoder streamDecoder(String model) {
      return new BedrockWire.Decoder(model);
    }

    @Override
    public boolean eventStream() {
      return true;
    }
  }
}
