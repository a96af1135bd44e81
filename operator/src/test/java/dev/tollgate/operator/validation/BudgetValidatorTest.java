package dev.tollgate.operator.validation;

import static dev.tollgate.operator.Fixtures.budget;
import static dev.tollgate.operator.Fixtures.route;
import static dev.tollgate.operator.Fixtures.tier;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.tollgate.api.v1alpha1.Budget;
import dev.tollgate.api.v1alpha1.BudgetSpec;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import dev.tollgate.operator.FakeClusterView;
import java.util.List;
import org.junit.jupiter.api.Test;

class BudgetValidatorTest {
  private static final String NS = "ns";

  @Test
  void aValidBudgetHasNoProblems() {
    Budget b = budget(NS, "monthly", "2500.00");
    assertThat(BudgetValidator.validate(b, new FakeClusterView().add(b))).isEmpty();
  }

  @Test
  void listedRoutesMustExistAndTheLimitMustBePositive() {
    Budget b = budget(NS, "monthly", "0");
    b.getSpec().setRoutes(List.of("chat", "ghost"));
    FakeClusterView view =
        new FakeClusterView().add(b, route(NS, "chat", "chat", tier("t", "openai", "gpt-4o")));

    assertThat(BudgetValidator.validate(b, view))
        .extracting(Problem::reason, Problem::field)
        .containsExactly(
            tuple("InvalidLimit", "spec.limit"), tuple("RouteNotFound", "spec.routes[1]"));
  }

  @Test
  void aDowngradeTargetMustBeACredentialOfTheNamespace() {
    Budget b = budget(NS, "monthly", "10");
    b.getSpec().setOnExceeded(BudgetSpec.ExceededAction.DOWNGRADE);
    BudgetSpec.Downgrade d = new BudgetSpec.Downgrade();
    LLMRouteSpec.TargetRef target = new LLMRouteSpec.TargetRef();
    target.setCredential("cheap");
    target.setModel("gpt-4o-mini");
    d.setTarget(target);
    b.getSpec().setDowngrade(d);

    assertThat(BudgetValidator.validate(b, new FakeClusterView().add(b)))
        .extracting(Problem::reason, Problem::field)
        .containsExactly(tuple("CredentialNotFound", "spec.downgrade.target.credential"));
  }
}
