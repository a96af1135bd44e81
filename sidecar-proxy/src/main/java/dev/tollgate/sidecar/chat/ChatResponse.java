package dev.tollgate.sidecar.chat;

import java.util.List;

/** A complete (non-streamed) answer in provider-neutral form. */
public record ChatResponse(
    String id, String model, List<ChatRequest.Part> content, FinishReason finish, Usage usage) {

  public String text() {
    StringBuilder sb = new StringBuilder();
    for (ChatRequest.Part p : content) {
      if (p instanceof ChatRequest.Text t) {
        sb.append(t.text());
      }
    }
    return sb.toString();
  }
}
