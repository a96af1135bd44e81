package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.metering.UsageLedger;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.simulator.SimulatorBehavior;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Prompt caching end to end: the sidecar marks the prefix it sends, the simulator caches marked
 * prefixes as Anthropic and Bedrock do (first call writes, a repeat reads) and OpenAI's automatic
 * prefix caching, and the usage reaches the caller, the ledger and the metrics.
 */
class PromptCachingIT {
  private static TestBed bed;

  @BeforeAll
  static void start() throws Exception {
    bed =
        TestBed.start(
            """
              - model: pc-an
                retry: {attempts: 0}
                tiers:
                  - name: main
                    targets: [{credential: anthropic, model: claude-3-5-sonnet-20241022}]
                cache: {promptCaching: {enabled: true}}
              - model: pc-solo
                retry: {attempts: 0}
                tiers:
                  - name: main
                    targets: [{credential: anthropic, model: claude-3-5-sonnet-20241022}]
                cache: {promptCaching: {enabled: true}}
              - model: pc-br
                retry: {attempts: 0}
                tiers:
                  - name: main
                    targets: [{credential: bedrock, model: "anthropic.claude-3-5-sonnet-20241022-v2:0"}]
                cache: {promptCaching: {enabled: true}}
              - model: pc-br-old
                retry: {attempts: 0}
                tiers:
                  - name: main
                    targets: [{credential: bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0"}]
                cache: {promptCaching: {enabled: true, minTokens: 100}}
              - model: pc-off
                retry: {attempts: 0}
                tiers:
                  - name: main
                    targets: [{credential: anthropic, model: claude-3-5-sonnet-20241022}]
            """);
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
    bed.sim.simulatePromptCaching(true);
  }

  /** A support system prompt of about 2,000 tokens, different per test so caches do not mix. */
  private static String systemPrompt(String test) {
    StringBuilder sb = new StringBuilder("You are Acme support (" + test + "). Policies:\n");
    for (int i = 0; sb.length() < 7000; i++) {
      sb.append(i).append(". Refunds within 30 days; escalate billing disputes to tier 2.\n");
    }
    return sb.toString();
  }

  private static String openAiBody(String route, String system, String question) {
    ObjectNode body = Json.object().put("model", route);
    body.putArray("messages")
        .add(Json.object().put("role", "system").put("content", system))
        .add(Json.object().put("role", "user").put("content", question));
    return Json.write(body);
  }

  private static JsonNode ok(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.parseOrNull(r.body());
  }

  @Test
  void openAiCallerToClaudeWritesThenReadsTheMarkedSystemPrompt() throws Exception {
    bed.sim.behavior(SimulatorBehavior.defaults().withUsage(500, 800, 0, 0));
    String system = systemPrompt("openai-caller");
    // a route of its own, so that its ledger line and metrics hold these two calls only
    String body = openAiBody("pc-solo", system, "Where is my order?");

    JsonNode first = ok(bed.post("/v1/chat/completions", body));
    JsonNode sent = bed.sim.lastRequest().body();
    assertThat(sent.at("/system/0/text").asText()).isEqualTo(system);
    assertThat(sent.at("/system/0/cache_control/type").asText()).isEqualTo("ephemeral");
    assertThat(Json.write(sent.get("messages"))).doesNotContain("cache_control");
    long written = bed.sim.stats().cacheWriteTokens();
    assertThat(written).isGreaterThan(1024);
    assertThat(first.at("/usage/prompt_tokens_details/cached_tokens").asLong()).isZero();
    // OpenAI's prompt_tokens counts every input token: new input plus the cache write
    assertThat(first.at("/usage/prompt_tokens").asLong()).isEqualTo(500 + written);

    JsonNode second = ok(bed.post("/v1/chat/completions", body));
    assertThat(second.at("/usage/prompt_tokens_details/cached_tokens").asLong()).isEqualTo(written);
    assertThat(second.at("/usage/prompt_tokens").asLong()).isEqualTo(500 + written);

    // priced from the seed prices: input 3, output 15, cache write 3.75, cache read 0.30 $/M
    UsageLedger.Totals t =
        bed.sidecar
            .ledger()
            .snapshot()
            .get(new UsageLedger.Key("pc-solo", "main", "anthropic", "claude-3-5-sonnet-20241022"));
    assertThat(t.cacheWriteTokens()).isEqualTo(written);
    assertThat(t.cacheReadTokens()).isEqualTo(written);
    BigDecimal perMillion =
        BigDecimal.valueOf(2 * 500 * 3 + 2 * 800 * 15)
            .add(new BigDecimal("3.75").multiply(BigDecimal.valueOf(written)))
            .add(new BigDecimal("0.30").multiply(BigDecimal.valueOf(written)));
    assertThat(t.costUsd()).isEqualByComparingTo(perMillion.movePointLeft(6));

    assertThat(
            bed.metric(
                "tollgate_prompt_cache_marked_requests_total{model=\"claude-3-5-sonnet-20241022\","
                    + "provider=\"anthropic\",route=\"pc-solo\"}"))
        .isEqualTo(2);
    // one write and one read of the same prefix
    assertThat(bed.metric("tollgate_prompt_cache_hit_ratio{route=\"pc-solo\"}")).isEqualTo(0.5);
  }

  @Test
  void anthropicStreamReportsTheCacheReadOfARepeatedPrefix() throws Exception {
    ObjectNode req = Json.object().put("model", "pc-an").put("max_tokens", 50).put("stream", true);
    req.put("system", systemPrompt("anthropic-stream"));
    req.putArray("messages").addObject().put("role", "user").put("content", "Hi");
    String body = Json.write(req);

    bed.post("/v1/messages", body, "anthropic-version", "2023-06-01");
    long written = bed.sim.stats().cacheWriteTokens();
    assertThat(written).isGreaterThan(1024);
    HttpResponse<String> second = bed.post("/v1/messages", body, "anthropic-version", "2023-06-01");

    assertThat(second.statusCode()).isEqualTo(200);
    assertThat(second.body())
        .contains("\"cache_read_input_tokens\":" + written)
        .contains("\"cache_creation_input_tokens\":0");
    assertThat(bed.sim.stats().cacheReadTokens()).isEqualTo(written);
  }

  @Test
  void callerBreakpointsAreForwardedUntouched() throws Exception {
    String body =
        """
        {"model":"pc-an","max_tokens":50,
         "system":[{"type":"text","text":"%s"}],
         "messages":[{"role":"user","content":[
           {"type":"text","text":"A long contract.","cache_control":{"type":"ephemeral"}},
           {"type":"text","text":"Summarise it."}]}]}
        """
            .formatted(systemPrompt("caller-marks").replace("\n", "\\n"));

    ok(bed.post("/v1/messages", body, "anthropic-version", "2023-06-01"));

    JsonNode sent = bed.sim.lastRequest().body();
    assertThat(sent.at("/system/0").has("cache_control")).isFalse();
    assertThat(sent.at("/messages/0/content/0/cache_control/type").asText()).isEqualTo("ephemeral");
    assertThat(Json.write(sent).split("cache_control", -1)).hasSize(2);
  }

  @Test
  void shortPromptsAndRoutesWithoutPromptCachingAreNotMarked() throws Exception {
    ok(bed.post("/v1/chat/completions", openAiBody("pc-an", "Be brief.", "Hi")));
    assertThat(bed.sim.lastRequest().body().path("system").isTextual()).isTrue();

    ok(bed.post("/v1/chat/completions", openAiBody("pc-off", systemPrompt("off"), "Hi")));
    assertThat(bed.sim.lastRequest().body().path("system").isTextual()).isTrue();
    assertThat(bed.sim.stats().cacheWriteTokens()).isZero();
  }

  @Test
  void bedrockClaudeGetsACachePointAndReadsItBack() throws Exception {
    String body = openAiBody("pc-br", systemPrompt("bedrock"), "Where is my order?");

    ok(bed.post("/v1/chat/completions", body));
    JsonNode sent = bed.sim.lastRequest().body();
    assertThat(sent.at("/system/1/cachePoint/type").asText()).isEqualTo("default");
    long written = bed.sim.stats().cacheWriteTokens();
    assertThat(written).isGreaterThan(1024);

    JsonNode second = ok(bed.post("/v1/chat/completions", body));
    assertThat(second.at("/usage/prompt_tokens_details/cached_tokens").asLong()).isEqualTo(written);
  }

  @Test
  void bedrockModelsWithoutPromptCachingGetNoCachePoint() throws Exception {
    // the simulator answers 400 to a cachePoint for Claude 3 Haiku, as Bedrock does
    ok(bed.post("/v1/chat/completions", openAiBody("pc-br-old", systemPrompt("old"), "Hi")));
    assertThat(Json.write(bed.sim.lastRequest().body())).doesNotContain("cachePoint");

    String marked =
        """
        {"model":"pc-br-old","max_tokens":50,
         "system":[{"type":"text","text":"Policies.","cache_control":{"type":"ephemeral"}}],
         "messages":[{"role":"user","content":"Hi"}]}
        """;
    ok(bed.post("/v1/messages", marked, "anthropic-version", "2023-06-01"));
    assertThat(Json.write(bed.sim.lastRequest().body())).doesNotContain("cachePoint");
  }

  @Test
  void openAiAutomaticCachingIsMeteredWithoutMarks() throws Exception {
    ObjectNode req = Json.object().put("model", "oa");
    req.putArray("messages")
        .add(Json.object().put("role", "system").put("content", systemPrompt("openai-auto")))
        .add(Json.object().put("role", "user").put("content", "Where is my order?"));
    String body = Json.write(req);

    JsonNode first = ok(bed.post("/v1/chat/completions", body));
    assertThat(Json.write(bed.sim.lastRequest().body())).doesNotContain("cache_control");
    assertThat(first.at("/usage/prompt_tokens_details/cached_tokens").asLong()).isZero();

    JsonNode second = ok(bed.post("/v1/chat/completions", body));
    long cached = second.at("/usage/prompt_tokens_details/cached_tokens").asLong();
    assertThat(cached).isGreaterThanOrEqualTo(1024);
    assertThat(cached % 128).isZero();
    // the same prompt, so the same prompt_tokens: cached tokens are part of it, not extra
    assertThat(second.at("/usage/prompt_tokens").asLong())
        .isEqualTo(first.at("/usage/prompt_tokens").asLong());
    UsageLedger.Totals t =
        bed.sidecar
            .ledger()
            .snapshot()
            .get(new UsageLedger.Key("oa", "main", "openai", "gpt-4o-mini"));
    assertThat(t.cacheReadTokens()).isEqualTo(cached);
    assertThat(t.inputTokens() + t.cacheReadTokens())
        .isEqualTo(
            first.at("/usage/prompt_tokens").asLong() + second.at("/usage/prompt_tokens").asLong());
  }
}
