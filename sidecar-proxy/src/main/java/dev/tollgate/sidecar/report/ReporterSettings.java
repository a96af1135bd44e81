package dev.tollgate.sidecar.report;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Where and how the sidecar reports to the operator. The injection webhook sets the environment
 * variables; without {@code TOLLGATE_REPORT_URL} the sidecar does not report (and enforces no
 * budget, having no live state).
 *
 * @param url the operator's {@code https://.../v1/reports}; plain http is refused
 * @param tokenFile projected ServiceAccount token (audience tollgate), re-read for every report
 *     because the kubelet rotates it
 * @param caPem PEM of the CA that signed the operator's certificate, fixed for the process's life
 *     (null when {@code caFile} is given)
 * @param namespace the pod's namespace
 * @param pod the pod's name
 * @param podUid the pod's UID
 * @param interval time between reports (default 2 s)
 * @param configFetchGrace how long the mounted configuration may differ from the version the
 *     operator's replies name before the sidecar fetches it from the operator (default 10 s)
 * @param caFile the CA bundle as a file (the mounted ConfigMap {@code tollgate-report-ca}), re-read
 *     when it changes so a rotated CA needs no restart; preferred over {@code caPem}
 */
public record ReporterSettings(
    URI url,
    Path tokenFile,
    String caPem,
    String namespace,
    String pod,
    String podUid,
    Duration interval,
    Duration configFetchGrace,
    Path caFile) {

  /** Trusting a fixed PEM. */
  public ReporterSettings(
      URI url,
      Path tokenFile,
      String caPem,
      String namespace,
      String pod,
      String podUid,
      Duration interval,
      Duration configFetchGrace) {
    this(url, tokenFile, caPem, namespace, pod, podUid, interval, configFetchGrace, null);
  }

  /** With the default configuration fetch grace. */
  public ReporterSettings(
      URI url,
      Path tokenFile,
      String caPem,
      String namespace,
      String pod,
      String podUid,
      Duration interval) {
    this(url, tokenFile, caPem, namespace, pod, podUid, interval, null);
  }

  public ReporterSettings {
    if (url == null || !"https".equals(url.getScheme())) {
      throw new IllegalArgumentException(
          "the report URL must be https (the sidecar sends its ServiceAccount token), got " + url);
    }
    if ((caPem == null || caPem.isBlank()) && caFile == null) {
      throw new IllegalArgumentException(
          "reporting to " + url + " needs the operator's CA (TOLLGATE_REPORT_CA_FILE or _PEM)");
    }
    if (namespace == null || pod == null || podUid == null) {
      // the operator accepts a report only from the pod its token is bound to, by name and UID
      throw new IllegalArgumentException(
          "reporting needs the pod's namespace, name and UID (TOLLGATE_POD_NAMESPACE,"
              + " TOLLGATE_POD_NAME, TOLLGATE_POD_UID)");
    }
    interval = interval == null ? Duration.ofSeconds(2) : interval;
    configFetchGrace = configFetchGrace == null ? Duration.ofSeconds(10) : configFetchGrace;
  }

  /** The operator's {@code GET /v1/config} next to the report URL (under the same path prefix). */
  public URI configUrl() {
    String path = url.getPath() == null ? "" : url.getPath();
    String prefix =
        path.endsWith("/v1/reports")
            ? path.substring(0, path.length() - "/v1/reports".length())
            : "";
    return url.resolve(prefix + "/v1/config");
  }

  /**
   * The settings the environment gives, or null when {@code TOLLGATE_REPORT_URL} is unset.
   *
   * @throws IllegalArgumentException when reporting is asked for but cannot work
   */
  public static ReporterSettings fromEnv(Map<String, String> env) throws java.io.IOException {
    String url = env.get("TOLLGATE_REPORT_URL");
    if (url == null || url.isBlank()) {
      return null;
    }
    // the file wins: it is re-read, so a rotated CA reaches the running sidecar
    String caFile = env.get("TOLLGATE_REPORT_CA_FILE");
    String ca = caFile == null || caFile.isBlank() ? env.get("TOLLGATE_REPORT_CA_PEM") : null;
    String interval = env.get("TOLLGATE_REPORT_INTERVAL");
    String grace = env.get("TOLLGATE_CONFIG_FETCH_GRACE");
    return new ReporterSettings(
        URI.create(url.trim()),
        Path.of(env.getOrDefault("TOLLGATE_TOKEN_FILE", "/var/run/secrets/tollgate/token")),
        ca,
        env.get("TOLLGATE_POD_NAMESPACE"),
        env.get("TOLLGATE_POD_NAME"),
        env.get("TOLLGATE_POD_UID"),
        interval == null || interval.isBlank() ? null : Duration.parse("PT" + interval.trim()),
        grace == null || grace.isBlank() ? null : Duration.parse("PT" + grace.trim()),
        caFile == null || caFile.isBlank() ? null : Path.of(caFile.trim()));
  }

  /**
   * The pod's workload from the environment the webhook sets ({@code TOLLGATE_WORKLOAD_KIND},
   * {@code TOLLGATE_WORKLOAD_NAME}, {@code TOLLGATE_WORKLOAD_SOURCE}, {@code
   * TOLLGATE_SERVICE_ACCOUNT}), or null when it names none or an unknown kind.
   */
  public static dev.tollgate.sidecar.config.report.UsageReport.Workload workloadFromEnv(
      Map<String, String> env) {
    String kind = env.get("TOLLGATE_WORKLOAD_KIND");
    String name = env.get("TOLLGATE_WORKLOAD_NAME");
    if (kind == null
        || name == null
        || !dev.tollgate.sidecar.config.report.UsageReport.Workload.KINDS.contains(kind.strip())
        || !name.strip().matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")) {
      return null;
    }
    String source = env.get("TOLLGATE_WORKLOAD_SOURCE");
    String sa = env.get("TOLLGATE_SERVICE_ACCOUNT");
    return new dev.tollgate.sidecar.config.report.UsageReport.Workload(
        kind.strip(),
        name.strip(),
        sa == null || sa.isBlank() ? null : sa.strip(),
        source != null
                && dev.tollgate.sidecar.config.report.UsageReport.Workload.SOURCES.contains(
                    source.strip())
            ? source.strip()
            : null);
  }
}
