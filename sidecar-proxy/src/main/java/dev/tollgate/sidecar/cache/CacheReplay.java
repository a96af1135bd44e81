package dev.tollgate.sidecar.cache;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.format.CallerFormat;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.StreamEncoder;
import java.util.ArrayList;
import java.util.List;

/**
 * Serves a cached answer in the caller's format: as one JSON body, or as the SSE stream the
 * provider would have sent, written by the same encoders that translate live streams. The answer's
 * usage is the original call's (what the answer took to produce); the {@code x-tollgate-cache: hit}
 * header says that nothing was spent this time.
 */
public final class CacheReplay {
  private CacheReplay() {}

  /** The whole answer as a JSON body. */
  public static ObjectNode body(ApiFormat format, CachedAnswer a) {
    ChatResponse r = named(a);
    return CallerFormat.of(format).renderResponse(r);
  }

  /**
   * The whole answer as SSE text: start, text and tool calls, finish, usage, end.
   *
   * @param includeUsage an OpenAI caller asked for the usage chunk ({@code stream_options})
   */
  public static String stream(ApiFormat format, CachedAnswer a, boolean includeUsage) {
    StreamEncoder encoder = CallerFormat.of(format).streamEncoder(includeUsage);
    StringBuilder sb = new StringBuilder();
    for (StreamEvent e : events(named(a))) {
      sb.append(encoder.encode(e));
    }
    return sb.toString();
  }

  /** The neutral events of a live stream that would have carried {@code r}. */
  static List<StreamEvent> events(ChatResponse r) {
    List<StreamEvent> out = new ArrayList<>();
    Usage u = r.usage();
    out.add(new StreamEvent.Start(r.id(), r.model()));
    out.add(
        new StreamEvent.UsageUpdate(
            u.inputTokens(), u.outputTokens(), u.cacheReadTokens(), u.cacheWriteTokens()));
    int tool = 0;
    for (ChatRequest.Part p : r.content()) {
      if (p instanceof ChatRequest.Text t) {
        out.add(new StreamEvent.TextDelta(t.text()));
      } else if (p instanceof ChatRequest.ToolCall c) {
        out.add(new StreamEvent.ToolCallStart(tool, c.id(), c.name()));
        out.add(new StreamEvent.ToolArgsDelta(tool, c.argumentsJson()));
        tool++;
      }
    }
    out.add(new StreamEvent.Finish(r.finish()));
    out.add(new StreamEvent.End());
    return out;
  }

  private static ChatResponse named(CachedAnswer a) {
    ChatResponse r = a.response();
    String model = r.model() == null || r.model().isEmpty() ? a.model() : r.model();
    return new ChatResponse(r.id(), model, r.content(), r.finish(), r.usage());
  }
}
