package dev.tollgate.operator.render;

import static dev.tollgate.operator.Fixtures.route;
import static dev.tollgate.operator.Fixtures.tier;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.api.v1alpha1.LLMRoute;
import dev.tollgate.api.v1alpha1.LLMRouteSpec;
import dev.tollgate.sidecar.config.RouteConfig;
import org.junit.jupiter.api.Test;

/** {@code spec.cache.promptCaching} reaches the sidecar's configuration as declared. */
class PromptCachingRenderTest {
  private final SidecarRecords records = new SidecarRecords();

  @Test
  void enabledAndMinTokensAreRendered() {
    LLMRoute r = route("ns", "chat", "chat", tier("main", "anthropic", "claude-3-haiku-20240307"));
    LLMRouteSpec.PromptCaching pc = new LLMRouteSpec.PromptCaching();
    pc.setEnabled(true);
    pc.setMinTokens(4096);
    LLMRouteSpec.Cache cache = new LLMRouteSpec.Cache();
    cache.setPromptCaching(pc);
    r.getSpec().setCache(cache);

    RouteConfig.PromptCaching rendered = records.route(r, null).cache().promptCaching();

    assertThat(rendered.enabled()).isTrue();
    assertThat(rendered.minTokens()).isEqualTo(4096);
  }

  @Test
  void absentMeansOffWithTheModelsMinimum() {
    LLMRoute r = route("ns", "chat", "chat", tier("main", "anthropic", "claude-3-haiku-20240307"));

    RouteConfig.PromptCaching rendered = records.route(r, null).cache().promptCaching();

    assertThat(rendered.enabled()).isFalse();
    assertThat(rendered.minTokens()).isNull();
  }
}
