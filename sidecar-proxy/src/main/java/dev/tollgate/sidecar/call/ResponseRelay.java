package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.cache.AnswerCollector;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.format.CallerFormat;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.SecretRedaction;
import dev.tollgate.sidecar.provider.StreamFraming;
import dev.tollgate.sidecar.routing.Backoff;
import dev.tollgate.sidecar.server.Responses;
import dev.tollgate.sidecar.upstream.Exchange;
import dev.tollgate.sidecar.upstream.ExchangeListener;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import dev.tollgate.sidecar.wire.StreamDecoder;
import dev.tollgate.sidecar.wire.StreamEncoder;
import dev.tollgate.sidecar.wire.UsageAccumulator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Relays an attempt's answer to the caller: a provider error is kept for classification, a whole
 * answer is decoded and rendered in the caller's format (or passed as sent), and a stream is cut
 * into events by the provider's framing, decoded, and re-encoded (or passed as sent) event by event
 * as it arrives, while the provider is read only as fast as the caller's connection drains. It
 * tracks what the answer reported (usage, finish reason, time to first byte) for metering.
 */
final class ResponseRelay implements ExchangeListener {
  private static final int MAX_UPSTREAM_BODY = 32 * 1024 * 1024;
  private static final int MAX_ERROR_BODY = 64 * 1024;
  private static final int MAX_SSE_EVENT = 4 * 1024 * 1024;
  static final int MAX_LOGGED_TEXT = 4000;
  private static final byte[] SSE_EVENT = "event: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SSE_DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SSE_END = "\n\n".getBytes(StandardCharsets.US_ASCII);

  /** What the relay tells its call. */
  interface Outcome {
    /** Whether the call ended: later events are dropped. */
    boolean finished();

    /** The first byte of the answer arrived. */
    void firstByte();

    /** The provider answered with an error status, or the answer could not be relayed. */
    void failed(ProxyException e);

    /** A whole answer arrived: true when the call goes on elsewhere (escalation) instead. */
    boolean escalates(ChatResponse response);

    /** The answer is complete: meter the call (before its last byte leaves). */
    void complete();

    /** The headers every answer carries. */
    void decorate(HttpHeaders headers);
  }

  private enum Mode {
    ERROR,
    FULL,
    STREAM
  }

  private final ChannelHandlerContext ctx;
  private final CallerFormat format;
  private final JsonNode callerBody;
  private final boolean stream;
  private final boolean callerWantsUsage;
  private final boolean keepAlive;
  private final long callStartNanos;
  private final Outcome outcome;
  private final StringBuilder answer;
  private long cacheMaxChars = -1;

  // the current attempt
  private ProviderAdapter adapter;
  private CredentialConfig credential;
  private String secret;
  private String model;
  private boolean passthrough;
  private Exchange exchange;
  private Mode mode;
  private int upstreamStatus;
  private HttpHeaders upstreamHeaders;
  private String upstreamRetryAfter;
  private Duration attemptWait;
  private ByteBuf body;
  private StreamFraming framing;
  private StreamDecoder decoder;
  private StreamEncoder encoder;
  private UsageAccumulator streamUsage = new UsageAccumulator();
  private AnswerCollector cacheCollector;
  private boolean paused;

  // the caller left mid-stream: the provider is read on, without relaying, for its final usage
  private Runnable drained;
  private long drainBytesLeft;
  private io.netty.util.concurrent.ScheduledFuture<?> drainTimer;
  private long deliveredChars;

  // what the caller got and what the answer reported
  private boolean headersSent;
  private Usage usage;
  private int toolCalls;
  private boolean usageComplete;
  private FinishReason finish;
  private long ttftNanos = -1;
  private ChatResponse cacheable;
  private String responseId;

  ResponseRelay(
      ChannelHandlerContext ctx,
      CallState call,
      boolean keepAlive,
      boolean logContent,
      Outcome outcome) {
    this.ctx = ctx;
    this.format = call.callerFormat;
    this.callerBody = call.callerBody;
    this.stream = call.stream;
    this.callerWantsUsage = call.callerWantsUsage;
    this.keepAlive = keepAlive;
    this.callStartNanos = call.startNanos;
    this.outcome = outcome;
    this.answer = logContent ? new StringBuilder() : null;
  }

  /** Collects streamed answers (up to {@code maxChars}) for the response cache. */
  void collectForCache(long maxChars) {
    cacheMaxChars = maxChars;
    cacheCollector = new AnswerCollector(maxChars);
  }

  /** A new attempt: forgets what an earlier, failed attempt received. */
  void attempt(Target t) {
    this.adapter = t.adapter();
    this.credential = t.credential();
    this.secret = null;
    this.model = t.model();
    this.passthrough = t.passthrough();
    if (body != null) {
      body.release();
      body = null;
    }
    mode = null;
    upstreamStatus = 0;
    upstreamHeaders = null;
    responseId = null;
    upstreamRetryAfter = null;
    attemptWait = null;
    framing = null;
    decoder = null;
    encoder = null;
    streamUsage = new UsageAccumulator();
    usage = null;
    finish = null;
    toolCalls = 0;
    ttftNanos = -1;
    paused = false;
    if (cacheCollector != null) {
      cacheCollector = new AnswerCollector(cacheMaxChars);
    }
  }

  /** The secret the attempt presents: masked in whatever the provider says back. */
  void redacting(String secret) {
    this.secret = secret;
  }

  /** The attempt failed with {@code e}, whose message may quote the provider: secrets masked. */
  private void fail(ProxyException e) {
    outcome.failed(SecretRedaction.redact(e, secret));
  }

  /** The exchange the attempt's answer arrives on. */
  void exchange(Exchange e) {
    this.exchange = e;
  }

  /** Stops the current attempt's exchange, if one was sent. */
  void abort() {
    if (exchange != null) {
      exchange.abort();
    }
  }

  @Override
  public void onHead(HttpResponse head) {
    if (outcome.finished()) {
      return;
    }
    upstreamStatus = head.status().code();
    upstreamHeaders = head.headers();
    if (upstreamStatus != 200) {
      mode = Mode.ERROR;
      upstreamRetryAfter = head.headers().get(HttpHeaderNames.RETRY_AFTER);
      attemptWait = Backoff.providerWait(head.headers()::get, Instant.now());
      body = ctx.alloc().buffer(512);
    } else if (stream) {
      mode = Mode.STREAM;
      framing = adapter.streamFraming(MAX_SSE_EVENT);
      decoder = adapter.streamDecoder(model);
      if (!passthrough) {
        encoder = format.streamEncoder(callerWantsUsage);
      }
    } else {
      mode = Mode.FULL;
      body = ctx.alloc().buffer(4096);
    }
  }

  /**
   * Bytes of the answer; an answer that cannot be relayed fails the attempt. The provider is read
   * on only while the caller's connection is writable.
   */
  @Override
  public void onContent(ByteBuf content, boolean last) {
    if (outcome.finished()) {
      return;
    }
    if (drained != null) {
      drain(content, last);
      return;
    }
    try {
      receive(content, last);
    } catch (ProxyException e) {
      if (!last) {
        exchange.abort();
      }
      fail(e);
    } catch (IllegalStateException e) {
      exchange.abort();
      fail(new ProxyException(ErrorKind.UPSTREAM_BAD_RESPONSE, e.getMessage()));
    }
    if (!last && !outcome.finished()) {
      requestMore();
    }
  }

  @Override
  public void onFailure(Throwable cause, boolean afterHead) {
    if (drained != null) {
      finishDrain();
    } else if (!outcome.finished()) {
      fail(UpstreamErrors.ofTransport(cause, stream, credential));
    }
  }

  private void receive(ByteBuf content, boolean last) {
    if (ttftNanos < 0 && (content.isReadable() || last)) {
      ttftNanos = System.nanoTime() - callStartNanos;
      outcome.firstByte();
    }
    switch (mode) {
      case ERROR -> {
        body.writeBytes(
            content,
            Math.min(content.readableBytes(), Math.max(0, MAX_ERROR_BODY - body.readableBytes())));
        if (last) {
          JsonNode json = Json.parseOrNull(ReadableBytes.copy(body));
          fail(
              UpstreamErrors.ofStatus(
                  upstreamStatus, credential, adapter.errorMessage(json), upstreamRetryAfter));
        }
      }
      case FULL -> {
        if (body.readableBytes() + content.readableBytes() > MAX_UPSTREAM_BODY) {
          exchange.abort();
          throw new ProxyException(
              ErrorKind.UPSTREAM_BAD_RESPONSE,
              "the provider's answer is larger than " + MAX_UPSTREAM_BODY + " bytes");
        }
        body.writeBytes(content);
        if (last) {
          completeWhole();
        }
      }
      case STREAM -> {
        framing.feed(content, this::onStreamEvent);
        if (last) {
          framing.finish(this::onStreamEvent);
          emit(decoder.onEndOfBody());
          completeStream();
        } else {
          ctx.flush();
        }
      }
    }
  }

  /**
   * The caller left in the middle of a stream: keeps reading the provider's answer, without
   * relaying it, for up to {@code maxTime} and {@code maxBytes}, because OpenAI-style providers
   * report usage only in the stream's last chunk (and Anthropic its output tokens only at the end),
   * and the provider charges for the whole answer it generates. {@code done} runs once, when the
   * stream ended, failed or hit a bound.
   *
   * @return false when there is no stream to drain (the call ends now)
   */
  boolean drainForUsage(Duration maxTime, long maxBytes, Runnable done) {
    if (mode != Mode.STREAM || exchange == null || usageComplete || drained != null) {
      return false;
    }
    drained = done;
    drainBytesLeft = maxBytes;
    drainTimer =
        ctx.executor()
            .schedule(
                () -> {
                  exchange.abort();
                  finishDrain();
                },
                maxTime.toMillis(),
                java.util.concurrent.TimeUnit.MILLISECONDS);
    paused = false;
    exchange.resume();
    return true;
  }

  /** Whether the relay is reading an abandoned stream for its usage. */
  boolean draining() {
    return drained != null;
  }

  private void drain(ByteBuf content, boolean last) {
    drainBytesLeft -= content.readableBytes();
    try {
      framing.feed(content, this::onStreamEvent);
      if (last) {
        framing.finish(this::onStreamEvent);
        emit(decoder.onEndOfBody());
        usage = streamUsage.known() ? streamUsage.usage() : null;
        usageComplete = usage != null;
      }
    } catch (RuntimeException e) {
      last = true; // an answer that cannot be read: meter what is known
    }
    if (!last && drainBytesLeft < 0) {
      exchange.abort();
      last = true;
    }
    if (last) {
      finishDrain();
    }
  }

  /** Ends the drain now (the call timed out): its callback runs once. */
  void finishDrain() {
    Runnable done = drained;
    if (done == null) {
      return;
    }
    drained = null;
    if (drainTimer != null) {
      drainTimer.cancel(false);
    }
    done.run();
  }

  /**
   * A stream abandoned by the caller and never completed: meters what the provider reported, with
   * {@code inputEstimate} for input it did not report and the delivered text (characters / 4) for
   * output, as incomplete usage; never zero for an answer the provider was paying out.
   */
  void estimateAbandoned(long inputEstimate) {
    if (mode != Mode.STREAM || usageComplete) {
      return;
    }
    Usage known = streamUsage.known() ? streamUsage.usage() : Usage.ZERO;
    usage =
        new Usage(
            known.promptTokens() > 0 ? known.inputTokens() : inputEstimate,
            Math.max(known.outputTokens(), (deliveredChars + 3) / 4),
            known.cacheReadTokens(),
            known.cacheWriteTokens());
    usageComplete = false;
  }

  private void requestMore() {
    if (drained != null) {
      return;
    }
    if (!paused && !ctx.channel().isWritable()) {
      paused = true;
      exchange.pause();
    }
  }

  /** The caller's connection drained: resume reading the provider. */
  void onWritable() {
    if (paused && ctx.channel().isWritable()) {
      paused = false;
      exchange.resume();
    }
  }

  private void onStreamEvent(String event, String data) {
    if (passthrough) {
      // forwarded as sent: only what metering reads is decoded, unless the answer's text is kept
      List<StreamEvent> events =
          cacheCollector == null && answer == null
              ? decoder.onMeteredEvent(event, data)
              : decoder.onEvent(event, data);
      track(events);
      if (format.hidesForwarded(events, callerWantsUsage)) {
        return; // the usage chunk the sidecar asked for on its own behalf
      }
      forward(event, data);
    } else {
      emit(decoder.onEvent(event, data));
    }
  }

  private void emit(List<StreamEvent> events) {
    if (passthrough) {
      track(events);
      return;
    }
    for (StreamEvent e : events) {
      track(List.of(e));
      String text = encoder.encode(e);
      if (!text.isEmpty()) {
        write(text);
      }
    }
  }

  private void track(List<StreamEvent> events) {
    for (StreamEvent e : events) {
      if (cacheCollector != null) {
        cacheCollector.accept(e);
      }
      if (e instanceof StreamEvent.TextDelta t) {
        if (drained == null) {
          deliveredChars += t.text().length();
        }
        if (answer != null && answer.length() < MAX_LOGGED_TEXT) {
          answer.append(t.text());
        }
      } else if (e instanceof StreamEvent.Delivered d) {
        if (drained == null) {
          deliveredChars += d.chars();
        }
      } else if (e instanceof StreamEvent.Start st) {
        responseId = st.id();
      } else if (e instanceof StreamEvent.UsageUpdate u) {
        streamUsage.add(u);
      } else if (e instanceof StreamEvent.Finish f) {
        finish = f.reason();
      } else if (e instanceof StreamEvent.ToolCallStart) {
        toolCalls++;
      }
    }
  }

  /** Writes SSE text to the caller, after the stream's head the first time. */
  void write(String text) {
    if (drained != null) {
      return; // the caller is gone
    }
    head();
    ByteBuf out = ctx.alloc().buffer(ByteBufUtil.utf8MaxBytes(text));
    ByteBufUtil.writeUtf8(out, text);
    writeEvent(out);
  }

  /** Writes a provider's event to the caller as it came (one SSE event, encoded once). */
  private void forward(String event, String data) {
    if (drained != null) {
      return; // the caller is gone
    }
    head();
    int size =
        (event == null ? 0 : ByteBufUtil.utf8MaxBytes(event) + 8)
            + ByteBufUtil.utf8MaxBytes(data)
            + 8;
    ByteBuf out = ctx.alloc().buffer(size);
    if (event != null) {
      out.writeBytes(SSE_EVENT);
      ByteBufUtil.writeUtf8(out, event);
      out.writeByte('\n');
    }
    out.writeBytes(SSE_DATA);
    ByteBufUtil.writeUtf8(out, data);
    out.writeBytes(SSE_END);
    writeEvent(out);
  }

  /**
   * Writes one event of the stream with the channel's void promise: nothing waits on a single
   * event's write (a failed write reaches the pipeline's exceptionCaught, which closes the caller's
   * connection, and the call ends as abandoned), and with a void promise Netty's HTTP encoder
   * writes the chunk's pieces without a promise and a promise combiner each.
   */
  private void writeEvent(ByteBuf out) {
    ctx.write(new DefaultHttpContent(out), ctx.voidPromise());
  }

  private void head() {
    if (!headersSent) {
      headersSent = true;
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      head.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
          .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
          .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      outcome.decorate(head.headers());
      ctx.write(head);
    }
  }

  /** Ends the stream to the caller. */
  void endStream() {
    ChannelFuture f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    if (!keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Sends a whole response, decorated, once {@code meter} ran. */
  void sendWhole(FullHttpResponse out, Runnable meter) {
    outcome.decorate(out.headers());
    meter.run();
    Responses.send(ctx, out, keepAlive);
  }

  private void completeStream() {
    usage = streamUsage.known() ? streamUsage.usage() : null;
    usageComplete = usage != null;
    if (cacheCollector != null && usageComplete) {
      cacheable = cacheCollector.response(usage);
    }
    if (!headersSent) {
      write("");
    }
    // meter before the last byte leaves, so a caller that sees the end sees the ledger updated
    outcome.complete();
    endStream();
  }

  private void completeWhole() {
    JsonNode json = Json.parseOrNull(body);
    if (json == null) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE,
          "provider "
              + credential.provider().wireName()
              + " answered 200 with a body that is not JSON");
    }
    ChatResponse response = adapter.decode(json, model, upstreamHeaders);
    responseId = response.id();
    usage = response.usage();
    usageComplete = usage != null;
    if (usage == null && format.api() == dev.tollgate.sidecar.wire.ApiFormat.OPENAI_EMBEDDINGS) {
      // an embedding answer without a count (the Gemini API's batchEmbedContents): priced from
      // the inputs' characters / 4, Google's own rule of thumb for Gemini tokens, and marked as
      // incomplete usage; never left at $0
      usage =
          new Usage(
              dev.tollgate.sidecar.routing.RequestFacts.of(callerBody, h -> null)
                  .estimatedInputTokens(),
              0,
              0,
              0);
    }
    finish = response.finish();
    toolCalls =
        (int)
            response.content().stream()
                .filter(p -> p instanceof dev.tollgate.sidecar.chat.ChatRequest.ToolCall)
                .count();
    if (outcome.escalates(response)) {
      return;
    }
    if (answer != null) {
      answer.append(response.text());
    }
    cacheable = response;
    FullHttpResponse out;
    if (passthrough && !adapter.rewritesAnswer()) {
      out = Responses.of(200, body.retain(), "application/json");
    } else {
      ChatResponse named =
          new ChatResponse(
              response.id(),
              response.model().isEmpty() ? model : response.model(),
              response.content(),
              response.finish(),
              response.usage());
      ObjectNode rendered = format.renderResponse(named, callerBody);
      if (adapter.rewritesAnswer()) {
        // the answer as the caller got it (its encoding), for the response cache to replay as is
        cacheable =
            new ChatResponse(
                named.id(),
                named.model(),
                List.of(new ChatRequest.Text(Json.write(rendered))),
                named.finish(),
                named.usage());
      }
      out = Responses.json(200, rendered);
    }
    sendWhole(out, outcome::complete);
  }

  /** The id the provider gave the answer (a Responses API response's), or null. */
  String responseId() {
    return responseId == null || responseId.isEmpty() ? null : responseId;
  }

  /** The call ends before its answer completed: what a broken stream reported is all there is. */
  void endedEarly() {
    if (mode == Mode.STREAM) {
      usage = streamUsage.known() ? streamUsage.usage() : null;
    }
    usageComplete = false;
  }

  /**
   * The call ends: releases the answer's buffer; a stream that ended early (caller gone, timeout)
   * is metered for what the provider reported so far.
   */
  void release() {
    if (body != null) {
      body.release();
      body = null;
    }
    if (usage == null && mode == Mode.STREAM && streamUsage.known()) {
      usage = streamUsage.usage();
    }
  }

  /** An escalated answer is metered on its own: the call starts its next answer afresh. */
  void forgetAnswer() {
    toolCalls = 0;
    usage = null;
    usageComplete = false;
    finish = null;
  }

  /** A cached answer is served instead: its finish reason is the call's. */
  void servedFromCache(FinishReason f) {
    finish = f;
  }

  boolean headersSent() {
    return headersSent;
  }

  /** Tool calls in the current attempt's answer. */
  int toolCalls() {
    return toolCalls;
  }

  Usage usage() {
    return usage;
  }

  boolean usageComplete() {
    return usageComplete;
  }

  FinishReason finish() {
    return finish;
  }

  long ttftNanos() {
    return ttftNanos;
  }

  int upstreamStatus() {
    return upstreamStatus;
  }

  /** The wait the provider's rate-limit headers asked for with an error, or null. */
  Duration attemptWait() {
    return attemptWait;
  }

  /** The answer the response cache may keep, or null. */
  ChatResponse cacheable() {
    return cacheable;
  }

  /** The logged answer text (content logging), or null. */
  String answerText() {
    return answer == null ? null : RouteResolver.clip(answer.toString(), MAX_LOGGED_TEXT);
  }
}
