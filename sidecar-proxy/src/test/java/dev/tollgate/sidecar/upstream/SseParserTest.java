package dev.tollgate.sidecar.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseParserTest {
  private final List<String> events = new ArrayList<>();
  private final SseParser.Handler handler = (e, d) -> events.add(e + "|" + d);

  private void feed(SseParser p, byte[] bytes) {
    p.feed(Unpooled.wrappedBuffer(bytes), handler);
  }

  @Test
  void eventsSplitAnywhereIncludingInsideAUtf8Character() {
    byte[] all =
        "event: a\ndata: h\u00e9llo\n\n: comment\r\ndata: {\"x\":1}\r\n\r\n"
            .getBytes(StandardCharsets.UTF_8);
    SseParser p = new SseParser(1024);
    for (byte b : all) {
      feed(p, new byte[] {b});
    }
    assertThat(events).containsExactly("a|h\u00e9llo", "null|{\"x\":1}");
  }

  @Test
  void multiLineDataIsJoinedAndAFinalEventWithoutBlankLineIsKept() {
    SseParser p = new SseParser(1024);
    feed(p, "data: one\ndata: two\n\ndata: [DONE]".getBytes(StandardCharsets.UTF_8));
    p.finish(handler);
    assertThat(events).containsExactly("null|one\ntwo", "null|[DONE]");
  }

  @Test
  void fieldsWithoutSpaceOrValueLongLinesAndIgnoredFieldsAreReadAsTheSpecSays() {
    SseParser p = new SseParser(4096);
    String longData = "y".repeat(1000);
    feed(
        p,
        ("id: 7\nretry: 10\nevent:e\ndata:" + longData + "\n\ndata\n\nevents: x\ndata: z\n\n")
            .getBytes(StandardCharsets.UTF_8));
    assertThat(events).containsExactly("e|" + longData, "null|", "null|z");
  }

  @Test
  void oversizedEventIsRefused() {
    SseParser p = new SseParser(16);
    assertThatThrownBy(() -> feed(p, ("data: " + "x".repeat(40)).getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalStateException.class);
  }
}
