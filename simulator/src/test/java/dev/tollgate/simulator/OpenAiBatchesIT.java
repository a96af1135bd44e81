package dev.tollgate.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** OpenAI Files and Batches in the simulator, over HTTP as a client sends them. */
class OpenAiBatchesIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static ProviderSimulator sim;

  @BeforeAll
  static void start() throws Exception {
    sim = ProviderSimulator.start();
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  @BeforeEach
  void reset() {
    sim.reset();
  }

  private static HttpResponse<String> send(String method, String path, String type, byte[] body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(sim.baseUrl() + path))
            .header("authorization", "Bearer k")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    if (type != null) {
      b.header("content-type", type);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  static String line(String id, String url, String model, int maxTokens) {
    return "{\"custom_id\":\""
        + id
        + "\",\"method\":\"POST\",\"url\":\""
        + url
        + "\",\"body\":{\"model\":\""
        + model
        + "\",\"max_tokens\":"
        + maxTokens
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n";
  }

  /** Uploads {@code jsonl} as OpenAI's SDKs do: multipart with {@code purpose} and {@code file}. */
  static HttpResponse<String> upload(String jsonl) throws Exception {
    String multipart =
        "--b\r\ncontent-disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
            + "--b\r\ncontent-disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
            + "content-type: application/octet-stream\r\n\r\n"
            + jsonl
            + "\r\n--b--\r\n";
    return send(
        "POST",
        "/v1/files",
        "multipart/form-data; boundary=b",
        multipart.getBytes(StandardCharsets.UTF_8));
  }

  private static HttpResponse<String> createBatch(String fileId, String endpoint) throws Exception {
    String body =
        "{\"input_file_id\":\""
            + fileId
            + "\",\"endpoint\":\""
            + endpoint
            + "\",\"completion_window\":\"24h\"}";
    return send("POST", "/v1/batches", "application/json", body.getBytes(StandardCharsets.UTF_8));
  }

  private static List<JsonNode> lines(String jsonl) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String l : jsonl.split("\n")) {
      if (!l.isBlank()) {
        out.add(JSON.readTree(l));
      }
    }
    return out;
  }

  @Test
  void anUploadIsStoredAndABatchOfItCompletesWithOutputAndErrorFiles() throws Exception {
    StringBuilder jsonl = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      jsonl.append(line("r" + i, "/v1/chat/completions", "gpt-4o-mini", i == 0 ? 5 : 1000));
    }
    JsonNode file = json(upload(jsonl.toString()));
    assertThat(file.get("object").asText()).isEqualTo("file");
    assertThat(file.get("purpose").asText()).isEqualTo("batch");
    assertThat(file.get("filename").asText()).isEqualTo("in.jsonl");
    assertThat(file.get("bytes").asInt()).isEqualTo(jsonl.length());
    String fileId = file.get("id").asText();
    assertThat(json(send("GET", "/v1/files/" + fileId, null, null)).get("id").asText())
        .isEqualTo(fileId);
    assertThat(send("GET", "/v1/files/" + fileId + "/content", null, null).body())
        .isEqualTo(jsonl.toString());

    // in progress until the test ends the wait (the delay is read at each look), so that no slow
    // moment between creating the batch and reading it can find it already completed
    sim.batchDelay(Duration.ofHours(1));
    JsonNode created = json(createBatch(fileId, "/v1/chat/completions"));
    assertThat(created.get("object").asText()).isEqualTo("batch");
    assertThat(created.get("status").asText()).isEqualTo("validating");
    assertThat(created.get("input_file_id").asText()).isEqualTo(fileId);
    String id = created.get("id").asText();
    JsonNode running = json(send("GET", "/v1/batches/" + id, null, null));
    assertThat(running.get("status").asText()).isEqualTo("in_progress");
    assertThat(running.get("output_file_id").isNull()).isTrue();

    sim.batchDelay(Duration.ZERO);
    JsonNode done = json(send("GET", "/v1/batches/" + id, null, null));
    assertThat(done.get("status").asText()).isEqualTo("completed");
    assertThat(done.at("/request_counts/total").asInt()).isEqualTo(8);
    assertThat(done.at("/request_counts/completed").asInt()).isEqualTo(6);
    assertThat(done.at("/request_counts/failed").asInt()).isEqualTo(2);

    List<JsonNode> out =
        lines(
            send("GET", "/v1/files/" + done.get("output_file_id").asText() + "/content", null, null)
                .body());
    assertThat(out)
        .extracting(l -> l.get("custom_id").asText())
        .containsExactly("r0", "r1", "r2", "r4", "r5", "r6");
    JsonNode first = out.get(0);
    assertThat(first.at("/response/status_code").asInt()).isEqualTo(200);
    assertThat(first.at("/response/body/object").asText()).isEqualTo("chat.completion");
    assertThat(first.at("/response/body/model").asText()).isEqualTo("gpt-4o-mini");
    assertThat(first.at("/response/body/usage/prompt_tokens").asInt()).isEqualTo(100);
    assertThat(first.at("/response/body/usage/completion_tokens").asInt()).isEqualTo(5);
    assertThat(out.get(1).at("/response/body/usage/completion_tokens").asInt()).isEqualTo(20);
    assertThat(first.get("error").isNull()).isTrue();

    List<JsonNode> errors =
        lines(
            send("GET", "/v1/files/" + done.get("error_file_id").asText() + "/content", null, null)
                .body());
    assertThat(errors).extracting(l -> l.get("custom_id").asText()).containsExactly("r3", "r7");
    assertThat(errors.get(0).at("/response/status_code").asInt()).isEqualTo(500);
    assertThat(errors.get(0).at("/response/body/error/type").asText()).isEqualTo("server_error");

    JsonNode list = json(send("GET", "/v1/batches?limit=5", null, null));
    assertThat(list.at("/data/0/id").asText()).isEqualTo(id);
  }

  @Test
  void createIsRefusedAsOpenAiRefusesIt() throws Exception {
    String fileId =
        json(upload(line("a", "/v1/chat/completions", "gpt-4o-mini", 5))).get("id").asText();
    HttpResponse<String> unknown = createBatch("file-sim-999", "/v1/chat/completions");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(json(unknown).at("/error/param").asText()).isEqualTo("input_file_id");
    HttpResponse<String> endpoint = createBatch(fileId, "/v1/audio/speech");
    assertThat(endpoint.statusCode()).isEqualTo(400);
    assertThat(json(endpoint).at("/error/type").asText()).isEqualTo("invalid_request_error");
    HttpResponse<String> missing =
        send(
            "POST",
            "/v1/batches",
            "application/json",
            "{\"endpoint\":\"/v1/embeddings\"}".getBytes());
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(json(missing).at("/error/message").asText()).contains("input_file_id");
  }

  @Test
  void aBatchWhoseLinesBreakTheRulesFails() throws Exception {
    String jsonl =
        line("a", "/v1/chat/completions", "gpt-4o-mini", 5)
            + line("b", "/v1/embeddings", "gpt-4o-mini", 5);
    String fileId = json(upload(jsonl)).get("id").asText();
    String id = json(createBatch(fileId, "/v1/chat/completions")).get("id").asText();
    JsonNode failed = json(send("GET", "/v1/batches/" + id, null, null));
    assertThat(failed.get("status").asText()).isEqualTo("failed");
    assertThat(failed.at("/errors/data/0/line").asInt()).isEqualTo(2);
    assertThat(failed.at("/errors/data/0/code").asText()).isEqualTo("mismatched_endpoint");
    assertThat(failed.get("output_file_id").isNull()).isTrue();
  }

  @Test
  void aBatchCancelledInFlightIsCancellingThenCancelled() throws Exception {
    String fileId =
        json(upload(line("a", "/v1/chat/completions", "gpt-4o-mini", 5))).get("id").asText();
    sim.batchDelay(Duration.ofMinutes(5));
    String id = json(createBatch(fileId, "/v1/chat/completions")).get("id").asText();
    JsonNode cancelling = json(send("POST", "/v1/batches/" + id + "/cancel", null, null));
    assertThat(cancelling.get("status").asText()).isEqualTo("cancelling");
    JsonNode cancelled = json(send("GET", "/v1/batches/" + id, null, null));
    assertThat(cancelled.get("status").asText()).isEqualTo("cancelled");
    assertThat(cancelled.get("output_file_id").isNull()).isTrue();
  }

  @Test
  void unstoredIdsKeepTheirSyntheticContent() throws Exception {
    assertThat(send("GET", "/v1/files/file-abc/content", null, null).body())
        .hasSize(ResourceEndpoints.FILE_CONTENT_BYTES);
    assertThat(send("GET", "/v1/files/file-sim-77/content", null, null).statusCode())
        .isEqualTo(404);
  }
}
