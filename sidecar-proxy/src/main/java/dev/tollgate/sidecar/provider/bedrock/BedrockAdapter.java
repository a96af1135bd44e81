package dev.tollgate.sidecar.provider.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.PromptCacheMarker;
import dev.tollgate.sidecar.chat.Capabilities;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.CredentialAuth;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.CredentialSecrets;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.StreamFraming;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.StreamDecoder;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.time.Clock;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsCredentials;

/**
 * AWS Bedrock's Converse API, authenticated with a Bedrock API key (a bearer token) or, with {@code
 * auth: awsIam}, signed with SigV4 by IAM credentials from the pod's environment ({@link
 * AwsIdentity}); streams come as AWS event-stream frames.
 */
public final class BedrockAdapter implements ProviderAdapter {
  private static final Pattern UNCACHEABLE =
      Pattern.compile("claude-(v2|instant|3-opus|3-sonnet|3-haiku|3-5-sonnet-20240620)");
  private static final Set<String> PROFILE_PREFIXES =
      Set.of("us", "eu", "apac", "global", "us-gov", "ca", "jp", "au");

  private final ProviderAdapter countTokens = new BedrockCountTokensAdapter(this);

  private final ProviderAdapter embeddings = new BedrockEmbeddingsAdapter(this);

  @Override
  public ProviderAdapter endpoint(ApiFormat format) {
    return switch (format) {
      case ANTHROPIC_COUNT_TOKENS -> countTokens;
      case OPENAI_EMBEDDINGS -> embeddings;
      default -> null;
    };
  }

  @Override
  public ApiFormat nativeFormat() {
    return null;
  }

  /** The runtime endpoint of the credential's region, or its configured endpoint. */
  static String base(CredentialConfig c) {
    return c.endpoint() != null
        ? ProviderAdapter.trimSlash(c.endpoint())
        : "https://bedrock-runtime." + c.bedrock().region() + ".amazonaws.com";
  }

  /**
   * The foundation model under a cross-region inference profile id ({@code us.anthropic.claude-…} →
   * {@code anthropic.claude-…}); other ids as they are.
   */
  static String foundationModel(String model) {
    int dot = model.indexOf('.');
    return dot > 0 && PROFILE_PREFIXES.contains(model.substring(0, dot))
        ? model.substring(dot + 1)
        : model;
  }

  @Override
  public URI url(CredentialConfig c, String model, boolean stream) {
    return URI.create(base(c) + BedrockWire.path(inferenceProfile(c, model), stream));
  }

  /**
   * The model id to call: with a cross-region inference profile configured, its geography prefix
   * before an id that has none ({@code anthropic.claude-…} → {@code us.anthropic.claude-…}); ARNs
   * and ids that already name a profile are called as they are.
   */
  static String inferenceProfile(CredentialConfig c, String model) {
    String geo = c.bedrock() == null ? null : c.bedrock().inferenceProfile();
    if (geo == null || geo.isBlank() || model.startsWith("arn:")) {
      return model;
    }
    int dot = model.indexOf('.');
    boolean prefixed = dot > 0 && PROFILE_PREFIXES.contains(model.substring(0, dot));
    return prefixed ? model : geo + "." + model;
  }

  @Override
  public void authenticate(HttpHeaders h, CredentialConfig c, String apiKey) {
    if (apiKey != null) {
      h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey);
    }
  }

  @Override
  public void sign(
      HttpHeaders h, URI url, byte[] body, CredentialConfig c, CredentialSecrets secrets) {
    if (c.auth().kind() == CredentialAuth.Kind.AWS_IAM) {
      AwsCredentials credentials = secrets.identity(c);
      SigV4.sign(h, url, body, c.bedrock().region(), credentials, Clock.systemUTC());
    }
  }

  @Override
  public Capabilities capabilities(String model) {
    return BedrockWire.CAPABILITIES;
  }

  @Override
  public ObjectNode encode(ChatRequest request, String model) {
    return BedrockWire.encodeRequest(request, model);
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
  public StreamFraming streamFraming(int maxEventBytes) {
    return new BedrockEventStream(maxEventBytes);
  }

  @Override
  public PromptCacheMarker.Dialect promptCacheDialect(String model) {
    return cachesPrompts(model) ? PromptCacheMarker.Dialect.CONVERSE : null;
  }

  /**
   * Whether Bedrock accepts a {@code cachePoint} for {@code model}: Claude models from 3.5 Sonnet
   * v2 on. Bedrock rejects the request (400, "unsupported model or your request did not allow
   * prompt caching") for other models, the original Claude 3 models and 3.5 Sonnet v1 included, so
   * those are never marked and a caller's marks are dropped in translation as before.
   */
  public static boolean cachesPrompts(String model) {
    String m = model == null ? "" : model.toLowerCase(Locale.ROOT);
    int vendor = m.indexOf("anthropic.");
    if (vendor < 0) {
      return false;
    }
    String id = m.substring(vendor + "anthropic.".length());
    return id.startsWith("claude-") && !UNCACHEABLE.matcher(id).lookingAt();
  }
}
