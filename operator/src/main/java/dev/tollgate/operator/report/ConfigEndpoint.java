package dev.tollgate.operator.report;

import dev.tollgate.operator.https.GuardedHttpsServer;
import dev.tollgate.operator.https.GuardedHttpsServer.Request;
import dev.tollgate.operator.https.GuardedHttpsServer.Response;
import dev.tollgate.operator.render.RenderedConfigs;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/config} on the report port: the rendered sidecar configuration of the caller's own
 * namespace, for a sidecar whose mounted ConfigMap is stale (the kubelet can take a minute or more
 * to update it). Authenticated like reports (a pod-bound projected token, the same cache and rate
 * limit); the namespace is the token's, and asking for another one ({@code ?namespace=}) is
 * refused. What is served is the operator's own rendering ({@link
 * dev.tollgate.operator.render.RenderedConfigs}), never the ConfigMap, which tenants can edit; its
 * SHA-256 is the one every report reply announces, so a sidecar can check that what it fetched is
 * what was announced. It holds no secret values (API keys are file paths).
 */
final class ConfigEndpoint implements GuardedHttpsServer.Handler {
  static final String PATH = "/v1/config";

  /** The header carrying the configuration's version (its content hash). */
  static final String VERSION_HEADER = "X-Tollgate-Config-Version";

  /** The header carrying the SHA-256 of the configuration text (as the reply announces it). */
  static final String SHA256_HEADER = "X-Tollgate-Config-Sha256";

  private static final Logger LOG = LoggerFactory.getLogger(ConfigEndpoint.class);

  /** The rendered configuration of a namespace. */
  interface ConfigLookup {
    /** The namespace's rendered configuration, or empty when none is rendered. */
    Optional<RenderedConfigs.Rendered> config(String namespace);
  }

  private final Function<Request, ReportServer.Authenticated> authenticate;
  private final ConfigLookup lookup;

  ConfigEndpoint(Function<Request, ReportServer.Authenticated> authenticate, ConfigLookup lookup) {
    this.authenticate = authenticate;
    this.lookup = lookup;
  }

  @Override
  public CompletableFuture<Response> handle(Request request) {
    return CompletableFuture.completedFuture(answer(request));
  }

  private Response answer(Request request) {
    if (!"GET".equals(request.method())) {
      return ReportServer.json(405, "GET the configuration");
    }
    ReportServer.Authenticated auth = authenticate.apply(request);
    if (auth.refusal() != null) {
      return auth.refusal();
    }
    TokenReviewer.Identity who = auth.who();
    String namespace = who.namespace();
    String asked = request.queryParameter("namespace");
    if (asked != null && !asked.equals(namespace)) {
      LOG.warn(
          "refused the configuration of namespace {} to ServiceAccount {}/{}",
          asked.length() > 64 ? asked.substring(0, 64) + "…" : asked,
          namespace,
          who.serviceAccount());
      return ReportServer.json(
          403,
          "ServiceAccount "
              + namespace
              + "/"
              + who.serviceAccount()
              + " may only read the configuration of namespace "
              + namespace
              + ", not "
              + asked);
    }
    Optional<RenderedConfigs.Rendered> rendered = lookup.config(namespace);
    if (rendered.isEmpty()) {
      return ReportServer.json(
          404, "no sidecar configuration is rendered for namespace " + namespace);
    }
    return Response.of(
            200, "application/yaml", rendered.get().text().getBytes(StandardCharsets.UTF_8))
        .withHeader(VERSION_HEADER, rendered.get().version())
        .withHeader(SHA256_HEADER, rendered.get().sha256());
  }
}
