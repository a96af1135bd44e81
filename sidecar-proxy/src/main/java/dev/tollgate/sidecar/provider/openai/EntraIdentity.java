package dev.tollgate.sidecar.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.config.CredentialAuth;
import dev.tollgate.sidecar.provider.CloudIdentity;
import dev.tollgate.sidecar.wire.Json;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Entra ID access tokens for Azure OpenAI through Azure Workload Identity: the pod's projected
 * ServiceAccount token ({@code AZURE_FEDERATED_TOKEN_FILE}, re-read on each fetch because the
 * kubelet rotates it) is the client assertion of an OAuth client-credentials request to {@code
 * {authority}/{tenant}/oauth2/v2.0/token} for the Cognitive Services scope, the documented flow
 * that Azure Identity's {@code WorkloadIdentityCredential} implements (its library and its HTTP
 * stack would add several MB to the sidecar for one POST). Tenant, client id and authority come
 * from the credential's {@code auth.azure}, else from what Azure's webhook puts in the pod. Runs on
 * {@link dev.tollgate.sidecar.provider.CloudIdentities}' thread; tokens are never logged.
 */
public final class EntraIdentity {
  static final String SCOPE = "https://cognitiveservices.azure.com/.default";
  private static final String DEFAULT_AUTHORITY = "https://login.microsoftonline.com/";
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private EntraIdentity() {}

  /**
   * A fetcher for these settings; {@code env} reads the pod's environment ({@code AZURE_TENANT_ID},
   * {@code AZURE_CLIENT_ID}, {@code AZURE_FEDERATED_TOKEN_FILE}, {@code AZURE_AUTHORITY_HOST}).
   */
  public static CloudIdentity.Fetcher<String> fetcher(
      CredentialAuth auth, Function<String, String> env) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    return () -> {
      String tenant = or(auth.tenantId(), env.apply("AZURE_TENANT_ID"), "AZURE_TENANT_ID");
      String client = or(auth.clientId(), env.apply("AZURE_CLIENT_ID"), "AZURE_CLIENT_ID");
      String tokenFile =
          or(null, env.apply("AZURE_FEDERATED_TOKEN_FILE"), "AZURE_FEDERATED_TOKEN_FILE");
      String authority = auth.authorityHost();
      if (authority == null) {
        authority = env.apply("AZURE_AUTHORITY_HOST");
      }
      if (authority == null || authority.isBlank()) {
        authority = DEFAULT_AUTHORITY;
      }
      String assertion = Files.readString(Path.of(tokenFile)).trim();
      Map<String, String> form = new LinkedHashMap<>();
      form.put("grant_type", "client_credentials");
      form.put("client_id", client);
      form.put("scope", SCOPE);
      form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
      form.put("client_assertion", assertion);
      URI url =
          URI.create(
              (authority.endsWith("/") ? authority : authority + "/")
                  + URLEncoder.encode(tenant, StandardCharsets.UTF_8)
                  + "/oauth2/v2.0/token");
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(url)
                  .timeout(TIMEOUT)
                  .header("Content-Type", "application/x-www-form-urlencoded")
                  .POST(HttpRequest.BodyPublishers.ofString(encode(form)))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      JsonNode body = Json.MAPPER.readTree(r.body().isBlank() ? "{}" : r.body());
      if (r.statusCode() != 200 || !body.path("access_token").isTextual()) {
        // Entra's error and description (AADSTS codes) say why; they never hold a token
        throw new IllegalStateException(
            "Entra ID refused the workload-identity token ("
                + r.statusCode()
                + "): "
                + body.path("error").asText("no error code")
                + " "
                + body.path("error_description").asText("").lines().findFirst().orElse(""));
      }
      long expiresIn = body.path("expires_in").asLong(3600);
      return new CloudIdentity.Fetched<>(
          body.path("access_token").asText(), Instant.now().plusSeconds(expiresIn));
    };
  }

  private static String or(String configured, String fromEnv, String name) {
    if (configured != null && !configured.isBlank()) {
      return configured;
    }
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv;
    }
    throw new IllegalStateException(
        name
            + " is not set: label the pod azure.workload.identity/use=true and annotate its"
            + " ServiceAccount with azure.workload.identity/client-id");
  }

  private static String encode(Map<String, String> form) {
    return form.entrySet().stream()
        .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }
}
