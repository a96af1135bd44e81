package dev.tollgate.operator.kubeapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.OperatorConfig;
import dev.tollgate.operator.TollgateOperator;
import dev.tollgate.operator.ops.OperatorMetrics;
import io.fabric8.kubeapitest.junit.EnableKubeAPIServer;
import io.fabric8.kubeapitest.junit.KubeConfig;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CRDs and examples against a real kube-apiserver and etcd (fabric8 kube-api-test downloads
 * both at run time): what fabric8's mock server cannot tell. The API server accepts the CRDs (CEL
 * cost, structural schema), every example, rejects what the CEL rules reject, fills in schema
 * defaults, keeps status a subresource, and the operator's status patches work with server-side
 * apply. Opt-in: {@code -Pkube-api} (docs/kube-api-test.md); not run by CI here.
 */
@EnableKubeAPIServer
class RealApiServerKubeApiIT {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();

  @KubeConfig static String kubeConfigYaml;
  static KubernetesClient client;

  @BeforeAll
  static void installCrds() throws Exception {
    client =
        new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(kubeConfigYaml)).build();
    for (String plural : List.of("llmroutes", "providercredentials", "budgets")) {
      Path file = REPO.resolve("crds/" + plural + ".tollgate.dev.yaml");
      CustomResourceDefinition crd;
      try (InputStream in = Files.newInputStream(file)) {
        crd = client.apiextensions().v1().customResourceDefinitions().load(in).item();
      }
      // a CRD whose CEL rules are over the cost budget, or whose schema is not structural, is
      // refused right here
      client.resource(crd).serverSideApply();
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .withName(crd.getMetadata().getName())
          .waitUntilCondition(
              c ->
                  c.getStatus() != null
                      && c.getStatus().getConditions().stream()
                          .anyMatch(
                              x ->
                                  x.getType().equals("Established")
                                      && x.getStatus().equals("True")),
              60,
              java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void close() {
    if (client != null) {
      client.close();
    }
  }

  @Test
  void everyExampleIsAccepted() throws Exception {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(REPO.resolve("examples"))) {
      files =
          walk.filter(p -> p.toString().endsWith(".yaml"))
              .filter(p -> !p.toString().contains("/argocd/"))
              .sorted()
              .toList();
    }
    int applied = 0;
    for (Path file : files) {
      List<HasMetadata> objects;
      try (InputStream in = Files.newInputStream(file)) {
        objects = client.load(in).items();
      }
      for (HasMetadata o : objects) {
        client.resource(o).createOr(NonDeletingOperation::update);
        applied++;
      }
    }
    assertThat(applied).isGreaterThan(10);
  }

  @Test
  void celRulesRejectWithTheirMessage() {
    namespace("rejections");
    LLMRoute duplicate =
        Fixtures.route(
            "rejections",
            "dup",
            "dup",
            Fixtures.tier("simple", "groq", "llama"),
            Fixtures.tier("simple", "groq", "llama"));

    assertThatThrownBy(() -> client.resource(duplicate).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("tier names must be unique within a route");

    Budget downgrade = Fixtures.budget("rejections", "b", "100.00");
    downgrade.getSpec().setOnExceeded(BudgetSpec.ExceededAction.DOWNGRADE);
    assertThatThrownBy(() -> client.resource(downgrade).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("downgrade is required when onExceeded is Downgrade");
  }

  @Test
  void aMinimalBudgetGetsItsDocumentedDefaults() {
    namespace("defaults");
    GenericKubernetesResource minimal =
        client
            .genericKubernetesResources("tollgate.dev/v1alpha1", "Budget")
            .load(
                new java.io.ByteArrayInputStream(
                    """
                    apiVersion: tollgate.dev/v1alpha1
                    kind: Budget
                    metadata: {name: minimal, namespace: defaults}
                    spec: {limit: "100"}
                    """
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8)))
            .item();
    client.resource(minimal).create();

    Budget stored =
        client.resources(Budget.class).inNamespace("defaults").withName("minimal").get();
    assertThat(stored.getSpec().getOnExceeded()).isEqualTo(BudgetSpec.ExceededAction.BLOCK);
    assertThat(stored.getSpec().getPeriod()).isEqualTo(BudgetSpec.Period.MONTHLY);
  }

  @Test
  void statusIsASubresource() {
    namespace("subresource");
    LLMRoute route =
        client
            .resource(
                Fixtures.route(
                    "subresource", "r", "m", Fixtures.tier("t", "openai", "gpt-4o-mini")))
            .create();
    long generation = route.getMetadata().getGeneration();
    if (route.getStatus() == null) {
      route.setStatus(new dev.tollgate.api.v1alpha1.LLMRouteStatus());
    }
    route.getStatus().setTiers("changed through /status");
    client.resource(route).patchStatus();
    LLMRoute afterStatus =
        client.resources(LLMRoute.class).inNamespace("subresource").withName("r").get();
    assertThat(afterStatus.getStatus().getTiers()).isEqualTo("changed through /status");
    assertThat(afterStatus.getMetadata().getGeneration()).isEqualTo(generation);

    // a status change sent to the main resource is ignored
    afterStatus.getStatus().setTiers("ignored");
    afterStatus.getSpec().setModel("m2");
    client.resource(afterStatus).update();
    LLMRoute afterSpec =
        client.resources(LLMRoute.class).inNamespace("subresource").withName("r").get();
    assertThat(afterSpec.getStatus().getTiers()).isEqualTo("changed through /status");
    assertThat(afterSpec.getMetadata().getGeneration()).isEqualTo(generation + 1);
  }

  @Test
  void theOperatorPatchesStatusWithServerSideApply() {
    String ns = "ssa";
    namespace(ns);
    OperatorConfig ssa =
        OperatorConfig.from(
            Map.of(),
            "--watch-namespaces=" + ns,
            "--operator-namespace=default",
            "--leader-election=false",
            "--identity=kube-api-it",
            "--http-port=0",
            "--status-ssa=true",
            "--reconcile-threads=2",
            "--secret-recheck=1s");
    try (TollgateOperator operator =
        new TollgateOperator(
            ssa, client, new OperatorMetrics(new PrometheusRegistry()), Clock.systemUTC(), false)) {
      operator.start();
      client.resource(Fixtures.secret(ns, "openai-key", "api-key")).create();
      client
          .resource(Fixtures.credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"))
          .create();
      client
          .resource(Fixtures.route(ns, "chat", "chat", Fixtures.tier("t", "openai", "gpt-4o")))
          .create();

      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                LLMRoute r =
                    client.resources(LLMRoute.class).inNamespace(ns).withName("chat").get();
                assertThat(r.getStatus()).isNotNull();
                assertThat(Conditions.isTrue(r.getStatus().getConditions(), Conditions.READY))
                    .isTrue();
                assertThat(r.getMetadata().getManagedFields())
                    .anySatisfy(m -> assertThat(m.getOperation()).isEqualTo("Apply"));
              });
    }
  }

  private static void namespace(String name) {
    client
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .createOr(NonDeletingOperation::update);
  }
}
