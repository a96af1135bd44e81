package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.metering.ProxyMetrics;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.runtime.ApiKeyStore;
import dev.tollgate.sidecar.runtime.ConfigSource;
import dev.tollgate.sidecar.server.ProxyContext;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttemptsTest {
  @TempDir Path dir;
  private final EmbeddedChannel channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
  private final UsageLedger ledger = new UsageLedger();
  private final List<String> sent = new ArrayList<>();
  private final List<Duration> waits = new ArrayList<>();
  private final List<ProxyException> ended = new ArrayList<>();
  private ProxyContext px;

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
    px.upstream().close();
    px.vertexTokens().close();
  }

  private Attempts attempts(String route) {
    ProxyMetrics metrics = new ProxyMetrics();
    px =
        new ProxyContext(
            new ConfigSource(dir.resolve("config.yaml"), new ApiKeyStore(), metrics),
            metrics,
            ledger);
    CallState call = new CallState("r1", ApiFormat.OPENAI);
    call.cfg = CallTestConfigs.config();
    call.routeCfg = call.cfg.route(route).orElseThrow();
    call.route = route;
    call.callerHeaders = new io.netty.handler.codec.http.DefaultHttpHeaders();
    Admission admission = new Admission(px.limits(), call.routeCfg, h -> null);
    ResponseRelay relay =
        new ResponseRelay(channel.pipeline().firstContext(), call, true, false, null);
    Attempts a =
        new Attempts(
            px,
            call,
            admission,
            relay,
            new Attempts.Driver() {
              @Override
              public boolean finished() {
                return !ended.isEmpty();
              }

              @Override
              public void schedule(Duration wait, Runnable then) {
                waits.add(wait);
              }

              @Override
              public void send(CredentialConfig credential, String model) {
                sent.add(credential.name() + "/" + model);
              }

              @Override
              public void finalFail(ProxyException e) {
                ended.add(e);
              }
            });
    RouteConfig.Tier t = call.routeCfg.tiers().get(0);
    a.restart(t.name(), TierChoice.candidates(call.routeCfg, t, "r1", h -> null));
    return a;
  }

  private static final ProxyException FAILED =
      new ProxyException(ErrorKind.UPSTREAM_ERROR, "provider failed (HTTP 500)");

  private void failCurrent(Attempts a) {
    String[] target = sent.get(sent.size() - 1).split("/");
    a.report(FAILED.kind());
    a.failed(FAILED, CallTestConfigs.config().credential(target[0]).orElseThrow(), target[1], "r1");
    a.next();
  }

  @Test
  void aFailedAttemptMovesToTheNextCandidateAndCountsAFailover() {
    Attempts a = attempts("once");
    a.next();
    assertThat(sent).containsExactly("a/m1");
    assertThat(a.number()).isEqualTo(1);
    assertThat(a.tracked()).isTrue();
    failCurrent(a);
    assertThat(sent).containsExactly("a/m1", "b/m2");
    assertThat(a.failovers()).isEqualTo(1);
    assertThat(
            ledger.snapshot().get(new UsageLedger.Key("once", "main", "a", "m1")).failedAttempts())
        .containsEntry(ErrorKind.UPSTREAM_ERROR, 1L);
    failCurrent(a);
    assertThat(ended)
        .as("no retries on this route: the last failure ends the call")
        .containsExactly(FAILED);
  }

  @Test
  void whenEveryCandidateFailedTheListIsRetriedAfterABackoff() {
    Attempts a = attempts("chat");
    a.next();
    failCurrent(a);
    failCurrent(a);
    failCurrent(a);
    assertThat(sent).hasSize(3);
    assertThat(ended).isEmpty();
    assertThat(waits)
        .singleElement()
        .satisfies(w -> assertThat(w).isBetween(Duration.ofMillis(250), Duration.ofMillis(500)));
    a.next();
    assertThat(sent).hasSize(4).element(3).isEqualTo(sent.get(0));
    assertThat(a.failovers()).isEqualTo(3);
  }
}
