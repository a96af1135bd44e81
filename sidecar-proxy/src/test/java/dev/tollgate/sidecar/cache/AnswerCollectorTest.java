package dev.tollgate.sidecar.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.Usage;
import java.util.List;
import org.junit.jupiter.api.Test;

class AnswerCollectorTest {
  private static final ChatResponse ANSWER =
      new ChatResponse(
          "msg_1",
          "claude",
          List.of(
              new ChatRequest.Text("Let me look."),
              new ChatRequest.ToolCall("call_1", "lookup", "{\"q\":\"pw\"}"),
              new ChatRequest.ToolCall("call_2", "open", "{}")),
          FinishReason.TOOL_CALLS,
          new Usage(10, 5, 0, 0));

  @Test
  void aReplayedStreamCollectsBackIntoTheSameAnswer() {
    AnswerCollector c = new AnswerCollector(10_000);
    CacheReplay.events(ANSWER).forEach(c::accept);
    assertThat(c.response(ANSWER.usage())).isEqualTo(ANSWER);
  }

  @Test
  void deltasAreJoinedInOrder() {
    AnswerCollector c = new AnswerCollector(10_000);
    List.of(
            new StreamEvent.Start("id", "m"),
            new StreamEvent.TextDelta("Hel"),
            new StreamEvent.TextDelta("lo"),
            new StreamEvent.ToolCallStart(0, "c", "f"),
            new StreamEvent.ToolArgsDelta(0, "{\"a\":"),
            new StreamEvent.ToolArgsDelta(0, "1}"),
            new StreamEvent.Finish(FinishReason.TOOL_CALLS))
        .forEach(c::accept);
    assertThat(c.response(Usage.ZERO).content())
        .containsExactly(
            new ChatRequest.Text("Hello"), new ChatRequest.ToolCall("c", "f", "{\"a\":1}"));
  }

  @Test
  void aStreamWithoutAFinishOrTooBigIsNoAnswer() {
    AnswerCollector unfinished = new AnswerCollector(10_000);
    unfinished.accept(new StreamEvent.TextDelta("partial"));
    assertThat(unfinished.response(Usage.ZERO)).isNull();

    AnswerCollector big = new AnswerCollector(4);
    big.accept(new StreamEvent.TextDelta("too long"));
    big.accept(new StreamEvent.Finish(FinishReason.STOP));
    assertThat(big.response(Usage.ZERO)).isNull();
  }
}
