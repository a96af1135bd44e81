package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.errors.BadRequestException;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseRetrieveParams;
import dev.tollgate.sidecar.wire.Json;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Stored Responses API responses are pinned to the credential that created them: a follow-up with
 * {@code previous_response_id} and {@code GET /v1/responses/{id}} reach that account only, even
 * when the route or the namespace has several OpenAI credentials; what the sidecar cannot place is
 * a 400 in Responses format, never a guess.
 */
class StoredResponsesIT {
  private static final String ROUTES =
      """
        - model: at-b
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers: [{name: main, targets: [{credential: openai-b, model: gpt-4o-mini}]}]
        - model: both
          retry: {attempts: 0}
          circuitBreaker: {minRequests: 100000}
          tiers:
            - name: main
              targets:
                - {credential: openai, model: gpt-4o-mini, weight: 50}
                - {credential: openai-b, model: gpt-4o-mini, weight: 50}
      """;

  /** A second OpenAI account: its key (the Anthropic test key's file) tells the two apart. */
  private static final String SECOND =
      """
        - {name: openai-b, provider: openai, endpoint: "%1$s/v1", apiKeyFile: "%2$s/anthropic.key"}
      """;

  private static TestBed bed;
  private static OpenAIClient client;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start(ROUTES, SECOND);
    client = SdkClients.openAi(bed.sidecar.baseUrl(), "app-key-never-forwarded");
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  private static ResponseCreateParams.Builder params(String route) {
    return ResponseCreateParams.builder().model(route).input("Say something.").maxOutputTokens(20);
  }

  private static String createdAtB() {
    Response r = client.responses().create(params("at-b").build());
    assertThat(bed.sim.lastRequest().header("authorization"))
        .isEqualTo("Bearer " + TestBed.ANTHROPIC_KEY);
    return r.id();
  }

  @Test
  void aFollowUpGoesOnlyToTheAccountThatHoldsThePreviousResponse() {
    String id = createdAtB();
    for (int i = 0; i < 6; i++) {
      client.responses().create(params("both").previousResponseId(id).build());
      assertThat(bed.sim.lastRequest().header("authorization"))
          .as("follow-up %d", i)
          .isEqualTo("Bearer " + TestBed.ANTHROPIC_KEY);
      assertThat(bed.sim.lastRequest().body().path("previous_response_id").asText()).isEqualTo(id);
    }
  }

  @Test
  void retrievingAStoredResponseGoesToItsAccountAmongSeveral() {
    String id = createdAtB();
    Response again =
        client.responses().retrieve(ResponseRetrieveParams.builder().responseId(id).build());
    assertThat(again.id()).isEqualTo(id);
    assertThat(bed.sim.lastRequest().uri()).isEqualTo("/v1/responses/" + id);
    assertThat(bed.sim.lastRequest().header("authorization"))
        .isEqualTo("Bearer " + TestBed.ANTHROPIC_KEY);
  }

  @Test
  void anUnknownResponseAmongSeveralAccountsIsNotGuessed() throws Exception {
    HttpResponse<String> r = bed.get("/v1/responses/resp_unknown_here");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("none is the passthrough default");

    assertThatThrownBy(
            () ->
                client
                    .responses()
                    .create(params("both").previousResponseId("resp_unknown_here").build()))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("previous_response_id resp_unknown_here is unknown to this sidecar")
        .hasMessageContaining("openai, openai-b");
    assertThat(bed.sim.stats().requests()).isZero();
  }

  @Test
  void anUnknownResponseOnASingleAccountRouteIsForwardedForTheProviderToAnswer() {
    client.responses().create(params("oa").previousResponseId("resp_from_another_pod").build());
    assertThat(bed.sim.lastRequest().header("authorization"))
        .isEqualTo("Bearer " + TestBed.OPENAI_KEY);
  }

  @Test
  void aFollowUpOnARouteThatNoLongerReachesTheAccountIsA400() throws Exception {
    String id = createdAtB();
    bed.sim.reset();
    HttpResponse<String> r =
        bed.post(
            "/v1/responses",
            "{\"model\":\"oa\",\"input\":\"more\",\"previous_response_id\":\"" + id + "\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    JsonNode e = Json.parseOrNull(r.body()).path("error");
    assertThat(e.path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(e.path("message").asText())
        .contains("is held by credential openai-b")
        .contains("route oa");
    assertThat(bed.sim.stats().requests()).isZero();
  }
}
