package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.provider.ProviderAdapters;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class ProviderRequestTest {
  private static final CredentialConfig ANTHROPIC =
      CallTestConfigs.config().credential("b").orElseThrow();

  @Test
  void aJsonPostWithTheStandardHeadersAndTheProvidersAuthentication() {
    byte[] body = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    HttpHeaders caller =
        new DefaultHttpHeaders().set("anthropic-beta", "tools").set("x-other", "1");
    Supplier<FullHttpRequest> make =
        ProviderRequest.post(URI.create("http://127.0.0.1:9000/v1/messages?x=1"), body, true, "r1")
            .forwarding(caller, List.of("anthropic-version", "anthropic-beta"))
            .authenticated(ProviderAdapters.forProvider(ANTHROPIC.provider()), ANTHROPIC, "sk-test")
            .build();
    FullHttpRequest r = make.get();
    assertThat(r.method()).isEqualTo(HttpMethod.POST);
    assertThat(r.uri()).isEqualTo("/v1/messages?x=1");
    assertThat(r.headers().get("host")).isEqualTo("127.0.0.1:9000");
    assertThat(r.headers().get("accept")).isEqualTo("text/event-stream");
    assertThat(r.headers().get("content-type")).isEqualTo("application/json");
    assertThat(r.headers().get("content-length")).isEqualTo("7");
    assertThat(r.headers().get("x-request-id")).isEqualTo("r1");
    assertThat(r.headers().get("user-agent")).isEqualTo("tollgate-sidecar");
    assertThat(r.headers().get("anthropic-beta")).isEqualTo("tools");
    assertThat(r.headers().contains("x-other")).isFalse();
    assertThat(r.headers().get("x-api-key")).isEqualTo("sk-test");
    assertThat(r.headers().get("anthropic-version")).isEqualTo("2023-06-01");
    assertThat(r.content().toString(StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
    r.release();
    FullHttpRequest again = make.get();
    assertThat(again.content().readableBytes()).as("a fresh request per attempt").isEqualTo(7);
    again.release();
  }

  @Test
  void aWholeAnswerIsAskedForAsJsonWithoutAPortInHost() {
    FullHttpRequest r =
        ProviderRequest.post(URI.create("https://api.example.com/v1/chat"), new byte[0], false, "r")
            .build()
            .get();
    assertThat(r.headers().get("host")).isEqualTo("api.example.com");
    assertThat(r.headers().get("accept")).isEqualTo("application/json");
    r.release();
  }
}
