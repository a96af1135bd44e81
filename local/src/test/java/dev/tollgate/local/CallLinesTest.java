package dev.tollgate.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.metering.CallLog;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code --verbose} shows each call's tokens and cost, as the README promises. */
class CallLinesTest {
  @Test
  void eachCallIsPrintedWithItsTokensAndCost() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CallLines.printTo(out);

    CallLog.write(
        CallRecord.builder()
            .requestId("req-1")
            .api("openai")
            .route("support-chat")
            .tier("cheap")
            .target("openai", "openai-main", "gpt-4o-mini")
            .outcome(200, null)
            .usage(new Usage(1200, 85, 0, 0), true)
            .cost(new Cost(new BigDecimal("0.000231"), true))
            .build());

    String line = out.toString(StandardCharsets.UTF_8);
    assertThat(line.lines()).hasSize(1);
    assertThat(line)
        .contains("\"route\":\"support-chat\"")
        .contains("\"model\":\"gpt-4o-mini\"")
        .contains("\"input_tokens\":1200")
        .contains("\"output_tokens\":85")
        .contains("\"cost_usd\":\"0.000231\"");
  }
}
