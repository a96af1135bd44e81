package dev.tollgate.sidecar.provider.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.provider.StreamFraming;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import software.amazon.eventstream.HeaderValue;
import software.amazon.eventstream.Message;

/**
 * ConverseStream's framing: AWS event-stream frames, each an event (its {@code :event-type} and
 * JSON payload) or an exception the provider reports mid-stream, which fails the attempt.
 */
final class BedrockEventStream implements StreamFraming {
  private final EventStreamFramer frames;

  BedrockEventStream(int maxEventBytes) {
    this.frames = new EventStreamFramer(maxEventBytes);
  }

  @Override
  public void feed(ByteBuf content, Sink sink) {
    try {
      frames.feed(content, frame -> onFrame(frame, sink));
    } catch (ProxyException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ProxyException(
          ErrorKind.UPSTREAM_BAD_RESPONSE,
          "the provider's event stream is malformed: " + e.getMessage());
    }
  }

  private static void onFrame(Message frame, Sink sink) {
    HeaderValue type = frame.getHeaders().get(":message-type");
    String payload = new String(frame.getPayload(), StandardCharsets.UTF_8);
    if (type != null && !"event".equals(type.getString())) {
      HeaderValue which = frame.getHeaders().get(":exception-type");
      String name = which == null ? "error" : which.getString();
      JsonNode body = Json.parseOrNull(payload);
      String message = body == null ? name : body.path("message").asText(name);
      throw new ProxyException(
          "throttlingException".equals(name)
              ? ErrorKind.UPSTREAM_RATE_LIMITED
              : ErrorKind.UPSTREAM_ERROR,
          "the provider reported " + name + " mid-stream: " + message);
    }
    HeaderValue event = frame.getHeaders().get(":event-type");
    sink.onEvent(event == null ? null : event.getString(), payload);
  }
}
