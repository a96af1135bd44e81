package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.config.report.UsageReport;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapters;
import dev.tollgate.sidecar.provider.SecretRedaction;
import dev.tollgate.sidecar.server.LingeringClose;
import dev.tollgate.sidecar.server.ProxyContext;
import dev.tollgate.sidecar.server.Responses;
import dev.tollgate.sidecar.upstream.Exchange;
import dev.tollgate.sidecar.upstream.ExchangeListener;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Governed passthrough: a request to one of the provider's endpoints the sidecar does not route
 * (files, batches, audio, images, moderations, stored responses...) goes to the namespace's
 * credential of the caller's API format ({@link PassthroughTarget}), with that credential's key in
 * place of whatever the caller sent, the budget applied first, and the answer streamed back as it
 * arrives (read only while the caller's connection drains). A JSON request body is the one the
 * server already holds (bounded by {@code server.maxRequestBodyBytes}); any other body (multipart
 * uploads, audio) is streamed to the provider as it arrives ({@link #startStreamed}), the caller
 * read only while the provider's connection takes more, up to the credential's {@code
 * passthrough.maxBodyBytes}. It ends through the same metering exit as every call, on route {@code
 * _passthrough} with the path's first segment as the tier. A generating POST whose JSON answer
 * carries usage ({@link PassthroughUsage}) is priced from it, the answer being copied aside up to
 * {@link PassthroughUsage#MAX_CAPTURED_BYTES} while it streams; other calls are counted without
 * tokens.
 */
public final class PassthroughCall implements ExchangeListener, ActiveCall {
  public static final String ROUTE = "_passthrough";
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration TOTAL_TIMEOUT = Duration.ofMinutes(10);
  private static final int MAX_ERROR_BODY = 64 * 1024;

  /** Caller headers never sent on: hop-by-hop, the caller's own credentials, recomputed ones. */
  private static final Set<String> DROPPED_REQUEST_HEADERS =
      Set.of(
          "host",
          "connection",
          "keep-alive",
          "proxy-connection",
          "proxy-authorization",
          "te",
          "trailer",
          "upgrade",
          "transfer-encoding",
          "content-length",
          "authorization",
          "x-api-key",
          "api-key",
          "x-goog-api-key",
          "cookie",
          "expect",
          "http2-settings");

  private static final Set<String> DROPPED_RESPONSE_HEADERS =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "upgrade",
          "transfer-encoding",
          "set-cookie");

  private final ProxyContext px;
  private final ChannelHandlerContext ctx;
  private final ApiFormat format;
  private final String requestId;
  private final boolean keepAlive;
  private final Runnable onDone;
  private final long startNanos = System.nanoTime();
  private String tier = "";
  private CredentialConfig credential;
  private String model = "";
  private Exchange exchange;
  private ScheduledFuture<?> deadline;
  private boolean headSent;
  private boolean paused;
  private boolean finished;
  private int status;
  private long ttftNanos = -1;
  // the answer copied aside to read its usage, while it may be priced and is small enough
  private boolean priceable;
  private java.io.ByteArrayOutputStream captured;
  private String secret;
  // an Anthropic message batch being submitted: the provider's answer names its id
  private BatchSubmission batch;
  // an OpenAI batch input file being uploaded, or an OpenAI batch being created: its estimate
  private OpenAiBatchEstimate openAiUpload;
  private OpenAiBatchEstimate openAiBatch;
  // an error answer is held whole (bounded) so that a key the provider quotes can be masked
  private HttpResponse errorHead;
  private ByteBuf errorBody;
  // a streamed request body: its bytes so far, their cap, whether its last piece arrived
  private boolean streamedBody;
  private long bodyBytes;
  private long maxBodyBytes = Long.MAX_VALUE;
  private boolean uploadDone;
  private dev.tollgate.sidecar.trace.PassthroughTrace trace =
      dev.tollgate.sidecar.trace.PassthroughTrace.NONE;
  private long answerBytes;

  public PassthroughCall(
      ProxyContext px,
      ChannelHandlerContext ctx,
      ApiFormat format,
      String requestId,
      boolean keepAlive,
      Runnable onDone) {
    this.px = px;
    this.ctx = ctx;
    this.format = format;
    this.requestId = requestId;
    this.keepAlive = keepAlive;
    this.onDone = onDone;
  }

  /** Chooses the credential, applies the budget and sends the request on. */
  public void start(FullHttpRequest req, String path) {
    px.metrics().started(ROUTE);
    px.inFlight().incrementAndGet();
    tier = firstSegment(path);
    trace = px.tracing().passthrough(req.headers(), req.method().name(), tier, path);
    priceable = PassthroughUsage.priceable(req.method().name(), path);
    try {
      SidecarConfig cfg = px.config().current();
      if (cfg == null) {
        throw new ProxyException(ErrorKind.NOT_READY, "the sidecar has no valid configuration yet");
      }
      model = modelOf(req);
      String stored = StoredResponses.idInPath(path);
      credential =
          PassthroughTarget.choose(
              cfg,
              format,
              path,
              model.isEmpty() ? null : model,
              stored == null ? null : px.storedResponses().credentialOf(stored));
      ProxyException blocked = px.budgetGate().blocksUnrouted(cfg);
      if (blocked != null) {
        throw blocked;
      }
      if (format == ApiFormat.ANTHROPIC
          && "POST".equals(req.method().name())
          && "/v1/messages/batches".equals(path)) {
        req = submitBatch(cfg, req);
      } else if (OpenAiBatchUpload.applies(format, req, path)) {
        req = uploadOpenAiBatchFile(cfg, req);
      } else if (OpenAiBatchSubmission.applies(format, req, path)) {
        submitOpenAiBatch(cfg, req, path);
        return;
      }
      send(req, req.content(), path);
    } catch (ProxyException e) {
      failBeforeHead(e);
    }
  }

  /**
   * Starts a call whose body is not in hand: it arrives in {@link #bodyPiece}s, each sent on to the
   * provider as it comes. The caller is read only while the provider's connection takes more. A
   * body declared larger than the credential's {@code passthrough.maxBodyBytes} is refused with 413
   * before anything is sent.
   */
  public void startStreamed(HttpRequest head, String path) {
    px.metrics().started(ROUTE);
    px.inFlight().incrementAndGet();
    streamedBody = true;
    keepReadingCaller(false);
    tier = firstSegment(path);
    trace = px.tracing().passthrough(head.headers(), head.method().name(), tier, path);
    priceable = PassthroughUsage.priceable(head.method().name(), path);
    try {
      SidecarConfig cfg = px.config().current();
      if (cfg == null) {
        throw new ProxyException(ErrorKind.NOT_READY, "the sidecar has no valid configuration yet");
      }
      credential = PassthroughTarget.choose(cfg, format, path, null, null);
      maxBodyBytes = credential.passthrough().maxBodyBytes();
      long declared = HttpUtil.getContentLength(head, -1L);
      if (declared > maxBodyBytes) {
        throw tooLarge();
      }
      ProxyException blocked = px.budgetGate().blocksUnrouted(cfg);
      if (blocked != null) {
        throw blocked;
      }
      if (HttpUtil.is100ContinueExpected(head)) {
        ctx.writeAndFlush(
            new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
      }
      send(head, null, path);
    } catch (ProxyException e) {
      failBeforeHead(e);
    }
  }

  private ProxyException tooLarge() {
    return new ProxyException(
        ErrorKind.TOO_LARGE,
        "the request body is larger than the "
            + maxBodyBytes
            + " bytes that passthrough streams through credential "
            + credential.name()
            + " (spec.passthrough.maxBodyBytes)");
  }

  /**
   * The next piece of a streamed body (the call owns it): counted against the cap and sent on. Past
   * the cap the provider's request is abandoned and the caller answered 413 (or cut off, when the
   * provider's answer had begun).
   */
  public void bodyPiece(HttpContent piece) {
    boolean last = piece instanceof LastHttpContent;
    if (last) {
      uploadDone = true;
    }
    if (finished || exchange == null) {
      piece.release();
      return;
    }
    bodyBytes += piece.content().readableBytes();
    if (bodyBytes > maxBodyBytes) {
      piece.release();
      fail(tooLarge());
      return;
    }
    exchange.writeBody(piece);
    if (!last && !exchange.bodyWritable()) {
      keepReadingCaller(false);
    }
  }

  @Override
  public void onUpstreamWritable() {
    if (!finished && !uploadDone) {
      keepReadingCaller(true);
    }
  }

  /** The caller stopped sending its streamed body: 408, as for a request that never completes. */
  public void callerStalled() {
    fail(
        new ProxyException(
            ErrorKind.CLIENT_TIMEOUT,
            "the request body stopped arriving; the sidecar closed the connection"));
  }

  private void keepReadingCaller(boolean read) {
    if (ctx.channel().config().isAutoRead() != read) {
      ctx.channel().config().setAutoRead(read);
    }
  }

  /** Whether the caller's connection is closed after the answer. */
  private boolean closeAfterAnswer() {
    // an answer before the whole streamed body arrived: the rest of it is still on the wire
    return !keepAlive || (streamedBody && !uploadDone);
  }

  /**
   * An Anthropic Message Batch: its items' route aliases resolved to this credential's models, and
   * its estimated cost admitted against the budgets of those routes.
   */
  private FullHttpRequest submitBatch(SidecarConfig cfg, FullHttpRequest req) {
    batch =
        BatchSubmission.prepare(
            cfg, credential, ByteBufUtil.getBytes(req.content()), px.costs().catalogue());
    px.budgetGate().admitBatch(cfg, batch.estimates());
    return req.replace(Unpooled.wrappedBuffer(batch.body()));
  }

  /**
   * An OpenAI batch input file: its lines' route aliases resolved to this credential's models and
   * the file estimated, the estimate remembered under the id the provider gives it ({@link #end}).
   * Other uploads go on as they came.
   */
  private FullHttpRequest uploadOpenAiBatchFile(SidecarConfig cfg, FullHttpRequest req) {
    maxBodyBytes = credential.passthrough().maxBodyBytes();
    if (req.content().readableBytes() > maxBodyBytes) {
      throw tooLarge();
    }
    OpenAiBatchUpload prepared = OpenAiBatchUpload.prepare(req, openAiBatchLines(cfg));
    if (prepared == null) {
      return req;
    }
    openAiUpload = prepared.estimate();
    FullHttpRequest out = req.replace(Unpooled.wrappedBuffer(prepared.body()));
    out.headers().set(HttpHeaderNames.CONTENT_TYPE, prepared.contentType());
    return out;
  }

  private OpenAiBatchLines openAiBatchLines(SidecarConfig cfg) {
    return new OpenAiBatchLines(
        cfg, credential, px.costs().catalogue(), px.openAiBatchFiles().maxLineBytes());
  }

  /**
   * {@code POST /v1/batches}: admitted against the budgets with the estimate of its input file,
   * remembered from the upload or, when this sidecar does not remember it, read back from the
   * provider first; sent on once admitted.
   */
  private void submitOpenAiBatch(SidecarConfig cfg, FullHttpRequest req, String path) {
    String fileId = OpenAiBatchSubmission.inputFileId(req);
    OpenAiBatchEstimate known = px.openAiBatchFiles().estimate(credential.name(), fileId);
    if (known != null) {
      admitOpenAiBatch(cfg, known);
      send(req, req.content(), path);
      return;
    }
    // the server releases req when this returns: keep what is sent after the read
    FullHttpRequest copy = req.copy();
    ProviderAdapter adapter = ProviderAdapters.forProvider(credential.provider());
    String key = adapter.secret(px.secrets(), credential);
    URI url = PassthroughTarget.url(credential, "/v1/files/" + fileId + "/content");
    HttpHeaders headers = new DefaultHttpHeaders();
    addressed(headers, url, adapter, key);
    OpenAiBatchInputRead read =
        new OpenAiBatchInputRead(
            openAiBatchLines(cfg),
            px.openAiBatchFiles().maxLineBytes(),
            estimate -> {
              exchange = null;
              deadline.cancel(false);
              try {
                if (!finished) {
                  // no such file: OpenAI answers the create itself; reported should it accept
                  admitOpenAiBatch(
                      cfg,
                      estimate != null
                          ? estimate
                          : new OpenAiBatchEstimate(java.util.Map.of(), 0, 0, java.util.List.of()));
                  send(copy, copy.content(), path);
                }
              } catch (ProxyException e) {
                fail(e);
              } finally {
                copy.release();
              }
            },
            e -> {
              exchange = null;
              copy.release();
              fail(e);
            });
    deadline = failAfterTotalTimeout("the batch input file could not be read back");
    exchange =
        px.upstream()
            .send(
                ctx.channel().eventLoop(),
                url,
                credential.caFile(),
                () ->
                    new DefaultFullHttpRequest(
                        HttpVersion.HTTP_1_1,
                        io.netty.handler.codec.http.HttpMethod.GET,
                        url.getRawPath(),
                        Unpooled.EMPTY_BUFFER,
                        headers.copy(),
                        new DefaultHttpHeaders()),
                CONNECT_TIMEOUT,
                read);
  }

  /** Fails the call with 504 unless it has ended within {@link #TOTAL_TIMEOUT}. */
  private ScheduledFuture<?> failAfterTotalTimeout(String what) {
    return ctx.executor()
        .schedule(
            () ->
                fail(
                    new ProxyException(
                        ErrorKind.UPSTREAM_TIMEOUT, what + " within " + TOTAL_TIMEOUT)),
            TOTAL_TIMEOUT.toMillis(),
            TimeUnit.MILLISECONDS);
  }

  private void admitOpenAiBatch(SidecarConfig cfg, OpenAiBatchEstimate estimate) {
    px.budgetGate().admitBatch(cfg, estimate.estimates());
    openAiBatch = estimate;
  }

  /** The provider's host, this call's request id and the credential's key on {@code headers}. */
  private void addressed(HttpHeaders headers, URI url, ProviderAdapter adapter, String key) {
    headers.set(
        HttpHeaderNames.HOST,
        url.getPort() > 0 ? url.getHost() + ":" + url.getPort() : url.getHost());
    headers.set("x-request-id", requestId);
    adapter.authenticate(headers, credential, key);
  }

  /** Sends the request on: with {@code body} when the server holds it, else as a streamed head. */
  private void send(HttpRequest req, ByteBuf held, String path) {
    ProviderAdapter adapter = ProviderAdapters.forProvider(credential.provider());
    secret = adapter.secret(px.secrets(), credential);
    int q = req.uri().indexOf('?');
    URI url = PassthroughTarget.url(credential, path + (q < 0 ? "" : req.uri().substring(q)));
    HttpHeaders headers = new DefaultHttpHeaders();
    req.headers()
        .forEach(
            h -> {
              if (!DROPPED_REQUEST_HEADERS.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                headers.add(h.getKey(), h.getValue());
              }
            });
    addressed(headers, url, adapter, secret);
    trace.sending(url, headers);
    byte[] body = held == null ? null : ByteBufUtil.getBytes(held);
    if (body != null) {
      bodyBytes = body.length;
      headers.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    } else if (HttpUtil.getContentLength(req, -1L) >= 0) {
      headers.set(HttpHeaderNames.CONTENT_LENGTH, HttpUtil.getContentLength(req, -1L));
    } else {
      headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    String target = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
    deadline = failAfterTotalTimeout("the provider did not finish answering");
    exchange =
        px.upstream()
            .send(
                ctx.channel().eventLoop(),
                url,
                credential.caFile(),
                () ->
                    body == null
                        ? new DefaultHttpRequest(
                            HttpVersion.HTTP_1_1, req.method(), target, headers.copy())
                        : new DefaultFullHttpRequest(
                            HttpVersion.HTTP_1_1,
                            req.method(),
                            target,
                            Unpooled.wrappedBuffer(body),
                            headers.copy(),
                            new DefaultHttpHeaders()),
                CONNECT_TIMEOUT,
                this);
  }

  @Override
  public void onHead(HttpResponse head) {
    if (finished) {
      return;
    }
    status = head.status().code();
    HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, head.status());
    head.headers()
        .forEach(
            h -> {
              if (!DROPPED_RESPONSE_HEADERS.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                out.headers().add(h.getKey(), h.getValue());
              }
            });
    String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
    String encoding = head.headers().get(HttpHeaderNames.CONTENT_ENCODING, "identity");
    if ((priceable || batch != null || openAiUpload != null || openAiBatch != null)
        && status == 200
        && type.toLowerCase(Locale.ROOT).contains("json")
        && "identity".equalsIgnoreCase(encoding)) {
      captured = new java.io.ByteArrayOutputStream();
    }
    if (!out.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
      out.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    decorate(out.headers());
    if (status >= 400) {
      errorHead = out;
      errorBody = ctx.alloc().buffer(512);
      return;
    }
    headSent = true;
    ctx.write(out);
  }

  /**
   * The error answer in full, with secrets masked: whatever text the provider sent back may quote
   * the key the sidecar presented, which its caller must never learn. Beyond {@link
   * #MAX_ERROR_BODY} the answer is cut.
   */
  private boolean sendError() {
    String encoding = errorHead.headers().get(HttpHeaderNames.CONTENT_ENCODING, "identity");
    String text =
        encoding.equalsIgnoreCase("identity")
            ? SecretRedaction.redact(errorBody.toString(StandardCharsets.UTF_8), secret)
            : null;
    errorBody.release();
    errorBody = null;
    if (text == null) {
      // a compressed body cannot be searched for the key: withheld, the status kept
      FullHttpResponse r =
          Responses.error(
              format,
              new ProxyException(
                  ErrorKind.UPSTREAM_REJECTED,
                  status,
                  "provider "
                      + credential.provider().wireName()
                      + " answered HTTP "
                      + status
                      + " with a "
                      + encoding
                      + " error body, withheld",
                  null));
      decorate(r.headers());
      headSent = true;
      ctx.write(r);
      return true;
    }
    ByteBuf content = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
    errorHead.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
    errorHead.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
    headSent = true;
    ctx.write(errorHead);
    ctx.write(new DefaultHttpContent(content));
    return false;
  }

  @Override
  public void onContent(ByteBuf content, boolean last) {
    if (finished) {
      return;
    }
    if (ttftNanos < 0) {
      ttftNanos = System.nanoTime() - startNanos;
    }
    answerBytes += content.readableBytes();
    if (errorBody != null) {
      errorBody.writeBytes(
          content, Math.min(content.readableBytes(), MAX_ERROR_BODY - errorBody.readableBytes()));
      if (!last) {
        return;
      }
      boolean whole = sendError();
      boolean close = closeAfterAnswer();
      end(status, ErrorKind.UPSTREAM_REJECTED);
      var f = ctx.writeAndFlush(whole ? Unpooled.EMPTY_BUFFER : LastHttpContent.EMPTY_LAST_CONTENT);
      if (close) {
        closeAfter(f);
      }
      return;
    }
    if (captured != null) {
      if (captured.size() + content.readableBytes() > PassthroughUsage.MAX_CAPTURED_BYTES) {
        captured = null; // too large to read its usage: counted, not priced
      } else {
        captured.writeBytes(ByteBufUtil.getBytes(content));
      }
    }
    if (last) {
      ctx.write(new DefaultHttpContent(content.retain()));
      boolean close = closeAfterAnswer();
      end(status, status >= 400 ? ErrorKind.UPSTREAM_REJECTED : null);
      var f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
      if (close) {
        closeAfter(f);
      }
      return;
    }
    ctx.writeAndFlush(new DefaultHttpContent(content.retain()));
    if (!ctx.channel().isWritable() && !paused) {
      paused = true;
      exchange.pause();
    }
  }

  @Override
  public void onFailure(Throwable cause, boolean afterHead) {
    fail(UpstreamErrors.ofTransport(cause, false, credential));
  }

  private void fail(ProxyException e) {
    if (finished) {
      return;
    }
    if (exchange != null) {
      exchange.abort();
    }
    if (headSent) {
      // part of the answer is out: the caller sees a truncated body, as from the provider
      end(status, e.kind());
      ctx.close();
    } else {
      failBeforeHead(e);
    }
  }

  private void failBeforeHead(ProxyException e) {
    FullHttpResponse r = Responses.error(format, e);
    decorate(r.headers());
    boolean close = closeAfterAnswer();
    end(e.status(), e.kind());
    if (close && streamedBody && !uploadDone) {
      HttpUtil.setKeepAlive(r, false);
      LingeringClose.after(ctx.writeAndFlush(r));
    } else {
      Responses.send(ctx, r, !close);
    }
  }

  /**
   * Closes the caller's connection once {@code answered} is written: lingering while the rest of a
   * streamed body is still on its way, so that the caller reads the answer instead of a reset.
   */
  private void closeAfter(ChannelFuture answered) {
    if (streamedBody && !uploadDone) {
      LingeringClose.after(answered);
    } else {
      answered.addListener(ChannelFutureListener.CLOSE);
    }
  }

  private void decorate(HttpHeaders h) {
    h.set("x-request-id", requestId);
    h.set("x-tollgate-route", ROUTE);
    if (credential != null) {
      h.set("x-tollgate-provider", credential.provider().wireName());
      h.set("x-tollgate-credential", credential.name());
    }
  }

  @Override
  public void onWritable() {
    if (paused && !finished && ctx.channel().isWritable()) {
      paused = false;
      exchange.resume();
    }
  }

  @Override
  public void onClientClosed() {
    if (!finished) {
      if (exchange != null) {
        exchange.abort();
      }
      end(ErrorKind.CLIENT_CLOSED.status(), ErrorKind.CLIENT_CLOSED);
    }
  }

  private void end(int status, ErrorKind kind) {
    if (finished) {
      return;
    }
    finished = true;
    if (deadline != null) {
      deadline.cancel(false);
    }
    if (errorBody != null) {
      errorBody.release();
      errorBody = null;
    }
    px.inFlight().decrementAndGet();
    Usage usage = null;
    Cost cost = Cost.UNPRICED;
    if (batch != null && captured != null && kind == null) {
      admitted(Json.parseOrNull(captured.toByteArray()));
    } else if ((openAiUpload != null || openAiBatch != null) && captured != null && kind == null) {
      openAiAnswered(Json.parseOrNull(captured.toByteArray()));
    } else if (captured != null && kind == null && credential != null) {
      JsonNode answer = Json.parseOrNull(captured.toByteArray());
      usage = PassthroughUsage.read(format, answer);
      if (usage != null) {
        if (model.isEmpty() && answer.path("model").isTextual()) {
          model = answer.path("model").asText();
        }
        cost = px.costs().cost(credential, model, usage);
      }
    }
    captured = null;
    CallRecord r =
        CallRecord.builder()
            .requestId(requestId)
            .api("passthrough")
            .route(ROUTE)
            .tier(tier)
            .target(
                credential == null ? null : credential.provider().wireName(),
                credential == null ? null : credential.name(),
                credential == null ? null : model)
            .outcome(status, kind)
            .usage(usage, usage != null)
            .cost(cost)
            .timing(System.nanoTime() - startNanos, ttftNanos)
            .upstreamStatus(exchange == null ? 0 : this.status)
            .build();
    CallEnd.of(px).meter(r, null);
    trace.end(r, bodyBytes, answerBytes);
    onDone.run();
  }

  /**
   * The provider accepted the batch: its id goes to the operator in the next usage report, which
   * meters the batch when it ends, whether or not this pod is still there.
   */
  private void admitted(JsonNode answer) {
    String id = answer == null ? "" : answer.path("id").asText("");
    if (!BATCH_ID.matcher(id).matches()) {
      LOG.error(
          "the provider accepted a message batch on credential {} but its answer names no usable"
              + " id; the batch's spend will not be metered",
          credential.name());
      return;
    }
    UsageReport.AdmittedBatch admitted = batch.admitted(id, credential.name());
    px.ledger().batches().admitted(admitted);
    px.budgetGate().batchAdmitted(admitted.estimates());
  }

  /**
   * OpenAI took the batch input file (its estimate kept under the file's id until a batch names it)
   * or the batch (reported to the operator, which meters it when it ends).
   */
  private void openAiAnswered(JsonNode answer) {
    String id = answer == null ? "" : answer.path("id").asText("");
    if (!BATCH_ID.matcher(id).matches()) {
      LOG.error(
          "OpenAI accepted a batch {} on credential {} but its answer names no usable id; {}",
          openAiBatch != null ? "" : "input file",
          credential.name(),
          openAiBatch != null
              ? "the batch's spend will not be metered"
              : "a batch of it is estimated by reading it back");
      return;
    }
    if (openAiBatch != null) {
      UsageReport.AdmittedBatch admitted = openAiBatch.admitted(id, credential.name());
      px.ledger().batches().admitted(admitted);
      px.budgetGate().batchAdmitted(admitted.estimates());
    } else {
      px.openAiBatchFiles().remember(credential.name(), id, openAiUpload);
    }
  }

  private static final java.util.regex.Pattern BATCH_ID =
      java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,128}");

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(PassthroughCall.class);

  /** The request's {@code model} when its body is a JSON object that names one, else "". */
  private static String modelOf(FullHttpRequest req) {
    String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (type == null
        || !type.toLowerCase(Locale.ROOT).contains("json")
        || !req.content().isReadable()) {
      return "";
    }
    JsonNode n = Json.parseOrNull(ByteBufUtil.getBytes(req.content()));
    return n == null ? "" : n.path("model").asText("");
  }

  /** {@code files} of {@code /v1/files/abc}: what kind of call it was, for the ledger. */
  static String firstSegment(String path) {
    String rest = path.startsWith("/v1/") ? path.substring(4) : path;
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }
}
