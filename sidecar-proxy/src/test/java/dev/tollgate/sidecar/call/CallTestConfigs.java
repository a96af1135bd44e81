package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.config.SidecarConfigException;

/** A configuration for the call stages' unit tests: two credentials, routes for each stage. */
final class CallTestConfigs {
  static final String YAML =
      """
      namespace: t
      credentials:
        - {name: a, provider: openai, endpoint: "http://127.0.0.1:1/v1", apiKeyFile: /nonexistent/a}
        - {name: b, provider: anthropic, endpoint: "http://127.0.0.1:1", apiKeyFile: /nonexistent/b}
      routes:
        - model: chat
          default: true
          tiers:
            - name: main
              targets:
                - {credential: a, model: m1, weight: 50}
                - {credential: b, model: m2, weight: 50}
              fallbacks: [{credential: b, model: m2}, {credential: b, model: m3}]
        - model: sticky
          affinity: {header: x-user}
          tiers:
            - name: main
              targets:
                - {credential: a, model: m1, weight: 50}
                - {credential: b, model: m2, weight: 50}
        - model: once
          retry: {attempts: 0}
          tiers:
            - name: main
              targets: [{credential: a, model: m1}]
              fallbacks: [{credential: b, model: m2}]
        - model: limited
          rateLimit: {requestsPerMinute: 1, maxQueueWait: 2s}
          tiers:
            - name: main
              targets: [{credential: a, model: m1}]
        - model: escalating
          escalation: {fromTier: cheap, toTier: strong, lowConfidenceMarker: "UNSURE:"}
          tiers:
            - name: cheap
              when: {maxInputTokens: 1000}
              targets: [{credential: a, model: m1}]
            - name: strong
              targets: [{credential: b, model: m2}]
        - model: classified
          classifier:
            target: {credential: a, model: m1}
            labels: [simple, hard]
            defaultTier: easy
          tiers:
            - name: hard
              when: {classifierLabels: [hard]}
              targets: [{credential: b, model: m2}]
            - name: easy
              when: {classifierLabels: [simple]}
              targets: [{credential: a, model: m1}]
            - name: last
              targets: [{credential: a, model: m1}]
      """;

  private CallTestConfigs() {}

  static SidecarConfig config() {
    try {
      return SidecarConfigCodec.read(YAML);
    } catch (SidecarConfigException e) {
      throw new IllegalStateException(e.problems().toString(), e);
    }
  }

  static RouteConfig route(String name) {
    return config().route(name).orElseThrow();
  }
}
