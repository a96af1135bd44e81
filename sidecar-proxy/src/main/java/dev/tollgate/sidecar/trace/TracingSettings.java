package dev.tollgate.sidecar.trace;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where and how the sidecar exports traces, from the standard OpenTelemetry environment variables
 * (the subset the sidecar honours is listed in {@code sidecar-proxy/README.md}) and two of
 * Tollgate's own for content capture. Tracing is off unless an OTLP endpoint is set.
 *
 * @param endpoint the OTLP/HTTP traces URL ({@code .../v1/traces}), or null: tracing off
 * @param headers extra export headers ({@code OTEL_EXPORTER_OTLP_HEADERS}; may hold an API key, so
 *     never logged)
 * @param sampler one of {@code always_on, always_off, traceidratio, parentbased_always_on,
 *     parentbased_always_off, parentbased_traceidratio}
 * @param ratio the sampling ratio of the {@code traceidratio} samplers, 0..1
 * @param resource resource attributes: {@code service.name}, {@code OTEL_RESOURCE_ATTRIBUTES} and
 *     the pod's namespace and name
 * @param maxQueueSize spans waiting for export beyond this are dropped (and counted), never waited
 *     for
 * @param content prompt and answer text on spans, as a size-capped event; off by default
 * @param contentMaxChars the cap of each captured text
 */
public record TracingSettings(
    URI endpoint,
    Map<String, String> headers,
    Duration exportTimeout,
    String sampler,
    double ratio,
    Map<String, String> resource,
    int maxQueueSize,
    int maxExportBatchSize,
    Duration scheduleDelay,
    boolean content,
    int contentMaxChars) {

  public static final String DEFAULT_SERVICE_NAME = "tollgate-sidecar";
  static final int MAX_QUEUE_LIMIT = 65_536;

  /**
   * Spans per export, twice the SDK's 512: each OTLP/HTTP request costs the sidecar about 2 ms of
   * CPU whatever it carries (the JDK HTTP client's exchange, the batch processor's round), so at
   * 2,000 calls/s batches of 1024 cost about 3 µs less per span than batches of 512 ({@code
   * bench/TraceCost.java}). Batches of 2048 saved another 1.5 µs but held 11 MiB more RSS ({@code
   * bench/results/tracing-overhead.md}). Below about 200 calls/s the 5 s schedule delay sends
   * first.
   */
  static final int DEFAULT_BATCH = 1024;

  /** The SDK's default queue (a few MiB full); two batches of slack. */
  static final int DEFAULT_QUEUE = 2048;

  /**
   * With content capture a span may hold two texts of up to {@code contentMaxChars}: a smaller
   * queue and batch keep a full queue within a few MiB of the sidecar's 96 MiB heap.
   */
  static final int CONTENT_QUEUE = 1024;

  static final int CONTENT_BATCH = 512;
  static final int MAX_CONTENT_CHARS = 65_536;

  public TracingSettings {
    headers = Map.copyOf(headers);
    resource = Map.copyOf(resource);
  }

  /** Tracing off. */
  public static TracingSettings off() {
    return new TracingSettings(
        null,
        Map.of(),
        Duration.ofSeconds(10),
        "parentbased_always_on",
        1.0,
        Map.of("service.name", DEFAULT_SERVICE_NAME),
        DEFAULT_QUEUE,
        DEFAULT_BATCH,
        Duration.ofSeconds(5),
        false,
        2000);
  }

  /** Export to {@code endpoint} (a full traces URL) with everything else at its default. */
  public static TracingSettings to(URI endpoint) {
    TracingSettings d = off();
    return new TracingSettings(
        endpoint,
        d.headers,
        d.exportTimeout,
        d.sampler,
        d.ratio,
        d.resource,
        d.maxQueueSize,
        d.maxExportBatchSize,
        d.scheduleDelay,
        d.content,
        d.contentMaxChars);
  }

  /** The same settings with prompt and answer capture on, each capped at {@code maxChars}. */
  public TracingSettings withContent(int maxChars) {
    return new TracingSettings(
        endpoint,
        headers,
        exportTimeout,
        sampler,
        ratio,
        resource,
        maxQueueSize,
        maxExportBatchSize,
        scheduleDelay,
        true,
        maxChars);
  }

  public boolean enabled() {
    return endpoint != null;
  }

  /**
   * Reads the settings from {@code env}.
   *
   * @throws IllegalArgumentException on a malformed value (the caller logs it and runs without
   *     tracing: traces are never worth failing calls for)
   */
  public static TracingSettings fromEnv(Map<String, String> env) {
    TracingSettings d = off();
    boolean disabled =
        "true".equalsIgnoreCase(trim(env.get("OTEL_SDK_DISABLED")))
            || "none".equalsIgnoreCase(trim(env.get("OTEL_TRACES_EXPORTER")));
    String exporter = trim(env.get("OTEL_TRACES_EXPORTER"));
    if (exporter != null && !exporter.equalsIgnoreCase("otlp") && !disabled) {
      throw new IllegalArgumentException(
          "OTEL_TRACES_EXPORTER=" + exporter + " is not supported (otlp or none)");
    }
    URI endpoint = disabled ? null : endpoint(env);
    String protocol =
        first(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL");
    if (endpoint != null && protocol != null && !protocol.equals("http/protobuf")) {
      throw new IllegalArgumentException(
          "OTLP protocol "
              + protocol
              + " is not supported by the sidecar; use http/protobuf (port 4318 of a collector)");
    }
    Map<String, String> headers =
        pairs(
            first(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"),
            "headers");
    Duration timeout =
        millis(
            first(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"),
            d.exportTimeout,
            "OTEL_EXPORTER_OTLP_TIMEOUT");
    String sampler = trim(env.get("OTEL_TRACES_SAMPLER"));
    sampler = sampler == null ? d.sampler : sampler.toLowerCase(Locale.ROOT);
    if (!sampler.matches(
        "always_on|always_off|traceidratio|parentbased_always_on|parentbased_always_off"
            + "|parentbased_traceidratio")) {
      throw new IllegalArgumentException("OTEL_TRACES_SAMPLER=" + sampler + " is not supported");
    }
    double ratio = 1.0;
    String arg = trim(env.get("OTEL_TRACES_SAMPLER_ARG"));
    if (arg != null && sampler.endsWith("traceidratio")) {
      try {
        ratio = Double.parseDouble(arg);
      } catch (NumberFormatException e) {
        ratio = Double.NaN;
      }
      if (!(ratio >= 0 && ratio <= 1)) {
        throw new IllegalArgumentException(
            "OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, not " + arg);
      }
    }
    Map<String, String> resource =
        new LinkedHashMap<>(pairs(env.get("OTEL_RESOURCE_ATTRIBUTES"), "resource attributes"));
    putIfPresent(resource, "k8s.namespace.name", env.get("TOLLGATE_POD_NAMESPACE"));
    putIfPresent(resource, "k8s.pod.name", env.get("TOLLGATE_POD_NAME"));
    putIfPresent(resource, "k8s.pod.uid", env.get("TOLLGATE_POD_UID"));
    // the pod's workload as the webhook resolved it, per the OTel k8s semantic conventions
    // (k8s.deployment.name, k8s.statefulset.name, k8s.daemonset.name, k8s.replicaset.name,
    // k8s.job.name, k8s.cronjob.name)
    String kind = trim(env.get("TOLLGATE_WORKLOAD_KIND"));
    if (kind != null
        && !kind.equals("Pod")
        && dev.tollgate.sidecar.config.report.UsageReport.Workload.KINDS.contains(kind)) {
      putIfPresent(
          resource,
          "k8s." + kind.toLowerCase(Locale.ROOT) + ".name",
          env.get("TOLLGATE_WORKLOAD_NAME"));
    }
    String service = trim(env.get("OTEL_SERVICE_NAME"));
    if (service != null) {
      resource.put("service.name", service);
    }
    resource.putIfAbsent("service.name", DEFAULT_SERVICE_NAME);
    boolean content =
        "true".equalsIgnoreCase(trim(env.get("TOLLGATE_TRACE_CONTENT")))
            || "true"
                .equalsIgnoreCase(
                    trim(env.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT")));
    int queue =
        count(
            env.get("OTEL_BSP_MAX_QUEUE_SIZE"),
            content ? CONTENT_QUEUE : d.maxQueueSize,
            MAX_QUEUE_LIMIT,
            "OTEL_BSP_MAX_QUEUE_SIZE");
    int batch =
        Math.min(
            queue,
            count(
                env.get("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
                content ? CONTENT_BATCH : d.maxExportBatchSize,
                MAX_QUEUE_LIMIT,
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"));
    Duration delay =
        millis(env.get("OTEL_BSP_SCHEDULE_DELAY"), d.scheduleDelay, "OTEL_BSP_SCHEDULE_DELAY");
    int contentMax =
        count(
            env.get("TOLLGATE_TRACE_CONTENT_MAX_CHARS"),
            d.contentMaxChars,
            MAX_CONTENT_CHARS,
            "TOLLGATE_TRACE_CONTENT_MAX_CHARS");
    return new TracingSettings(
        endpoint,
        headers,
        timeout,
        sampler,
        ratio,
        resource,
        queue,
        batch,
        delay,
        content,
        contentMax);
  }

  /** The traces URL: the signal-specific variable as given, else the base with /v1/traces. */
  private static URI endpoint(Map<String, String> env) {
    String traces = trim(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
    String base = trim(env.get("OTEL_EXPORTER_OTLP_ENDPOINT"));
    String url;
    if (traces != null) {
      url = traces;
    } else if (base != null) {
      url = (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/v1/traces";
    } else {
      return null;
    }
    URI u;
    try {
      u = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the OTLP endpoint is not a URL: " + e.getMessage());
    }
    if (u.getScheme() == null
        || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
        || u.getHost() == null) {
      throw new IllegalArgumentException("the OTLP endpoint must be an http(s) URL with a host");
    }
    return u;
  }

  /** {@code k=v,k2=v2} with URL-encoded values, as the OpenTelemetry environment spells lists. */
  static Map<String, String> pairs(String list, String what) {
    Map<String, String> out = new LinkedHashMap<>();
    if (list == null || list.isBlank()) {
      return out;
    }
    if (list.length() > 8192) {
      throw new IllegalArgumentException("the OTLP " + what + " are longer than 8192 characters");
    }
    for (String item : list.split(",")) {
      if (item.isBlank()) {
        continue;
      }
      int eq = item.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("the OTLP " + what + " are not a key=value list");
      }
      out.put(
          item.substring(0, eq).trim(),
          URLDecoder.decode(item.substring(eq + 1).trim(), StandardCharsets.UTF_8));
    }
    return out;
  }

  private static void putIfPresent(Map<String, String> m, String k, String v) {
    if (v != null && !v.isBlank()) {
      m.putIfAbsent(k, v.trim());
    }
  }

  private static String first(Map<String, String> env, String a, String b) {
    String v = trim(env.get(a));
    return v != null ? v : trim(env.get(b));
  }

  private static String trim(String v) {
    return v == null || v.isBlank() ? null : v.trim();
  }

  private static Duration millis(String v, Duration dflt, String name) {
    Integer n = v == null || v.isBlank() ? null : parse(v.trim(), name);
    if (n == null) {
      return dflt;
    }
    if (n <= 0 || n > 600_000) {
      throw new IllegalArgumentException(name + " must be 1..600000 milliseconds, not " + v);
    }
    return Duration.ofMillis(n);
  }

  private static int count(String v, int dflt, int max, String name) {
    Integer n = v == null || v.isBlank() ? null : parse(v.trim(), name);
    if (n == null) {
      return dflt;
    }
    if (n <= 0 || n > max) {
      throw new IllegalArgumentException(name + " must be 1.." + max + ", not " + v);
    }
    return n;
  }

  private static Integer parse(String v, String name) {
    try {
      return Integer.valueOf(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " is not a number: " + v);
    }
  }
}
