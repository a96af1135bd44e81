package dev.tollgate.sidecar.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.metering.CallLog;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.upstream.Adapters;
import dev.tollgate.sidecar.upstream.Exchange;
import dev.tollgate.sidecar.upstream.ExchangeListener;
import dev.tollgate.sidecar.upstream.ProviderAdapter;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The classifier of a route (seed "Pattern 2"): one short, non-streamed call to a small model that
 * answers with one of the route's labels for the caller's last message. It never fails the caller's
 * request: an error, a timeout or an answer that is no declared label gives {@code null}, and the
 * route's default tier serves. Its cost is metered as its own call, on tier {@code classifier}.
 */
final class ClassifierCall implements ExchangeListener {
  static final String TIER = "classifier";
  private static final int MAX_BODY = 256 * 1024;
  private static final int MAX_INPUT_CHARS = 8000;

  private final ProxyContext px;
  private final EventLoop loop;
  private final String requestId;
  private final String api;
  private final String route;
  private final RouteConfig.Classifier classifier;
  private final Consumer<String> done;
  private final Duration connectTimeout;
  private final long startNanos = System.nanoTime();
  private CredentialConfig credential;
  private ProviderAdapter adapter;
  private Exchange exchange;
  private ScheduledFuture<?> timer;
  private ByteBuf body;
  private int status;
  private boolean finished;

  private ClassifierCall(
      ProxyContext px,
      EventLoop loop,
      String requestId,
      String api,
      String route,
      RouteConfig.Classifier classifier,
      Duration connectTimeout,
      Consumer<String> done) {
    this.px = px;
    this.connectTimeout = connectTimeout;
    this.loop = loop;
    this.requestId = requestId;
    this.api = api;
    this.route = route;
    this.classifier = classifier;
    this.done = done;
  }

  /**
   * Asks the classifier about {@code text}; {@code done} gets the label or null, on {@code loop}.
   */
  static void classify(
      ProxyContext px,
      SidecarConfig cfg,
      EventLoop loop,
      String requestId,
      String api,
      RouteConfig route,
      String text,
      Consumer<String> done) {
    new ClassifierCall(
            px,
            loop,
            requestId,
            api,
            route.model(),
            route.classifier(),
            route.timeouts().connect(),
            done)
        .start(cfg, text);
  }

  private void start(SidecarConfig cfg, String text) {
    try {
      RouteConfig.TargetRef t = classifier.target();
      credential =
          cfg.credential(t.credential())
              .orElseThrow(
                  () ->
                      new ProxyException(
                          ErrorKind.INTERNAL, "credential " + t.credential() + " is not declared"));
      adapter = Adapters.forProvider(credential.provider());
      String apiKey = ApiKeys.of(px, credential);
      URI url = adapter.url(credential, t.model(), false);
      byte[] payload = Json.MAPPER.writeValueAsBytes(adapter.encode(request(text), t.model()));
      HttpHeaders headers = new DefaultHttpHeaders();
      headers.set(
          HttpHeaderNames.HOST,
          url.getPort() > 0 ? url.getHost() + ":" + url.getPort() : url.getHost());
      headers.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
      headers.set(HttpHeaderNames.ACCEPT, "application/json");
      headers.set(HttpHeaderNames.USER_AGENT, "tollgate-sidecar");
      headers.set("x-request-id", requestId);
      headers.setInt(HttpHeaderNames.CONTENT_LENGTH, payload.length);
      adapter.authenticate(headers, credential, apiKey);
      String path = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
      timer = loop.schedule(this::timeout, classifier.timeout().toMillis(), TimeUnit.MILLISECONDS);
      px.metrics().started(route);
      exchange =
          px.upstream()
              .send(
                  loop,
                  url,
                  credential.caFile(),
                  () ->
                      new DefaultFullHttpRequest(
                          HttpVersion.HTTP_1_1,
                          HttpMethod.POST,
                          path,
                          Unpooled.wrappedBuffer(payload),
                          headers.copy(),
                          new DefaultHttpHeaders()),
                  connectTimeout,
                  this);
    } catch (ProxyException | JsonProcessingException e) {
      // no call was made, so nothing is metered: serve from the default tier
      done.accept(null);
    }
  }

  /** The route's prompt, the labels spelled out, the caller's last message. */
  private ChatRequest request(String text) {
    String system =
        (classifier.prompt() == null ? "Classify the user's message." : classifier.prompt())
            + "\nAnswer with exactly one of these labels and nothing else: "
            + String.join(", ", classifier.labels());
    String clipped = text.length() > MAX_INPUT_CHARS ? text.substring(0, MAX_INPUT_CHARS) : text;
    return new ChatRequest(
        classifier.target().model(),
        system,
        List.of(
            new ChatRequest.Message(ChatRequest.Role.USER, List.of(new ChatRequest.Text(clipped)))),
        16,
        0.0,
        null,
        null,
        null,
        null,
        false);
  }

  @Override
  public void onHead(HttpResponse head) {
    status = head.status().code();
    body = Unpooled.buffer(512);
  }

  @Override
  public void onContent(ByteBuf content, boolean last) {
    if (finished) {
      return;
    }
    if (body.readableBytes() + content.readableBytes() > MAX_BODY) {
      exchange.abort();
      finish(null, null, ErrorKind.UPSTREAM_BAD_RESPONSE);
      return;
    }
    body.writeBytes(content);
    if (!last) {
      return;
    }
    if (status != 200) {
      finish(null, null, ErrorKind.UPSTREAM_ERROR);
      return;
    }
    JsonNode json = Json.parseOrNull(ByteBufUtil2.bytes(body));
    try {
      ChatResponse r = json == null ? null : adapter.decode(json, classifier.target().model());
      if (r == null) {
        finish(null, null, ErrorKind.UPSTREAM_BAD_RESPONSE);
      } else {
        finish(label(r.text(), classifier.labels()), r.usage(), null);
      }
    } catch (RuntimeException e) {
      finish(null, null, ErrorKind.UPSTREAM_BAD_RESPONSE);
    }
  }

  @Override
  public void onFailure(Throwable cause, boolean afterHead) {
    finish(null, null, ErrorKind.UPSTREAM_CONNECT);
  }

  private void timeout() {
    if (!finished) {
      exchange.abort();
      finish(null, null, ErrorKind.UPSTREAM_TIMEOUT);
    }
  }

  /** The declared label the answer starts with (case and punctuation aside), or null. */
  static String label(String answer, List<String> labels) {
    String a = answer.strip().toLowerCase(Locale.ROOT);
    String best = null;
    for (String l : labels) {
      String low = l.toLowerCase(Locale.ROOT);
      boolean whole =
          a.startsWith(low)
              && (a.length() == low.length() || !Character.isLetterOrDigit(a.charAt(low.length())));
      if (whole && (best == null || l.length() > best.length())) {
        best = l;
      }
    }
    return best;
  }

  private void finish(String label, Usage usage, ErrorKind kind) {
    if (finished) {
      return;
    }
    finished = true;
    timer.cancel(false);
    if (body != null) {
      body.release();
      body = null;
    }
    String model = classifier.target().model();
    Cost cost = usage == null ? Cost.UNPRICED : px.costs().cost(credential, model, usage);
    CallRecord record =
        new CallRecord(
            requestId,
            api,
            route,
            TIER,
            credential.provider().wireName(),
            credential.name(),
            model,
            false,
            kind == null ? 200 : kind.status(),
            kind,
            usage,
            usage != null,
            cost,
            System.nanoTime() - startNanos,
            -1,
            null,
            0,
            status,
            null,
            null);
    px.metrics().ended(record);
    px.ledger().record(record);
    CallLog.write(record);
    done.accept(label);
  }
}
