package dev.tollgate.operator.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/config} on the report port: the rendered sidecar configuration of the caller's own
 * namespace, for a sidecar whose mounted ConfigMap is stale (the kubelet can take a minute or more
 * to update it). Authenticated like reports, with the pod's projected token; the namespace is the
 * token's, and asking for another one ({@code ?namespace=}) is refused. The configuration holds no
 * secret values (API keys are file paths), so it is served as the ConfigMap has it.
 */
final class ConfigEndpoint implements HttpHandler {
  static final String PATH = "/v1/config";

  /** The header carrying the configuration's version (its content hash). */
  static final String VERSION_HEADER = "X-Tollgate-Config-Version";

  private static final Logger LOG = LoggerFactory.getLogger(ConfigEndpoint.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The rendered configuration of a namespace. */
  interface ConfigLookup {
    /** The namespace's configuration YAML and its version, or empty when none is rendered. */
    Optional<Rendered> config(String namespace);
  }

  /** A rendered configuration: the ConfigMap's YAML and its version annotation. */
  record Rendered(String yaml, String version) {}

  private final TokenReviewer reviewer;
  private final ConfigLookup lookup;

  ConfigEndpoint(TokenReviewer reviewer, ConfigLookup lookup) {
    this.reviewer = reviewer;
    this.lookup = lookup;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!"GET".equals(exchange.getRequestMethod())) {
        respond(exchange, 405, "application/json", error("GET the configuration"));
        return;
      }
      String auth = exchange.getRequestHeaders().getFirst("Authorization");
      if (auth == null || !auth.startsWith("Bearer ") || auth.length() <= 7) {
        respond(
            exchange,
            401,
            "application/json",
            error("send the pod's projected token as Authorization: Bearer"));
        return;
      }
      Optional<TokenReviewer.Identity> who = reviewer.review(auth.substring(7).trim());
      if (who.isEmpty()) {
        respond(
            exchange,
            401,
            "application/json",
            error("the token is not a valid ServiceAccount token for audience tollgate"));
        return;
      }
      String namespace = who.get().namespace();
      String asked = queryParameter(exchange, "namespace");
      if (asked != null && !asked.equals(namespace)) {
        LOG.warn(
            "refused the configuration of namespace {} to ServiceAccount {}/{}",
            asked,
            namespace,
            who.get().serviceAccount());
        respond(
            exchange,
            403,
            "application/json",
            error(
                "ServiceAccount "
                    + namespace
                    + "/"
                    + who.get().serviceAccount()
                    + " may only read the configuration of namespace "
                    + namespace
                    + ", not "
                    + asked));
        return;
      }
      Optional<Rendered> rendered = lookup.config(namespace);
      if (rendered.isEmpty()) {
        respond(
            exchange,
            404,
            "application/json",
            error("no sidecar configuration is rendered for namespace " + namespace));
        return;
      }
      if (rendered.get().version() != null) {
        exchange.getResponseHeaders().set(VERSION_HEADER, rendered.get().version());
      }
      respond(
          exchange,
          200,
          "application/yaml",
          rendered.get().yaml().getBytes(StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      LOG.warn("serving a configuration failed: {}", e.toString());
      throw e;
    }
  }

  private static String queryParameter(HttpExchange exchange, String name) {
    String query = exchange.getRequestURI().getRawQuery();
    if (query == null) {
      return null;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (key.equals(name)) {
        return java.net.URLDecoder.decode(
            eq < 0 ? "" : pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private static byte[] error(String message) {
    try {
      return JSON.writeValueAsBytes(Map.of("error", message));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void respond(HttpExchange exchange, int status, String type, byte[] body)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
