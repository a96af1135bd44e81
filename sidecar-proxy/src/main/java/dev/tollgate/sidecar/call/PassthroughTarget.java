package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Which credential a passthrough request goes to, and where: the one of the caller's API format
 * (OpenAI's for {@code /v1/files}, Anthropic's for {@code /v1/messages/batches}) that the route
 * named by the request's {@code model} reaches, else the namespace's only such credential, else the
 * one marked {@code passthrough.default}. Refusals say how to enable the path.
 */
public final class PassthroughTarget {
  private PassthroughTarget() {}

  /** The credential for {@code path}, or a refusal in terms the platform team can act on. */
  public static CredentialConfig choose(
      SidecarConfig cfg, ApiFormat format, String path, String model) {
    return choose(cfg, format, path, model, null);
  }

  /**
   * The credential for {@code path}; {@code pinned}, when not null, names the credential that holds
   * the stored response the path is about ({@link StoredResponses}): that one, or a refusal, never
   * another account.
   */
  public static CredentialConfig choose(
      SidecarConfig cfg, ApiFormat format, String path, String model, String pinned) {
    ProviderKind kind = kindOf(format);
    if (pinned != null) {
      return cfg.credentials().stream()
          .filter(c -> c.name().equals(pinned) && c.provider() == kind)
          .filter(c -> c.passthrough().allows(path))
          .findFirst()
          .orElseThrow(
              () ->
                  new ProxyException(
                      ErrorKind.FORBIDDEN,
                      path
                          + " is not forwarded: the response is held by credential "
                          + pinned
                          + ", which passthrough does not reach (gone, not "
                          + kind.wireName()
                          + ", or passthrough off for this path); it is never sent to another"
                          + " account"));
    }
    List<CredentialConfig> ofFormat =
        cfg.credentials().stream().filter(c -> c.provider() == kind).toList();
    if (ofFormat.isEmpty()) {
      throw new ProxyException(
          ErrorKind.NOT_FOUND,
          path
              + " is not served: namespace "
              + cfg.namespace()
              + " has no "
              + kind.wireName()
              + " ProviderCredential to forward it to; create one to enable it");
    }
    List<CredentialConfig> allowed =
        ofFormat.stream().filter(c -> c.passthrough().allows(path)).toList();
    if (allowed.isEmpty()) {
      throw new ProxyException(
          ErrorKind.FORBIDDEN,
          path
              + " is not forwarded: passthrough is off for it on every "
              + kind.wireName()
              + " ProviderCredential of namespace "
              + cfg.namespace()
              + "; the platform team enables it with spec.passthrough (enabled, paths)");
    }
    Optional<CredentialConfig> routed = routed(cfg, model, allowed);
    if (routed.isPresent()) {
      return routed.get();
    }
    if (allowed.size() == 1) {
      return allowed.get(0);
    }
    List<CredentialConfig> defaults =
        allowed.stream().filter(c -> c.passthrough().isDefault()).toList();
    if (defaults.size() == 1) {
      return defaults.get(0);
    }
    throw new ProxyException(
        ErrorKind.FORBIDDEN,
        path
            + " is not forwarded: namespace "
            + cfg.namespace()
            + " has several "
            + kind.wireName()
            + " ProviderCredentials ("
            + String.join(", ", allowed.stream().map(CredentialConfig::name).toList())
            + ") and none is the passthrough default; set spec.passthrough.default: true on one");
  }

  /** The credential the route named by {@code model} reaches first, when it is allowed. */
  private static Optional<CredentialConfig> routed(
      SidecarConfig cfg, String model, List<CredentialConfig> allowed) {
    if (model == null) {
      return Optional.empty();
    }
    Optional<RouteConfig> route = cfg.route(model);
    return route.stream()
        .flatMap(r -> r.tiers().stream())
        .flatMap(
            t ->
                Stream.concat(
                    t.targets().stream().map(RouteConfig.Target::credential),
                    t.fallbacks().stream().map(RouteConfig.TargetRef::credential)))
        .flatMap(name -> allowed.stream().filter(c -> c.name().equals(name)))
        .findFirst();
  }

  /** The provider whose API the caller's format is. */
  static ProviderKind kindOf(ApiFormat format) {
    return switch (format) {
      case ANTHROPIC, ANTHROPIC_COUNT_TOKENS -> ProviderKind.ANTHROPIC;
      default -> ProviderKind.OPENAI;
    };
  }

  /**
   * The upstream URL of {@code pathAndQuery} at {@code c}: OpenAI's endpoint already ends in {@code
   * /v1}, Anthropic's does not.
   */
  public static URI url(CredentialConfig c, String pathAndQuery) {
    String base = c.effectiveEndpoint().orElseThrow();
    base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    if (c.provider() == ProviderKind.OPENAI && base.endsWith("/v1")) {
      return URI.create(base + pathAndQuery.substring(3));
    }
    return URI.create(base + pathAndQuery);
  }
}
