package dev.tollgate.sidecar.metering;

import static net.logstash.logback.argument.StructuredArguments.entries;

import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one JSON log line per call with the fields the seeds ask for. Prompt and answer text are
 * only included when {@code server.logContent} is on (they may hold personal data); otherwise the
 * request id ties a line to whatever the application logs itself.
 */
public final class CallLog {
  private static final Logger LOG = LoggerFactory.getLogger("tollgate.call");

  private CallLog() {}

  public static Map<String, Object> fields(CallRecord r) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("event", "llm_call");
    f.put("request_id", r.requestId());
    f.put("api", r.api());
    f.put("route", r.route());
    f.put("tier", r.tier());
    f.put("provider", r.provider());
    f.put("credential", r.credential());
    f.put("model", r.model());
    f.put("stream", r.stream());
    f.put("status", r.status());
    if (r.errorKind() != null) {
      f.put("error_kind", r.errorKind().label());
    }
    if (r.usage() != null) {
      f.put("input_tokens", r.usage().inputTokens());
      f.put("output_tokens", r.usage().outputTokens());
      f.put("cache_read_input_tokens", r.usage().cacheReadTokens());
      f.put("cache_creation_input_tokens", r.usage().cacheWriteTokens());
    }
    f.put("usage_complete", r.usageComplete());
    f.put("cost_usd", r.cost().usdText());
    f.put("priced", r.cost().priced());
    f.put("latency_ms", r.latencyNanos() / 1_000_000.0);
    f.put("ttft_ms", r.ttftNanos() < 0 ? null : r.ttftNanos() / 1_000_000.0);
    f.put("finish_reason", r.finishReason());
    f.put("failovers", r.failovers());
    if (!r.skipped().isEmpty()) {
      f.put("skipped", r.skipped());
    }
    if (r.upstreamStatus() != 0) {
      f.put("upstream_status", r.upstreamStatus());
    }
    Attribution a = r.attribution();
    if (a != null) {
      putIfSet(f, "user", a.user());
      putIfSet(f, "feature", a.feature());
      putIfSet(f, "conversation_id", a.conversation());
      putIfSet(f, "temperature", a.temperature());
      putIfSet(f, "max_tokens", a.maxTokens());
      putIfSet(f, "system_prompt_hash", a.systemPromptHash());
      f.put("tools", a.tools());
      f.put("tool_calls", r.toolCalls());
    }
    if (r.prompt() != null) {
      f.put("prompt", r.prompt());
    }
    if (r.answer() != null) {
      f.put("answer", r.answer());
    }
    return f;
  }

  private static void putIfSet(Map<String, Object> f, String k, Object v) {
    if (v != null) {
      f.put(k, v);
    }
  }

  public static void write(CallRecord r) {
    if (LOG.isInfoEnabled()) {
      LOG.info("llm_call", entries(fields(r)));
    }
  }
}
