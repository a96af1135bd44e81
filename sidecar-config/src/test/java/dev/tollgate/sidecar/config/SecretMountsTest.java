package dev.tollgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SecretMountsTest {
  @Test
  void keyFileIsUnderTheSecretsDirectoryOfTheSecret() {
    assertThat(SecretMounts.keyFile("openai-api-key", "api-key"))
        .isEqualTo("/var/run/tollgate/secrets/openai-api-key/api-key");
    assertThat(SecretMounts.keyFile("/tmp/s/", "k", "v.txt")).isEqualTo("/tmp/s/k/v.txt");
  }

  @Test
  void rejectsNamesThatCouldEscapeTheDirectory() {
    assertThatThrownBy(() -> SecretMounts.keyFile("../etc", "passwd"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SecretMounts.keyFile("s", ".."))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SecretMounts.keyFile("s", "a/b"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void secretNameIsReadBackFromAKeyFile() {
    assertThat(SecretMounts.secretNameOf(SecretMounts.keyFile("openai-api-key", "api-key")))
        .contains("openai-api-key");
    assertThat(SecretMounts.secretNameOf("/etc/passwd")).isEmpty();
    assertThat(SecretMounts.secretNameOf("/var/run/tollgate/secrets/a/b/c")).isEmpty();
    assertThat(SecretMounts.secretNameOf(null)).isEmpty();
  }

  @Test
  void volumeNameIsAStableDnsLabel() {
    String name = SecretMounts.volumeName("a".repeat(253));
    assertThat(name).matches("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$");
    assertThat(SecretMounts.volumeName("x")).isEqualTo(SecretMounts.volumeName("x"));
    assertThat(SecretMounts.volumeName("x")).isNotEqualTo(SecretMounts.volumeName("y"));
  }
}
