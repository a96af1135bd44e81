package dev.tollgate.sidecar.metering;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Who a call was for and what it asked, for the call log, traces and the bounded per-user and
 * per-feature metrics: the end user (a header, else OpenAI's {@code user} or Anthropic's {@code
 * metadata.user_id}), the application's feature tag and conversation id (headers), and the seed's
 * request facts (temperature, max tokens, a hash of the system prompt, tools offered). Every value
 * a caller sent is bounded: ids that are not short identifiers are replaced by a pseudonym ({@code
 * sha256:<16 hex>} of the namespace and the value), feature tags that are not identifiers by {@code
 * _invalid}.
 *
 * @param user the end user's key, or null
 * @param feature the feature tag, or null
 * @param conversation the conversation id's key, or null
 * @param temperature the requested temperature, or null
 * @param maxTokens the requested output limit, or null
 * @param systemPromptHash {@code sha256:<16 hex>} of the system prompt text, or null without one
 * @param tools tool definitions offered to the model
 */
public record Attribution(
    String user,
    String feature,
    String conversation,
    Double temperature,
    Long maxTokens,
    String systemPromptHash,
    int tools) {

  /** Where the ids come from: header names (the sidecar's environment may change them). */
  public record Headers(String user, String feature, String conversation) {
    public static final Headers DEFAULT =
        new Headers("x-tollgate-user", "x-tollgate-feature", "x-tollgate-conversation");

    /**
     * {@code TOLLGATE_USER_HEADER}, {@code TOLLGATE_FEATURE_HEADER}, {@code
     * TOLLGATE_CONVERSATION_HEADER}, else the defaults.
     */
    public static Headers fromEnv(Map<String, String> env) {
      return new Headers(
          name(env.get("TOLLGATE_USER_HEADER"), DEFAULT.user),
          name(env.get("TOLLGATE_FEATURE_HEADER"), DEFAULT.feature),
          name(env.get("TOLLGATE_CONVERSATION_HEADER"), DEFAULT.conversation));
    }

    private static String name(String v, String dflt) {
      if (v == null || v.isBlank()) {
        return dflt;
      }
      if (!v.strip().matches("[A-Za-z0-9-]{1,64}")) {
        throw new IllegalArgumentException("not an HTTP header name: " + v);
      }
      return v.strip();
    }
  }

  /** The bucket of values beyond a cap, and the tag of a feature that is no identifier. */
  public static final String OTHER = "_other";

  public static final String INVALID = "_invalid";

  static final int MAX_RAW = 64;
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@+=:/-]*");
  private static final Pattern FEATURE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]*");
  private static final int MAX_HASHED_INPUT = 1024;
  private static final int MAX_SYSTEM_CHARS = 1 << 20;

  /**
   * The attribution of a call that sent {@code header} values and {@code body}, in {@code
   * namespace}.
   */
  public static Attribution of(
      Headers names, Function<String, String> header, JsonNode body, String namespace) {
    String user = header.apply(names.user());
    if (user == null || user.isBlank()) {
      user = text(body.get("user"));
      if (user == null) {
        user = text(body.path("metadata").get("user_id"));
      }
    }
    JsonNode t = body.get("temperature");
    Long max = null;
    for (String f : new String[] {"max_completion_tokens", "max_tokens", "max_output_tokens"}) {
      JsonNode m = body.get(f);
      if (m != null && m.canConvertToLong()) {
        max = m.asLong();
        break;
      }
    }
    JsonNode tools = body.get("tools");
    return new Attribution(
        key(namespace, user),
        feature(header.apply(names.feature())),
        key(namespace, header.apply(names.conversation())),
        t != null && t.isNumber() ? t.asDouble() : null,
        max,
        systemHash(body),
        tools != null && tools.isArray() ? tools.size() : 0);
  }

  /** {@code v} when it is a short identifier, else its pseudonym; null when blank. */
  static String key(String namespace, String v) {
    if (v == null) {
      return null;
    }
    String s = v.strip();
    if (s.isEmpty()) {
      return null;
    }
    if (s.length() <= MAX_RAW && ID.matcher(s).matches()) {
      return s;
    }
    return "sha256:" + hex(namespace + "\n" + clip(s, MAX_HASHED_INPUT));
  }

  static String feature(String v) {
    if (v == null || v.isBlank()) {
      return null;
    }
    String s = v.strip();
    return s.length() <= MAX_RAW && FEATURE.matcher(s).matches() ? s : INVALID;
  }

  /**
   * The hash of the system prompt's text: OpenAI's system or developer messages, Anthropic's {@code
   * system} (text or blocks), the Responses API's {@code instructions}.
   */
  static String systemHash(JsonNode body) {
    StringBuilder sb = new StringBuilder();
    append(sb, body.get("system"));
    append(sb, body.get("instructions"));
    JsonNode messages = body.get("messages");
    if (messages != null && messages.isArray()) {
      for (JsonNode m : messages) {
        String role = m.path("role").asText("");
        if (role.equals("system") || role.equals("developer")) {
          append(sb, m.get("content"));
        }
      }
    }
    return sb.isEmpty() ? null : "sha256:" + hex(clip(sb.toString(), MAX_SYSTEM_CHARS));
  }

  private static void append(StringBuilder sb, JsonNode content) {
    if (content == null || sb.length() > MAX_SYSTEM_CHARS) {
      return;
    }
    if (content.isTextual()) {
      sb.append(content.asText());
    } else if (content.isArray()) {
      for (JsonNode part : content) {
        if (part.isTextual()) {
          sb.append(part.asText());
        } else {
          sb.append(part.path("text").asText(""));
        }
      }
    }
  }

  private static String text(JsonNode n) {
    return n != null && n.isTextual() && !n.asText().isBlank() ? n.asText() : null;
  }

  private static String clip(String s, int max) {
    return s.length() > max ? s.substring(0, max) : s;
  }

  private static String hex(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }
}
