package dev.tollgate.operator.validation;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.sidecar.config.PriceCatalogue;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Whether a model reached through a credential has a price: an override in the credential's {@code
 * spec.pricing.models} or an entry of the built-in {@link PriceCatalogue}. Models without one are
 * flagged in status, never priced as zero.
 */
public final class Pricing {
  private static final PriceCatalogue CATALOGUE = PriceCatalogue.builtIn();

  private Pricing() {}

  public static boolean isPriced(ProviderCredential credential, String model) {
    boolean overridden =
        credential.getSpec() != null
            && credential.getSpec().getPricing() != null
            && credential.getSpec().getPricing().getModels().stream()
                .anyMatch(p -> model.equals(p.getModel()));
    return overridden || CATALOGUE.lookup(model).isPresent();
  }

  /** Models the given routes send through {@code credential} that have no price, sorted. */
  public static List<String> unpricedModels(ProviderCredential credential, List<LLMRoute> routes) {
    String name = credential.getMetadata().getName();
    Set<String> result = new TreeSet<>();
    for (LLMRoute route : routes) {
      if (route.getSpec() == null || route.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      targets(route.getSpec())
          .filter(t -> name.equals(t.getCredential()) && t.getModel() != null)
          .map(LLMRouteSpec.TargetRef::getModel)
          .filter(m -> !isPriced(credential, m))
          .forEach(result::add);
    }
    return List.copyOf(result);
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
