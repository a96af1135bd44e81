package dev.tollgate.sidecar.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One ProviderCredential as the sidecar needs it: how to reach a provider account. The API key is
 * never here, only the path of the file where the mounted Secret puts it.
 *
 * @param name the ProviderCredential's name; targets reference it
 * @param provider which wire API the account speaks
 * @param endpoint base URL; null means the provider's public default
 * @param apiKeyFile absolute path of the mounted key file (null only for Ollama)
 * @param azure Azure OpenAI deployment settings
 * @param bedrock AWS Bedrock settings
 * @param vertex Google Vertex AI settings
 * @param limits the share of the account's limits this sidecar may use (null fields: unlimited)
 * @param prices per-model price overrides; models not listed use the built-in catalogue
 * @param markupPercent added on top of every price, e.g. 10 for a marketplace markup
 * @param healthCheck active probing of the account
 * @param caFile optional PEM file of the certificate authorities to trust for an https endpoint
 *     instead of the system's (an in-house OpenAI-compatible server with a private CA); added after
 *     the first version of the contract
 * @param passthrough whether and for which paths the sidecar forwards the provider's other
 *     endpoints (files, batches, audio...) through this credential; added after the first version
 * @param auth how the credential authenticates; null (a rendering from before this field) means an
 *     API key from {@code apiKeyFile}
 */
public record CredentialConfig(
    String name,
    ProviderKind provider,
    String endpoint,
    String apiKeyFile,
    Azure azure,
    Bedrock bedrock,
    Vertex vertex,
    Limits limits,
    List<ModelPrice> prices,
    BigDecimal markupPercent,
    HealthCheck healthCheck,
    String caFile,
    Passthrough passthrough,
    // left out when it is the default, so that API-key configurations render as they did
    @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = CredentialAuth.IsApiKey.class)
        CredentialAuth auth) {

  public CredentialConfig {
    passthrough = Defaults.or(passthrough, new Passthrough(null, null, null, null));
    auth = Defaults.or(auth, CredentialAuth.API_KEY);
    prices = Defaults.list(prices);
    markupPercent = Defaults.or(markupPercent, BigDecimal.ZERO);
    healthCheck = Defaults.or(healthCheck, new HealthCheck(null, null, null, null));
  }

  /** This credential with {@code prices} in place of its own, every other field kept. */
  public CredentialConfig withPrices(List<ModelPrice> prices) {
    return builder(name, provider)
        .endpoint(endpoint)
        .apiKeyFile(apiKeyFile)
        .azure(azure)
        .bedrock(bedrock)
        .vertex(vertex)
        .limits(limits)
        .prices(prices)
        .markupPercent(markupPercent)
        .healthCheck(healthCheck)
        .caFile(caFile)
        .passthrough(passthrough)
        .auth(auth)
        .build();
  }

  /**
   * A credential named {@code name} for {@code provider}; the rest is set by name (null: default).
   */
  public static Builder builder(String name, ProviderKind provider) {
    return new Builder(name, provider);
  }

  /** Builds a {@link CredentialConfig}; unset fields take the record's defaults. */
  public static final class Builder {
    private final String name;
    private final ProviderKind provider;
    private String endpoint;
    private String apiKeyFile;
    private Azure azure;
    private Bedrock bedrock;
    private Vertex vertex;
    private Limits limits;
    private List<ModelPrice> prices;
    private BigDecimal markupPercent;
    private HealthCheck healthCheck;
    private String caFile;
    private Passthrough passthrough;
    private CredentialAuth auth;

    private Builder(String name, ProviderKind provider) {
      this.name = name;
      this.provider = provider;
    }

    public Builder endpoint(String endpoint) {
      this.endpoint = endpoint;
      return this;
    }

    public Builder apiKeyFile(String apiKeyFile) {
      this.apiKeyFile = apiKeyFile;
      return this;
    }

    public Builder azure(Azure azure) {
      this.azure = azure;
      return this;
    }

    public Builder bedrock(Bedrock bedrock) {
      this.bedrock = bedrock;
      return this;
    }

    public Builder vertex(Vertex vertex) {
      this.vertex = vertex;
      return this;
    }

    public Builder limits(Limits limits) {
      this.limits = limits;
      return this;
    }

    public Builder prices(List<ModelPrice> prices) {
      this.prices = prices;
      return this;
    }

    public Builder markupPercent(BigDecimal markupPercent) {
      this.markupPercent = markupPercent;
      return this;
    }

    public Builder healthCheck(HealthCheck healthCheck) {
      this.healthCheck = healthCheck;
      return this;
    }

    public Builder caFile(String caFile) {
      this.caFile = caFile;
      return this;
    }

    public Builder passthrough(Passthrough passthrough) {
      this.passthrough = passthrough;
      return this;
    }

    public Builder auth(CredentialAuth auth) {
      this.auth = auth;
      return this;
    }

    public CredentialConfig build() {
      return new CredentialConfig(
          name,
          provider,
          endpoint,
          apiKeyFile,
          azure,
          bedrock,
          vertex,
          limits,
          prices,
          markupPercent,
          healthCheck,
          caFile,
          passthrough,
          auth);
    }
  }

  /** Whether calls present an API key from a mounted Secret (rather than a cloud identity). */
  public boolean usesApiKey() {
    return auth.usesSecret() && provider.requiresApiKey();
  }

  /** The configured endpoint or the provider's public default. */
  public Optional<String> effectiveEndpoint() {
    return endpoint != null ? Optional.of(endpoint) : provider.defaultEndpoint();
  }

  /**
   * The override for {@code model}, if any: matched like the catalogue ({@link ModelIds}), so an
   * override for {@code gpt-4o} prices {@code gpt-4o-2024-08-06} too, and the longest wins.
   */
  public Optional<ModelPrice> price(String model) {
    return ModelIds.best(prices, ModelPrice::model, model);
  }

  /** Azure OpenAI: the deployment is part of the URL; api-version defaults to 2024-10-21. */
  public record Azure(String deployment, String apiVersion) {
    public Azure {
      apiVersion = Defaults.or(apiVersion, "2024-10-21");
    }
  }

  /**
   * AWS Bedrock region, and optionally a cross-region inference profile: its geography prefix
   * ({@code us}, {@code eu}, {@code apac}, {@code global}) is put before model ids that have none,
   * so that {@code anthropic.claude-…} is called as {@code us.anthropic.claude-…}.
   */
  public record Bedrock(String region, String inferenceProfile) {
    public Bedrock(String region) {
      this(region, null);
    }
  }

  /** Google Vertex AI project and location. */
  public record Vertex(String project, String location) {}

  /** Requests and tokens per minute, tokens per UTC day (null: unlimited). */
  public record Limits(Integer requestsPerMinute, Long tokensPerMinute, Long tokensPerDay) {
    /** Per-minute limits only. */
    public Limits(Integer requestsPerMinute, Long tokensPerMinute) {
      this(requestsPerMinute, tokensPerMinute, null);
    }
  }

  /**
   * Governed passthrough: the provider's endpoints the sidecar does not route (files, batches,
   * audio, images, moderations...) are forwarded with this credential's key. On by default for
   * every path; {@code paths} allow-lists path prefixes (e.g. {@code /v1/files}); {@code isDefault}
   * names this credential when several of the same API format could serve; {@code maxBodyBytes}
   * bounds a streamed request body (multipart uploads, audio), default 512 MiB: OpenAI's limit for
   * one file.
   */
  public record Passthrough(
      Boolean enabled,
      List<String> paths,
      @JsonProperty("default") Boolean isDefault,
      Long maxBodyBytes) {
    /** OpenAI's limit for one uploaded file (Anthropic's Files API takes up to 500 MB). */
    public static final long DEFAULT_MAX_BODY_BYTES = 512L * 1024 * 1024;

    public Passthrough {
      enabled = Defaults.or(enabled, true);
      paths = Defaults.list(paths);
      isDefault = Defaults.or(isDefault, false);
      maxBodyBytes = Defaults.or(maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
    }

    public Passthrough(Boolean enabled, List<String> paths, Boolean isDefault) {
      this(enabled, paths, isDefault, null);
    }

    /** Whether requests to {@code path} may be forwarded. */
    public boolean allows(String path) {
      return enabled && (paths.isEmpty() || paths.stream().anyMatch(path::startsWith));
    }
  }

  /** Periodic probe of the account (off by default; interval 30s, 3 failures). */
  public record HealthCheck(
      Boolean enabled, Duration interval, String model, Integer failureThreshold) {
    public HealthCheck {
      enabled = Defaults.or(enabled, false);
      interval = Defaults.or(interval, Duration.ofSeconds(30));
      failureThreshold = Defaults.or(failureThreshold, 3);
    }
  }
}
