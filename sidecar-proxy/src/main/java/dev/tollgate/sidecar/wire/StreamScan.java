package dev.tollgate.sidecar.wire;

/**
 * Looks into a streamed JSON event's text without parsing it into a tree: what a relay that
 * forwards the provider's bytes as sent needs to decide that an event carries only answer text (and
 * how much), so that only the events that carry usage, a finish reason, a tool call or an error are
 * parsed. Every answer is conservative: when the text is not the shape expected, the caller parses
 * the event as usual.
 *
 * <p>A key is found by its literal {@code "name"} followed by a colon: inside a JSON string a quote
 * is always escaped, so answer text cannot fake a key. A key spelled with {@code \}{@code u}
 * escapes would not be found; no provider writes keys that way.
 */
public final class StreamScan {
  private StreamScan() {}

  /** A key to look for, quoted once (scans run for every streamed chunk). */
  public record Key(String quoted) {}

  public static Key key(String name) {
    return new Key('"' + name + '"');
  }

  /** Whether {@code data} looks like one JSON object (its first and last non-blank characters). */
  public static boolean isObject(String data) {
    int a = 0;
    int b = data.length() - 1;
    while (a <= b && isBlank(data.charAt(a))) {
      a++;
    }
    while (b >= a && isBlank(data.charAt(b))) {
      b--;
    }
    return a < b && data.charAt(a) == '{' && data.charAt(b) == '}';
  }

  /**
   * Whether every occurrence of {@code key} in {@code data} has the value null (or there is none).
   */
  public static boolean nullOrAbsent(String data, Key key) {
    String quoted = key.quoted();
    for (int i = data.indexOf(quoted); i >= 0; i = data.indexOf(quoted, i + 1)) {
      int v = valueAt(data, i + quoted.length());
      if (v >= 0 && !data.startsWith("null", v)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The length in UTF-16 chars (as {@link String#length()} of the decoded text) of the string value
   * of the first {@code key} in {@code data}: 0 when the key is absent or null, -1 when its value
   * is something else or the string is not well formed.
   */
  public static int textLength(String data, Key key) {
    String quoted = key.quoted();
    for (int i = data.indexOf(quoted); i >= 0; i = data.indexOf(quoted, i + 1)) {
      int v = valueAt(data, i + quoted.length());
      if (v < 0) {
        continue; // the name as a value, not a key
      }
      if (data.startsWith("null", v)) {
        return 0;
      }
      return data.charAt(v) == '"' ? stringLength(data, v + 1) : -1;
    }
    return 0;
  }

  /**
   * The decoded length of the JSON string whose text starts at {@code from} (after its opening
   * quote), or -1 when it does not end or holds a bad escape.
   */
  public static int stringLength(String data, int from) {
    int n = 0;
    int end = data.length();
    for (int i = from; i < end; i++) {
      char c = data.charAt(i);
      if (c == '"') {
        return n;
      }
      if (c == '\\') {
        if (i + 1 >= end) {
          return -1;
        }
        char e = data.charAt(i + 1);
        if (e == 'u') {
          if (i + 5 >= end) {
            return -1;
          }
          i += 5;
        } else if ("\"\\/bfnrt".indexOf(e) >= 0) {
          i++;
        } else {
          return -1;
        }
      } else if (c < 0x20) {
        return -1;
      }
      n++;
    }
    return -1;
  }

  /** The index of the value after a key's closing quote at {@code at}, or -1 when not a key. */
  private static int valueAt(String data, int at) {
    int i = skipBlank(data, at);
    if (i >= data.length() || data.charAt(i) != ':') {
      return -1;
    }
    i = skipBlank(data, i + 1);
    return i < data.length() ? i : -1;
  }

  private static int skipBlank(String data, int i) {
    while (i < data.length() && isBlank(data.charAt(i))) {
      i++;
    }
    return i;
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }
}
