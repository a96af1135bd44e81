package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RouteResolverTest {
  private static final SidecarConfig CFG = CallTestConfigs.config();

  private static ProxyException refusal(String body) {
    try {
      RouteResolver.body(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    } catch (ProxyException e) {
      return e;
    }
    throw new AssertionError("accepted " + body);
  }

  @Test
  void theBodyMustBeAJsonObject() {
    assertThat(refusal("").getMessage()).contains("has no body");
    assertThat(refusal("{nope").getMessage()).startsWith("the request body is not valid JSON");
    assertThat(refusal("[1]").getMessage()).isEqualTo("the request body must be a JSON object");
    assertThat(refusal("[1]").kind()).isEqualTo(ErrorKind.INVALID_REQUEST);
    assertThat(
            RouteResolver.body(Unpooled.copiedBuffer("{\"model\":\"x\"}", StandardCharsets.UTF_8))
                .path("model")
                .asText())
        .isEqualTo("x");
  }

  @Test
  void theModelNamesTheRouteElseTheDefaultRoute() {
    assertThat(RouteResolver.route(CFG, Json.object().put("model", "limited")).model())
        .isEqualTo("limited");
    assertThat(RouteResolver.route(CFG, Json.object().put("model", "gpt-4o")).model())
        .isEqualTo("chat");
    assertThatThrownBy(() -> RouteResolver.route(CFG, Json.object()))
        .isInstanceOf(ProxyException.class)
        .hasMessageStartingWith("'model' is required: it names the route to use, one of [chat,");
  }

  @Test
  void theLoggedPromptIsTheLastUserMessageInEitherFormat() throws Exception {
    assertThat(
            RouteResolver.lastUserText(
                Json.MAPPER.readTree(
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"first\"},"
                        + "{\"role\":\"assistant\",\"content\":\"a\"},"
                        + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"},"
                        + "{\"type\":\"text\",\"text\":\"y\"}]}]}")))
        .isEqualTo("xy");
    assertThat(RouteResolver.clip("abcdef", 3)).isEqualTo("abc...");
  }
}
