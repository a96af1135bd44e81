package dev.tollgate.sidecar.provider;

import dev.tollgate.sidecar.upstream.SseParser;
import io.netty.buffer.ByteBuf;

/** Server-sent events, the framing of every provider's streams but Bedrock's. */
final class SseFraming implements StreamFraming {
  private final SseParser parser;

  SseFraming(int maxEventBytes) {
    this.parser = new SseParser(maxEventBytes);
  }

  @Override
  public void feed(ByteBuf content, Sink sink) {
    parser.feed(content, sink::onEvent);
  }

  @Override
  public void finish(Sink sink) {
    parser.finish(sink::onEvent);
  }
}
