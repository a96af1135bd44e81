package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * The first stage of a call: reads the caller's body as a JSON object and finds the route its
 * {@code model} names. Refusals say what to send instead.
 */
final class RouteResolver {
  private RouteResolver() {}

  /**
   * Resolves {@code call} under {@code cfg} (null: none valid yet): its configuration, headers and
   * route.
   *
   * @return the request body
   */
  static ObjectNode resolve(SidecarConfig cfg, FullHttpRequest request, CallState call) {
    if (cfg == null) {
      throw new ProxyException(ErrorKind.NOT_READY, "the sidecar has no valid configuration yet");
    }
    call.cfg = cfg;
    ObjectNode body = body(request.content());
    // the decoder's own headers, not a copy: nothing writes to them, and they outlive the request's
    // body (only the content is reference-counted)
    call.callerHeaders = request.headers();
    call.routeCfg = route(cfg, body);
    call.route = call.routeCfg.model();
    return body;
  }

  /** The request body as a JSON object. */
  static ObjectNode body(ByteBuf content) {
    if (!content.isReadable()) {
      throw new ProxyException(
          ErrorKind.INVALID_REQUEST, "the request has no body; send a JSON object");
    }
    JsonNode n;
    try {
      n = Json.MAPPER.readTree((InputStream) new ByteBufInputStream(content.duplicate()));
      if (n == null || n.isMissingNode()) {
        throw new ProxyException(
            ErrorKind.INVALID_REQUEST, "the request body is empty; send a JSON object");
      }
    } catch (JsonProcessingException e) {
      throw new ProxyException(
          ErrorKind.INVALID_REQUEST,
          "the request body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ProxyException(ErrorKind.INVALID_REQUEST, "the request body cannot be read");
    }
    if (!n.isObject()) {
      throw new ProxyException(ErrorKind.INVALID_REQUEST, "the request body must be a JSON object");
    }
    // checked for every route, passthrough too: an infinite temperature is a 400, not a 500
    Json.samplingParameter(n, "temperature");
    Json.samplingParameter(n, "top_p");
    return (ObjectNode) n;
  }

  /** The route the request's {@code model} names, or the default route. */
  static RouteConfig route(SidecarConfig cfg, JsonNode json) {
    JsonNode modelNode = json.get("model");
    if (modelNode == null || !modelNode.isTextual() || modelNode.asText().isBlank()) {
      throw new ProxyException(
          ErrorKind.INVALID_REQUEST,
          "'model' is required: it names the route to use, one of " + routeNames(cfg));
    }
    String asked = modelNode.asText();
    return cfg.route(asked)
        .or(cfg::defaultRoute)
        .orElseThrow(
            () ->
                new ProxyException(
                    ErrorKind.UNKNOWN_ROUTE,
                    "model '"
                        + clip(asked, 100)
                        + "' names no route in namespace "
                        + cfg.namespace()
                        + "; declared routes: "
                        + routeNames(cfg)));
  }

  /** The text of the last user message in either caller format (for content logging only). */
  static String lastUserText(JsonNode body) {
    JsonNode messages = body.path("messages");
    for (int i = messages.size() - 1; i >= 0; i--) {
      JsonNode m = messages.get(i);
      if ("user".equals(m.path("role").asText())) {
        JsonNode c = m.path("content");
        if (c.isTextual()) {
          return c.asText();
        }
        StringBuilder sb = new StringBuilder();
        c.forEach(part -> sb.append(part.path("text").asText("")));
        return sb.toString();
      }
    }
    return "";
  }

  /** {@code s} cut to {@code max} characters, marked with "..." when cut. */
  static String clip(String s, int max) {
    return s.length() > max ? s.substring(0, max) + "..." : s;
  }

  private static List<String> routeNames(SidecarConfig cfg) {
    return cfg.routes().stream().map(RouteConfig::model).sorted().toList();
  }
}
