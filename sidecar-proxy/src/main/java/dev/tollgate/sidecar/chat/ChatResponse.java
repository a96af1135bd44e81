package dev.tollgate.sidecar.chat;

import java.util.List;

/**
 * A complete (non-streamed) answer in provider-neutral form; {@code logprobs} is null unless the
 * caller asked for log probabilities and the provider gave them.
 */
public record ChatResponse(
    String id,
    String model,
    List<ChatRequest.Part> content,
    FinishReason finish,
    Usage usage,
    List<TokenLogprob> logprobs) {

  /** An answer without log probabilities. */
  public ChatResponse(
      String id, String model, List<ChatRequest.Part> content, FinishReason finish, Usage usage) {
    this(id, model, content, finish, usage, null);
  }

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
