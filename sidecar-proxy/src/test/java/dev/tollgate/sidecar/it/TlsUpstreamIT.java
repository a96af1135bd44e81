package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.sidecar.Sidecar;
import dev.tollgate.simulator.ProviderSimulator;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import javax.net.ssl.KeyManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTPS to the provider: the handshake, hostname verification against the certificate's IP SAN, and
 * a credential's own CA file; an untrusted certificate is refused, not ignored.
 */
class TlsUpstreamIT {
  private static ProviderSimulator sim;
  private static Sidecar sidecar;
  private static Path dir;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static void keytool(String... args) throws Exception {
    String[] cmd = new String[args.length + 1];
    cmd[0] = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    System.arraycopy(args, 0, cmd, 1, args.length);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException("keytool failed: " + out);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("tollgate-tls");
    Path store = dir.resolve("sim.p12");
    keytool(
        "-genkeypair",
        "-alias",
        "sim",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=simulator",
        "-ext",
        "SAN=ip:127.0.0.1",
        "-validity",
        "2",
        "-keystore",
        store.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        "changeit",
        "-keypass",
        "changeit");
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "sim",
        "-keystore",
        store.toString(),
        "-storepass",
        "changeit",
        "-file",
        dir.resolve("ca.pem").toString());
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "changeit".toCharArray());
    sim = ProviderSimulator.startTls(SslContextBuilder.forServer(kmf).build());
    Files.writeString(dir.resolve("key"), "k");
    Files.writeString(
        dir.resolve("config.yaml"),
        """
        namespace: tls
        routes:
          - model: trusted
            tiers: [{name: main, targets: [{credential: private-ca, model: gpt-4o-mini}]}]
          - model: untrusted
            tiers: [{name: main, targets: [{credential: system-ca, model: gpt-4o-mini}]}]
        credentials:
          - {name: private-ca, provider: openai-compatible, endpoint: "%1$s/v1", apiKeyFile: "%2$s/key", caFile: "%2$s/ca.pem"}
          - {name: system-ca, provider: openai-compatible, endpoint: "%1$s/v1", apiKeyFile: "%2$s/key"}
        """
            .formatted(sim.baseUrl(), dir));
    sidecar = Sidecar.start(dir.resolve("config.yaml"), 0, 1, Duration.ofSeconds(5));
  }

  @AfterAll
  static void stop() {
    sidecar.shutdown(Duration.ZERO);
    sim.close();
  }

  private static HttpResponse<String> chat(String route) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(sidecar.baseUrl() + "/v1/chat/completions"))
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"model\":\""
                        + route
                        + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void httpsProviderWithTheCredentialsOwnCa() throws Exception {
    assertThat(sim.baseUrl()).startsWith("https://");
    HttpResponse<String> r = chat("trusted");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new ObjectMapper().readTree(r.body()).at("/choices/0/message/content").asText())
        .startsWith("t0 t1");
    assertThat(chat("trusted").statusCode())
        .as("the pooled TLS connection is reused")
        .isEqualTo(200);
  }

  @Test
  void untrustedCertificateIsRefused() throws Exception {
    HttpResponse<String> r = chat("untrusted");
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(r.body()).contains("upstream_connect");
  }
}
