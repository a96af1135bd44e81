package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ResponseRelayTest {
  private static final SidecarConfig CFG = CallTestConfigs.config();
  private final EmbeddedChannel channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
  private final List<ProxyException> failures = new ArrayList<>();
  private final List<ChatResponse> wholeAnswers = new ArrayList<>();
  private int completions;
  private int decorated;

  private final ResponseRelay.Outcome outcome =
      new ResponseRelay.Outcome() {
        @Override
        public boolean finished() {
          return false;
        }

        @Override
        public void firstByte() {}

        @Override
        public void failed(ProxyException e) {
          failures.add(e);
        }

        @Override
        public boolean escalates(ChatResponse response) {
          wholeAnswers.add(response);
          return false;
        }

        @Override
        public void complete() {
          completions++;
        }

        @Override
        public void decorate(HttpHeaders headers) {
          decorated++;
          headers.set("x-request-id", "r1");
        }
      };

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  private ResponseRelay relay(ApiFormat caller, boolean stream, boolean wantsUsage, String cred) {
    CallState call = new CallState("r1", caller);
    call.cfg = CFG;
    call.stream = stream;
    call.callerWantsUsage = wantsUsage;
    ResponseRelay relay =
        new ResponseRelay(channel.pipeline().firstContext(), call, true, true, outcome);
    relay.attempt(Target.of(CFG.credential(cred).orElseThrow(), "m1", caller));
    return relay;
  }

  private static HttpResponse head(int status, String... headers) {
    HttpResponse h =
        new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
    for (int i = 0; i < headers.length; i += 2) {
      h.headers().set(headers[i], headers[i + 1]);
    }
    return h;
  }

  private static io.netty.buffer.ByteBuf bytes(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }

  private String written() {
    StringBuilder sb = new StringBuilder();
    Object o;
    while ((o = channel.readOutbound()) != null) {
      if (o instanceof HttpResponse r && !(o instanceof FullHttpResponse)) {
        sb.append("[head ").append(r.status().code()).append("]");
      }
      if (o instanceof HttpContent c) {
        sb.append(c.content().toString(StandardCharsets.UTF_8));
        if (o instanceof LastHttpContent && !(o instanceof FullHttpResponse)) {
          sb.append("[end]");
        }
      }
      io.netty.util.ReferenceCountUtil.release(o);
    }
    return sb.toString();
  }

  @Test
  void aForwardedOpenAiStreamHidesTheUsageChunkTheSidecarAskedForAndMetersIt() {
    ResponseRelay relay = relay(ApiFormat.OPENAI, true, false, "a");
    relay.onHead(head(200));
    relay.onContent(
        bytes(
            "data: {\"id\":\"c1\",\"model\":\"m1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"),
        false);
    relay.onContent(
        bytes(
            "data: {\"id\":\"c1\",\"model\":\"m1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                + "data: {\"id\":\"c1\",\"model\":\"m1\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\n"
                + "data: [DONE]\n\n"),
        true);
    String out = written();
    assertThat(out).startsWith("[head 200]data: {\"id\":\"c1\"").contains("\"content\":\"Hi\"");
    assertThat(out).doesNotContain("prompt_tokens").contains("data: [DONE]").endsWith("[end]");
    assertThat(failures).isEmpty();
    assertThat(completions).isEqualTo(1);
    assertThat(decorated).isEqualTo(1);
    assertThat(relay.usage().inputTokens()).isEqualTo(5);
    assertThat(relay.usageComplete()).isTrue();
    assertThat(relay.ttftNanos()).isNotNegative();
    assertThat(relay.answerText()).isEqualTo("Hi");
  }

  @Test
  void anAnthropicStreamIsTranslatedEventByEventForAnOpenAiCaller() {
    ResponseRelay relay = relay(ApiFormat.OPENAI, true, true, "b");
    relay.onHead(head(200));
    relay.onContent(
        bytes(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg1\",\"model\":\"m1\",\"usage\":{\"input_tokens\":7,\"output_tokens\":0}}}\n\n"
                + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
                + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Yo\"}}\n\n"),
        false);
    relay.onContent(
        bytes(
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\n"
                + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
        true);
    String out = written();
    assertThat(out).contains("chat.completion.chunk").contains("\"content\":\"Yo\"");
    assertThat(out).contains("\"prompt_tokens\":7").contains("data: [DONE]").endsWith("[end]");
    assertThat(relay.usage().outputTokens()).isEqualTo(2);
    assertThat(completions).isEqualTo(1);
  }

  @Test
  void anErrorStatusFailsTheAttemptWithTheProvidersMessageAndWait() {
    ResponseRelay relay = relay(ApiFormat.ANTHROPIC, false, false, "b");
    relay.onHead(head(429, "retry-after", "3"));
    relay.onContent(bytes("{\"type\":\"error\",\"error\":{\"message\":\"too fast\"}}"), true);
    assertThat(failures)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.kind()).isEqualTo(ErrorKind.UPSTREAM_RATE_LIMITED);
              assertThat(e.retryAfter()).isEqualTo("3");
              assertThat(e.getMessage()).endsWith("is rate limiting: too fast");
            });
    assertThat(relay.attemptWait()).hasSeconds(3);
    assertThat(relay.upstreamStatus()).isEqualTo(429);
    assertThat(relay.headersSent()).isFalse();
    assertThat(written()).isEmpty();
    relay.release();
  }

  @Test
  void aWholeAnswerIsOfferedToEscalationThenForwardedAsSent() {
    ResponseRelay relay = relay(ApiFormat.ANTHROPIC, false, false, "b");
    relay.onHead(head(200));
    String body =
        "{\"id\":\"msg1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m1\","
            + "\"content\":[{\"type\":\"text\",\"text\":\"Hello\"}],\"stop_reason\":\"end_turn\","
            + "\"usage\":{\"input_tokens\":4,\"output_tokens\":1}}";
    relay.onContent(bytes(body.substring(0, 20)), false);
    relay.onContent(bytes(body.substring(20)), true);
    assertThat(wholeAnswers)
        .singleElement()
        .satisfies(r -> assertThat(r.text()).isEqualTo("Hello"));
    FullHttpResponse out = channel.readOutbound();
    assertThat(out.content().toString(StandardCharsets.UTF_8)).isEqualTo(body);
    assertThat(out.headers().get("x-request-id")).isEqualTo("r1");
    out.release();
    assertThat(completions).isEqualTo(1);
    assertThat(relay.cacheable().text()).isEqualTo("Hello");
  }

  @Test
  void aWholeAnswerThatIsNotJsonIsABadResponse() {
    ResponseRelay relay = relay(ApiFormat.OPENAI, false, false, "a");
    relay.onHead(head(200));
    relay.onContent(bytes("<html>"), true);
    assertThat(failures)
        .singleElement()
        .satisfies(e -> assertThat(e.kind()).isEqualTo(ErrorKind.UPSTREAM_BAD_RESPONSE));
    assertThat(completions).isZero();
    relay.release();
  }
}
