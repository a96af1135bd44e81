package dev.tollgate.sidecar.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Optional;

/**
 * The whole configuration of the sidecars of one namespace: what the operator renders into a
 * ConfigMap and every sidecar of the namespace reads. It never holds secret values, only the paths
 * of the files where the mounted Secrets put them.
 *
 * @param version content hash set by the renderer ({@link SidecarConfigCodec#withContentHash}); the
 *     sidecar reports it so the operator knows who runs which configuration
 * @param namespace the namespace whose resources this configuration was rendered from
 * @param server listener settings of the sidecar
 * @param routes the namespace's LLMRoutes, by the model name applications ask for
 * @param credentials the ProviderCredentials the routes reference
 * @param budgets the Budgets the routes draw from
 * @param prices the cluster's own price file (the ConfigMap {@code tollgate-prices} the platform
 *     team keeps in the operator's namespace), merged over the built-in catalogue; null (left out
 *     of the rendering) when the cluster has none; added after the first version
 */
public record SidecarConfig(
    String version,
    String namespace,
    ServerSettings server,
    List<RouteConfig> routes,
    List<CredentialConfig> credentials,
    List<BudgetConfig> budgets,
    @JsonInclude(JsonInclude.Include.NON_NULL) PriceFile prices) {

  /** The constructor before {@code prices}: no cluster prices. */
  public SidecarConfig(
      String version,
      String namespace,
      ServerSettings server,
      List<RouteConfig> routes,
      List<CredentialConfig> credentials,
      List<BudgetConfig> budgets) {
    this(version, namespace, server, routes, credentials, budgets, null);
  }

  public SidecarConfig {
    server = Defaults.or(server, ServerSettings.defaults());
    routes = Defaults.list(routes);
    credentials = Defaults.list(credentials);
    budgets = Defaults.list(budgets);
  }

  /** The route applications name with {@code model}. */
  public Optional<RouteConfig> route(String model) {
    for (RouteConfig r : routes) { // once per call: a loop, not a stream pipeline
      if (r.model().equals(model)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }

  /** The route that serves model names no route declares, if one says {@code default: true}. */
  public Optional<RouteConfig> defaultRoute() {
    return routes.stream().filter(RouteConfig::defaultRoute).findFirst();
  }

  public Optional<CredentialConfig> credential(String name) {
    return credentials.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  public Optional<BudgetConfig> budget(String name) {
    return budgets.stream().filter(b -> b.name().equals(name)).findFirst();
  }

  /** A copy with another version (content hash). */
  public SidecarConfig withVersion(String newVersion) {
    return new SidecarConfig(newVersion, namespace, server, routes, credentials, budgets, prices);
  }

  /** A copy with the cluster's price file (null: none). */
  public SidecarConfig withPrices(PriceFile newPrices) {
    return new SidecarConfig(version, namespace, server, routes, credentials, budgets, newPrices);
  }
}
