package dev.tollgate.sidecar.call;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class StoredResponsesTest {

  @Test
  void aPinExpiresAfterItsTimeToLive() {
    AtomicLong nanos = new AtomicLong();
    StoredResponses s = new StoredResponses(nanos::get);
    s.pin("resp_1", "openai-b");
    assertThat(s.credentialOf("resp_1")).isEqualTo("openai-b");
    nanos.addAndGet(StoredResponses.TTL.plus(Duration.ofSeconds(1)).toNanos());
    assertThat(s.credentialOf("resp_1")).isNull();
  }

  @Test
  void onlyIdsShapedLikeAProvidersAreKept() {
    StoredResponses s = new StoredResponses();
    s.pin("resp/../x", "a");
    s.pin("r".repeat(129), "a");
    s.pin(null, "a");
    assertThat(s.credentialOf("resp/../x")).isNull();
    assertThat(s.credentialOf("r".repeat(129))).isNull();
  }

  @Test
  void thePathsOfAStoredResponseNameIt() {
    assertThat(StoredResponses.idInPath("/v1/responses/resp_1")).isEqualTo("resp_1");
    assertThat(StoredResponses.idInPath("/v1/responses/resp_1/cancel")).isEqualTo("resp_1");
    assertThat(StoredResponses.idInPath("/v1/responses/resp_1/input_items")).isEqualTo("resp_1");
    assertThat(StoredResponses.idInPath("/v1/responses")).isNull();
    assertThat(StoredResponses.idInPath("/v1/files/file_1")).isNull();
  }
}
