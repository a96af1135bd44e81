package dev.tollgate.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The simulator's provider-side prompt cache, so that tests and local mode see cache reads and
 * writes where a real provider would report them:
 *
 * <ul>
 *   <li>Claude (Anthropic Messages, Vertex AI rawPredict, Bedrock Converse): only marked prefixes
 *       are cached ({@code cache_control} on a block, or a {@code cachePoint} block after it), in
 *       Anthropic's order (tools, system, messages), and only from the model's minimum (1,024
 *       tokens; 2,048 for Haiku). The longest marked prefix seen before is read; the rest up to the
 *       last mark is written.
 *   <li>OpenAI and Gemini: automatic prefix caching; everything before the last message, when it is
 *       1,024 tokens or more and was seen before, is reported as cached (OpenAI in steps of 128
 *       tokens, as OpenAI does).
 * </ul>
 *
 * Tokens are estimated as characters / 4, like the simulator's other input counts. Entries never
 * expire (a test's run is shorter than Anthropic's five minutes); at most {@link #MAX_ENTRIES}
 * prefixes are kept, after which the cache starts again empty.
 */
final class SimulatedPromptCache {
  static final int MAX_ENTRIES = 10_000;

  /** Cached input tokens of one request. */
  record Hit(int read, int write) {
    static final Hit NONE = new Hit(0, 0);
  }

  private final Set<String> seen = ConcurrentHashMap.newKeySet();

  /**
   * Bedrock's list of Claude models with prompt caching (3.5 Sonnet v2 and later, 3.5 Haiku, the 4
   * family); Bedrock answers 400 to a {@code cachePoint} for any other model.
   */
  static boolean bedrockCaches(String model) {
    return CLAUDE_WITH_CACHE.matcher(model.toLowerCase(Locale.ROOT)).find();
  }

  private static final Pattern CLAUDE_WITH_CACHE =
      Pattern.compile(
          "anthropic\\.claude-(3-5-sonnet-20241022|3-5-haiku|3-7-|sonnet-4|opus-4|haiku-4)");

  void clear() {
    seen.clear();
  }

  /** A request with explicit marks: Anthropic's Messages format, or Bedrock's Converse format. */
  Hit marked(String model, JsonNode body, boolean converse) {
    List<Block> blocks = new ArrayList<>();
    add(blocks, "tool", converse ? body.path("toolConfig").path("tools") : body.path("tools"));
    add(blocks, "system", body.path("system"));
    for (JsonNode m : body.path("messages")) {
      add(blocks, m.path("role").asText(), m.path("content"));
    }
    int min = model.toLowerCase(Locale.ROOT).contains("haiku") ? 2048 : 1024;
    StringBuilder prefix = new StringBuilder(model).append('\n');
    int read = 0;
    int last = 0;
    boolean lastSeen = false;
    List<String> keys = new ArrayList<>();
    for (Block b : blocks) {
      prefix.append(b.text()).append('\n');
      int tokens = prefix.length() / 4;
      if (!b.marked() || tokens < min) {
        continue;
      }
      String key = key(prefix);
      keys.add(key);
      lastSeen = seen.contains(key);
      if (lastSeen) {
        read = tokens;
      }
      last = tokens;
    }
    remember(keys);
    return new Hit(read, lastSeen ? 0 : Math.max(0, last - read));
  }

  /** A request to a provider that caches prefixes by itself (OpenAI, Gemini). */
  Hit automatic(String model, JsonNode body, boolean gemini, boolean openAi) {
    StringBuilder prefix = new StringBuilder(model).append('\n');
    JsonNode messages = gemini ? body.path("contents") : body.path("messages");
    if (messages.size() < 2) {
      return Hit.NONE;
    }
    prefix.append(body.path("tools")).append('\n');
    prefix.append(body.path("systemInstruction")).append('\n');
    for (int i = 0; i < messages.size() - 1; i++) {
      prefix.append(messages.get(i)).append('\n');
    }
    int tokens = prefix.length() / 4;
    if (tokens < 1024) {
      return Hit.NONE;
    }
    String key = key(prefix);
    boolean hit = seen.contains(key);
    remember(List.of(key));
    if (!hit) {
      return Hit.NONE;
    }
    return new Hit(openAi ? tokens - tokens % 128 : tokens, 0);
  }

  private void remember(List<String> keys) {
    if (seen.size() + keys.size() > MAX_ENTRIES) {
      seen.clear();
    }
    seen.addAll(keys);
  }

  /** One cacheable unit in order, without its mark (a mark does not change the content). */
  private record Block(String text, boolean marked) {}

  private static void add(List<Block> blocks, String role, JsonNode content) {
    if (content.isTextual()) {
      blocks.add(new Block(role + ":" + content.asText(), false));
      return;
    }
    for (JsonNode element : content) {
      if (element.has("cachePoint")) {
        if (!blocks.isEmpty()) {
          Block prev = blocks.remove(blocks.size() - 1);
          blocks.add(new Block(prev.text(), true));
        }
        continue;
      }
      boolean marked = element.has("cache_control");
      JsonNode unmarked = element;
      if (marked && element instanceof ObjectNode o) {
        ObjectNode copy = o.deepCopy();
        copy.remove("cache_control");
        unmarked = copy;
      }
      blocks.add(new Block(role + ":" + unmarked, marked));
    }
  }

  private static String key(CharSequence prefix) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(prefix.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
