package dev.tollgate.sidecar.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.config.ProviderKind;
import dev.tollgate.sidecar.config.RouteConfig;
import dev.tollgate.sidecar.format.CallerFormat;
import dev.tollgate.sidecar.provider.ProviderAdapters;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Marks the stable prefix of a request to a Claude model (Anthropic, Vertex AI, or Bedrock for the
 * models it caches: see {@code BedrockAdapter.cachesPrompts}) for provider-side prompt caching, and
 * carries a caller's own cache breakpoints over when the request is translated. It edits the
 * outgoing provider body in place, after the wire layer built it.
 *
 * <p>Rules (LLMRoute {@code spec.cache.promptCaching}):
 *
 * <ul>
 *   <li>A caller that placed {@code cache_control} anywhere decides alone: nothing is added. When
 *       its body is forwarded as sent (Anthropic caller, Anthropic provider) the marks travel as
 *       they are; when it is translated (to Vertex AI or Bedrock, or from OpenAI's format) each
 *       mark is put back on the block it was on in the translated body, or on the smallest
 *       translated unit holding it (the system prompt, which translation joins into one text). This
 *       happens whether or not the route enables prompt caching: the caller asked for it.
 *   <li>Otherwise, when the route enables prompt caching and the prefix (tool definitions, then the
 *       system prompt, in Anthropic's cache order) is estimated at {@link #minTokens} or more, the
 *       last tool definition and the last system block are marked: the cache then holds tools alone
 *       (reused when only the system prompt changes) and tools plus system.
 * </ul>
 *
 * <p>Anthropic's Messages format (direct and Vertex AI) takes {@code "cache_control":
 * {"type":"ephemeral"}} on a block; Bedrock's Converse format takes a {@code {"cachePoint":
 * {"type":"default"}}} block after the cached content. At most {@link #MAX_BREAKPOINTS} are
 * written, Anthropic's limit.
 */
public final class PromptCacheMarker {
  /** Anthropic's minimum cacheable prefix for most Claude models. */
  public static final int DEFAULT_MIN_TOKENS = 1024;

  /** Anthropic's minimum for Haiku models. */
  public static final int HAIKU_MIN_TOKENS = 2048;

  /** Anthropic accepts at most this many cache breakpoints per request. */
  public static final int MAX_BREAKPOINTS = 4;

  private static final String CACHE_CONTROL = "cache_control";

  /** What the marker did to one request. */
  public enum Outcome {
    /** The target does not take cache marks (not a Claude model): body untouched. */
    NOT_APPLICABLE,
    /** The route does not enable prompt caching and the caller placed no marks. */
    DISABLED,
    /** The caller placed its own marks; they were kept (and carried over a translation). */
    CALLER_MARKS,
    /** The prefix is estimated below the minimum; nothing marked. */
    TOO_SHORT,
    /** The sidecar marked the prefix. */
    MARKED
  }

  /** The outgoing body's cache syntax. */
  /** Where a provider's request format takes cache marks (each provider says which it speaks). */
  public enum Dialect {
    /** Anthropic's Messages format: {@code cache_control} on the cached block. */
    MESSAGES,
    /** Bedrock's Converse format: a {@code cachePoint} block after the cached content. */
    CONVERSE
  }

  private PromptCacheMarker() {}

  /**
   * Applies the rules to {@code outgoing}, the provider request body for {@code model} at {@code
   * provider}.
   *
   * @param caching the route's setting (never null once the configuration is read)
   * @param callerBody the caller's body as received (may be {@code outgoing} itself when forwarded)
   * @param callerFormat the caller's API format
   */
  public static Outcome apply(
      RouteConfig.PromptCaching caching,
      ProviderKind provider,
      String model,
      ObjectNode outgoing,
      JsonNode callerBody,
      ApiFormat callerFormat) {
    Dialect dialect = dialect(provider, model);
    if (dialect == null) {
      return Outcome.NOT_APPLICABLE;
    }
    CallerMarks marks = CallerFormat.of(callerFormat).cacheMarks(callerBody);
    if (!marks.isEmpty()) {
      if (outgoing != callerBody) {
        marks.carryOver(outgoing, dialect);
      }
      return Outcome.CALLER_MARKS;
    }
    if (caching == null || !Boolean.TRUE.equals(caching.enabled())) {
      return Outcome.DISABLED;
    }
    if (estimatePrefixTokens(outgoing, dialect) < minTokens(caching, model)) {
      return Outcome.TOO_SHORT;
    }
    JsonNode tools = tools(outgoing, dialect);
    if (tools.isArray() && !tools.isEmpty()) {
      mark((ArrayNode) tools, tools.size() - 1, dialect, null);
    }
    markSystem(outgoing, dialect, null);
    return Outcome.MARKED;
  }

  /** Whether {@code model} at {@code provider} takes cache marks, and in which request format. */
  static Dialect dialect(ProviderKind provider, String model) {
    return ProviderAdapters.forProvider(provider).promptCacheDialect(model);
  }

  /** The route's {@code minTokens}, else the model's minimum (2,048 for Haiku, else 1,024). */
  public static int minTokens(RouteConfig.PromptCaching caching, String model) {
    if (caching != null && caching.minTokens() != null) {
      return caching.minTokens();
    }
    return model != null && model.toLowerCase(Locale.ROOT).contains("haiku")
        ? HAIKU_MIN_TOKENS
        : DEFAULT_MIN_TOKENS;
  }

  /**
   * Tokens of the cacheable prefix (tool definitions as JSON, then the system text), estimated as
   * characters / 3.5 rounded up. Claude's tokenizer is not published; English prose runs about 3.5
   * characters per Claude token and JSON schemas fewer, so this errs high rather than low. Erring
   * high is the cheap side: Anthropic ignores (and does not charge for) a mark on a prefix below
   * its minimum, while a missed mark on a long prefix forgoes the 90% read discount.
   */
  static long estimatePrefixTokens(JsonNode body, Dialect dialect) {
    long chars = 0;
    for (JsonNode tool : tools(body, dialect)) {
      if (!tool.has("cachePoint")) {
        chars += Json.write(tool).length();
      }
    }
    JsonNode system = body.path("system");
    if (system.isTextual()) {
      chars += system.asText().length();
    } else {
      for (JsonNode block : system) {
        chars += block.path("text").asText("").length();
      }
    }
    return (chars * 2 + 6) / 7;
  }

  private static JsonNode tools(JsonNode body, Dialect dialect) {
    return dialect == Dialect.CONVERSE ? body.path("toolConfig").path("tools") : body.path("tools");
  }

  /** Marks the last system block (a string system prompt becomes one text block). */
  private static void markSystem(ObjectNode body, Dialect dialect, JsonNode cacheControl) {
    JsonNode system = body.get("system");
    if (system == null || system.isNull()) {
      return;
    }
    if (system.isTextual()) {
      if (system.asText().isEmpty()) {
        return;
      }
      ArrayNode blocks = Json.MAPPER.createArrayNode();
      blocks.addObject().put("type", "text").put("text", system.asText());
      body.set("system", blocks);
      system = blocks;
    }
    if (system.isArray() && !system.isEmpty()) {
      mark((ArrayNode) system, system.size() - 1, dialect, cacheControl);
    }
  }

  /**
   * Puts a breakpoint after element {@code index} of {@code array}: a {@code cache_control} on it
   * (Messages) or a {@code cachePoint} block inserted after it (Converse). Idempotent.
   */
  private static void mark(ArrayNode array, int index, Dialect dialect, JsonNode cacheControl) {
    if (dialect == Dialect.MESSAGES) {
      if (array.get(index) instanceof ObjectNode block && !block.has(CACHE_CONTROL)) {
        block.set(
            CACHE_CONTROL,
            cacheControl != null && cacheControl.isObject()
                ? cacheControl.deepCopy()
                : Json.object().put("type", "ephemeral"));
      }
      return;
    }
    JsonNode next = array.get(index + 1);
    if (next == null || !next.has("cachePoint")) {
      ObjectNode point = Json.object();
      point.putObject("cachePoint").put("type", "default");
      array.insert(index + 1, point);
    }
  }

  /**
   * Where a caller put its marks, in terms that survive translation: the system prompt, tool
   * indices, and (outgoing message, block) positions computed the way the wire layer builds
   * Anthropic and Converse messages (one turn per run of same-role messages; tool results first
   * within a caller message; empty text dropped).
   */
  /** The cache marks a caller placed in its request, read in its format. */
  public static final class CallerMarks {
    JsonNode system;
    final List<ToolMark> tools = new ArrayList<>();
    final List<BlockMark> blocks = new ArrayList<>();
    private int count;

    boolean isEmpty() {
      return count == 0;
    }

    /** Marks of an Anthropic Messages body. */
    public static CallerMarks ofAnthropic(JsonNode body) {
      CallerMarks m = new CallerMarks();
      JsonNode system = body.path("system");
      for (JsonNode block : system) {
        if (block.has(CACHE_CONTROL)) {
          m.system = block.get(CACHE_CONTROL);
          m.count++;
        }
      }
      m.readTools(body.path("tools"));
      Turns turns = new Turns();
      for (JsonNode msg : body.path("messages")) {
        turns.next(Json.text(msg, "role"));
        JsonNode content = msg.path("content");
        if (content.isTextual()) {
          turns.block(!content.asText().isEmpty(), null, m);
          continue;
        }
        // the wire layer puts a message's tool results before its other blocks
        for (JsonNode b : content) {
          if ("tool_result".equals(Json.text(b, "type"))) {
            turns.block(true, b.get(CACHE_CONTROL), m);
          }
        }
        for (JsonNode b : content) {
          String type = Json.text(b, "type");
          if ("text".equals(type)) {
            turns.block(!b.path("text").asText().isEmpty(), b.get(CACHE_CONTROL), m);
          } else if (!"tool_result".equals(type)) {
            turns.block(true, b.get(CACHE_CONTROL), m);
          }
        }
      }
      return m;
    }

    /**
     * Marks of an OpenAI body: {@code cache_control} on content parts (as some OpenAI-compatible
     * gateways accept for Claude) or on a message or tool. A marked system or developer message
     * marks the system prompt; other marked messages mark their last translated block.
     */
    public static CallerMarks ofOpenAi(JsonNode body) {
      CallerMarks m = new CallerMarks();
      m.readTools(body.path("tools"));
      Turns turns = new Turns();
      for (JsonNode msg : body.path("messages")) {
        String role = Json.text(msg, "role");
        JsonNode cc = msg.get(CACHE_CONTROL);
        for (JsonNode part : msg.path("content")) {
          if (part.has(CACHE_CONTROL)) {
            cc = part.get(CACHE_CONTROL);
          }
        }
        if ("system".equals(role) || "developer".equals(role)) {
          if (cc != null) {
            m.system = cc;
            m.count++;
          }
          continue;
        }
        turns.next("assistant".equals(role) ? "assistant" : "user");
        List<Boolean> present = new ArrayList<>();
        if ("assistant".equals(role)) {
          present.add(!openAiText(msg.get("content")).isEmpty());
          msg.path("tool_calls").forEach(c -> present.add(true));
        } else if ("tool".equals(role)) {
          present.add(true);
        } else {
          present.add(!openAiText(msg.get("content")).isEmpty());
        }
        int last = present.lastIndexOf(true);
        for (int i = 0; i < present.size(); i++) {
          turns.block(present.get(i), i == last ? cc : null, m);
        }
      }
      return m;
    }

    private void readTools(JsonNode tools) {
      for (int i = 0; i < tools.size(); i++) {
        if (tools.get(i).has(CACHE_CONTROL)) {
          this.tools.add(new ToolMark(i, tools.get(i).get(CACHE_CONTROL)));
          count++;
        }
      }
    }

    private static String openAiText(JsonNode content) {
      if (content == null || content.isNull()) {
        return "";
      }
      if (content.isTextual()) {
        return content.asText();
      }
      StringBuilder sb = new StringBuilder();
      content.forEach(p -> sb.append(p.path("text").asText("")));
      return sb.toString();
    }

    /** Puts the marks on the translated body, at most {@link #MAX_BREAKPOINTS}. */
    void carryOver(ObjectNode outgoing, Dialect dialect) {
      int budget = MAX_BREAKPOINTS;
      // message marks first in reverse (Converse inserts blocks, which shifts later indices)
      JsonNode messages = outgoing.path("messages");
      for (int i = blocks.size() - 1; i >= 0 && budget > 0; i--) {
        BlockMark b = blocks.get(i);
        JsonNode content = messages.path(b.message()).path("content");
        if (content instanceof ArrayNode arr && b.block() < arr.size()) {
          mark(arr, b.block(), dialect, b.cacheControl());
          budget--;
        }
      }
      if (system != null && budget > 0) {
        markSystem(outgoing, dialect, system);
        budget--;
      }
      JsonNode outTools = tools(outgoing, dialect);
      for (int i = tools.size() - 1; i >= 0 && budget > 0; i--) {
        ToolMark t = tools.get(i);
        if (outTools instanceof ArrayNode arr && t.index() < arr.size()) {
          mark(arr, t.index(), dialect, t.cacheControl());
          budget--;
        }
      }
    }
  }

  /** A caller's mark on tool definition {@code index}. */
  record ToolMark(int index, JsonNode cacheControl) {}

  /** A caller's mark on block {@code block} of translated message {@code message}. */
  record BlockMark(int message, int block, JsonNode cacheControl) {}

  /** Follows the translated turns: same-role neighbours merge into one turn. */
  private static final class Turns {
    private String role;
    private int message = -1;
    private int block;

    void next(String newRole) {
      newRole = "assistant".equals(newRole) ? "assistant" : "user";
      if (message < 0 || !newRole.equals(role)) {
        message++;
        block = 0;
        role = newRole;
      }
    }

    /** One caller block; {@code present}: it survives translation (empty text does not). */
    void block(boolean present, JsonNode cacheControl, CallerMarks into) {
      if (cacheControl != null) {
        into.count++;
      }
      if (!present) {
        return;
      }
      if (cacheControl != null) {
        into.blocks.add(new BlockMark(message, block, cacheControl));
      }
      block++;
    }
  }
}
