package dev.tollgate.sidecar.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.ChatRequest;
import dev.tollgate.sidecar.chat.ChatResponse;
import dev.tollgate.sidecar.chat.FinishReason;
import dev.tollgate.sidecar.chat.Usage;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Answers read back from a shared cache (Redis) are untrusted: another tenant, or anyone who can
 * write to the Redis, may have written them. A forged cost or token count must be a miss, never a
 * number the sidecar meters.
 */
class CachedAnswerTrustTest {
  private static final String GOOD =
      "{\"v\":1,\"id\":\"x\",\"responseModel\":\"m\",\"finish\":\"STOP\",\"usage\":[10,5,0,0],"
          + "\"content\":[{\"text\":\"hi\"}],\"tier\":\"main\",\"provider\":\"openai\","
          + "\"credential\":\"openai\",\"model\":\"gpt-4o\",\"costUsd\":%s}";

  private static CachedAnswer read(String costJson) {
    return CachedAnswer.fromBytes(String.format(GOOD, costJson).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void anHonestEntryReadsBack() {
    assertThat(read("\"0.000125\"").costUsd()).isEqualByComparingTo("0.000125");
    assertThat(read("null").costUsd()).isNull();
  }

  @Test
  void aForgedCostIsAMiss() {
    assertThat(read("\"1E+100000\"")).isNull();
    assertThat(read("\"-1000\"")).isNull();
    assertThat(read("\"1e-999999999\"")).isNull();
    assertThat(read("12")).isNotNull(); // a JSON number in the money format reads as its text
  }

  @Test
  void negativeOrNonNumericCountsAreAMiss() {
    String negative = String.format(GOOD, "\"0.01\"").replace("[10,5,0,0]", "[-10,5,0,0]");
    String text = String.format(GOOD, "\"0.01\"").replace("[10,5,0,0]", "[\"x\",5,0,0]");
    String huge =
        String.format(GOOD, "\"0.01\"").replace("[10,5,0,0]", "[1" + "0".repeat(30) + ",5,0,0]");
    for (String s : List.of(negative, text, huge)) {
      assertThat(CachedAnswer.fromBytes(s.getBytes(StandardCharsets.UTF_8))).as(s).isNull();
    }
  }

  @Test
  void whatTheSidecarWritesItReadsBack() {
    CachedAnswer a =
        new CachedAnswer(
            new ChatResponse(
                "id", "m", List.of(new ChatRequest.Text("t")), FinishReason.STOP, Usage.ZERO),
            "main",
            "openai",
            "openai",
            "gpt-4o-mini",
            new BigDecimal("0.00000016875"));
    assertThat(CachedAnswer.fromBytes(a.toBytes())).isEqualTo(a);
  }
}
