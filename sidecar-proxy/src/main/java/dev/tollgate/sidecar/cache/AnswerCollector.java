package dev.tollgate.sidecar.cache;

import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.StreamEvent;
import dev.tollgate.sidecar.chat.Usage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rebuilds a whole answer from the neutral events of a stream as they pass to the caller, so that a
 * streamed answer can be cached. Text and tool calls keep their order; an answer bigger than {@code
 * maxChars} is given up on (it would not fit the cache anyway).
 */
public final class AnswerCollector {
  private final long maxChars;
  private final List<Object> parts = new ArrayList<>(); // StringBuilder or ToolBuilder
  private final Map<Integer, ToolBuilder> tools = new LinkedHashMap<>();
  private String id;
  private String model;
  private FinishReason finish;
  private long chars;
  private boolean overflow;

  private static final class ToolBuilder {
    final String id;
    final String name;
    final StringBuilder args = new StringBuilder();

    ToolBuilder(String id, String name) {
      this.id = id;
      this.name = name;
    }
  }

  public AnswerCollector(long maxChars) {
    this.maxChars = maxChars;
  }

  public void accept(StreamEvent e) {
    if (overflow) {
      return;
    }
    if (e instanceof StreamEvent.Start s) {
      id = s.id() == null ? id : s.id();
      model = s.model() == null ? model : s.model();
    } else if (e instanceof StreamEvent.TextDelta t) {
      grow(t.text().length());
      if (!parts.isEmpty() && parts.get(parts.size() - 1) instanceof StringBuilder sb) {
        sb.append(t.text());
      } else {
        parts.add(new StringBuilder(t.text()));
      }
    } else if (e instanceof StreamEvent.ToolCallStart c) {
      ToolBuilder b = new ToolBuilder(c.id(), c.name());
      tools.put(c.index(), b);
      parts.add(b);
    } else if (e instanceof StreamEvent.ToolArgsDelta a) {
      ToolBuilder b = tools.get(a.index());
      if (b == null) {
        overflow = true; // arguments for a call that never started: not an answer to keep
        return;
      }
      grow(a.json().length());
      b.args.append(a.json());
    } else if (e instanceof StreamEvent.Finish f) {
      finish = f.reason();
    }
  }

  private void grow(int n) {
    chars += n;
    if (chars > maxChars) {
      overflow = true;
      parts.clear();
      tools.clear();
    }
  }

  /** The answer, or null when the stream did not say how it finished or was too big. */
  public ChatResponse response(Usage usage) {
    if (overflow || finish == null) {
      return null;
    }
    List<ChatRequest.Part> content = new ArrayList<>();
    for (Object p : parts) {
      if (p instanceof StringBuilder sb) {
        content.add(new ChatRequest.Text(sb.toString()));
      } else if (p instanceof ToolBuilder b) {
        content.add(new ChatRequest.ToolCall(b.id, b.name, b.args.toString()));
      }
    }
    return new ChatResponse(
        id == null ? "" : id, model == null ? "" : model, content, finish, usage);
  }
}
