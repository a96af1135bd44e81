package dev.tollgate.sidecar.metering;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import net.logstash.logback.argument.StructuredArgument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one JSON log line per call with the fields the seeds ask for. Prompt and answer text are
 * only included when {@code server.logContent} is on (they may hold personal data); otherwise the
 * request id ties a line to whatever the application logs itself.
 *
 * <p>The fields are written straight from the (immutable) record by the log encoder, on the
 * appender's writer thread: no map of boxed values is built per call on the event loop (issue #24).
 */
public final class CallLog {
  private static final Logger LOG = LoggerFactory.getLogger("tollgate.call");

  private CallLog() {}

  public static void write(CallRecord r) {
    if (LOG.isInfoEnabled()) {
      LOG.info("llm_call", new Fields(r));
    }
  }

  /** The fields of one call's line, written into the log line's JSON object. */
  record Fields(CallRecord r) implements StructuredArgument {
    @Override
    public void writeTo(JsonGenerator g) throws IOException {
      g.writeStringField("event", "llm_call");
      g.writeStringField("request_id", r.requestId());
      g.writeStringField("api", r.api());
      g.writeStringField("route", r.route());
      g.writeStringField("tier", r.tier());
      g.writeStringField("provider", r.provider());
      g.writeStringField("credential", r.credential());
      g.writeStringField("model", r.model());
      g.writeBooleanField("stream", r.stream());
      g.writeNumberField("status", r.status());
      if (r.errorKind() != null) {
        g.writeStringField("error_kind", r.errorKind().label());
      }
      if (r.usage() != null) {
        g.writeNumberField("input_tokens", r.usage().inputTokens());
        g.writeNumberField("output_tokens", r.usage().outputTokens());
        g.writeNumberField("cache_read_input_tokens", r.usage().cacheReadTokens());
        g.writeNumberField("cache_creation_input_tokens", r.usage().cacheWriteTokens());
      }
      g.writeBooleanField("usage_complete", r.usageComplete());
      g.writeStringField("cost_usd", r.cost().usdText());
      g.writeBooleanField("priced", r.cost().priced());
      g.writeNumberField("latency_ms", r.latencyNanos() / 1_000_000.0);
      if (r.ttftNanos() < 0) {
        g.writeNullField("ttft_ms");
      } else {
        g.writeNumberField("ttft_ms", r.ttftNanos() / 1_000_000.0);
      }
      g.writeStringField("finish_reason", r.finishReason());
      g.writeNumberField("failovers", r.failovers());
      if (!r.skipped().isEmpty()) {
        g.writeArrayFieldStart("skipped");
        for (String s : r.skipped()) {
          g.writeString(s);
        }
        g.writeEndArray();
      }
      if (r.upstreamStatus() != 0) {
        g.writeNumberField("upstream_status", r.upstreamStatus());
      }
      Attribution a = r.attribution();
      if (a != null) {
        stringIfSet(g, "user", a.user());
        stringIfSet(g, "feature", a.feature());
        stringIfSet(g, "conversation_id", a.conversation());
        if (a.temperature() != null) {
          g.writeNumberField("temperature", a.temperature());
        }
        if (a.maxTokens() != null) {
          g.writeNumberField("max_tokens", a.maxTokens());
        }
        stringIfSet(g, "system_prompt_hash", a.systemPromptHash());
        g.writeNumberField("tools", a.tools());
        g.writeNumberField("tool_calls", r.toolCalls());
      }
      stringIfSet(g, "prompt", r.prompt());
      stringIfSet(g, "answer", r.answer());
    }

    private static void stringIfSet(JsonGenerator g, String name, String value) throws IOException {
      if (value != null) {
        g.writeStringField(name, value);
      }
    }

    @Override
    public String toString() {
      return "llm_call " + r.requestId();
    }
  }
}
