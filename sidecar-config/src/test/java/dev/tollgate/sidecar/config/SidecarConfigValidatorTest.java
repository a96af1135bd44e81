package dev.tollgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SidecarConfigValidatorTest {

  private static List<String> problems(String yaml) throws Exception {
    return SidecarConfigValidator.validate(SidecarConfigCodec.parse(yaml));
  }

  @Test
  void fullExampleIsValid() throws Exception {
    assertThat(
            SidecarConfigValidator.validate(
                SidecarConfigCodec.parse(SidecarConfigCodecTest.fullYaml())))
        .isEmpty();
  }

  @Test
  void namesTheFieldOfEachBrokenReference() throws Exception {
    List<String> problems =
        problems(
            """
            namespace: shop
            routes:
              - model: chat
                tiers:
                  - name: main
                    targets:
                      - credential: nowhere
                        model: gpt-4o
                    fallbacks:
                      - credential: gone
                        model: x
                classifier:
                  target: {credential: openai, model: gpt-4o-mini}
                  labels: [A]
                  defaultTier: missing
                escalation: {fromTier: main, toTier: strong, lowConfidenceMarker: UNSURE}
                budget: absent
            credentials:
              - name: openai
                provider: openai
                apiKeyFile: /keys/openai
            """);

    assertThat(problems)
        .contains(
            "routes[chat].tiers[main].targets[0].credential: credential 'nowhere' is not declared",
            "routes[chat].tiers[main].fallbacks[0].credential: credential 'gone' is not declared",
            "routes[chat].classifier.defaultTier: tier 'missing' is not declared",
            "routes[chat].escalation.toTier: tier 'strong' is not declared",
            "routes[chat].budget: budget 'absent' is not declared");
  }

  @Test
  void checksTheDailyAndInFlightLimits() throws Exception {
    List<String> problems =
        problems(
            """
            namespace: shop
            routes:
              - model: chat
                rateLimit: {tokensPerDay: 0, maxInFlight: 0, maxQueue: -1}
                tiers:
                  - name: main
                    targets: [{credential: openai, model: gpt-4o}]
              - model: queued
                rateLimit: {maxQueue: 5}
                tiers:
                  - name: main
                    targets: [{credential: openai, model: gpt-4o}]
            credentials:
              - name: openai
                provider: openai
                apiKeyFile: /keys/openai
                limits: {tokensPerDay: 0}
            """);
    assertThat(problems)
        .anyMatch(p -> p.startsWith("routes[chat].rateLimit.tokensPerDay"))
        .anyMatch(p -> p.startsWith("routes[chat].rateLimit.maxInFlight"))
        .anyMatch(p -> p.startsWith("routes[chat].rateLimit.maxQueue: must not be negative"))
        .anyMatch(p -> p.equals("routes[queued].rateLimit.maxQueue: needs maxInFlight"))
        .anyMatch(p -> p.contains(".limits.tokensPerDay"));
  }

  @Test
  void checksValuesAndUniqueness() throws Exception {
    List<String> problems =
        problems(
            """
            routes:
              - model: chat
                default: true
                tiers:
                  - name: Main
                    targets:
                      - {credential: c, model: m, weight: 0}
                    maxTokens: 0
                    when: {minInputTokens: 10, maxInputTokens: 5, patterns: ["(unclosed"]}
                retry: {backoffBase: 2s, backoffCap: 1s, attempts: 11}
              - model: chat
                default: true
                tiers: []
            credentials:
              - name: c
                provider: openai-compatible
                apiKeyFile: relative/key
                markupPercent: "-1"
              - name: az
                provider: azure-openai
                endpoint: ftp://x
                apiKeyFile: /k
            budgets:
              - name: b
                limit: "0"
                onExceeded: Downgrade
                alerts: [0, 50]
            server: {port: 70000}
            """);

    assertThat(problems)
        .contains(
            "namespace: is required",
            "server.port: 70000 is not a TCP port (0-65535)",
            "routes[chat].model: is declared by two routes; model names must be unique",
            "routes: more than one route sets default: true [chat, chat]; keep one",
            "routes[chat].tiers: needs at least one tier",
            "routes[chat].tiers[Main].name: must be a DNS label (lower case letters, digits, '-')",
            "routes[chat].tiers[Main].targets: all weights are 0; at least one target must get traffic",
            "routes[chat].tiers[Main].maxTokens: must be at least 1",
            "routes[chat].tiers[Main].when: minInputTokens is larger than maxInputTokens; no request can match",
            "routes[chat].retry.attempts: must be between 0 and 10, got 11",
            "routes[chat].retry.backoffCap: must not be shorter than backoffBase",
            "credentials[c].endpoint: is required for provider openai-compatible",
            "credentials[c].apiKeyFile: must be an absolute path, got 'relative/key'",
            "credentials[c].markupPercent: must not be negative, got -1",
            "credentials[az].endpoint: 'ftp://x' is not an http(s) URL",
            "credentials[az].azure.deployment: is required for provider azure-openai",
            "budgets[b].limit: must be more than 0",
            "budgets[b].alerts: thresholds are percentages from 1 to 100, got 0",
            "budgets[b].downgrade: name exactly one of tier and target when onExceeded is Downgrade");
    assertThat(problems)
        .anyMatch(
            p ->
                p.startsWith(
                    "routes[chat].tiers[Main].when.patterns[0]: is not a valid regular expression"));
  }

  @Test
  void ollamaNeedsNoKeyButOthersDo() throws Exception {
    List<String> problems =
        problems(
            """
            namespace: a
            credentials:
              - {name: local, provider: ollama, endpoint: "http://127.0.0.1:11434/v1"}
              - {name: claude, provider: anthropic}
            """);
    assertThat(problems)
        .containsExactly(
            "credentials[claude].apiKeyFile: is required for provider anthropic (path of the mounted key)");
  }
}
