package dev.tollgate.sidecar.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Where a Secret key is found inside a sidecar container. The operator writes these paths into the
 * rendered configuration, the injection webhook mounts each referenced Secret at {@link
 * #secretDir(String)} and the sidecar reads the files: one convention, defined once.
 *
 * <p>Layout: {@code /var/run/tollgate/secrets/<secret-name>/<key>}, i.e. each Secret is mounted as
 * a read-only volume at its own directory, with its keys as file names (the default projection of a
 * Secret volume).
 */
public final class SecretMounts {
  /** Directory under which every referenced Secret is mounted, one sub-directory per Secret. */
  public static final String ROOT = "/var/run/tollgate/secrets";

  private static final Pattern SECRET_NAME =
      Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  private static final Pattern KEY = Pattern.compile("^[-._a-zA-Z0-9]+$");

  private SecretMounts() {}

  /** The directory where the Secret {@code secretName} of the pod's namespace is mounted. */
  public static String secretDir(String secretName) {
    return secretDir(ROOT, secretName);
  }

  /** As {@link #secretDir(String)}, under another root (tests, local mode). */
  public static String secretDir(String root, String secretName) {
    if (secretName == null || !SECRET_NAME.matcher(secretName).matches()) {
      throw new IllegalArgumentException("'" + secretName + "' is not a Secret name");
    }
    return stripSlash(root) + "/" + secretName;
  }

  /** The file holding {@code key} of the Secret {@code secretName}. */
  public static String keyFile(String secretName, String key) {
    return keyFile(ROOT, secretName, key);
  }

  /** As {@link #keyFile(String, String)}, under another root (tests, local mode). */
  public static String keyFile(String root, String secretName, String key) {
    // Secret keys are limited to [-._a-zA-Z0-9], so a key can never climb out of its directory
    // except as "." or "..", which Kubernetes itself rejects; check anyway.
    if (key == null || !KEY.matcher(key).matches() || key.equals(".") || key.equals("..")) {
      throw new IllegalArgumentException("'" + key + "' is not a Secret key");
    }
    return secretDir(root, secretName) + "/" + key;
  }

  /**
   * The Secret a key file of this layout belongs to: the inverse of {@link #keyFile(String,
   * String)}, for the webhook that mounts the Secrets a configuration names.
   */
  public static java.util.Optional<String> secretNameOf(String keyFile) {
    String prefix = ROOT + "/";
    if (keyFile == null || !keyFile.startsWith(prefix)) {
      return java.util.Optional.empty();
    }
    String[] parts = keyFile.substring(prefix.length()).split("/");
    if (parts.length != 2 || !SECRET_NAME.matcher(parts[0]).matches()) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(parts[0]);
  }

  /**
   * A pod volume name for the Secret: a DNS label (at most 63 characters) that is stable for a
   * given Secret name, {@code tollgate-secret-} and a hash of the name.
   */
  public static String volumeName(String secretName) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(secretName.getBytes(StandardCharsets.UTF_8));
      return "tollgate-secret-" + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }

  private static String stripSlash(String root) {
    return root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
  }
}
