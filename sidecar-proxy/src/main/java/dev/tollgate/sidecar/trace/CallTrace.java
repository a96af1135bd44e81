package dev.tollgate.sidecar.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.sdk.common.Clock;
import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The spans of one call, following the OpenTelemetry GenAI semantic conventions: the call's span
 * ({@code {operation} {requested model}}, kind CLIENT) covers the whole logical operation with its
 * retries and carries the request parameters, usage, finish reasons and Tollgate's cost; its
 * children are the steps (classifier, response-cache lookup) and, when the call took more than one
 * attempt, each attempt at a provider ({@code tollgate.attempt}: first, failover, retry or
 * escalation). A call answered by its first attempt has no attempt span: the attempt's server
 * address and port go on the call's span, which is the CLIENT span of the provider request and the
 * parent the provider receives in its W3C trace context. The first attempt is therefore held as
 * data ({@link FirstAttempt}) and becomes a span, with its own start and end times, only when a
 * second attempt follows; later attempts are spans from the start, and their providers receive
 * their own context. Everything runs on the call's event loop; nothing here waits on the export.
 */
public class CallTrace {
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
  static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
  static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
  static final AttributeKey<String> RESPONSE_MODEL =
      AttributeKey.stringKey("gen_ai.response.model");
  static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
  static final AttributeKey<Long> OUTPUT_TOKENS =
      AttributeKey.longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<Long> CACHE_READ_TOKENS =
      AttributeKey.longKey("gen_ai.usage.cache_read.input_tokens");
  static final AttributeKey<Long> CACHE_WRITE_TOKENS =
      AttributeKey.longKey("gen_ai.usage.cache_creation.input_tokens");
  static final AttributeKey<List<String>> FINISH_REASONS =
      AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
  static final AttributeKey<Double> TEMPERATURE =
      AttributeKey.doubleKey("gen_ai.request.temperature");
  static final AttributeKey<Double> TOP_P = AttributeKey.doubleKey("gen_ai.request.top_p");
  static final AttributeKey<Long> MAX_TOKENS = AttributeKey.longKey("gen_ai.request.max_tokens");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");
  static final AttributeKey<Double> COST = AttributeKey.doubleKey("tollgate.cost_usd");
  static final AttributeKey<Boolean> PRICED = AttributeKey.booleanKey("tollgate.cost_priced");
  static final AttributeKey<String> ROUTE = AttributeKey.stringKey("tollgate.route");
  static final AttributeKey<String> TIER = AttributeKey.stringKey("tollgate.tier");
  static final AttributeKey<String> CREDENTIAL = AttributeKey.stringKey("tollgate.credential");
  static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("tollgate.request_id");
  static final AttributeKey<Boolean> STREAM = AttributeKey.booleanKey("tollgate.stream");
  static final AttributeKey<Long> FAILOVERS = AttributeKey.longKey("tollgate.failovers");
  static final AttributeKey<Double> TTFT = AttributeKey.doubleKey("tollgate.ttft_seconds");
  static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("tollgate.attempt.number");
  static final AttributeKey<String> ATTEMPT_KIND = AttributeKey.stringKey("tollgate.attempt.kind");
  static final AttributeKey<Boolean> CACHE_HIT = AttributeKey.booleanKey("tollgate.cache.hit");
  static final AttributeKey<String> LABEL = AttributeKey.stringKey("tollgate.classifier.label");
  static final AttributeKey<String> USER = AttributeKey.stringKey("user.id");
  static final AttributeKey<String> FEATURE = AttributeKey.stringKey("tollgate.feature");
  static final AttributeKey<String> CONVERSATION = AttributeKey.stringKey("gen_ai.conversation.id");
  static final AttributeKey<String> INPUT_MESSAGES =
      AttributeKey.stringKey("gen_ai.input.messages");
  static final AttributeKey<String> OUTPUT_MESSAGES =
      AttributeKey.stringKey("gen_ai.output.messages");

  private static final String[] MAX_TOKENS_FIELDS = {
    "max_completion_tokens", "max_tokens", "max_output_tokens"
  };

  /** The event that carries captured content (only when capture is enabled). */
  static final String CONTENT_EVENT = "gen_ai.client.inference.operation.details";

  private static final TextMapSetter<HttpHeaders> SETTER = HttpHeaders::set;

  private final Tracer tracer;
  private final Context parent;
  private final Span span;
  private final Context callContext;
  private final TracingSettings settings;
  private final String operation;
  private Span attempt;
  // the first attempt until another one follows (then it becomes a span); null before it starts
  private FirstAttempt first;
  private boolean firstMaterialized;
  private String nextAttemptKind;
  private java.util.List<Step> openSteps;

  CallTrace(Tracer tracer, Context parent, String operation, TracingSettings settings) {
    this.tracer = tracer;
    this.parent = parent;
    this.settings = settings;
    this.operation = operation;
    if (tracer == null) {
      span = Span.getInvalid();
      callContext = parent;
    } else {
      span =
          tracer
              .spanBuilder(operation)
              .setParent(parent)
              .setSpanKind(SpanKind.CLIENT)
              .setAttribute(OPERATION, operation)
              .startSpan();
      callContext = parent.with(span);
    }
  }

  private static final CallTrace UNTRACED_ROOT =
      new CallTrace(null, Context.root(), "chat", TracingSettings.off());

  /**
   * A call with tracing off: no spans; the application's context still goes to the provider. It
   * keeps no state of its own, so calls without an incoming context share one.
   */
  static CallTrace untraced(Context parent) {
    return parent == Context.root()
        ? UNTRACED_ROOT
        : new CallTrace(null, parent, "chat", TracingSettings.off());
  }

  /** The GenAI operation a caller format stands for. */
  public static String operation(String api) {
    if (api == null) {
      return "chat";
    }
    if (api.contains("embedding")) {
      return "embeddings";
    }
    if (api.contains("completions") && !api.contains("chat")) {
      return "text_completion";
    }
    return "chat";
  }

  /** Whether spans are recorded (false: tracing off, or this call not sampled). */
  public boolean recording() {
    return span.isRecording();
  }

  /** Whether prompt and answer text should be collected for this call's span. */
  public boolean wantsContent() {
    return settings.content() && span.isRecording();
  }

  /** The request as resolved: the route and what the body asks of the model. */
  public void request(String requestId, String route, String requestModel, JsonNode body) {
    if (!span.isRecording()) {
      return;
    }
    span.setAttribute(REQUEST_ID, requestId);
    if (route != null && !route.equals(requestModel)) {
      // the route is the requested model unless a default route or an alias took the call
      span.setAttribute(ROUTE, route);
    }
    if (requestModel != null) {
      span.setAttribute(REQUEST_MODEL, requestModel);
      span.updateName(operation + " " + requestModel);
    }
    if (body == null) {
      return;
    }
    JsonNode t = body.get("temperature");
    if (t != null && t.isNumber()) {
      span.setAttribute(TEMPERATURE, t.asDouble());
    }
    JsonNode p = body.get("top_p");
    if (p != null && p.isNumber()) {
      span.setAttribute(TOP_P, p.asDouble());
    }
    for (String f : MAX_TOKENS_FIELDS) {
      JsonNode m = body.get(f);
      if (m != null && m.canConvertToLong()) {
        span.setAttribute(MAX_TOKENS, m.asLong());
        break;
      }
    }
    if (body.path("stream").asBoolean(false)) {
      span.setAttribute(STREAM, true);
    }
  }

  /** Who the call is for: {@code user.id}, the feature tag and the conversation. */
  public void attributed(dev.tollgate.sidecar.metering.Attribution a) {
    if (!span.isRecording() || a == null) {
      return;
    }
    if (a.user() != null) {
      span.setAttribute(USER, a.user());
    }
    if (a.feature() != null) {
      span.setAttribute(FEATURE, a.feature());
    }
    if (a.conversation() != null) {
      span.setAttribute(CONVERSATION, a.conversation());
    }
  }

  /**
   * A step of the call other than an attempt (classifier, cache lookup); end it with {@link
   * Step#end()}.
   */
  public Step step(String name) {
    if (!span.isRecording()) {
      return Step.NONE;
    }
    Step s =
        new Step(
            tracer
                .spanBuilder(name)
                .setParent(callContext)
                .setSpanKind(SpanKind.INTERNAL)
                .startSpan());
    if (openSteps == null) {
      openSteps = new java.util.ArrayList<>(2);
    }
    openSteps.add(s);
    return s;
  }

  /** The next attempt is the stronger tier's, after a low-confidence answer. */
  public void escalating(String fromTier, String toTier) {
    if (span.isRecording()) {
      nextAttemptKind = "escalation";
      span.addEvent(
          "tollgate.escalation",
          Attributes.of(
              AttributeKey.stringKey("tollgate.tier.from"),
              String.valueOf(fromTier),
              AttributeKey.stringKey("tollgate.tier.to"),
              String.valueOf(toTier)));
    }
  }

  /**
   * Attempt {@code number} to {@code model} of {@code provider} at {@code url} starts; {@code
   * retried}: after the backoff that follows trying every candidate.
   */
  public void attemptStarted(
      int number, boolean retried, String provider, String credential, String model, URI url) {
    endAttempt(null, 0);
    if (!span.isRecording()) {
      return;
    }
    String kind =
        nextAttemptKind != null
            ? nextAttemptKind
            : number <= 1 ? "first" : retried ? "retry" : "failover";
    nextAttemptKind = null;
    FirstAttempt a = new FirstAttempt(number, kind, provider, credential, model, url);
    if (first == null) {
      // maybe the only attempt: a span only if another follows
      first = a;
      return;
    }
    if (!firstMaterialized) {
      firstMaterialized = true;
      first.span(tracer, callContext);
    }
    attempt = a.builder(tracer, callContext).startSpan();
  }

  /**
   * Writes the W3C trace context of the current attempt (else of the call, else the application's)
   * into the provider request's headers.
   */
  public void inject(HttpHeaders h) {
    Context c =
        attempt != null ? callContext.with(attempt) : span.isRecording() ? callContext : parent;
    W3CTraceContextPropagator.getInstance().inject(c, h, SETTER);
  }

  /** The current attempt ended: {@code kind} null when it answered. */
  public void attemptEnded(ErrorKind kind, int upstreamStatus) {
    endAttempt(kind, upstreamStatus);
  }

  private void endAttempt(ErrorKind kind, int upstreamStatus) {
    Span a = attempt;
    if (a == null) {
      if (first != null && !firstMaterialized) {
        first.ended(kind, upstreamStatus);
      }
      return;
    }
    attempt = null;
    if (upstreamStatus > 0) {
      a.setAttribute(HTTP_STATUS, upstreamStatus);
    }
    if (kind != null) {
      a.setAttribute(ERROR_TYPE, kind.label());
      a.setStatus(StatusCode.ERROR);
    }
    a.end();
  }

  /**
   * The call ended as {@code r} says; {@code prompt} and {@code answer} (null unless captured) go
   * on the span as one capped content event.
   */
  public void end(CallRecord r, String prompt, String answer) {
    endAttempt(r.errorKind(), r.upstreamStatus());
    if (!span.isRecording()) {
      return;
    }
    if (openSteps != null) {
      // a step the call did not wait for (the caller left, the call timed out) ends with it
      for (Step s : openSteps) {
        if (!s.ended) {
          s.set("tollgate.step.abandoned", true).end();
        }
      }
    }
    if (r.provider() != null) {
      span.setAttribute(PROVIDER, providerName(r.provider()));
    }
    if (r.model() != null) {
      span.setAttribute(RESPONSE_MODEL, r.model());
    }
    if (r.tier() != null) {
      span.setAttribute(TIER, r.tier());
    }
    if (r.credential() != null) {
      span.setAttribute(CREDENTIAL, r.credential());
    }
    if (first != null && !firstMaterialized && first.host != null) {
      // the only attempt: the call's span is its CLIENT span
      span.setAttribute(SERVER_ADDRESS, first.host);
      span.setAttribute(SERVER_PORT, first.port);
    }
    Usage u = r.usage();
    if (u != null) {
      span.setAttribute(INPUT_TOKENS, u.promptTokens());
      span.setAttribute(OUTPUT_TOKENS, u.outputTokens());
      if (u.cacheReadTokens() > 0) {
        span.setAttribute(CACHE_READ_TOKENS, u.cacheReadTokens());
      }
      if (u.cacheWriteTokens() > 0) {
        span.setAttribute(CACHE_WRITE_TOKENS, u.cacheWriteTokens());
      }
    }
    if (r.finishReason() != null) {
      span.setAttribute(FINISH_REASONS, List.of(r.finishReason()));
    }
    // what holds for most calls is left out (every attribute is encoded and sent with each span):
    // tollgate.cost_priced only when false, tollgate.failovers only when some, tollgate.stream
    // only when true, and the time to first token only of a streamed answer
    if (r.cost() != null) {
      span.setAttribute(COST, r.cost().usd().doubleValue());
      if (!r.cost().priced()) {
        span.setAttribute(PRICED, false);
      }
    }
    if (r.failovers() > 0) {
      span.setAttribute(FAILOVERS, r.failovers());
    }
    if (r.stream() && r.ttftNanos() >= 0) {
      span.setAttribute(TTFT, r.ttftNanos() / 1e9);
    }
    span.setAttribute(HTTP_STATUS, r.status());
    if (r.errorKind() != null) {
      span.setAttribute(ERROR_TYPE, r.errorKind().label());
      span.setStatus(StatusCode.ERROR);
    }
    if (settings.content() && (prompt != null || answer != null)) {
      span.addEvent(CONTENT_EVENT, content(prompt, answer, settings.contentMaxChars()));
    }
    span.end();
  }

  /** The captured texts as the conventions' message JSON, each text cut at {@code max} chars. */
  static Attributes content(String prompt, String answer, int max) {
    var b = Attributes.builder();
    if (prompt != null) {
      b.put(INPUT_MESSAGES, messages("user", prompt, max));
    }
    if (answer != null) {
      b.put(OUTPUT_MESSAGES, messages("assistant", answer, max));
    }
    return b.build();
  }

  private static String messages(String role, String text, int max) {
    ArrayNode list = Json.MAPPER.createArrayNode();
    ObjectNode m = list.addObject();
    m.put("role", role);
    ObjectNode part = m.putArray("parts").addObject();
    part.put("type", "text");
    part.put("content", text.length() > max ? text.substring(0, max) : text);
    if (text.length() > max) {
      part.put("truncated", true);
    }
    return list.toString();
  }

  /** The conventions' {@code server.port}: the URL's, else the scheme's default. */
  static int port(URI url) {
    return url.getPort() > 0 ? url.getPort() : "https".equals(url.getScheme()) ? 443 : 80;
  }

  /** The conventions' {@code gen_ai.provider.name} for a provider's wire name. */
  static String providerName(String wireName) {
    return switch (wireName) {
      case "gemini" -> "gcp.gemini";
      case "vertex-ai" -> "gcp.vertex_ai";
      case "bedrock" -> "aws.bedrock";
      case "azure-openai" -> "azure.ai.openai";
      case "mistral" -> "mistral_ai";
      default -> wireName;
    };
  }

  /**
   * An attempt as data: what its span carries, and when it started and ended (epoch nanoseconds of
   * the SDK's clock), so that the first attempt can become a span after the fact.
   */
  private static final class FirstAttempt {
    private static final Clock CLOCK = Clock.getDefault();
    final long number;
    final String kind;
    final String provider;
    final String credential;
    final String model;
    final String host;
    final long port;
    final long start;
    long end = -1;
    ErrorKind error;
    int status;

    FirstAttempt(
        int number, String kind, String provider, String credential, String model, URI url) {
      this.number = number;
      this.kind = kind;
      this.provider = provider;
      this.credential = credential;
      this.model = model;
      this.host = url == null ? null : url.getHost();
      this.port = url == null ? 0 : port(url);
      this.start = CLOCK.now();
    }

    void ended(ErrorKind kind, int upstreamStatus) {
      if (end < 0) {
        end = CLOCK.now();
        error = kind;
        status = upstreamStatus;
      }
    }

    SpanBuilder builder(Tracer tracer, Context callContext) {
      SpanBuilder b =
          tracer
              .spanBuilder("tollgate.attempt")
              .setParent(callContext)
              .setSpanKind(SpanKind.CLIENT)
              .setAttribute(ATTEMPT, number)
              .setAttribute(ATTEMPT_KIND, kind)
              .setAttribute(PROVIDER, providerName(provider))
              .setAttribute(CREDENTIAL, credential)
              .setAttribute(REQUEST_MODEL, model);
      if (host != null) {
        b.setAttribute(SERVER_ADDRESS, host);
        b.setAttribute(SERVER_PORT, port);
      }
      return b;
    }

    /** The attempt's span, started and ended at the recorded times. */
    void span(Tracer tracer, Context callContext) {
      Span s =
          builder(tracer, callContext).setStartTimestamp(start, TimeUnit.NANOSECONDS).startSpan();
      if (status > 0) {
        s.setAttribute(HTTP_STATUS, status);
      }
      if (error != null) {
        s.setAttribute(ERROR_TYPE, error.label());
        s.setStatus(StatusCode.ERROR);
      }
      s.end(end < 0 ? CLOCK.now() : end, TimeUnit.NANOSECONDS);
    }
  }

  /** A step's span; {@link #NONE} records nothing. */
  public static final class Step {
    static final Step NONE = new Step(null);
    private final Span span;
    private boolean ended;

    Step(Span span) {
      this.span = span;
    }

    public Step set(String key, String value) {
      if (span != null && value != null) {
        span.setAttribute(key, value);
      }
      return this;
    }

    public Step set(String key, boolean value) {
      if (span != null) {
        span.setAttribute(key, value);
      }
      return this;
    }

    /** Ends the step's span once; later calls do nothing. */
    public void end() {
      if (span != null && !ended) {
        ended = true;
        span.end();
      }
    }
  }
}
