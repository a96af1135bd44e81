package dev.tollgate.simulator;

/** A way the simulated provider misbehaves. */
public enum Fault {
  /** Answer normally. */
  NONE,
  /** 429 with {@code Retry-After} and the provider's rate-limit error body. */
  RATE_LIMITED,
  /** 500 with the provider's error body. */
  SERVER_ERROR,
  /** 503 (OpenAI, Gemini) or 529 (Anthropic): provider overloaded. */
  OVERLOADED,
  /** Accept the request, then reset the TCP connection without answering. */
  RESET,
  /** Stream half of the answer (status 200, some events), then close the connection. */
  BREAK_STREAM,
  /** Answer 200 with a body that is not JSON (or SSE data that is not JSON). */
  GARBAGE,
  /** Non-streamed: send the headers and half of the JSON body, then close. */
  TRUNCATED_BODY,
  /** Accept the request and never answer (timeouts). */
  STALL,
  /** 400 with the provider's error body: a request the provider rejects (never worth a retry). */
  BAD_REQUEST,
  /**
   * 400 whose error message quotes the key and Authorization header the request presented, as some
   * providers and gateways do: the sidecar must not pass the key on.
   */
  ECHO_KEY
}
