package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.routing.ClassifierLabels;
import dev.tollgate.sidecar.server.ProxyContext;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The classifier of a route (seed "Pattern 2"): one short call to a small model that answers with
 * one of the route's labels for the caller's last message. It never fails the caller's request: an
 * error, a timeout or an answer that is no declared label gives {@code null}, and the route's
 * default tier serves. Its cost is metered as its own call, on tier {@code classifier}, and against
 * the caller's quota.
 */
final class ClassifierCall {
  static final String TIER = "classifier";
  private static final int MAX_INPUT_CHARS = 8000;

  private ClassifierCall() {}

  /**
   * The classifier's label for the caller's last message, from the route's label cache or else by
   * asking (the answer is cached); {@code done} gets the label or null, on {@code loop}, at once
   * when the label was cached, and not at all when the call {@code ended} meanwhile.
   */
  static void label(
      ProxyContext px,
      CallState call,
      EventLoop loop,
      String text,
      BooleanSupplier ended,
      Consumer<String> done) {
    RouteConfig route = call.routeCfg;
    RouteConfig.Classifier c = route.classifier();
    String key = ClassifierLabels.key(call.route, c, text);
    ClassifierLabels.Entry cached = px.classifierLabels().get(key);
    if (cached != null) {
      done.accept(cached.label());
      return;
    }
    ShortCall.to(px, call.cfg, loop, c.target())
        .requestId(call.requestId)
        .caller(call.caller)
        .api(call.callerFormat.label())
        .meteredAs(route.model(), TIER)
        .timeouts(c.timeout(), route.timeouts().connect())
        .send(
            request(c, text),
            answer -> {
              if (ended.getAsBoolean()) {
                return;
              }
              String label = answer == null ? null : label(answer.text(), c.labels());
              if (label != null) {
                px.classifierLabels().put(key, label, c.cacheTtl());
              }
              done.accept(label);
            });
  }

  /** The route's prompt, the labels spelled out, the caller's last message. */
  private static ChatRequest request(RouteConfig.Classifier c, String text) {
    String system =
        (c.prompt() == null ? "Classify the user's message." : c.prompt())
            + "\nAnswer with exactly one of these labels and nothing else: "
            + String.join(", ", c.labels());
    String clipped = text.length() > MAX_INPUT_CHARS ? text.substring(0, MAX_INPUT_CHARS) : text;
    return ChatRequest.builder(
            c.target().model(),
            List.of(
                new ChatRequest.Message(
                    ChatRequest.Role.USER, List.of(new ChatRequest.Text(clipped)))))
        .system(system)
        .maxTokens(16)
        .temperature(0.0)
        .build();
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
}
