package dev.tollgate.sidecar.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator's CA as a mounted file: read before each request, a change trusted at once. */
class OperatorTrustTest {
  @TempDir Path dir;

  private String ca(String alias) throws Exception {
    Path store = dir.resolve(alias + ".p12");
    Path pem = dir.resolve(alias + ".pem");
    keytool(
        "-genkeypair",
        "-alias",
        alias,
        "-keyalg",
        "EC",
        "-dname",
        "CN=" + alias,
        "-validity",
        "2",
        "-keystore",
        store.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        "changeit");
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        alias,
        "-keystore",
        store.toString(),
        "-storepass",
        "changeit",
        "-file",
        pem.toString());
    return Files.readString(pem);
  }

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

  private OperatorTrust trust(Path caFile) {
    return OperatorTrust.of(
        new ReporterSettings(
            URI.create("https://op:8444/v1/reports"),
            dir.resolve("token"),
            null,
            "ns",
            "pod",
            "uid",
            Duration.ofSeconds(2),
            null,
            caFile));
  }

  @Test
  void aChangedCaFileGetsANewClientAndABrokenOneKeepsThePrevious() throws Exception {
    Path file = dir.resolve("ca.crt");
    OperatorTrust trust = trust(file);
    assertThatThrownBy(trust::client)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not readable");

    Files.writeString(file, ca("first"));
    HttpClient first = trust.client();
    assertThat(trust.client()).as("unchanged file: same client").isSameAs(first);

    Files.writeString(file, ca("second"));
    HttpClient second = trust.client();
    assertThat(second).isNotSameAs(first);

    Files.writeString(file, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
    assertThat(trust.client()).as("unusable bundle: previous trust kept").isSameAs(second);
    Files.delete(file);
    assertThat(trust.client()).as("mid-swap: previous trust kept").isSameAs(second);
  }
}
