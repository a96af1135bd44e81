package dev.tollgate.operator.validation;

import dev.tollgate.api.v1alpha1.CredentialAuth;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.api.v1alpha1.SecretKeyRef;
import io.fabric8.kubernetes.api.model.Secret;
import java.math.BigDecimal;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks a ProviderCredential beyond its schema: provider-specific settings, the endpoint, and that
 * the Secret and key it names exist. Values of the Secret are never read.
 */
public final class CredentialValidator {

  /** Whether the API key Secret resolved. */
  public enum SecretState {
    RESOLVED,
    /** The provider needs no key (a local Ollama) and none is named. */
    NOT_NEEDED,
    NOT_SET,
    SECRET_MISSING,
    KEY_MISSING
  }

  /** Outcome: the problems (empty when valid) and what became of the Secret. */
  public record Result(List<Problem> problems, SecretState secret, String secretMessage) {
    public boolean valid() {
      return problems.isEmpty();
    }
  }

  private CredentialValidator() {}

  /**
   * Passthrough paths must be API paths ({@code /v1/...}), and only OpenAI and Anthropic
   * credentials serve passthrough, so a default elsewhere would never be used.
   */
  private static void passthrough(
      ProviderCredentialSpec spec, Provider provider, List<Problem> problems) {
    ProviderCredentialSpec.Passthrough p = spec.getPassthrough();
    if (p == null) {
      return;
    }
    for (int i = 0; i < p.getPaths().size(); i++) {
      String path = p.getPaths().get(i);
      if (path == null || !path.startsWith("/v1/")) {
        problems.add(
            new Problem(
                "InvalidPassthroughPath",
                "spec.passthrough.paths[" + i + "]",
                "'"
                    + path
                    + "' is not an API path; give path prefixes that start with /v1/, e.g."
                    + " /v1/files"));
      }
    }
    if (Boolean.TRUE.equals(p.getIsDefault())
        && provider != Provider.OPENAI
        && provider != Provider.ANTHROPIC) {
      problems.add(
          new Problem(
              "PassthroughNotServed",
              "spec.passthrough.default",
              "passthrough is served by openai and anthropic credentials only; provider "
                  + provider.wireName()
                  + " cannot be the passthrough default, remove the field"));
    }
  }

  public static Result validate(ProviderCredential credential, ClusterView view) {
    String ns = credential.getMetadata().getNamespace();
    ProviderCredentialSpec spec = credential.getSpec();
    List<Problem> problems = new ArrayList<>();
    if (spec == null || spec.getProvider() == null) {
      problems.add(new Problem("MissingField", "spec.provider", "is required; name the provider"));
      return new Result(problems, SecretState.NOT_SET, "spec.provider is missing");
    }
    Provider provider = spec.getProvider();
    endpoint(spec, provider, problems);
    providerSettings(spec, provider, problems);
    pricing(spec, problems);
    passthrough(spec, provider, problems);

    SecretState state;
    String secretMessage;
    SecretKeyRef ref = spec.getSecretRef();
    CredentialAuth.Type auth =
        spec.getAuth() == null || spec.getAuth().getType() == null
            ? CredentialAuth.Type.API_KEY
            : spec.getAuth().getType();
    auth(spec, provider, auth, problems);
    if (auth != CredentialAuth.Type.API_KEY) {
      state = SecretState.NOT_NEEDED;
      secretMessage =
          "auth "
              + auth.wireName()
              + " uses the pod's cloud identity; no Secret is needed"
              + (ref == null ? "" : " (spec.secretRef is not used)");
    } else if (ref == null || blank(ref.getName()) || blank(ref.getKey())) {
      if (provider.requiresSecret()) {
        state = SecretState.NOT_SET;
        secretMessage =
            "provider "
                + provider.wireName()
                + " needs an API key; set spec.secretRef.name and spec.secretRef.key";
        problems.add(new Problem("MissingField", "spec.secretRef", secretMessage));
      } else {
        state = SecretState.NOT_NEEDED;
        secretMessage = "Provider " + provider.wireName() + " needs no API key";
      }
    } else {
      Optional<Secret> secret = view.secret(ns, ref.getName());
      if (secret.isEmpty()) {
        state = SecretState.SECRET_MISSING;
        secretMessage =
            "Secret '"
                + ref.getName()
                + "' does not exist in namespace '"
                + ns
                + "'; create it, e.g. kubectl -n "
                + ns
                + " create secret generic "
                + ref.getName()
                + " --from-literal="
                + ref.getKey()
                + "=<api key>";
        problems.add(new Problem("SecretNotFound", "spec.secretRef.name", secretMessage));
      } else if (!keys(secret.get()).contains(ref.getKey())) {
        state = SecretState.KEY_MISSING;
        secretMessage =
            "Secret '"
                + ref.getName()
                + "' has no key '"
                + ref.getKey()
                + "' (its keys: "
                + String.join(", ", keys(secret.get()))
                + "); add the key to the Secret or fix spec.secretRef.key";
        problems.add(new Problem("SecretKeyNotFound", "spec.secretRef.key", secretMessage));
      } else {
        state = SecretState.RESOLVED;
        secretMessage = "Key '" + ref.getKey() + "' of Secret '" + ref.getName() + "' exists";
      }
    }
    return new Result(List.copyOf(problems), state, secretMessage);
  }

  /** Key names of a Secret, from both {@code data} and {@code stringData}. */
  public static Set<String> keys(Secret secret) {
    Set<String> keys = new TreeSet<>();
    Optional.ofNullable(secret.getData()).map(Map::keySet).ifPresent(keys::addAll);
    Optional.ofNullable(secret.getStringData()).map(Map::keySet).ifPresent(keys::addAll);
    return keys;
  }

  private static void endpoint(
      ProviderCredentialSpec spec, Provider provider, List<Problem> problems) {
    String endpoint = spec.getEndpoint();
    if (blank(endpoint)) {
      if (provider.requiresEndpoint()) {
        problems.add(
            new Problem(
                "MissingField",
                "spec.endpoint",
                "provider "
                    + provider.wireName()
                    + " has no default endpoint; set spec.endpoint to the server's base URL"));
      }
      return;
    }
    if (!isHttpUrl(endpoint)) {
      problems.add(
          new Problem(
              "InvalidEndpoint",
              "spec.endpoint",
              "'" + endpoint + "' is not an http(s) URL with a host; use e.g. https://host/v1"));
    }
  }

  private static void providerSettings(
      ProviderCredentialSpec spec, Provider provider, List<Problem> problems) {
    switch (provider) {
      case AZURE_OPENAI -> {
        if (spec.getAzure() == null || blank(spec.getAzure().getDeployment())) {
          problems.add(
              new Problem(
                  "MissingField",
                  "spec.azure.deployment",
                  "is required for provider azure-openai; set the deployment name"));
        }
      }
      case BEDROCK -> {
        if (spec.getBedrock() == null || blank(spec.getBedrock().getRegion())) {
          problems.add(
              new Problem(
                  "MissingField",
                  "spec.bedrock.region",
                  "is required for provider bedrock; set the AWS region, e.g. us-east-1"));
        }
      }
      case VERTEX_AI -> {
        if (spec.getVertex() == null
            || blank(spec.getVertex().getProject())
            || blank(spec.getVertex().getLocation())) {
          problems.add(
              new Problem(
                  "MissingField",
                  "spec.vertex",
                  "project and location are required for provider vertex-ai"));
        }
      }
      default -> {}
    }
  }

  private static void auth(
      ProviderCredentialSpec spec,
      Provider provider,
      CredentialAuth.Type auth,
      List<Problem> problems) {
    if (auth.provider() != null && auth.provider() != provider) {
      problems.add(
          new Problem(
              "InvalidAuth",
              "spec.auth.type",
              auth.wireName()
                  + " is for provider "
                  + auth.provider().wireName()
                  + ", not "
                  + provider.wireName()
                  + "; use apiKey with a secretRef, or the identity of this provider's cloud"));
    }
    if (spec.getAuth() != null
        && spec.getAuth().getAzure() != null
        && auth != CredentialAuth.Type.AZURE_WORKLOAD_IDENTITY) {
      problems.add(
          new Problem(
              "InvalidAuth",
              "spec.auth.azure",
              "is only used with auth.type azureWorkloadIdentity; remove it or change the type"));
    }
  }

  private static void pricing(ProviderCredentialSpec spec, List<Problem> problems) {
    ProviderCredentialSpec.Pricing pricing = spec.getPricing();
    if (pricing == null) {
      return;
    }
    if (pricing.getMarkupPercent() != null) {
      money("spec.pricing.markupPercent", pricing.getMarkupPercent(), problems);
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < pricing.getModels().size(); i++) {
      ProviderCredentialSpec.ModelPrice p = pricing.getModels().get(i);
      String path = "spec.pricing.models[" + i + "]";
      if (blank(p.getModel())) {
        problems.add(new Problem("MissingField", path + ".model", "is required"));
      } else if (!seen.add(p.getModel())) {
        problems.add(
            new Problem(
                "DuplicatePrice",
                path + ".model",
                "model '" + p.getModel() + "' is priced twice; keep one entry"));
      }
      money(path + ".input", p.getInput(), problems);
      money(path + ".output", p.getOutput(), problems);
      if (p.getCacheRead() != null) {
        money(path + ".cacheRead", p.getCacheRead(), problems);
      }
      if (p.getCacheWrite() != null) {
        money(path + ".cacheWrite", p.getCacheWrite(), problems);
      }
    }
  }

  private static void money(String path, String value, List<Problem> problems) {
    try {
      if (value == null || new BigDecimal(value).signum() < 0) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      problems.add(
          new Problem(
              "InvalidPrice",
              path,
              "'" + value + "' is not a non-negative decimal number of US dollars, e.g. \"2.50\""));
    }
  }

  static boolean isHttpUrl(String s) {
    try {
      URI u = URI.create(s);
      return ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
