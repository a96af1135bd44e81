package dev.tollgate.sidecar.budget;

import dev.tollgate.sidecar.config.BudgetConfig;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns the value of a Budget's per-caller header into the key the sidecar tracks, reports and
 * enforces: the value itself when it is a short identifier and the budget does not hash keys,
 * otherwise the pseudonym {@code sha256:<16 hex>}, an HMAC-SHA256 of the value keyed with the
 * namespace and budget name (so keys of one caller differ between budgets and namespaces). The HMAC
 * key is not secret: someone who can read the status and guess a caller's id can confirm the guess.
 * Hashing keeps raw ids out of reports, the ledger, status and Events; it does not make guessable
 * ids anonymous.
 */
public final class CallerKeys {
  /** Prefix of hashed keys. */
  public static final String HASHED = "sha256:";

  /** Longest raw key kept as is; longer values are hashed. */
  public static final int MAX_RAW_LENGTH = 64;

  // a short identifier: user ids, emails, tenant names; anything else (spaces, control characters,
  // non-ASCII, the reserved leading underscore) is hashed so that status and Events stay clean
  private static final Pattern RAW = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@+=:/-]*");

  // header values beyond this are not even hashed in full: a caller cannot make us hash megabytes
  private static final int MAX_HASHED_INPUT = 1024;

  private CallerKeys() {}

  /**
   * The key of the caller who sent {@code headerValue} on a route of {@code budget}, or null when
   * the header is missing or blank (such calls count against the budget but no caller's quota).
   */
  public static String of(
      BudgetConfig.CallerQuota quota, String namespace, String budget, String headerValue) {
    if (headerValue == null) {
      return null;
    }
    String v = headerValue.strip();
    if (v.isEmpty()) {
      return null;
    }
    if (!Boolean.TRUE.equals(quota.hashKeys())
        && v.length() <= MAX_RAW_LENGTH
        && RAW.matcher(v).matches()) {
      return v;
    }
    return hash(namespace, budget, v);
  }

  static String hash(String namespace, String budget, String value) {
    String input = value.length() > MAX_HASHED_INPUT ? value.substring(0, MAX_HASHED_INPUT) : value;
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(
          new SecretKeySpec(
              ("tollgate-caller-key/" + namespace + "/" + budget).getBytes(StandardCharsets.UTF_8),
              "HmacSHA256"));
      byte[] digest = mac.doFinal(input.getBytes(StandardCharsets.UTF_8));
      return HASHED + HexFormat.of().formatHex(digest, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
    }
  }
}
