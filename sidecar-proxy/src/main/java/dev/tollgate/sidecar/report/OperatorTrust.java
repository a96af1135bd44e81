package dev.tollgate.sidecar.report;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS client the sidecar talks to the operator with, trusting only the operator's CA. With a
 * CA file (the mounted ConfigMap {@code tollgate-report-ca}) the file is read before every request
 * (a few hundred bytes every report interval) and a changed bundle gets a new client, so a CA
 * rotation reaches a running sidecar as soon as the kubelet updates the mount: no restart. With a
 * PEM (the environment) the trust is fixed.
 */
final class OperatorTrust {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorTrust.class);

  private final String fixedPem;
  private final Path file;
  private HttpClient client; // guarded by this
  private String loadedPem;
  private String rejectedPem;

  private OperatorTrust(String fixedPem, Path file) {
    this.fixedPem = fixedPem;
    this.file = file;
  }

  /** The trust the settings name: the CA file when there is one, else the PEM. */
  static OperatorTrust of(ReporterSettings settings) {
    if (settings.caFile() != null) {
      return new OperatorTrust(null, settings.caFile());
    }
    OperatorTrust fixed = new OperatorTrust(settings.caPem(), null);
    fixed.client = build(settings.caPem()); // a bad PEM fails the start, as it always did
    fixed.loadedPem = settings.caPem();
    return fixed;
  }

  /**
   * The client to send with now: rebuilt when the CA file changed since the last request.
   *
   * @throws IOException when no CA has been readable yet (the mount is not there)
   */
  synchronized HttpClient client() throws IOException {
    if (file == null) {
      return client;
    }
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      if (client != null) {
        return client; // mid-swap or briefly gone: keep trusting what we had
      }
      throw new IOException("the operator's CA is not readable at " + file + " yet: " + e, e);
    }
    if (pem.equals(loadedPem) || pem.equals(rejectedPem)) {
      if (client == null) {
        throw new IOException("the operator's CA in " + file + " holds no usable certificate");
      }
      return client;
    }
    try {
      HttpClient next = build(pem);
      if (loadedPem != null) {
        LOG.info("the operator's CA in {} changed: trusting the new bundle from now on", file);
      }
      client = next;
      loadedPem = pem;
      rejectedPem = null;
    } catch (IllegalArgumentException e) {
      rejectedPem = pem;
      LOG.warn(
          "cannot use the operator's CA in {} ({}); {}",
          file,
          e.getMessage(),
          client == null ? "reports wait until it is fixed" : "keeping the previous one");
      if (client == null) {
        throw new IOException("the operator's CA in " + file + " is not usable", e);
      }
    }
    return client;
  }

  private static HttpClient build(String pem) {
    return HttpClient.newBuilder()
        .sslContext(Reporter.trusting(pem))
        .connectTimeout(Duration.ofSeconds(2))
        .build();
  }
}
