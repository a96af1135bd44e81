package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What a TokenReview answer must say before a report is accepted, and how answers are cached. */
class TokenReviewTest {
  private static TokenReview answer(List<String> audiences, Map<String, List<String>> extra) {
    return new TokenReviewBuilder()
        .withNewStatus()
        .withAuthenticated(true)
        .withAudiences(audiences)
        .withNewUser()
        .withUsername("system:serviceaccount:team-a:default")
        .withExtra(extra)
        .endUser()
        .endStatus()
        .build();
  }

  private static final Map<String, List<String>> BOUND =
      Map.of(
          KubernetesTokenReviewer.POD_NAME_EXTRA, List.of("app-1"),
          KubernetesTokenReviewer.POD_UID_EXTRA, List.of("uid-1"));

  @Test
  void aPodBoundTokenForOurAudienceIsAccepted() {
    assertThat(KubernetesTokenReviewer.identity(answer(List.of("tollgate"), BOUND)))
        .contains(new TokenReviewer.Identity("team-a", "default", "app-1", "uid-1"));
  }

  @Test
  void emptyAudiencesMeanATokenForTheApiServerNotForUs() {
    assertThat(KubernetesTokenReviewer.identity(answer(List.of(), BOUND))).isEmpty();
    assertThat(KubernetesTokenReviewer.identity(answer(null, BOUND))).isEmpty();
    assertThat(KubernetesTokenReviewer.identity(answer(List.of("other"), BOUND))).isEmpty();
  }

  @Test
  void aTokenNotBoundToAPodIsRefused() {
    assertThat(KubernetesTokenReviewer.identity(answer(List.of("tollgate"), Map.of()))).isEmpty();
    assertThat(
            KubernetesTokenReviewer.identity(
                answer(
                    List.of("tollgate"),
                    Map.of(KubernetesTokenReviewer.POD_NAME_EXTRA, List.of("app-1")))))
        .isEmpty();
  }

  @Test
  void textThatIsNotAJwtCostsNoReview() {
    // a client that fails on any call: reaching the API server would throw
    KubernetesTokenReviewer reviewer = new KubernetesTokenReviewer(null);
    assertThat(reviewer.review("garbage")).isEmpty();
    assertThat(reviewer.review("a.b")).isEmpty();
    assertThat(reviewer.review("x".repeat(20_000) + ".a.b")).isEmpty();
  }

  @Test
  void answersAreCachedByTokenHashPositiveLongerThanNegative() {
    AtomicInteger reviews = new AtomicInteger();
    AtomicLong now = new AtomicLong();
    Ticker ticker = now::get;
    TokenReviewer cached =
        new CachingTokenReviewer(
            t -> {
              reviews.incrementAndGet();
              return new FakeTokenReviewer().review(t);
            },
            Duration.ofSeconds(60),
            Duration.ofSeconds(10),
            ticker);
    String good = FakeTokenReviewer.token("ns", "pod", "uid");
    for (int i = 0; i < 100; i++) {
      assertThat(cached.review(good)).isPresent();
      assertThat(cached.review("garbage")).isEmpty();
    }
    assertThat(reviews.get()).isEqualTo(2);
    now.addAndGet(Duration.ofSeconds(11).toNanos());
    cached.review(good);
    cached.review("garbage");
    assertThat(reviews.get()).isEqualTo(3); // the negative answer expired, the positive did not
    now.addAndGet(Duration.ofSeconds(50).toNanos());
    cached.review(good);
    assertThat(reviews.get()).isEqualTo(4);
    assertThat(CachingTokenReviewer.sha256(good)).hasSize(64).doesNotContain("valid");
    assertThat(Optional.of(1)).isPresent();
  }
}
