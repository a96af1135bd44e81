package dev.tollgate.operator.batch;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback stand-in for OpenAI's Batch and Files API whose answers a test sets per path, in the
 * API reference's shapes (the batch object; file contents as JSONL "request output" lines). Paths
 * it has no answer for get OpenAI's 404. It records every request as {@code METHOD uri
 * Authorization api-key}.
 */
public final class OpenAiStub implements AutoCloseable {
  /** One answer. */
  public record Answer(int code, String body) {}

  /** A succeeded chat completion of gpt-4o: 1,000 prompt and 500 completion tokens. */
  public static final String OK_LINE =
      "{\"id\":\"batch_req_1\",\"custom_id\":\"request-1\",\"response\":{\"status_code\":200,"
          + "\"request_id\":\"req_1\",\"body\":{\"object\":\"chat.completion\",\"model\":\"gpt-4o\","
          + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"total_tokens\":1500}}},"
          + "\"error\":null}\n";

  /** A request that did not run before the window ended (OpenAI's {@code batch_expired}). */
  public static final String EXPIRED_LINE =
      "{\"id\":\"batch_req_2\",\"custom_id\":\"request-2\",\"response\":null,"
          + "\"error\":{\"code\":\"batch_expired\",\"message\":\"This request could not be executed"
          + " before the completion window expired.\"}}\n";

  private final HttpServer server;
  private final Map<String, Answer> answers = new ConcurrentHashMap<>();
  private final List<String> seen = new CopyOnWriteArrayList<>();

  private OpenAiStub() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  public static OpenAiStub start() throws IOException {
    return new OpenAiStub();
  }

  /** {@code http://127.0.0.1:<port>}. */
  public String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Answers {@code path} (without query) so from now on. */
  public void answer(String path, int code, String body) {
    answers.put(path, new Answer(code, body));
  }

  public void forget(String path) {
    answers.remove(path);
  }

  /** Every request so far: {@code METHOD uri Authorization api-key}. */
  public List<String> seen() {
    return seen;
  }

  /** A batch object as {@code GET /v1/batches/{id}} answers it. */
  public static String batch(String id, String status, String output, String error) {
    return "{\"id\":\""
        + id
        + "\",\"object\":\"batch\",\"endpoint\":\"/v1/chat/completions\","
        + "\"errors\":null,\"input_file_id\":\"file-in\",\"completion_window\":\"24h\","
        + "\"status\":\""
        + status
        + "\",\"output_file_id\":"
        + (output == null ? "null" : "\"" + output + "\"")
        + ",\"error_file_id\":"
        + (error == null ? "null" : "\"" + error + "\"")
        + ",\"created_at\":1711471533,\"request_counts\":{\"total\":4,\"completed\":2,"
        + "\"failed\":2},\"metadata\":null}";
  }

  private void handle(HttpExchange ex) throws IOException {
    seen.add(
        ex.getRequestMethod()
            + " "
            + ex.getRequestURI()
            + " "
            + ex.getRequestHeaders().getFirst("Authorization")
            + " "
            + ex.getRequestHeaders().getFirst("api-key"));
    Answer a =
        answers.getOrDefault(
            ex.getRequestURI().getPath(),
            new Answer(
                404,
                "{\"error\":{\"message\":\"No such object\",\"type\":\"invalid_request_error\","
                    + "\"param\":null,\"code\":null}}"));
    byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(a.code(), body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
