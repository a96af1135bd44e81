package dev.tollgate.sidecar.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.provider.CloudIdentities;
import dev.tollgate.sidecar.provider.vertex.VertexTokens;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The credential refreshers start their thread with the first task: a sidecar with API keys only
 * runs neither {@code tollgate-cloud-identities} nor {@code tollgate-vertex-tokens} (issue #24).
 */
class RefresherTest {
  private static long threadsNamed(String name) {
    return threadSet(name).size();
  }

  private static java.util.Set<Thread> threadSet(String name) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().equals(name))
        .collect(java.util.stream.Collectors.toSet());
  }

  /**
   * Threads named {@code name} that were not in {@code before} (earlier tests' may end meanwhile).
   */
  private static java.util.Set<Thread> newThreads(String name, java.util.Set<Thread> before) {
    java.util.Set<Thread> now = threadSet(name);
    now.removeAll(before);
    return now;
  }

  @Test
  void noThreadUntilTheFirstTaskThenTheTaskAndThePeriodicCheckRunOnIt() throws Exception {
    AtomicInteger checks = new AtomicInteger();
    CountDownLatch checked = new CountDownLatch(2);
    Refresher r =
        new Refresher(
            "tollgate-test-refresher",
            Duration.ofMillis(20),
            () -> {
              checks.incrementAndGet();
              checked.countDown();
            });
    try {
      Thread.sleep(60);
      assertThat(r.started()).isFalse();
      assertThat(checks).hasValue(0);
      assertThat(threadsNamed("tollgate-test-refresher")).isZero();

      AtomicReference<String> ranOn = new AtomicReference<>();
      CountDownLatch ran = new CountDownLatch(1);
      r.execute(
          () -> {
            ranOn.set(Thread.currentThread().getName());
            ran.countDown();
          });
      assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(ranOn).hasValue("tollgate-test-refresher");
      assertThat(r.started()).isTrue();
      assertThat(checked.await(5, TimeUnit.SECONDS)).isTrue();
    } finally {
      r.close();
    }
    AtomicInteger late = new AtomicInteger();
    r.execute(late::incrementAndGet);
    Thread.sleep(50);
    assertThat(late).hasValue(0);
  }

  @Test
  void cloudIdentitiesAndVertexTokensWithNothingToRenewStartNoThread() throws Exception {
    java.util.Set<Thread> identities = threadSet("tollgate-cloud-identities");
    java.util.Set<Thread> vertex = threadSet("tollgate-vertex-tokens");
    try (CloudIdentities ids = new CloudIdentities(Duration.ofSeconds(5), Clock.systemUTC());
        VertexTokens tokens = new VertexTokens(Duration.ofSeconds(30))) {
      ids.update(List.of());
      tokens.update(List.of());
      Thread.sleep(50);
      assertThat(newThreads("tollgate-cloud-identities", identities)).isEmpty();
      assertThat(newThreads("tollgate-vertex-tokens", vertex)).isEmpty();
    }
  }
}
