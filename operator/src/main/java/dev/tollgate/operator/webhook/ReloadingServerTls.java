package dev.tollgate.operator.webhook;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serving certificate of the webhook and report endpoints, re-read when cert-manager renews it.
 * One {@link SSLContext} serves for the process's life; its key manager hands each new TLS
 * handshake the certificate currently in force, so a renewal needs no restart and no server
 * rebuild. Connections already open keep the certificate they started with.
 *
 * <p>With a certificate directory (the mounted cert-manager Secret) the files are checked every
 * {@code poll} (the kubelet swaps a Secret volume's files atomically, typically within a minute of
 * the Secret's update); a change is read and validated before it replaces the current certificate,
 * so a half-written or broken pair is logged and the previous certificate stays. Without a
 * directory (a generated certificate) the material is fixed.
 *
 * <p>A renewal may come with a new CA ({@code ca.crt}): {@link #onRenewal} lets the operator write
 * it into each namespace's {@code tollgate-report-ca} ConfigMap, which injected sidecars mount and
 * re-read, so running sidecars follow a CA rotation without a restart.
 */
public final class ReloadingServerTls implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReloadingServerTls.class);

  private final Path dir;
  private final SwappableKeyManager keys = new SwappableKeyManager();
  private final SSLContext context;
  private final ScheduledExecutorService timer;
  private volatile WebhookTls current;
  private volatile String fingerprint;
  private volatile String lastFailure;
  private volatile Runnable onRenewal = () -> {};

  /** Serves {@code tls} for good (a generated certificate). */
  public static ReloadingServerTls fixed(WebhookTls tls) {
    return new ReloadingServerTls(tls, null, null);
  }

  /** Serves the pair in {@code dir} and re-reads it every {@code poll}. */
  public static ReloadingServerTls watching(Path dir, Duration poll) {
    return new ReloadingServerTls(WebhookTls.fromDirectory(dir), dir, poll);
  }

  private ReloadingServerTls(WebhookTls tls, Path dir, Duration poll) {
    this.dir = dir;
    this.current = tls;
    keys.install(tls);
    this.fingerprint = dir == null ? null : fingerprint(dir);
    try {
      context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {keys}, null, new SecureRandom());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("webhook TLS: cannot build the SSL context", e);
    }
    if (dir != null) {
      timer =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "tollgate-cert-reload");
                t.setDaemon(true);
                return t;
              });
      timer.scheduleWithFixedDelay(
          this::reloadIfChanged, poll.toMillis(), poll.toMillis(), TimeUnit.MILLISECONDS);
    } else {
      timer = null;
    }
  }

  /** Runs {@code action} on the reload thread after each renewed certificate took effect. */
  public void onRenewal(Runnable action) {
    this.onRenewal = action;
  }

  /** The context to serve with; it follows every reload. */
  public SSLContext serverContext() {
    return context;
  }

  /** The material in force now. */
  public WebhookTls current() {
    return current;
  }

  /**
   * Reads the directory again if its files changed; true when a new certificate is now served. Runs
   * on the timer; callable directly (tests, a future signal handler).
   */
  public synchronized boolean reloadIfChanged() {
    if (dir == null) {
      return false;
    }
    String now = fingerprint(dir);
    if (now == null || now.equals(fingerprint)) {
      return false;
    }
    try {
      WebhookTls next = WebhookTls.fromDirectory(dir);
      keys.install(next);
      current = next;
      fingerprint = now;
      lastFailure = null;
      X509Certificate leaf = next.certificateChain().get(0);
      LOG.info(
          "serving a renewed certificate from {} (serial {}, valid until {})",
          dir,
          leaf.getSerialNumber().toString(16),
          leaf.getNotAfter().toInstant());
      try {
        onRenewal.run();
      } catch (RuntimeException e) {
        LOG.warn("handling the renewed certificate failed: {}", e.toString());
      }
      return true;
    } catch (RuntimeException e) {
      // most often the kubelet mid-swap; the next poll sees the finished pair
      if (!now.equals(lastFailure)) {
        LOG.warn(
            "cannot read the renewed certificate in {} ({}); still serving the previous one",
            dir,
            e.getMessage());
        lastFailure = now;
      }
      return false;
    }
  }

  private static String fingerprint(Path dir) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(Files.readAllBytes(dir.resolve("tls.crt")));
      sha.update((byte) 0);
      sha.update(Files.readAllBytes(dir.resolve("tls.key")));
      return HexFormat.of().formatHex(sha.digest());
    } catch (IOException e) {
      return null;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  /**
   * A key manager whose certificate can be replaced. Each generation gets its own alias, and the
   * previous generation stays reachable, so a handshake that chose an alias just before a swap
   * still gets the chain and key that belong together.
   */
  static final class SwappableKeyManager extends X509ExtendedKeyManager {
    private volatile X509ExtendedKeyManager current;
    private volatile X509ExtendedKeyManager previous;
    private int generation;

    synchronized void install(WebhookTls tls) {
      try {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = new char[0];
        store.setKeyEntry(
            "webhook-" + ++generation,
            tls.privateKey(),
            password,
            tls.certificateChain().toArray(Certificate[]::new));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
        kmf.init(store, password);
        X509ExtendedKeyManager next = (X509ExtendedKeyManager) kmf.getKeyManagers()[0];
        previous = current;
        current = next;
      } catch (GeneralSecurityException | IOException e) {
        throw new IllegalStateException("webhook TLS: cannot load the certificate", e);
      }
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return current.chooseEngineServerAlias(keyType, issuers, engine);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return current.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return current.getServerAliases(keyType, issuers);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      X509Certificate[] chain = current.getCertificateChain(alias);
      X509ExtendedKeyManager before = previous;
      return chain != null || before == null ? chain : before.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      PrivateKey key = current.getPrivateKey(alias);
      X509ExtendedKeyManager before = previous;
      return key != null || before == null ? key : before.getPrivateKey(alias);
    }

    // a server presents no client certificate
    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      return null;
    }
  }
}
