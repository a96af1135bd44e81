package dev.tollgate.sidecar.provider;

import dev.tollgate.sidecar.wire.ProxyException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Takes secrets out of text a provider sent back before the caller or a log sees it: some providers
 * and gateways quote the key they were given in their error messages ("Incorrect API key provided:
 * sk-…"), and the caller of a sidecar must never learn the credential's key.
 *
 * <p>Masked: the credential's own secret wherever it appears (and any run of 8 or more key
 * characters taken from it, as in a partially masked echo), bearer and basic tokens, {@code
 * api_key=}/{@code x-api-key:}-style values, and strings shaped like provider keys or tokens
 * (OpenAI and Anthropic {@code sk-…}, AWS access key ids, Google API keys and OAuth tokens, JWTs).
 */
public final class SecretRedaction {
  /** What a secret is replaced with. */
  public static final String MASK = "[redacted]";

  private static final int MIN_FRAGMENT = 8;
  private static final Pattern KEY_CHARS =
      Pattern.compile("[A-Za-z0-9_\\-]{" + MIN_FRAGMENT + ",}");
  private static final Pattern AUTH_SCHEME =
      Pattern.compile("(?i)\\b(bearer|basic)(\\s+)[A-Za-z0-9._~+/=\\-]{6,}");
  private static final Pattern KEY_VALUE =
      Pattern.compile(
          "(?i)\\b((?:x-)?(?:api[_-]?key|goog-api-key|access[_-]?token|auth[_-]?token|secret[_-]?key)"
              + "[\"']?\\s*[:=]\\s*[\"']?)[A-Za-z0-9._~+/\\-]{8,}");
  private static final Pattern KEY_SHAPED =
      Pattern.compile(
          "\\b(?:sk-[A-Za-z0-9_*.\\-]{6,}"
              + "|(?:AKIA|ASIA)[0-9A-Z]{16}"
              + "|AIza[0-9A-Za-z_\\-]{20,}"
              + "|ya29\\.[0-9A-Za-z._\\-]+"
              + "|eyJ[A-Za-z0-9_\\-]{8,}\\.[A-Za-z0-9_\\-]{8,}\\.[A-Za-z0-9_\\-]*)");

  private SecretRedaction() {}

  /** {@code text} with {@code secret} (may be null) and key-looking strings masked. */
  public static String redact(String text, String secret) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String s = text;
    if (secret != null && !secret.isBlank()) {
      String key = secret.strip();
      s = s.replace(key, MASK);
      if (key.length() >= MIN_FRAGMENT) {
        s = replaceAll(KEY_CHARS, s, m -> key.contains(m.group()) ? MASK : m.group());
      }
    }
    s = replaceAll(AUTH_SCHEME, s, m -> m.group(1) + m.group(2) + MASK);
    s = replaceAll(KEY_VALUE, s, m -> m.group(1) + MASK);
    return replaceAll(KEY_SHAPED, s, m -> MASK);
  }

  /** {@code e} with its message redacted; {@code e} itself when there was nothing to mask. */
  public static ProxyException redact(ProxyException e, String secret) {
    String message = e.getMessage();
    String clean = redact(message, secret);
    if (clean == null || clean.equals(message)) {
      return e;
    }
    return new ProxyException(e.kind(), e.status(), clean, e.retryAfter());
  }

  private static String replaceAll(
      Pattern p, String s, java.util.function.Function<Matcher, String> with) {
    Matcher m = p.matcher(s);
    StringBuilder out = new StringBuilder(s.length());
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(with.apply(m)));
    }
    m.appendTail(out);
    return out.toString();
  }
}
