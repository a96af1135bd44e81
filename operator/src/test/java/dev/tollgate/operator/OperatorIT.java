package dev.tollgate.operator;

import static dev.tollgate.operator.Fixtures.budget;
import static dev.tollgate.operator.Fixtures.credential;
import static dev.tollgate.operator.Fixtures.route;
import static dev.tollgate.operator.Fixtures.secret;
import static dev.tollgate.operator.Fixtures.tier;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.api.status.Conditions;
import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.operator.ops.OperatorMetrics;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.SidecarConfigMap;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator against the mock API server in CRUD mode, as a user would drive it: apply resources,
 * read status, Events and the rendered ConfigMap. Each test uses its own namespace.
 */
@EnableKubernetesMockClient(crud = true)
class OperatorIT {
  static KubernetesClient client;
  static KubernetesMockServer server;
  static OperatorMetrics metrics;
  static TollgateOperator operator;

  @BeforeAll
  static void start() {
    MockApi.patientAwaits();
    metrics = new OperatorMetrics(new PrometheusRegistry());
    operator =
        new TollgateOperator(
            MockApi.config(false, "it"), client, metrics, Clock.systemUTC(), false);
    operator.start();
  }

  @AfterAll
  static void stop() {
    operator.close();
  }

  @Test
  void validResourcesAreAcceptedAndRenderedWithoutSecretValues() throws Exception {
    String ns = "valid";
    apply(secret(ns, "openai-key", "api-key"));
    apply(credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    apply(budget(ns, "monthly", "100.00"));
    apply(
        Fixtures.withBudget(
            route(ns, "chat", "chat", tier("simple", "openai", "gpt-4o-mini")), "monthly"));

    awaitCondition(LLMRoute.class, ns, "chat", Conditions.READY, "True");
    awaitCondition(ProviderCredential.class, ns, "openai", Conditions.READY, "True");
    awaitCondition(Budget.class, ns, "monthly", Conditions.READY, "True");

    LLMRoute route = get(LLMRoute.class, ns, "chat");
    assertThat(route.getStatus().getObservedGeneration())
        .isEqualTo(route.getMetadata().getGeneration());
    assertThat(route.getStatus().getTiers()).isEqualTo("simple");
    assertThat(condition(route, Conditions.ACCEPTED).getLastTransitionTime()).endsWith("Z");
    ProviderCredential credential = get(ProviderCredential.class, ns, "openai");
    assertThat(condition(credential, Conditions.SECRET_RESOLVED).getStatus()).isEqualTo("True");

    ConfigMap cm = configMap(ns).orElseThrow();
    assertThat(cm.getMetadata().getLabels())
        .containsEntry(SidecarConfigMap.MANAGED_BY_LABEL, SidecarConfigMap.MANAGED_BY);
    assertThat(cm.getMetadata().getOwnerReferences())
        .extracting(o -> o.getKind() + "/" + o.getName())
        .containsExactly("LLMRoute/chat");
    SidecarConfig config = config(ns);
    assertThat(cm.getMetadata().getAnnotations())
        .containsEntry(SidecarConfigMap.VERSION_ANNOTATION, config.version());
    assertThat(config.route("chat").orElseThrow().budget()).isEqualTo("monthly");
    assertThat(config.credential("openai").orElseThrow().apiKeyFile())
        .isEqualTo("/var/run/tollgate/secrets/openai-key/api-key");
    assertThat(cm.getData().get(SidecarConfigMap.KEY)).doesNotContain(Fixtures.API_KEY_VALUE);
    assertThat(client.v1().events().inNamespace(ns).list().getItems())
        .extracting(Event::getMessage)
        .noneMatch(m -> m.contains(Fixtures.API_KEY_VALUE));
  }

  @Test
  void aRouteWithAMissingCredentialIsRejectedOnceAndLeftOut() throws Exception {
    String ns = "rejected";
    apply(secret(ns, "openai-key", "api-key"));
    apply(credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    apply(route(ns, "good", "good", tier("t", "openai", "gpt-4o")));
    apply(route(ns, "bad", "bad", tier("a", "openai", "gpt-4o"), tier("b", "missing", "gpt-4o")));

    Condition accepted = awaitCondition(LLMRoute.class, ns, "bad", Conditions.ACCEPTED, "False");
    assertThat(accepted.getReason()).isEqualTo("CredentialNotFound");
    assertThat(accepted.getMessage())
        .contains("spec.tiers[1].targets[0].credential")
        .contains("'missing'");
    assertThat(condition(get(LLMRoute.class, ns, "bad"), Conditions.READY).getStatus())
        .isEqualTo("False");
    awaitCondition(LLMRoute.class, ns, "good", Conditions.READY, "True");
    await().untilAsserted(() -> assertThat(config(ns).route("good")).isPresent());
    assertThat(config(ns).route("bad")).isEmpty();

    // reconciling again (a credential change) must not repeat the Event
    touchCredential(ns, "openai");
    awaitReconciles();
    assertThat(warnings(ns, "bad"))
        .extracting(Event::getReason)
        .containsExactly("CredentialNotFound");
  }

  @Test
  void aSecretChangeReRendersTheCredentialAndItsRoutes() throws Exception {
    String ns = "secrets";
    apply(credential(ns, "anthropic", Provider.ANTHROPIC, "anthropic-key", "api-key"));
    apply(route(ns, "chat", "chat", tier("t", "anthropic", "claude-3-5-sonnet-20241022")));

    Condition secret =
        awaitCondition(
            ProviderCredential.class, ns, "anthropic", Conditions.SECRET_RESOLVED, "False");
    assertThat(secret.getReason()).isEqualTo("SecretNotFound");
    assertThat(awaitCondition(LLMRoute.class, ns, "chat", Conditions.ACCEPTED, "False").getReason())
        .isEqualTo("SecretNotFound");
    await()
        .untilAsserted(
            () ->
                assertThat(warnings(ns, "anthropic"))
                    .extracting(Event::getReason)
                    .containsExactly("SecretNotFound"));
    assertThat(config(ns).routes()).isEmpty();

    apply(secret(ns, "anthropic-key", "api-key"));

    awaitCondition(ProviderCredential.class, ns, "anthropic", Conditions.SECRET_RESOLVED, "True");
    awaitCondition(LLMRoute.class, ns, "chat", Conditions.READY, "True");
    await().untilAsserted(() -> assertThat(config(ns).route("chat")).isPresent());

    // the key disappears from the Secret: the route leaves the configuration
    apply(secret(ns, "anthropic-key", "other-key"));
    assertThat(awaitCondition(LLMRoute.class, ns, "chat", Conditions.ACCEPTED, "False").getReason())
        .isEqualTo("SecretKeyNotFound");
    await().untilAsserted(() -> assertThat(config(ns).route("chat")).isEmpty());
  }

  @Test
  void deletingRoutesRemovesThemAndTheLastOneTheConfigMap() throws Exception {
    String ns = "deletion";
    apply(secret(ns, "openai-key", "api-key"));
    apply(credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    apply(route(ns, "one", "one", tier("t", "openai", "gpt-4o")));
    apply(route(ns, "two", "two", tier("t", "openai", "gpt-4o")));
    await().untilAsserted(() -> assertThat(config(ns).routes()).hasSize(2));

    client.resources(LLMRoute.class).inNamespace(ns).withName("one").delete();
    await()
        .untilAsserted(
            () ->
                assertThat(config(ns).routes()).extracting(r -> r.model()).containsExactly("two"));
    assertThat(configMap(ns).orElseThrow().getMetadata().getOwnerReferences())
        .extracting(o -> o.getName())
        .containsExactly("two");

    client.resources(LLMRoute.class).inNamespace(ns).withName("two").delete();
    await().untilAsserted(() -> assertThat(configMap(ns)).isEmpty());
    await()
        .untilAsserted(
            () ->
                assertThat(client.resources(LLMRoute.class).inNamespace(ns).list().getItems())
                    .isEmpty());
  }

  @Test
  void deletingACredentialTakesItsRoutesOut() throws Exception {
    String ns = "credential-deletion";
    apply(secret(ns, "openai-key", "api-key"));
    apply(credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    apply(route(ns, "chat", "chat", tier("t", "openai", "gpt-4o")));
    awaitCondition(LLMRoute.class, ns, "chat", Conditions.READY, "True");

    client.resources(ProviderCredential.class).inNamespace(ns).withName("openai").delete();

    assertThat(awaitCondition(LLMRoute.class, ns, "chat", Conditions.ACCEPTED, "False").getReason())
        .isEqualTo("CredentialNotFound");
    await().untilAsserted(() -> assertThat(config(ns).routes()).isEmpty());
    assertThat(config(ns).credentials()).isEmpty();
  }

  @Test
  void aRouteThatLostAModelConflictIsAcceptedOnceTheWinnerGoes() throws Exception {
    String ns = "conflict";
    apply(secret(ns, "openai-key", "api-key"));
    apply(credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    apply(route(ns, "first", "chat", tier("t", "openai", "gpt-4o")));
    awaitCondition(LLMRoute.class, ns, "first", Conditions.READY, "True");
    apply(route(ns, "second", "chat", tier("t", "openai", "gpt-4o-mini")));

    Condition lost = awaitCondition(LLMRoute.class, ns, "second", Conditions.ACCEPTED, "False");
    assertThat(lost.getReason()).isEqualTo("ModelConflict");
    assertThat(lost.getMessage()).contains("spec.model").contains("'first'");

    client.resources(LLMRoute.class).inNamespace(ns).withName("first").delete();

    awaitCondition(LLMRoute.class, ns, "second", Conditions.READY, "True");
    await()
        .untilAsserted(
            () ->
                assertThat(
                        config(ns)
                            .route("chat")
                            .orElseThrow()
                            .tiers()
                            .get(0)
                            .targets()
                            .get(0)
                            .model())
                    .isEqualTo("gpt-4o-mini"));
  }

  @Test
  void modelsWithoutAPriceAreFlaggedOnTheCredential() throws Exception {
    String ns = "pricing";
    apply(secret(ns, "openai-key", "api-key"));
    apply(credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    apply(route(ns, "chat", "chat", tier("t", "openai", "gpt-4o", "my-finetune-v2")));

    Condition accepted = awaitCondition(LLMRoute.class, ns, "chat", Conditions.ACCEPTED, "True");
    assertThat(accepted.getMessage()).contains("my-finetune-v2");
    Condition priced = awaitCondition(LLMRoute.class, ns, "chat", Conditions.PRICED, "False");
    assertThat(priced.getReason()).isEqualTo("Unpriced");
    assertThat(priced.getMessage()).contains("my-finetune-v2 (via openai)");
    await()
        .untilAsserted(
            () ->
                assertThat(
                        get(ProviderCredential.class, ns, "openai").getStatus().getUnpricedModels())
                    .containsExactly("my-finetune-v2"));
    await()
        .untilAsserted(
            () ->
                assertThat(client.v1().events().inNamespace(ns).list().getItems())
                    .anySatisfy(
                        e -> {
                          assertThat(e.getReason()).isEqualTo("Unpriced");
                          assertThat(e.getInvolvedObject().getKind()).isEqualTo("LLMRoute");
                        }));
  }

  @Test
  void theClustersPriceConfigMapPricesModelsWithoutARelease() throws Exception {
    String ns = "cluster-prices";
    apply(secret(ns, "openai-key", "api-key"));
    apply(credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    apply(route(ns, "chat", "chat", tier("t", "openai", "acme-llm-2027-01-15")));
    awaitCondition(LLMRoute.class, ns, "chat", Conditions.PRICED, "False");

    apply(
        prices(
            """
            date: "2027-02-01"
            providers:
              - provider: openai-compatible
                source: https://example.com/acme-contract
                checked: "2027-02-01"
                models:
                  - {model: acme-llm, input: "1.50", output: "6"}
            """));

    awaitCondition(LLMRoute.class, ns, "chat", Conditions.PRICED, "True");
    await()
        .untilAsserted(
            () ->
                assertThat(
                        dev.tollgate.sidecar.config.PriceCatalogue.builtIn()
                            .withOverrides(config(ns).prices())
                            .lookup("acme-llm-2027-01-15")
                            .orElseThrow()
                            .input())
                    .isEqualByComparingTo("1.50"));

    // a broken file is refused with an Event on the ConfigMap; the prices in force stay
    apply(prices("providers: [{provider: x, models: [{model: acme-llm, input: \"-1\"}]}]"));
    await()
        .untilAsserted(
            () ->
                assertThat(client.v1().events().inNamespace("tollgate-system").list().getItems())
                    .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("InvalidPrices")));
    assertThat(config(ns).prices()).isNotNull();

    // without the ConfigMap, the built-in prices alone
    client.configMaps().inNamespace("tollgate-system").withName("tollgate-prices").delete();
    awaitCondition(LLMRoute.class, ns, "chat", Conditions.PRICED, "False");
    await().untilAsserted(() -> assertThat(config(ns).prices()).isNull());
  }

  private static ConfigMap prices(String yaml) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName("tollgate-prices")
        .withNamespace("tollgate-system")
        .endMetadata()
        .addToData("prices.yaml", yaml)
        .build();
  }

  @Test
  void aForeignConfigMapInTheWayIsReportedNotOverwritten() throws Exception {
    String ns = "foreign";
    apply(
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(SidecarConfigMap.NAME)
            .withNamespace(ns)
            .endMetadata()
            .addToData("mine", "yes")
            .build());
    apply(secret(ns, "openai-key", "api-key"));
    apply(credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    apply(route(ns, "chat", "chat", tier("t", "openai", "gpt-4o")));

    awaitCondition(LLMRoute.class, ns, "chat", Conditions.READY, "False");
    await()
        .untilAsserted(
            () ->
                assertThat(condition(get(LLMRoute.class, ns, "chat"), Conditions.READY).getReason())
                    .isEqualTo("ConfigMapConflict"));
    assertThat(condition(get(LLMRoute.class, ns, "chat"), Conditions.READY).getMessage())
        .contains("not managed by the operator");
    assertThat(configMap(ns).orElseThrow().getData()).containsOnlyKeys("mine");
  }

  @Test
  void unchangedInputWritesNothing() throws Exception {
    String ns = "steady";
    apply(secret(ns, "openai-key", "api-key"));
    apply(credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    apply(route(ns, "chat", "chat", tier("t", "openai", "gpt-4o")));
    awaitCondition(LLMRoute.class, ns, "chat", Conditions.READY, "True");
    String version = configMap(ns).orElseThrow().getMetadata().getResourceVersion();
    String routeVersion = get(LLMRoute.class, ns, "chat").getMetadata().getResourceVersion();
    double before = routeReconciles();

    // a spec change of the credential that the sidecar does not see: every route using it is
    // reconciled and re-rendered, and nothing they render changes
    touchCredential(ns, "openai");

    await().until(() -> routeReconciles() > before);
    assertThat(configMap(ns).orElseThrow().getMetadata().getResourceVersion()).isEqualTo(version);
    assertThat(get(LLMRoute.class, ns, "chat").getMetadata().getResourceVersion())
        .as("no status write either")
        .isEqualTo(routeVersion);
  }

  @Test
  void aBudgetDowngradingToAMissingTierIsRejected() throws Exception {
    String ns = "budgets";
    apply(secret(ns, "openai-key", "api-key"));
    apply(credential(ns, "openai", Provider.OPENAI, "openai-key", "api-key"));
    apply(route(ns, "chat", "chat", tier("premium", "openai", "gpt-4o")));
    Budget budget = budget(ns, "monthly", "50.00");
    budget.getSpec().setOnExceeded(BudgetSpec.ExceededAction.DOWNGRADE);
    BudgetSpec.Downgrade downgrade = new BudgetSpec.Downgrade();
    downgrade.setTier("cheap");
    budget.getSpec().setDowngrade(downgrade);
    apply(budget);

    Condition accepted = awaitCondition(Budget.class, ns, "monthly", Conditions.ACCEPTED, "False");
    assertThat(accepted.getReason()).isEqualTo("TierNotFound");
    assertThat(accepted.getMessage()).contains("spec.downgrade.tier").contains("'chat'");
    // the route draws from it implicitly, so it is not rendered half-enforced
    assertThat(awaitCondition(LLMRoute.class, ns, "chat", Conditions.ACCEPTED, "False").getReason())
        .isEqualTo("BudgetInvalid");
  }

  // --- helpers

  private static void apply(HasMetadata resource) {
    MockApi.apply(client, resource);
  }

  private static <T extends HasMetadata> T get(Class<T> type, String ns, String name) {
    return client.resources(type).inNamespace(ns).withName(name).get();
  }

  /** Changes the credential's spec in a way that does not reach the sidecar configuration. */
  private static void touchCredential(String ns, String name) {
    client
        .resources(ProviderCredential.class)
        .inNamespace(ns)
        .withName(name)
        .edit(
            c -> {
              c.getSpec().setAllowedNamespaces(List.of("t" + System.nanoTime()));
              return c;
            });
  }

  private static Condition condition(HasMetadata resource, String type) {
    List<Condition> conditions;
    if (resource instanceof LLMRoute r) {
      conditions = r.getStatus().getConditions();
    } else if (resource instanceof ProviderCredential c) {
      conditions = c.getStatus().getConditions();
    } else {
      conditions = ((Budget) resource).getStatus().getConditions();
    }
    return Conditions.find(conditions, type).orElseThrow();
  }

  private static <T extends HasMetadata> Condition awaitCondition(
      Class<T> type, String ns, String name, String conditionType, String status) {
    return await()
        .until(
            () -> {
              T r = get(type, ns, name);
              try {
                Condition c = condition(r, conditionType);
                return status.equals(c.getStatus()) ? c : null;
              } catch (RuntimeException e) {
                return null;
              }
            },
            c -> c != null);
  }

  private static Optional<ConfigMap> configMap(String ns) {
    return Optional.ofNullable(
        client.configMaps().inNamespace(ns).withName(SidecarConfigMap.NAME).get());
  }

  private static SidecarConfig config(String ns) throws Exception {
    ConfigMap cm = await().until(() -> configMap(ns).orElse(null), c -> c != null);
    return SidecarConfigCodec.read(cm.getData().get(SidecarConfigMap.KEY));
  }

  private static List<Event> warnings(String ns, String name) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .filter(e -> "Warning".equals(e.getType()))
        .toList();
  }

  private static double routeReconciles() {
    return metrics.registry().scrape().stream()
        .filter(s -> s.getMetadata().getName().equals("tollgate_operator_reconciles"))
        .flatMap(s -> ((CounterSnapshot) s).getDataPoints().stream())
        .filter(d -> "llmroute".equals(d.getLabels().get("controller")))
        .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue)
        .sum();
  }

  private static void awaitReconciles() {
    double before = routeReconciles();
    await().until(() -> routeReconciles() > before);
  }
}
