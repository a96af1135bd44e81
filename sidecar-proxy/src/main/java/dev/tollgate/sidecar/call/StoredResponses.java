package dev.tollgate.sidecar.call;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which credential holds each Responses API response this sidecar created at an OpenAI-format
 * provider ({@code store} is on by default there): the provider keeps the response, its
 * conversation state and its background run at that account only. Follow-ups are pinned to it: a
 * call with {@code previous_response_id} goes only to the route's targets at that credential, and
 * {@code GET}/{@code DELETE /v1/responses/{id}} (with {@code /cancel} and {@code /input_items}) is
 * passed through to it, so a follow-up never reaches another account. Bounded: at most {@link
 * #MAX_ENTRIES} ids (the least recently used go first) for {@link #TTL} (OpenAI keeps stored
 * responses 30 days); in memory, so a restarted sidecar, or another pod's, does not know an id.
 */
public final class StoredResponses {
  public static final int MAX_ENTRIES = 10_000;
  public static final Duration TTL = Duration.ofDays(30);

  /** A response id as providers mint them; anything else is never kept (bounded keys). */
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");

  private static final Pattern PATH =
      Pattern.compile("/v1/responses/([^/?]+)(?:/(?:cancel|input_items))?/?");

  private final Cache<String, String> pins;

  public StoredResponses() {
    this(Ticker.systemTicker());
  }

  StoredResponses(Ticker ticker) {
    this.pins =
        Caffeine.newBuilder()
            .maximumSize(MAX_ENTRIES)
            .expireAfterAccess(TTL)
            .ticker(ticker)
            .executor(Runnable::run)
            .build();
  }

  /** Remembers that {@code credential} holds response {@code id}. */
  public void pin(String id, String credential) {
    if (id != null && credential != null && ID.matcher(id).matches()) {
      pins.put(id, credential);
    }
  }

  /** The credential that holds {@code id}, or null when this sidecar does not know it. */
  public String credentialOf(String id) {
    return id == null ? null : pins.getIfPresent(id);
  }

  /**
   * The response id a passthrough path is about ({@code /v1/responses/{id}}, {@code …/cancel},
   * {@code …/input_items}), or null for other paths.
   */
  public static String idInPath(String path) {
    Matcher m = PATH.matcher(path);
    return m.matches() ? m.group(1) : null;
  }
}
