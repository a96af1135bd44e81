package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.config.SidecarConfigCodec;
import dev.tollgate.sidecar.upstream.UpstreamBrokenException;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

class UpstreamErrorsTest {
  private static final CredentialConfig ANTHROPIC =
      CallTestConfigs.config().credential("b").orElseThrow();

  private static ProxyException of(int status) {
    return UpstreamErrors.ofStatus(status, ANTHROPIC, "it said no", "7");
  }

  @Test
  void eachStatusIsAKindTheCallerAndTheRetryPolicyUnderstand() {
    assertThat(of(429).kind()).isEqualTo(ErrorKind.UPSTREAM_RATE_LIMITED);
    assertThat(of(429).status()).isEqualTo(429);
    assertThat(of(429).retryAfter()).isEqualTo("7");
    assertThat(of(429).getMessage())
        .isEqualTo("provider anthropic (credential b) is rate limiting: it said no");
    assertThat(of(401).kind()).isEqualTo(ErrorKind.UPSTREAM_AUTH);
    assertThat(of(403).getMessage()).contains("(HTTP 403); check the credential's Secret");
    assertThat(of(503).kind()).isEqualTo(ErrorKind.UPSTREAM_OVERLOADED);
    assertThat(of(529).status()).as("Anthropic's overloaded").isEqualTo(503);
    assertThat(of(529).retryAfter()).isEqualTo("7");
    assertThat(of(404).kind()).isEqualTo(ErrorKind.UPSTREAM_REJECTED);
    assertThat(of(404).status()).isEqualTo(404);
    assertThat(of(413).status()).isEqualTo(413);
    assertThat(of(422).status()).isEqualTo(422);
    assertThat(of(418).status()).isEqualTo(400);
    assertThat(of(418).retryAfter()).isNull();
    assertThat(of(500).kind()).isEqualTo(ErrorKind.UPSTREAM_ERROR);
    assertThat(of(500).getMessage())
        .isEqualTo("provider anthropic (credential b) failed (HTTP 500): it said no");
    assertThat(UpstreamErrors.ofStatus(502, ANTHROPIC, null, null).getMessage())
        .endsWith("failed (HTTP 502)");
  }

  @Test
  void aBrokenStreamIsNotABrokenConnection() {
    UpstreamBrokenException broken = new UpstreamBrokenException("connection closed mid-answer");
    assertThat(UpstreamErrors.ofTransport(broken, true, ANTHROPIC).kind())
        .isEqualTo(ErrorKind.UPSTREAM_STREAM_BROKEN);
    assertThat(UpstreamErrors.ofTransport(broken, false, ANTHROPIC).kind())
        .isEqualTo(ErrorKind.UPSTREAM_BAD_RESPONSE);
    ProxyException refused =
        UpstreamErrors.ofTransport(new ConnectException("refused"), true, ANTHROPIC);
    assertThat(refused.kind()).isEqualTo(ErrorKind.UPSTREAM_CONNECT);
    assertThat(refused.getMessage())
        .isEqualTo("cannot reach provider anthropic of credential b: refused");
  }

  @Test
  void theConfigurationParses() throws Exception {
    assertThat(SidecarConfigCodec.read(CallTestConfigs.YAML).routes()).isNotEmpty();
  }
}
