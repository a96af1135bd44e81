package dev.tollgate.operator;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/** Helpers for running the operator against fabric8's mock API server in CRUD mode. */
public final class MockApi {
  private MockApi() {}

  /**
   * Registers the generated CRDs with the mock server, so that it treats {@code status} as a
   * subresource and bumps {@code metadata.generation} on spec changes as a real API server does.
   */
  public static void installCrds(KubernetesClient client) throws IOException {
    Path dir = Path.of("..", "crds");
    for (String file :
        new String[] {
          "llmroutes.tollgate.dev.yaml",
          "providercredentials.tollgate.dev.yaml",
          "budgets.tollgate.dev.yaml"
        }) {
      try (InputStream in = Files.newInputStream(dir.resolve(file))) {
        CustomResourceDefinition crd =
            client.apiextensions().v1().customResourceDefinitions().load(in).item();
        client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
      }
    }
  }

  /**
   * Creates {@code resource}, or replaces it if it exists (the mock server cannot do server-side
   * apply). A new custom resource is given an empty {@code status}: the mock server's PATCH handler
   * copies a missing status as a JSON "missing" node, after which every JSON patch of the status
   * fails ("Cannot reference past scalar value"). A real API server has no such problem; an empty
   * status is what a real object looks like to the operator anyway.
   */
  public static void apply(KubernetesClient client, HasMetadata resource) {
    HasMetadata applied = client.resource(resource).createOr(NonDeletingOperation::update);
    if (applied instanceof CustomResource<?, ?>) {
      GenericKubernetesResource raw =
          client
              .genericKubernetesResources(applied.getApiVersion(), applied.getKind())
              .inNamespace(applied.getMetadata().getNamespace())
              .withName(applied.getMetadata().getName())
              .get();
      if (raw.getAdditionalProperties().get("status") == null) {
        client
            .genericKubernetesResources(applied.getApiVersion(), applied.getKind())
            .inNamespace(applied.getMetadata().getNamespace())
            .withName(applied.getMetadata().getName())
            .subresource("status")
            .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{}}");
      }
    }
  }

  /**
   * Settings for tests: no server-side apply (the mock server answers 415 to apply patches), no
   * HTTP port, all namespaces.
   */
  public static OperatorConfig config(boolean leaderElection, String identity) {
    return new OperatorConfig(
        Set.of(),
        "tollgate-system",
        leaderElection,
        "tollgate-operator",
        Duration.ofSeconds(3),
        identity,
        0,
        "/var/run/tollgate/secrets",
        "tollgate-sidecar-config",
        false,
        Duration.ofMinutes(10),
        2);
  }
}
