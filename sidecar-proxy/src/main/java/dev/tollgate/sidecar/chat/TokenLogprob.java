package dev.tollgate.sidecar.chat;

import java.util.List;

/**
 * The log probability of one answer token, with the most likely alternatives at its place ({@code
 * top}, empty when none were asked for): OpenAI's {@code logprobs.content[]}, Gemini's {@code
 * logprobsResult} ({@code chosenCandidates} with {@code topCandidates}).
 */
public record TokenLogprob(String token, double logprob, List<TokenLogprob> top) {
  public TokenLogprob {
    top = top == null ? List.of() : List.copyOf(top);
  }
}
