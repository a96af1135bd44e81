package dev.tollgate.sidecar.metering;

import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.wire.ErrorKind;
import java.util.List;

/**
 * Everything known about one call once it ended: the single source of its log line, its metrics and
 * its ledger entry.
 *
 * @param route route name, or {@code _unknown} when the request named no route (never user text)
 * @param usage tokens as the provider reported them, or null when it reported none
 * @param usageComplete false when the provider's usage was missing or the stream broke: the numbers
 *     are what was known, not the final count
 * @param ttftNanos time to the first byte of the provider's answer, or -1
 * @param errorKind null on success
 * @param upstreamStatus HTTP status the provider answered with, or 0 when it never answered
 * @param prompt the last user message, only when content logging is enabled, else null
 * @param answer the answer text, only when content logging is enabled, else null
 * @param attribution who the call was for and what it asked (user, feature, request facts), or null
 *     for the sidecar's own calls
 * @param toolCalls tool calls in the answer (whole answers and streams), 0 when none or unknown
 */
public record CallRecord(
    String requestId,
    String api,
    String route,
    String tier,
    String provider,
    String credential,
    String model,
    boolean stream,
    int status,
    ErrorKind errorKind,
    Usage usage,
    boolean usageComplete,
    Cost cost,
    long latencyNanos,
    long ttftNanos,
    String finishReason,
    int failovers,
    int upstreamStatus,
    String prompt,
    String answer,
    Attribution attribution,
    int toolCalls,
    List<String> skipped) {

  public static final String UNKNOWN = "_unknown";

  public CallRecord {
    skipped = skipped == null ? List.of() : List.copyOf(skipped);
  }

  /** A record built field by field, by name; unset fields are null, 0 or false, TTFT -1. */
  public static Builder builder() {
    return new Builder();
  }

  /** Names each field of a call record as it is set. */
  public static final class Builder {
    private String requestId;
    private String api;
    private String route = UNKNOWN;
    private String tier;
    private String provider;
    private String credential;
    private String model;
    private boolean stream;
    private int status;
    private ErrorKind errorKind;
    private Usage usage;
    private boolean usageComplete;
    private Cost cost = Cost.UNPRICED;
    private long latencyNanos;
    private long ttftNanos = -1;
    private String finishReason;
    private int failovers;
    private int upstreamStatus;
    private String prompt;
    private String answer;
    private Attribution attribution;
    private int toolCalls;
    private List<String> skipped;

    private Builder() {}

    /** Targets passed over without a call, with why ({@code credential/model: reason}). */
    public Builder skipped(List<String> v) {
      skipped = v;
      return this;
    }

    /** Who the call was for and what it asked, and the tool calls in its answer. */
    public Builder attribution(Attribution a, int toolCalls) {
      this.attribution = a;
      this.toolCalls = toolCalls;
      return this;
    }

    public Builder requestId(String v) {
      requestId = v;
      return this;
    }

    public Builder api(String v) {
      api = v;
      return this;
    }

    public Builder route(String v) {
      route = v;
      return this;
    }

    public Builder tier(String v) {
      tier = v;
      return this;
    }

    /** The target that served (or last tried) the call: provider name, credential, model. */
    public Builder target(String provider, String credential, String model) {
      this.provider = provider;
      this.credential = credential;
      this.model = model;
      return this;
    }

    public Builder stream(boolean v) {
      stream = v;
      return this;
    }

    /** The status the caller got and the error kind, null on success. */
    public Builder outcome(int status, ErrorKind errorKind) {
      this.status = status;
      this.errorKind = errorKind;
      return this;
    }

    public Builder usage(Usage usage, boolean complete) {
      this.usage = usage;
      this.usageComplete = complete;
      return this;
    }

    public Builder cost(Cost v) {
      cost = v;
      return this;
    }

    /** Latency and time to first byte, in nanoseconds (TTFT -1 when unknown). */
    public Builder timing(long latencyNanos, long ttftNanos) {
      this.latencyNanos = latencyNanos;
      this.ttftNanos = ttftNanos;
      return this;
    }

    public Builder finishReason(String v) {
      finishReason = v;
      return this;
    }

    public Builder failovers(int v) {
      failovers = v;
      return this;
    }

    public Builder upstreamStatus(int v) {
      upstreamStatus = v;
      return this;
    }

    /** The logged prompt and answer (content logging only). */
    public Builder content(String prompt, String answer) {
      this.prompt = prompt;
      this.answer = answer;
      return this;
    }

    public CallRecord build() {
      return new CallRecord(
          requestId,
          api,
          route,
          tier,
          provider,
          credential,
          model,
          stream,
          status,
          errorKind,
          usage,
          usageComplete,
          cost,
          latencyNanos,
          ttftNanos,
          finishReason,
          failovers,
          upstreamStatus,
          prompt,
          answer,
          attribution,
          toolCalls,
          skipped);
    }
  }
}
