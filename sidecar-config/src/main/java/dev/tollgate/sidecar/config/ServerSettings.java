package dev.tollgate.sidecar.config;

import java.time.Duration;

/**
 * How the sidecar listens and protects itself from its callers.
 *
 * @param bindAddress address of the listener; loopback by default so only the pod's own containers
 *     can reach it
 * @param port TCP port of the OpenAI/Anthropic-compatible endpoints (default 4000)
 * @param maxRequestBodyBytes requests with a larger body get 413 (default 4 MiB)
 * @param clientReadTimeout a caller that sends nothing for this long mid-request is answered 408
 *     and disconnected (default 60s)
 * @param shutdownGrace how long in-flight requests and streams may run after SIGTERM (default 30s)
 * @param logContent put prompt and answer text in the per-call log line; off by default because it
 *     may hold personal data
 * @param maxBatchUploadBytes an OpenAI file upload ({@code POST /v1/files}, multipart) up to this
 *     size is held whole, so that a batch input file's lines can be resolved and estimated; larger
 *     ones stream to the provider unread (default 100 MiB, never more than the heap allows)
 */
public record ServerSettings(
    String bindAddress,
    Integer port,
    Long maxRequestBodyBytes,
    Duration clientReadTimeout,
    Duration shutdownGrace,
    Boolean logContent,
    Long maxBatchUploadBytes) {

  public static final int DEFAULT_PORT = 4000;

  public ServerSettings {
    bindAddress = Defaults.or(bindAddress, "127.0.0.1");
    port = Defaults.or(port, DEFAULT_PORT);
    maxRequestBodyBytes = Defaults.or(maxRequestBodyBytes, 4L * 1024 * 1024);
    clientReadTimeout = Defaults.or(clientReadTimeout, Duration.ofSeconds(60));
    shutdownGrace = Defaults.or(shutdownGrace, Duration.ofSeconds(30));
    logContent = Defaults.or(logContent, false);
    maxBatchUploadBytes = Defaults.or(maxBatchUploadBytes, 100L * 1024 * 1024);
  }

  public static ServerSettings defaults() {
    return new ServerSettings(null, null, null, null, null, null, null);
  }
}
