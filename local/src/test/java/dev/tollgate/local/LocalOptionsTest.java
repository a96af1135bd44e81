package dev.tollgate.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;

class LocalOptionsTest {

  @Test
  void otlpTakesACollectorUrl() {
    assertThat(LocalOptions.parse().otlp()).isNull();
    assertThat(LocalOptions.parse("--otlp", "http://localhost:4318").otlp())
        .isEqualTo(URI.create("http://localhost:4318"));
    assertThatThrownBy(() -> LocalOptions.parse("--otlp", "localhost:4318"))
        .hasMessageContaining("--otlp expects an http(s) URL");
    assertThatThrownBy(() -> LocalOptions.parse("--otlp")).hasMessageContaining("needs a value");
    assertThat(LocalOptions.USAGE).contains("--otlp URL");
  }
}
