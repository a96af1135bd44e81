package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.routing.RequestFacts;
import dev.tollgate.sidecar.wire.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TierChoiceTest {
  private static RouteConfig.TargetRef ref(String credential, String model) {
    return new RouteConfig.TargetRef(credential, model);
  }

  @Test
  void theWeightedPickComesFirstThenTheOtherTargetsThenTheFallbacksOnce() {
    RouteConfig chat = CallTestConfigs.route("chat");
    for (String id : List.of("r1", "r2", "r3", "r4")) {
      List<RouteConfig.TargetRef> order =
          TierChoice.candidates(chat, chat.tiers().get(0), id, h -> null);
      assertThat(order).hasSize(3).containsOnlyOnce(ref("b", "m2"));
      assertThat(order.subList(0, 2)).containsExactlyInAnyOrder(ref("a", "m1"), ref("b", "m2"));
      assertThat(order.get(2)).isEqualTo(ref("b", "m3"));
    }
  }

  @Test
  void withAffinityTheCallersHeaderPicksTheSameTargetEveryTime() {
    RouteConfig sticky = CallTestConfigs.route("sticky");
    RouteConfig.Tier t = sticky.tiers().get(0);
    Map<String, String> headers = Map.of("x-user", "alice");
    RouteConfig.TargetRef first = TierChoice.candidates(sticky, t, "r1", headers::get).get(0);
    for (int i = 0; i < 20; i++) {
      assertThat(TierChoice.candidates(sticky, t, "id-" + i, headers::get).get(0)).isEqualTo(first);
    }
  }

  @Test
  void embeddingCandidatesKeepTheFirstTargetsDimensionsAndUndeclaredOnes() {
    RouteConfig.Tier t =
        new RouteConfig.Tier(
            "main",
            null,
            List.of(new RouteConfig.Target("a", "small", null)),
            List.of(ref("b", "large"), ref("c", "unknown"), ref("d", "small-too")),
            null);
    RouteConfig route =
        RouteConfig.builder("embed", List.of(t))
            .embeddingDimensions(
                List.of(
                    new RouteConfig.Dimensions("a", "small", 1536),
                    new RouteConfig.Dimensions("b", "large", 3072),
                    new RouteConfig.Dimensions("d", "small-too", 1536)))
            .build();
    List<RouteConfig.TargetRef> all = TierChoice.candidates(route, t, "r1", h -> null);
    assertThat(TierChoice.sameDimensions(route, t, all))
        .containsExactly(ref("a", "small"), ref("c", "unknown"), ref("d", "small-too"));

    // the first target declares nothing: nothing to compare, every candidate stays
    RouteConfig undeclared =
        RouteConfig.builder("embed", List.of(t))
            .embeddingDimensions(List.of(new RouteConfig.Dimensions("b", "large", 3072)))
            .build();
    assertThat(TierChoice.sameDimensions(undeclared, t, all)).isEqualTo(all);
  }

  @Test
  void aDeclaredTierInTheHeaderSkipsTheClassifier() {
    RouteConfig classified = CallTestConfigs.route("classified");
    assertThat(TierChoice.tierAsked(classified, Map.of("x-tollgate-tier", " hard ")::get)).isTrue();
    assertThat(TierChoice.tierAsked(classified, Map.of("x-tollgate-tier", "nope")::get)).isFalse();
    assertThat(TierChoice.tierAsked(classified, h -> null)).isFalse();
  }

  @Test
  void noLabelFromTheClassifierSelectsItsDefaultTier() {
    RouteConfig classified = CallTestConfigs.route("classified");
    RequestFacts facts =
        RequestFacts.of(Json.object().set("messages", Json.MAPPER.createArrayNode()), h -> null);
    assertThat(TierChoice.select(classified, facts, true).name()).isEqualTo("easy");
    assertThat(TierChoice.select(classified, facts.withClassifierLabel("hard"), true).name())
        .isEqualTo("hard");
    assertThat(TierChoice.select(classified, facts, false).name())
        .as("not classified: the rules alone")
        .isEqualTo("last");
  }
}
