package dev.tollgate.sidecar.cache;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Redis server shared by the sidecars of a namespace, through Lettuce's asynchronous API. It can
 * never fail a call: every operation is bounded by {@link #TIMEOUT}, and an error (Redis down,
 * wrong password, timeout) reads as a miss or a skipped write, counted through {@code onError} and
 * logged at most once per {@link #LOG_INTERVAL}. A connection that could not be made is tried again
 * on a later use, at most once per {@link #RECONNECT_INTERVAL}; Lettuce reconnects one that broke.
 */
final class RedisAnswerStore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RedisAnswerStore.class);
  static final Duration TIMEOUT = Duration.ofMillis(500);
  static final Duration LOG_INTERVAL = Duration.ofMinutes(1);
  static final Duration RECONNECT_INTERVAL = Duration.ofSeconds(5);

  private final String url;
  private final String passwordFile;
  private final RedisClient client;
  private final Consumer<String> onError;
  private final AtomicLong lastLogged = new AtomicLong(Long.MIN_VALUE / 2);
  private volatile CompletableFuture<StatefulRedisConnection<byte[], byte[]>> connection;
  private volatile long connectStarted;

  /**
   * Starts connecting at once; reads the password file here, so construct it off the event loop.
   *
   * @param onError told the operation ({@code get}, {@code set}, {@code connect}) of each failure
   */
  RedisAnswerStore(String url, String passwordFile, Consumer<String> onError) {
    this.url = url;
    this.passwordFile = passwordFile;
    this.onError = onError;
    this.client = RedisClient.create();
    client.setOptions(
        ClientOptions.builder()
            .timeoutOptions(TimeoutOptions.enabled(TIMEOUT))
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .build());
    connect();
  }

  private void connect() {
    connectStarted = System.nanoTime();
    CompletableFuture<StatefulRedisConnection<byte[], byte[]>> c;
    try {
      RedisURI uri = RedisURI.create(url);
      uri.setTimeout(TIMEOUT);
      if (passwordFile != null) {
        char[] password =
            Files.readString(Path.of(passwordFile), StandardCharsets.UTF_8).strip().toCharArray();
        // an ACL user may be named in the URL (redis://user@host); the password never is
        String user = java.net.URI.create(url).getUserInfo();
        if (user != null && !user.isEmpty() && !user.contains(":")) {
          uri.setAuthentication(user, password);
        } else {
          uri.setAuthentication(password);
        }
      }
      c = client.connectAsync(ByteArrayCodec.INSTANCE, uri).toCompletableFuture();
    } catch (IOException | RuntimeException e) {
      c = CompletableFuture.failedFuture(e);
    }
    c.whenComplete(
        (conn, e) -> {
          if (e != null) {
            failed("connect", e);
          } else {
            LOG.info("response cache connected to Redis {}", redacted());
          }
        });
    connection = c;
  }

  /** The connection, once up; a failed one is retried now and then. */
  private CompletableFuture<StatefulRedisConnection<byte[], byte[]>> connection() {
    CompletableFuture<StatefulRedisConnection<byte[], byte[]>> c = connection;
    if (c.isCompletedExceptionally()
        && System.nanoTime() - connectStarted > RECONNECT_INTERVAL.toNanos()) {
      synchronized (this) {
        if (connection == c) {
          connect();
        }
        c = connection;
      }
    }
    return c;
  }

  /** The value at {@code key}, or null (absent, or Redis failed). Never completes exceptionally. */
  CompletableFuture<byte[]> get(byte[] key) {
    return connection()
        .thenCompose(conn -> conn.async().get(key).toCompletableFuture())
        .orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(
            e -> {
              failed("get", e);
              return null;
            });
  }

  /** Writes {@code value} with a time to live, in the background; failures are only counted. */
  void set(byte[] key, byte[] value, Duration ttl) {
    connection()
        .thenCompose(
            conn ->
                conn.async()
                    .set(key, value, SetArgs.Builder.px(Math.max(1, ttl.toMillis())))
                    .toCompletableFuture())
        .orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(
            e -> {
              failed("set", e);
              return null;
            });
  }

  private void failed(String op, Throwable e) {
    onError.accept(op);
    long now = System.nanoTime();
    long last = lastLogged.get();
    if (now - last > LOG_INTERVAL.toNanos() && lastLogged.compareAndSet(last, now)) {
      Throwable cause = e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
      LOG.warn(
          "response cache: Redis {} failed ({}); calls go to the provider meanwhile (logged at most once a minute)",
          redacted(),
          cause == null ? op : op + ": " + cause);
    }
  }

  /** The URL without anything that could be a credential. */
  private String redacted() {
    return url.replaceAll("//[^@/]*@", "//***@");
  }

  @Override
  public void close() {
    CompletableFuture<StatefulRedisConnection<byte[], byte[]>> c = connection;
    if (c != null && c.isDone() && !c.isCompletedExceptionally()) {
      c.join().closeAsync();
    }
    client.shutdownAsync(0, 2, TimeUnit.SECONDS);
  }
}
