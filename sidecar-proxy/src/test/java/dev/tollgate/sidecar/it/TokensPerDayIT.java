package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.simulator.SimulatorBehavior;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code rateLimit.tokensPerDay} on a route and {@code limits.tokensPerDay} on a credential: once
 * the day's tokens are used, calls get 429 with Retry-After until 00:00 UTC, and the fraction used
 * is exported for the "80% before noon" alert.
 */
class TokensPerDayIT {
  private static TestBed bed;

  @BeforeAll
  static void start() throws Exception {
    bed =
        TestBed.start(
            """
              - model: daily
                retry: {attempts: 0}
                circuitBreaker: {minRequests: 100000}
                rateLimit: {tokensPerDay: 100}
                tiers:
                  - name: main
                    targets: [{credential: openai, model: gpt-4o-mini}]
              - model: daily-credential
                retry: {attempts: 0}
                circuitBreaker: {minRequests: 100000}
                rateLimit: {failoverWhenLimited: false}
                tiers:
                  - name: main
                    targets: [{credential: openai-daily, model: gpt-4o-mini}]
            """,
            """
              - name: openai-daily
                provider: openai
                endpoint: "%1$s/v1"
                apiKeyFile: "%2$s/openai.key"
                limits: {tokensPerDay: 100}
            """);
    // every answer uses 12 input and 40 output tokens
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(12, 40, 0, 0));
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  private static HttpResponse<String> chat(String route) throws Exception {
    return bed.post(
        "/v1/chat/completions",
        "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
            .formatted(route));
  }

  private static long secondsToMidnightUtc() {
    return Duration.between(
            Instant.now(),
            LocalDate.now(ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant())
        .toSeconds();
  }

  @Test
  void aRouteOutOfTodaysTokensAnswers429UntilMidnightUtc() throws Exception {
    assertThat(chat("daily").statusCode()).isEqualTo(200);
    assertThat(bed.metric("tollgate_tokens_per_day_used_ratio{name=\"daily\",scope=\"route\"}"))
        .isEqualTo(0.52);
    assertThat(chat("daily").statusCode()).isEqualTo(200); // 48 left admit a small reservation
    HttpResponse<String> refused = chat("daily");
    assertThat(refused.statusCode()).isEqualTo(429);
    long retryAfter = Long.parseLong(refused.headers().firstValue("retry-after").orElseThrow());
    assertThat(retryAfter).isBetween(secondsToMidnightUtc() - 5, secondsToMidnightUtc() + 5);
    assertThat(Json.MAPPER.readTree(refused.body()).path("error").path("type").asText())
        .isEqualTo("rate_limit_error");
    assertThat(bed.metric("tollgate_tokens_per_day_used_ratio{name=\"daily\",scope=\"route\"}"))
        .isEqualTo(1.04);
  }

  @Test
  void aCredentialOutOfTodaysTokensIsNotCalled() throws Exception {
    assertThat(chat("daily-credential").statusCode()).isEqualTo(200);
    assertThat(chat("daily-credential").statusCode()).isEqualTo(200);
    long before = bed.sim.stats().requests();
    HttpResponse<String> refused = chat("daily-credential");
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(bed.sim.stats().requests()).isEqualTo(before);
    assertThat(
            bed.metric(
                "tollgate_tokens_per_day_used_ratio{name=\"openai-daily\",scope=\"credential\"}"))
        .isEqualTo(1.04);
  }
}
