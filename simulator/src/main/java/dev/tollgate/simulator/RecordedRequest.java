package dev.tollgate.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * A request the simulator received, kept so tests can check what the proxy sent upstream.
 *
 * @param headers lower-case header names to values (last value wins)
 * @param body the parsed JSON body, or null when the body was empty or not JSON
 */
public record RecordedRequest(
    String method, String uri, Map<String, String> headers, JsonNode body) {

  public String header(String name) {
    return headers.get(name.toLowerCase(java.util.Locale.ROOT));
  }
}
