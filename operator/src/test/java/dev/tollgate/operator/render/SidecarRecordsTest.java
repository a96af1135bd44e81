package dev.tollgate.operator.render;

import static dev.tollgate.operator.Fixtures.credential;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.sidecar.config.CredentialAuth;
import dev.tollgate.sidecar.config.CredentialConfig;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

class SidecarRecordsTest {
  private final SidecarRecords records = new SidecarRecords();

  @Test
  void credentialsCarryKeyFilePathsPricesAndRegionalEndpoints() {
    ProviderCredential bedrock = credential("ns", "aws", Provider.BEDROCK, "aws-key", "token");
    ProviderCredentialSpec.BedrockSettings region = new ProviderCredentialSpec.BedrockSettings();
    region.setRegion("eu-west-1");
    bedrock.getSpec().setBedrock(region);
    ProviderCredentialSpec.Pricing pricing = new ProviderCredentialSpec.Pricing();
    pricing.setMarkupPercent("10");
    ProviderCredentialSpec.ModelPrice price = new ProviderCredentialSpec.ModelPrice();
    price.setModel("anthropic.claude-3-5-sonnet-20241022-v2:0");
    price.setInput("3.00");
    price.setOutput("15.00");
    pricing.setModels(List.of(price));
    bedrock.getSpec().setPricing(pricing);

    CredentialConfig c = records.credential(bedrock);

    assertThat(c.apiKeyFile()).isEqualTo("/var/run/tollgate/secrets/aws-key/token");
    assertThat(c.endpoint()).isEqualTo("https://bedrock-runtime.eu-west-1.amazonaws.com");
    assertThat(c.markupPercent()).isEqualByComparingTo(new BigDecimal("10"));
    assertThat(c.prices())
        .singleElement()
        .satisfies(p -> assertThat(p.output()).isEqualByComparingTo("15.00"));
  }

  @Test
  void tokensPerDayAndTheInFlightCapAreRendered() {
    dev.tollgate.api.v1alpha1.LLMRoute route =
        dev.tollgate.operator.Fixtures.route(
            "ns", "r", "chat", dev.tollgate.operator.Fixtures.tier("main", "oa", "gpt-4o-mini"));
    dev.tollgate.api.v1alpha1.LLMRouteSpec.RateLimit rl =
        new dev.tollgate.api.v1alpha1.LLMRouteSpec.RateLimit();
    rl.setTokensPerDay(1_000_000L);
    rl.setMaxInFlight(8);
    rl.setMaxQueue(16);
    rl.setMaxQueueWait("2s");
    route.getSpec().setRateLimit(rl);
    dev.tollgate.sidecar.config.RouteConfig.RateLimit rendered =
        records.route(route, null).rateLimit();
    assertThat(rendered.tokensPerDay()).isEqualTo(1_000_000L);
    assertThat(rendered.maxInFlight()).isEqualTo(8);
    assertThat(rendered.maxQueue()).isEqualTo(16);

    ProviderCredential openai = credential("ns", "oa", Provider.OPENAI, "k", "api-key");
    ProviderCredentialSpec.AccountLimits limits = new ProviderCredentialSpec.AccountLimits();
    limits.setTokensPerDay(5_000_000L);
    openai.getSpec().setLimits(limits);
    assertThat(records.credential(openai).limits().tokensPerDay()).isEqualTo(5_000_000L);
  }

  @Test
  void passthroughIsRenderedAndOnByDefault() {
    ProviderCredential openai = credential("ns", "oa", Provider.OPENAI, "k", "api-key");
    assertThat(records.credential(openai).passthrough().allows("/v1/files")).isTrue();
    ProviderCredentialSpec.Passthrough p = new ProviderCredentialSpec.Passthrough();
    p.setPaths(List.of("/v1/files"));
    p.setIsDefault(true);
    openai.getSpec().setPassthrough(p);
    CredentialConfig.Passthrough rendered = records.credential(openai).passthrough();
    assertThat(rendered.isDefault()).isTrue();
    assertThat(rendered.allows("/v1/files/f1/content")).isTrue();
    assertThat(rendered.allows("/v1/audio/speech")).isFalse();
    assertThat(rendered.maxBodyBytes()).isEqualTo(512L * 1024 * 1024);
    p.setMaxBodyBytes(100_000_000L);
    assertThat(records.credential(openai).passthrough().maxBodyBytes()).isEqualTo(100_000_000L);
    p.setEnabled(false);
    assertThat(records.credential(openai).passthrough().allows("/v1/files")).isFalse();
  }

  @Test
  void embeddingDimensionsAreRenderedAndAMixIsACondition() {
    dev.tollgate.api.v1alpha1.LLMRoute route =
        dev.tollgate.operator.Fixtures.route(
            "ns",
            "r",
            "embed",
            dev.tollgate.operator.Fixtures.tier("main", "oa", "text-embedding-3-small"));
    dev.tollgate.api.v1alpha1.LLMRouteSpec.Tier tier = route.getSpec().getTiers().get(0);
    tier.getTargets().get(0).setDimensions(1536);
    dev.tollgate.api.v1alpha1.LLMRouteSpec.Fallback large =
        new dev.tollgate.api.v1alpha1.LLMRouteSpec.Fallback();
    large.setCredential("oa");
    large.setModel("text-embedding-3-large");
    large.setDimensions(3072);
    tier.setFallbacks(new java.util.ArrayList<>(List.of(large)));

    dev.tollgate.sidecar.config.RouteConfig rendered = records.route(route, null);
    assertThat(rendered.dimensionsOf("oa", "text-embedding-3-small")).isEqualTo(1536);
    assertThat(rendered.dimensionsOf("oa", "text-embedding-3-large")).isEqualTo(3072);
    assertThat(rendered.dimensionsOf("oa", "gpt-4o")).isNull();

    var status =
        dev.tollgate.operator.status.Statuses.route(
                route,
                new dev.tollgate.operator.validation.RouteValidator.Result(List.of(), List.of()),
                "tollgate-sidecar",
                java.time.Instant.EPOCH)
            .getStatus();
    var c =
        dev.tollgate.api.status.Conditions.find(
                status.getConditions(), dev.tollgate.api.status.Conditions.EMBEDDING_DIMENSIONS)
            .orElseThrow();
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo("MixedDimensions");
    assertThat(c.getMessage()).contains("oa/text-embedding-3-large 3072");

    large.setDimensions(1536);
    assertThat(
            dev.tollgate.operator.validation.EmbeddingDimensions.mixed(route.getSpec())
                .orElseThrow())
        .isEmpty();
    tier.getTargets().get(0).setDimensions(null);
    large.setDimensions(null);
    assertThat(dev.tollgate.operator.validation.EmbeddingDimensions.mixed(route.getSpec()))
        .isEmpty();
  }

  @Test
  void anIdentityCredentialRendersItsAuthAndNoKeyFile() {
    ProviderCredential bedrock = credential("ns", "aws", Provider.BEDROCK, "left-over", "token");
    ProviderCredentialSpec.BedrockSettings settings = new ProviderCredentialSpec.BedrockSettings();
    settings.setRegion("us-east-1");
    settings.setInferenceProfile("us");
    bedrock.getSpec().setBedrock(settings);
    dev.tollgate.api.v1alpha1.CredentialAuth auth = new dev.tollgate.api.v1alpha1.CredentialAuth();
    auth.setType(dev.tollgate.api.v1alpha1.CredentialAuth.Type.AWS_IAM);
    bedrock.getSpec().setAuth(auth);

    CredentialConfig c = records.credential(bedrock);

    assertThat(c.apiKeyFile()).isNull();
    assertThat(c.auth().kind()).isEqualTo(CredentialAuth.Kind.AWS_IAM);
    assertThat(c.bedrock().inferenceProfile()).isEqualTo("us");
    assertThat(c.usesApiKey()).isFalse();
  }

  @Test
  void anApiKeyCredentialRendersNoAuthField() {
    ProviderCredential openai = credential("ns", "oa", Provider.OPENAI, "key", "api-key");
    CredentialConfig c = records.credential(openai);
    assertThat(c.auth()).isEqualTo(CredentialAuth.API_KEY);
    assertThat(
            dev.tollgate.sidecar.config.SidecarConfigCodec.write(
                new dev.tollgate.sidecar.config.SidecarConfig(
                    null, "ns", null, List.of(), List.of(c), List.of())))
        .doesNotContain("auth");
  }

  @Test
  void vertexGlobalUsesTheGlobalEndpoint() {
    ProviderCredential vertex = credential("ns", "gcp", Provider.VERTEX_AI, "gcp-key", "sa.json");
    ProviderCredentialSpec.VertexSettings settings = new ProviderCredentialSpec.VertexSettings();
    settings.setProject("p");
    settings.setLocation("global");
    vertex.getSpec().setVertex(settings);
    assertThat(records.credential(vertex).endpoint())
        .isEqualTo("https://aiplatform.googleapis.com");
    settings.setLocation("us-east5");
    assertThat(records.credential(vertex).endpoint())
        .isEqualTo("https://us-east5-aiplatform.googleapis.com");
  }

  @Test
  void sizesInKiMiGi() {
    assertThat(SidecarRecords.bytes("64Mi")).isEqualTo(64L * 1024 * 1024);
    assertThat(SidecarRecords.bytes("2Gi")).isEqualTo(2L * 1024 * 1024 * 1024);
    assertThat(SidecarRecords.bytes("512")).isEqualTo(512L);
  }

  @Test
  void theResponseCacheIsRenderedWithTheRedisPasswordAsAMountedFile() {
    dev.tollgate.api.v1alpha1.LLMRoute route =
        dev.tollgate.operator.Fixtures.route(
            "ns", "faq", "faq", dev.tollgate.operator.Fixtures.tier("main", "openai", "gpt-4o"));
    dev.tollgate.api.v1alpha1.LLMRouteSpec.ResponseCache rc =
        new dev.tollgate.api.v1alpha1.LLMRouteSpec.ResponseCache();
    rc.setEnabled(true);
    rc.setTtl("10m");
    rc.setMaxSize("1Mi");
    rc.setMaxTemperature("0.3");
    rc.setCacheAboveMaxTemperature(true);
    rc.setBackend(dev.tollgate.api.v1alpha1.LLMRouteSpec.CacheBackend.REDIS);
    dev.tollgate.api.v1alpha1.LLMRouteSpec.RedisSettings redis =
        new dev.tollgate.api.v1alpha1.LLMRouteSpec.RedisSettings();
    redis.setUrl("redis://redis:6379");
    dev.tollgate.api.v1alpha1.SecretKeyRef ref = new dev.tollgate.api.v1alpha1.SecretKeyRef();
    ref.setName("redis-auth");
    ref.setKey("password");
    redis.setPasswordSecretRef(ref);
    rc.setRedis(redis);
    dev.tollgate.api.v1alpha1.LLMRouteSpec.ServeStaleOnError stale =
        new dev.tollgate.api.v1alpha1.LLMRouteSpec.ServeStaleOnError();
    stale.setEnabled(true);
    stale.setMaxAge("6h");
    rc.setServeStaleOnError(stale);
    dev.tollgate.api.v1alpha1.LLMRouteSpec.Cache cache =
        new dev.tollgate.api.v1alpha1.LLMRouteSpec.Cache();
    cache.setResponse(rc);
    route.getSpec().setCache(cache);

    dev.tollgate.sidecar.config.RouteConfig.ResponseCache out =
        records.route(route, null).cache().response();
    assertThat(out.enabled()).isTrue();
    assertThat(out.ttl()).isEqualTo(java.time.Duration.ofMinutes(10));
    assertThat(out.maxSizeBytes()).isEqualTo(1024L * 1024);
    assertThat(out.maxTemperature()).isEqualByComparingTo("0.3");
    assertThat(out.cacheAboveMaxTemperature()).isTrue();
    assertThat(out.serveStaleOnError().enabled()).isTrue();
    assertThat(out.retention()).isEqualTo(java.time.Duration.ofHours(6));
    assertThat(out.backend()).isEqualTo(dev.tollgate.sidecar.config.RouteConfig.CacheBackend.REDIS);
    assertThat(out.redis().passwordFile())
        .isEqualTo(dev.tollgate.sidecar.config.SecretMounts.keyFile("redis-auth", "password"));
  }
}
