package dev.tollgate.operator;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import dev.tollgate.api.v1alpha1.LocalObjectRef;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.api.v1alpha1.SecretKeyRef;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/** Builders for the resources tests create. */
public final class Fixtures {
  public static final String API_KEY_VALUE = "sk-test-DO-NOT-LEAK-4711";

  private Fixtures() {}

  public static Secret secret(String ns, String name, String key) {
    return new SecretBuilder()
        .withMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build())
        .addToData(
            key, Base64.getEncoder().encodeToString(API_KEY_VALUE.getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  public static ProviderCredential credential(
      String ns, String name, Provider provider, String secret, String key) {
    ProviderCredential c = new ProviderCredential();
    c.setMetadata(
        new ObjectMetaBuilder().withName(name).withNamespace(ns).withGeneration(1L).build());
    ProviderCredentialSpec spec = new ProviderCredentialSpec();
    spec.setProvider(provider);
    if (secret != null) {
      spec.setSecretRef(new SecretKeyRef(secret, key));
    }
    c.setSpec(spec);
    return c;
  }

  public static LLMRouteSpec.Tier tier(String name, String credential, String... models) {
    LLMRouteSpec.Tier tier = new LLMRouteSpec.Tier();
    tier.setName(name);
    for (String model : models) {
      LLMRouteSpec.Target t = new LLMRouteSpec.Target();
      t.setCredential(credential);
      t.setModel(model);
      tier.getTargets().add(t);
    }
    return tier;
  }

  public static LLMRoute route(String ns, String name, String model, LLMRouteSpec.Tier... tiers) {
    LLMRoute r = new LLMRoute();
    r.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace(ns)
            .withGeneration(1L)
            .withUid("uid-" + name)
            .build());
    LLMRouteSpec spec = new LLMRouteSpec();
    spec.setModel(model);
    spec.setTiers(new java.util.ArrayList<>(List.of(tiers)));
    r.setSpec(spec);
    return r;
  }

  public static LLMRoute withBudget(LLMRoute route, String budget) {
    route.getSpec().setBudgetRef(new LocalObjectRef(budget));
    return route;
  }

  public static Budget budget(String ns, String name, String limit) {
    Budget b = new Budget();
    b.setMetadata(
        new ObjectMetaBuilder().withName(name).withNamespace(ns).withGeneration(1L).build());
    BudgetSpec spec = new BudgetSpec();
    spec.setLimit(limit);
    b.setSpec(spec);
    return b;
  }
}
