package dev.tollgate.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cert-manager renews the serving certificate: new connections get it without a restart. */
class ReloadingServerTlsTest {
  @TempDir Path dir;

  private static void write(Path dir, WebhookTls tls) throws Exception {
    Files.writeString(dir.resolve("tls.crt"), WebhookTls.toPem(tls.certificateChain().get(0)));
    // PKCS#8, as cert-manager writes with privateKey.encoding: PKCS8
    Files.writeString(
        dir.resolve("tls.key"),
        "-----BEGIN PRIVATE KEY-----\n"
            + java.util.Base64.getMimeEncoder(
                    64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .encodeToString(tls.privateKey().getEncoded())
            + "\n-----END PRIVATE KEY-----\n");
    Files.writeString(dir.resolve("ca.crt"), tls.caPem());
  }

  /** The certificate the server presents to a fresh client (no session to resume). */
  private static X509Certificate served(int port, WebhookTls... trusted) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    for (int i = 0; i < trusted.length; i++) {
      List<X509Certificate> chain = trusted[i].certificateChain();
      trust.setCertificateEntry("ca-" + i, chain.get(chain.size() - 1));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    SSLContext client = SSLContext.getInstance("TLS");
    client.init(null, tmf.getTrustManagers(), null);
    try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("localhost", port)) {
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }

  @Test
  void aRenewedPairIsServedToNewConnectionsAndABrokenOneIsNot() throws Exception {
    WebhookTls first = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
    WebhookTls renewed = WebhookTls.generate(List.of("localhost"), Duration.ofDays(90));
    write(dir, first);
    try (ReloadingServerTls tls = ReloadingServerTls.watching(dir, Duration.ofHours(1))) {
      HttpsServer server = HttpsServer.create(new InetSocketAddress("localhost", 0), 8);
      server.setHttpsConfigurator(new HttpsConfigurator(tls.serverContext()));
      server.start();
      try {
        int port = server.getAddress().getPort();
        assertThat(served(port, first, renewed)).isEqualTo(first.certificateChain().get(0));
        assertThat(tls.reloadIfChanged()).as("nothing changed yet").isFalse();

        write(dir, renewed);
        assertThat(tls.reloadIfChanged()).isTrue();
        assertThat(served(port, first, renewed)).isEqualTo(renewed.certificateChain().get(0));
        assertThat(tls.current().caPem()).isEqualTo(renewed.caPem());

        // a half-written rotation (key missing its PEM) is refused; the renewed pair stays
        Files.writeString(dir.resolve("tls.key"), "-----BEGIN PRIVATE KEY-----\ngarbage");
        assertThat(tls.reloadIfChanged()).isFalse();
        assertThat(served(port, first, renewed)).isEqualTo(renewed.certificateChain().get(0));
      } finally {
        server.stop(0);
      }
    }
  }

  @Test
  void aGeneratedCertificateIsFixed() throws Exception {
    WebhookTls generated = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
    try (ReloadingServerTls tls = ReloadingServerTls.fixed(generated)) {
      assertThat(tls.reloadIfChanged()).isFalse();
      assertThat(tls.current()).isSameAs(generated);
    }
  }
}
