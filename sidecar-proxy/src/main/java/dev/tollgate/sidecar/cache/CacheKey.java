package dev.tollgate.sidecar.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.wire.ApiFormat;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The response cache key: SHA-256 over a canonical text of everything that decides the answer. That
 * is the namespace and route (so one tenant never sees another's answer), the tier and the models
 * it may reach, the caller's format, and the request body with its keys sorted and its numbers
 * written the same way however the caller spelled them ({@code 0.50} and {@code 0.5} are one
 * value). Fields that only change how the answer is delivered or who asked are left out: {@code
 * stream}, {@code stream_options}, {@code metadata}, {@code user} and {@code model} (the route
 * name, already in the key). Everything else, including fields the sidecar does not know, stays in:
 * an unknown field may change the answer, and a needless miss is cheaper than a wrong hit.
 */
public final class CacheKey {
  /** Top-level request fields that never change the answer. */
  static final Set<String> IGNORED =
      Set.of("stream", "stream_options", "metadata", "user", "model");

  private CacheKey() {}

  /**
   * @param tier the tier chosen for this request (its cap on output tokens is already in {@code
   *     request})
   * @param anthropicBeta the caller's {@code anthropic-beta} header (beta features change answers)
   */
  public static String of(
      String namespace,
      String route,
      RouteConfig.Tier tier,
      ApiFormat format,
      JsonNode request,
      String anthropicBeta) {
    StringBuilder sb = new StringBuilder(512);
    sb.append("tollgate-response-cache/1\n");
    field(sb, "namespace", namespace);
    field(sb, "route", route);
    field(sb, "format", format.name().toLowerCase(Locale.ROOT));
    field(sb, "tier", tier.name());
    List<String> models = new ArrayList<>();
    for (RouteConfig.Target t : tier.targets()) {
      models.add(t.credential() + "/" + t.model());
    }
    Collections.sort(models); // the weighted order differs per request; the set does not
    for (RouteConfig.TargetRef f : tier.fallbacks()) {
      models.add("fallback:" + f.credential() + "/" + f.model());
    }
    field(sb, "models", String.join(",", models));
    field(sb, "anthropic-beta", anthropicBeta == null ? "" : anthropicBeta.trim());
    sb.append("request=");
    canonical(sb, request, true);
    return sha256(sb.toString());
  }

  private static void field(StringBuilder sb, String name, String value) {
    sb.append(name).append('=');
    quoted(sb, value == null ? "" : value);
    sb.append('\n');
  }

  /** JSON with object keys sorted, numbers as plain decimals without trailing zeros. */
  static void canonical(StringBuilder sb, JsonNode n, boolean top) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      sb.append("null");
    } else if (n.isObject()) {
      List<String> names = new ArrayList<>();
      Iterator<String> it = n.fieldNames();
      while (it.hasNext()) {
        String name = it.next();
        if (!top || !IGNORED.contains(name)) {
          names.add(name);
        }
      }
      Collections.sort(names);
      sb.append('{');
      for (int i = 0; i < names.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        quoted(sb, names.get(i));
        sb.append(':');
        canonical(sb, n.get(names.get(i)), false);
      }
      sb.append('}');
    } else if (n.isArray()) {
      sb.append('[');
      for (int i = 0; i < n.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        canonical(sb, n.get(i), false);
      }
      sb.append(']');
    } else if (n.isNumber()) {
      java.math.BigDecimal d = n.decimalValue();
      sb.append(d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString());
    } else if (n.isBoolean()) {
      sb.append(n.booleanValue());
    } else {
      quoted(sb, n.asText());
    }
  }

  private static void quoted(StringBuilder sb, String s) {
    sb.append(new TextNode(s).toString());
  }

  static String sha256(String text) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
