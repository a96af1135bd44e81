package dev.tollgate.sidecar.trace;

import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.metering.CallRecord;
import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.net.URI;

/**
 * The span of one governed passthrough call (files, batches, audio, images, stored responses...):
 * {@code {method} {operation}} ({@code POST files}), kind CLIENT, a child of the application's W3C
 * trace context, with the operation (the path's first segment after the version, as on the ledger),
 * the provider, the status and the bytes each way; usage and cost when the answer carried usage.
 * The provider receives its W3C trace context. The path's query string is never recorded (it may
 * carry a caller's key).
 */
public final class PassthroughTrace {
  static final AttributeKey<String> OPERATION =
      AttributeKey.stringKey("tollgate.passthrough.operation");
  static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
  static final AttributeKey<String> PATH = AttributeKey.stringKey("url.path");
  static final AttributeKey<Long> REQUEST_BYTES = AttributeKey.longKey("http.request.body.size");
  static final AttributeKey<Long> RESPONSE_BYTES = AttributeKey.longKey("http.response.body.size");
  private static final TextMapSetter<HttpHeaders> SETTER = HttpHeaders::set;

  /** Records nothing and passes no context on (before the call started). */
  public static final PassthroughTrace NONE =
      new PassthroughTrace(Span.getInvalid(), Context.root());

  private final Span span;
  private final Context context;

  private PassthroughTrace(Span span, Context context) {
    this.span = span;
    this.context = context;
  }

  static PassthroughTrace start(
      Tracer tracer, Context parent, String method, String operation, String path) {
    if (tracer == null) {
      return new PassthroughTrace(Span.getInvalid(), parent);
    }
    Span s =
        tracer
            .spanBuilder(method + " " + operation)
            .setParent(parent)
            .setSpanKind(SpanKind.CLIENT)
            .setAttribute(OPERATION, operation)
            .setAttribute(METHOD, method)
            .setAttribute(PATH, path)
            .startSpan();
    return new PassthroughTrace(s, s.isRecording() ? parent.with(s) : parent);
  }

  /** Whether the span records (false: tracing off or not sampled). */
  public boolean recording() {
    return span.isRecording();
  }

  /**
   * The request goes to {@code url}: its W3C trace context (this span's, else the application's)
   * into {@code h}.
   */
  public void sending(URI url, HttpHeaders h) {
    if (span.isRecording() && url != null && url.getHost() != null) {
      span.setAttribute(CallTrace.SERVER_ADDRESS, url.getHost());
      span.setAttribute(CallTrace.SERVER_PORT, CallTrace.port(url));
    }
    W3CTraceContextPropagator.getInstance().inject(context, h, SETTER);
  }

  /**
   * The call ended as {@code r} says, after {@code requestBytes} up and {@code answerBytes} down.
   */
  public void end(CallRecord r, long requestBytes, long answerBytes) {
    if (!span.isRecording()) {
      return;
    }
    span.setAttribute(CallTrace.REQUEST_ID, r.requestId());
    span.setAttribute(CallTrace.ROUTE, r.route());
    if (r.provider() != null) {
      span.setAttribute(CallTrace.PROVIDER, CallTrace.providerName(r.provider()));
    }
    if (r.credential() != null) {
      span.setAttribute(CallTrace.CREDENTIAL, r.credential());
    }
    if (r.model() != null && !r.model().isEmpty()) {
      span.setAttribute(CallTrace.REQUEST_MODEL, r.model());
    }
    span.setAttribute(REQUEST_BYTES, requestBytes);
    span.setAttribute(RESPONSE_BYTES, answerBytes);
    Usage u = r.usage();
    if (u != null) {
      span.setAttribute(CallTrace.INPUT_TOKENS, u.promptTokens());
      span.setAttribute(CallTrace.OUTPUT_TOKENS, u.outputTokens());
    }
    if (r.cost() != null && r.cost().priced()) {
      span.setAttribute(CallTrace.COST, r.cost().usd().doubleValue());
    }
    span.setAttribute(CallTrace.HTTP_STATUS, r.status());
    if (r.errorKind() != null) {
      span.setAttribute(CallTrace.ERROR_TYPE, r.errorKind().label());
      span.setStatus(StatusCode.ERROR);
    }
    span.end();
  }
}
