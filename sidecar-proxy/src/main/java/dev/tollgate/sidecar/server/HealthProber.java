package dev.tollgate.sidecar.server;

import dev.tollgate.sidecar.call.ShortCall;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Active health checks (seed: "ping every 30 seconds"): for each credential with {@code
 * healthCheck.enabled}, a one-token request to its {@code healthCheck.model} every {@code
 * interval}, so that a dead provider is known before a user's request finds it. Probes are metered
 * on route {@value #ROUTE}, tier {@value #TIER}: they cost a few tokens each.
 */
final class HealthProber {
  static final String ROUTE = "_health";
  static final String TIER = "health-check";
  private static final Duration TICK = Duration.ofSeconds(1);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);

  private final ProxyContext px;
  private final EventLoop loop;
  private final Map<String, Long> lastProbeNanos = new ConcurrentHashMap<>();
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private ScheduledFuture<?> ticker;

  private HealthProber(ProxyContext px, EventLoop loop) {
    this.px = px;
    this.loop = loop;
  }

  static HealthProber start(ProxyContext px, EventLoop loop) {
    HealthProber p = new HealthProber(px, loop);
    p.ticker = loop.scheduleWithFixedDelay(p::tick, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
    return p;
  }

  void stop() {
    ticker.cancel(false);
  }

  private void tick() {
    SidecarConfig cfg = px.config().current();
    if (cfg == null || px.shuttingDown()) {
      return;
    }
    Set<String> probed = new HashSet<>();
    long now = System.nanoTime();
    for (CredentialConfig c : cfg.credentials()) {
      CredentialConfig.HealthCheck hc = c.healthCheck();
      if (!hc.enabled() || hc.model() == null) {
        continue;
      }
      probed.add(c.name());
      Long last = lastProbeNanos.get(c.name());
      if (inFlight.contains(c.name()) || (last != null && now - last < hc.interval().toNanos())) {
        continue;
      }
      lastProbeNanos.put(c.name(), now);
      inFlight.add(c.name());
      probe(cfg, c, hc);
    }
    px.activeHealth().retain(probed);
    lastProbeNanos.keySet().retainAll(probed);
  }

  private void probe(SidecarConfig cfg, CredentialConfig c, CredentialConfig.HealthCheck hc) {
    ChatRequest ping =
        ChatRequest.builder(
                hc.model(),
                List.of(
                    new ChatRequest.Message(
                        ChatRequest.Role.USER, List.of(new ChatRequest.Text("ping")))))
            .maxTokens(1)
            .temperature(0.0)
            .build();
    ShortCall.to(px, cfg, loop, new RouteConfig.TargetRef(c.name(), hc.model()))
        .requestId("health-" + c.name() + "-" + System.currentTimeMillis())
        .api("probe")
        .meteredAs(ROUTE, TIER)
        .timeouts(PROBE_TIMEOUT, Duration.ofSeconds(5))
        .send(
            ping,
            answer -> {
              inFlight.remove(c.name());
              boolean up =
                  px.activeHealth()
                      .probed(
                          c.name(),
                          answer != null,
                          answer == null ? "probe failed" : null,
                          hc.failureThreshold());
              px.metrics().credentialUp(c.name(), up);
            });
  }
}
