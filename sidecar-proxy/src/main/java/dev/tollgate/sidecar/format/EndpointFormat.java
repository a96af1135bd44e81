package dev.tollgate.sidecar.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.UnservedEndpoint;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;

/**
 * A caller endpoint beside chat (embeddings, legacy completions, token counting): routed by the
 * route alias in {@code model} like chat, but never parsed into the neutral chat form. A provider
 * serves it through its adapter for that endpoint ({@link ProviderAdapter#endpoint}); a provider
 * without one refuses it with a 400 that says which providers can.
 */
abstract class EndpointFormat implements CallerFormat {
  private final ApiFormat api;
  private final UnservedEndpoint unserved;
  private final String noun;

  /**
   * @param endpoint method and path, e.g. {@code POST /v1/embeddings}
   * @param hint what to do instead, for the refusal when no provider of the route serves it
   * @param noun what the endpoint's calls are, for internal errors ("embeddings")
   */
  EndpointFormat(ApiFormat api, String endpoint, String hint, String noun) {
    this.api = api;
    this.unserved = new UnservedEndpoint(endpoint, hint);
    this.noun = noun;
  }

  @Override
  public final ApiFormat api() {
    return api;
  }

  @Override
  public final ProviderAdapter adapterFor(ProviderAdapter provider) {
    ProviderAdapter a = provider.endpoint(api);
    return a != null ? a : unserved;
  }

  @Override
  public final ChatRequest parseRequest(JsonNode body) {
    throw new ProxyException(ErrorKind.INTERNAL, noun + " requests are never translated");
  }

  /** The provider's JSON answer, kept whole as a cached answer's text, replayed as it came. */
  static ObjectNode cachedJson(ChatResponse response, String noun) {
    JsonNode n = Json.parseOrNull(response.text());
    if (n instanceof ObjectNode o) {
      return o;
    }
    throw new ProxyException(ErrorKind.INTERNAL, "a cached " + noun + " is not JSON");
  }
}
