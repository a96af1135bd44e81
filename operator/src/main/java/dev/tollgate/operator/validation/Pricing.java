package dev.tollgate.operator.validation;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.sidecar.config.CatalogueEntry;
import dev.tollgate.sidecar.config.ModelIds;
import dev.tollgate.sidecar.config.PriceCatalogue;
import dev.tollgate.sidecar.config.PriceFile;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * Whether a model reached through a credential has a price: an override in the credential's {@code
 * spec.pricing.models} or an entry of the catalogue (the built-in price file, with the cluster's
 * own prices merged over it). Both match model ids the same way ({@link ModelIds}). Models without
 * a price are flagged in status, never priced as zero; overrides that price no model in use are
 * flagged too.
 */
public final class Pricing {
  private static final AtomicReference<PriceCatalogue> CATALOGUE =
      new AtomicReference<>(PriceCatalogue.builtIn());
  // the cluster's price file in force (null: none) and the ConfigMap version it was read from
  private static volatile PriceFile clusterPrices;
  private static volatile String clusterVersion;

  private Pricing() {}

  /** The catalogue status is judged against (the built-in one until cluster prices are read). */
  public static PriceCatalogue catalogue() {
    return CATALOGUE.get();
  }

  /**
   * Puts the cluster's price file in force (null: the built-in prices alone), read from the
   * ConfigMap version {@code version}: status is judged against it and renderings carry it.
   */
  public static synchronized void use(PriceFile cluster, String version) {
    CATALOGUE.set(PriceCatalogue.builtIn().withOverrides(cluster));
    clusterPrices = cluster;
    clusterVersion = version;
  }

  /** Notes that ConfigMap version {@code version} was refused; the prices in force stay. */
  public static synchronized void refuse(String version) {
    clusterVersion = version;
  }

  /** The cluster's price file in force, rendered into every sidecar configuration; null: none. */
  public static PriceFile clusterPrices() {
    return clusterPrices;
  }

  /** The ConfigMap version last read (applied or refused); null when none was. */
  public static String clusterPricesVersion() {
    return clusterVersion;
  }

  public static boolean isPriced(ProviderCredential credential, String model) {
    boolean overridden =
        override(credential, model)
            .filter(p -> p.getInput() != null && p.getOutput() != null)
            .isPresent();
    return overridden || catalogue().lookup(model).filter(CatalogueEntry::pricesTokens).isPresent();
  }

  /** The credential's override that prices {@code model}, if any. */
  public static Optional<ProviderCredentialSpec.ModelPrice> override(
      ProviderCredential credential, String model) {
    return ModelIds.best(overrides(credential), ProviderCredentialSpec.ModelPrice::getModel, model);
  }

  /** Models the given routes send through {@code credential} that have no price, sorted. */
  public static List<String> unpricedModels(ProviderCredential credential, List<LLMRoute> routes) {
    return modelsInUse(credential, routes).stream().filter(m -> !isPriced(credential, m)).toList();
  }

  /**
   * The credential's price overrides that price none of the models its routes send through it (an
   * id with a typo, a model no longer used), sorted. Empty while no route uses the credential.
   */
  public static List<String> unmatchedOverrides(
      ProviderCredential credential, List<LLMRoute> routes) {
    Set<String> inUse = modelsInUse(credential, routes);
    if (inUse.isEmpty()) {
      return List.of();
    }
    Set<String> used = new TreeSet<>();
    for (String model : inUse) {
      override(credential, model)
          .map(ProviderCredentialSpec.ModelPrice::getModel)
          .ifPresent(used::add);
    }
    return overrides(credential).stream()
        .map(ProviderCredentialSpec.ModelPrice::getModel)
        .filter(m -> m != null && !used.contains(m))
        .sorted()
        .distinct()
        .toList();
  }

  /** Every model the live routes send through {@code credential}, sorted. */
  public static Set<String> modelsInUse(ProviderCredential credential, List<LLMRoute> routes) {
    String name = credential.getMetadata().getName();
    Set<String> result = new TreeSet<>();
    for (LLMRoute route : routes) {
      if (route.getSpec() == null || route.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      targets(route.getSpec())
          .filter(t -> name.equals(t.getCredential()) && t.getModel() != null)
          .map(LLMRouteSpec.TargetRef::getModel)
          .forEach(result::add);
    }
    return result;
  }

  private static List<ProviderCredentialSpec.ModelPrice> overrides(ProviderCredential credential) {
    return credential.getSpec() == null || credential.getSpec().getPricing() == null
        ? List.of()
        : credential.getSpec().getPricing().getModels();
  }

  /** Every credential/model pair a route may call: targets, fallbacks and the classifier. */
  public static Stream<LLMRouteSpec.TargetRef> targets(LLMRouteSpec spec) {
    Stream<LLMRouteSpec.TargetRef> tiers =
        spec.getTiers().stream()
            .flatMap(
                t ->
                    Stream.concat(
                        t.getTargets().stream().map(Pricing::ref), t.getFallbacks().stream()));
    Stream<LLMRouteSpec.TargetRef> classifier =
        spec.getClassifier() == null || spec.getClassifier().getTarget() == null
            ? Stream.empty()
            : Stream.of(spec.getClassifier().getTarget());
    return Stream.concat(tiers, classifier);
  }

  private static LLMRouteSpec.TargetRef ref(LLMRouteSpec.Target t) {
    LLMRouteSpec.TargetRef ref = new LLMRouteSpec.TargetRef();
    ref.setCredential(t.getCredential());
    ref.setModel(t.getModel());
    return ref;
  }
}
