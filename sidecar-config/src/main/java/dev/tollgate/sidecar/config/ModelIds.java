package dev.tollgate.sidecar.config;

import java.util.Collection;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * How a price names the models it applies to, for the catalogue and for overrides alike: an entry
 * prices the model id it names and that id's dated or versioned variants ({@code gpt-4o} prices
 * {@code gpt-4o-2024-08-06}, {@code claude-3-5-sonnet} prices {@code
 * claude-3-5-sonnet-v2@20241022}, {@code amazon.nova-pro-v1} prices {@code amazon.nova-pro-v1:0}),
 * never a sibling model that merely shares the prefix ({@code gpt-4o} does not price {@code
 * gpt-4o-mini}, {@code gpt-5} does not price {@code gpt-5.5}, {@code claude-opus-4} would not price
 * {@code claude-opus-4-5}). The longest matching entry wins. A cloud id that names its vendor
 * ({@code us.anthropic.claude-…}) is tried again after each dot.
 */
public final class ModelIds {
  /**
   * One version segment after the entry's id: a date (20241022, 2024-08-06, 08-2024, 05-20), a
   * three- or four-digit release (001, 2411), v2 or v1:0, latest, preview, exp; or a Bedrock
   * revision (:0).
   */
  private static final Pattern VERSION_SUFFIX =
      Pattern.compile(
          "(?:[-@](?:\\d{8}|\\d{4}-\\d{2}-\\d{2}|\\d{2}-\\d{4}|\\d{2}-\\d{2}|\\d{3,4}|v\\d+|latest"
              + "|preview|exp)|:\\d+)*");

  private ModelIds() {}

  /** Whether the price entry {@code entry} applies to {@code model} (without vendor stripping). */
  public static boolean matches(String entry, String model) {
    if (entry == null || model == null || !model.startsWith(entry)) {
      return false;
    }
    return VERSION_SUFFIX.matcher(model.substring(entry.length())).matches();
  }

  /**
   * The entry of {@code entries} that prices {@code model}: the longest match of the id, else of
   * the id after its first dot, and so on.
   */
  public static <T> Optional<T> best(
      Collection<T> entries, Function<T, String> name, String model) {
    if (model == null) {
      return Optional.empty();
    }
    String id = model;
    while (true) {
      T hit = null;
      int hitLength = -1;
      for (T e : entries) {
        String n = name.apply(e);
        if (n != null && n.length() > hitLength && matches(n, id)) {
          hit = e;
          hitLength = n.length();
        }
      }
      int dot = id.indexOf('.');
      if (hit != null || dot < 0) {
        return Optional.ofNullable(hit);
      }
      id = id.substring(dot + 1);
    }
  }
}
