package dev.tollgate.operator.render;

import static dev.tollgate.operator.Fixtures.budget;
import static dev.tollgate.operator.Fixtures.credential;
import static dev.tollgate.operator.Fixtures.route;
import static dev.tollgate.operator.Fixtures.secret;
import static dev.tollgate.operator.Fixtures.tier;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import dev.tollgate.api.v1alpha1.Provider;
import dev.tollgate.operator.FakeClusterView;
import dev.tollgate.operator.Fixtures;
import dev.tollgate.operator.validation.Problem;
import dev.tollgate.operator.validation.RouteValidator;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import java.util.List;
import org.junit.jupiter.api.Test;

class NamespaceRendererTest {
  private static final String NS = "team-a";
  private final NamespaceRenderer renderer = new NamespaceRenderer(new SidecarRecords());

  private FakeClusterView valid() {
    return new FakeClusterView()
        .add(
            secret(NS, "openai-key", "api-key"),
            credential(NS, "openai", Provider.OPENAI, "openai-key", "api-key"),
            route(NS, "chat", "chat", tier("simple", "openai", "gpt-4o-mini")));
  }

  @Test
  void validRouteIsRenderedWithTheKeyFilePathAndNoSecretValue() {
    NamespaceRenderer.Rendering r = renderer.render(NS, valid());

    SidecarConfig config = r.config().orElseThrow();
    assertThat(r.verdicts().get("chat").problems()).isEmpty();
    assertThat(config.route("chat")).isPresent();
    assertThat(config.credential("openai").orElseThrow().apiKeyFile())
        .isEqualTo("/var/run/tollgate/secrets/openai-key/api-key");
    String yaml = SidecarConfigCodec.write(config);
    assertThat(yaml).doesNotContain(Fixtures.API_KEY_VALUE);
    assertThat(config.version()).startsWith("sha256:");
  }

  @Test
  void sameInputGivesByteIdenticalOutput() {
    String first = SidecarConfigCodec.write(renderer.render(NS, valid()).config().orElseThrow());
    String second = SidecarConfigCodec.write(renderer.render(NS, valid()).config().orElseThrow());
    assertThat(second).isEqualTo(first);
  }

  @Test
  void missingCredentialRejectsTheRouteNamingTheField() {
    FakeClusterView view =
        valid()
            .add(
                route(
                    NS,
                    "broken",
                    "broken",
                    tier("a", "openai", "gpt-4o"),
                    tier("b", "nope", "gpt-4o")));

    NamespaceRenderer.Rendering r = renderer.render(NS, view);

    Problem p = r.verdicts().get("broken").problems().get(0);
    assertThat(p.reason()).isEqualTo("CredentialNotFound");
    assertThat(p.field()).isEqualTo("spec.tiers[1].targets[0].credential");
    assertThat(p.message()).contains("'nope'").contains("create it");
    assertThat(r.config().orElseThrow().route("broken")).isEmpty();
    assertThat(r.config().orElseThrow().route("chat")).isPresent();
  }

  @Test
  void missingSecretOrKeyRejectsRoutesThroughTheCredential() {
    FakeClusterView noSecret =
        new FakeClusterView()
            .add(
                credential(NS, "openai", Provider.OPENAI, "openai-key", "api-key"),
                route(NS, "chat", "chat", tier("simple", "openai", "gpt-4o-mini")));
    assertThat(reason(renderer.render(NS, noSecret), "chat")).isEqualTo("SecretNotFound");

    FakeClusterView wrongKey =
        new FakeClusterView()
            .add(
                secret(NS, "openai-key", "other"),
                credential(NS, "openai", Provider.OPENAI, "openai-key", "api-key"),
                route(NS, "chat", "chat", tier("simple", "openai", "gpt-4o-mini")));
    assertThat(reason(renderer.render(NS, wrongKey), "chat")).isEqualTo("SecretKeyNotFound");
    assertThat(renderer.render(NS, wrongKey).config().orElseThrow().routes()).isEmpty();
  }

  @Test
  void badRegexZeroWeightsUnknownTiersAndMissingBudgetAreEachNamed() {
    LLMRouteSpec.Tier regex = tier("regex", "openai", "gpt-4o");
    LLMRouteSpec.Match when = new LLMRouteSpec.Match();
    when.getPatterns().add("([unclosed");
    regex.setWhen(when);
    LLMRouteSpec.Tier zero = tier("zero", "openai", "gpt-4o");
    zero.getTargets().get(0).setWeight(0);
    LLMRoute escalating = route(NS, "esc", "esc", tier("cheap", "openai", "gpt-4o-mini"));
    LLMRouteSpec.Escalation escalation = new LLMRouteSpec.Escalation();
    escalation.setFromTier("cheap");
    escalation.setToTier("premium");
    escalation.setLowConfidenceMarker("UNSURE");
    escalating.getSpec().setEscalation(escalation);
    FakeClusterView view =
        valid()
            .add(
                route(NS, "r1", "m1", regex),
                route(NS, "r2", "m2", zero),
                escalating,
                Fixtures.withBudget(route(NS, "r3", "m3", tier("t", "openai", "gpt-4o")), "gone"));

    NamespaceRenderer.Rendering r = renderer.render(NS, view);

    assertThat(first(r, "r1"))
        .extracting(Problem::reason, Problem::field)
        .containsExactly("InvalidPattern", "spec.tiers[0].when.patterns[0]");
    assertThat(first(r, "r2"))
        .extracting(Problem::reason, Problem::field)
        .containsExactly("InvalidWeights", "spec.tiers[0].targets");
    assertThat(first(r, "esc"))
        .extracting(Problem::reason, Problem::field)
        .containsExactly("TierNotFound", "spec.escalation.toTier");
    assertThat(first(r, "r3"))
        .extracting(Problem::reason, Problem::field)
        .containsExactly("BudgetNotFound", "spec.budgetRef.name");
    assertThat(r.config().orElseThrow().routes())
        .extracting(c -> c.model())
        .containsExactly("chat");
  }

  @Test
  void olderRouteKeepsAModelNameTwoRoutesClaim() {
    LLMRoute older = route(NS, "a-older", "chat", tier("t", "openai", "gpt-4o"));
    older.getMetadata().setCreationTimestamp("2026-01-01T00:00:00Z");
    LLMRoute newer = route(NS, "b-newer", "chat", tier("t", "openai", "gpt-4o"));
    newer.getMetadata().setCreationTimestamp("2026-02-01T00:00:00Z");
    FakeClusterView view =
        new FakeClusterView()
            .add(
                secret(NS, "openai-key", "api-key"),
                credential(NS, "openai", Provider.OPENAI, "openai-key", "api-key"),
                newer,
                older);

    NamespaceRenderer.Rendering r = renderer.render(NS, view);

    assertThat(r.verdicts().get("a-older").valid()).isTrue();
    assertThat(first(r, "b-newer"))
        .extracting(Problem::reason, Problem::field)
        .containsExactly("ModelConflict", "spec.model");
  }

  @Test
  void onlyOneRouteMayBeTheDefaultAndClassifierTiersMustExist() {
    LLMRoute a = route(NS, "a", "a", tier("t", "openai", "gpt-4o"));
    a.getSpec().setDefaultRoute(true);
    a.getMetadata().setCreationTimestamp("2026-01-01T00:00:00Z");
    LLMRoute b = route(NS, "b", "b", tier("t", "openai", "gpt-4o"));
    b.getSpec().setDefaultRoute(true);
    b.getMetadata().setCreationTimestamp("2026-01-02T00:00:00Z");
    LLMRoute c = route(NS, "c", "c", tier("t", "openai", "gpt-4o"));
    LLMRouteSpec.Classifier classifier = new LLMRouteSpec.Classifier();
    LLMRouteSpec.TargetRef target = new LLMRouteSpec.TargetRef();
    target.setCredential("openai");
    target.setModel("gpt-4o-mini");
    classifier.setTarget(target);
    classifier.setLabels(List.of("SIMPLE"));
    classifier.setDefaultTier("premium");
    c.getSpec().setClassifier(classifier);

    NamespaceRenderer.Rendering r = renderer.render(NS, valid().add(a, b, c));

    assertThat(r.verdicts().get("a").valid()).isTrue();
    assertThat(first(r, "b"))
        .extracting(Problem::reason, Problem::field)
        .containsExactly("DefaultConflict", "spec.default");
    assertThat(first(r, "c"))
        .extracting(Problem::reason, Problem::field)
        .containsExactly("TierNotFound", "spec.classifier.defaultTier");
  }

  @Test
  void problemsOnlyTheSidecarContractCatchesStillNameTheRouteField() {
    LLMRoute route = route(NS, "r", "r", tier("t", "openai", "gpt-4o"));
    LLMRouteSpec.Retry retry = new LLMRouteSpec.Retry();
    retry.setBackoffBase("10s");
    retry.setBackoffCap("1s");
    route.getSpec().setRetry(retry);

    Problem p = first(renderer.render(NS, valid().add(route)), "r");

    assertThat(p.reason()).isEqualTo("InvalidConfiguration");
    assertThat(p.field()).isEqualTo("spec.retry.backoffCap");
    assertThat(p.message()).contains("backoffBase");
  }

  @Test
  void unpricedModelsAreFlaggedNotRejected() {
    FakeClusterView view =
        valid().add(route(NS, "odd", "odd", tier("t", "openai", "my-finetune-v2")));

    RouteValidator.Result verdict = renderer.render(NS, view).verdicts().get("odd");

    assertThat(verdict.valid()).isTrue();
    assertThat(verdict.unpricedModels()).containsExactly("my-finetune-v2 (via openai)");
  }

  @Test
  void budgetsAreRenderedForTheRoutesThatDrawFromThem() {
    var budget = budget(NS, "monthly", "100.00");
    budget.getSpec().setOnExceeded(BudgetSpec.ExceededAction.DOWNGRADE);
    BudgetSpec.Downgrade downgrade = new BudgetSpec.Downgrade();
    downgrade.setTier("simple");
    budget.getSpec().setDowngrade(downgrade);
    FakeClusterView view = valid().add(budget);

    SidecarConfig config = renderer.render(NS, view).config().orElseThrow();

    assertThat(config.route("chat").orElseThrow().budget()).isEqualTo("monthly");
    assertThat(config.budget("monthly").orElseThrow().downgrade().tier()).isEqualTo("simple");
  }

  @Test
  void noLiveRouteMeansNoConfiguration() {
    FakeClusterView view =
        new FakeClusterView().add(credential(NS, "openai", Provider.OPENAI, "k", "api-key"));
    assertThat(renderer.render(NS, view).config()).isEmpty();
  }

  private static String reason(NamespaceRenderer.Rendering r, String route) {
    return first(r, route).reason();
  }

  private static Problem first(NamespaceRenderer.Rendering r, String route) {
    List<Problem> problems = r.verdicts().get(route).problems();
    assertThat(problems).as("problems of " + route).isNotEmpty();
    return problems.get(0);
  }
}
