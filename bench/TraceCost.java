import dev.tollgate.sidecar.chat.Usage;
import dev.tollgate.sidecar.metering.CallRecord;
import dev.tollgate.sidecar.metering.Cost;
import dev.tollgate.sidecar.trace.CallTrace;
import dev.tollgate.sidecar.trace.Tracing;
import dev.tollgate.sidecar.trace.TracingSettings;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.net.URI;
import java.util.Map;

/**
 * The sidecar's tracing cost per call in isolation: the span lifecycle of a one-attempt chat call
 * (what bench/tracing-overhead.sh sends), paced at RATE calls/s on one thread, exported over
 * OTLP/HTTP to the endpoint in OTEL_EXPORTER_OTLP_ENDPOINT; prints the process CPU per call with
 * tracing on minus the same loop with tracing off. A quick A/B aid for the exporter and attribute
 * choices; the overhead itself is measured by bench/tracing-overhead.sh.
 *
 * usage: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 java -cp sidecar-proxy/target/tollgate-sidecar.jar
 *     bench/TraceCost.java [calls per round (60000)] [rate (3000)] [rounds (5)]
 */
public class TraceCost {
  public static void main(String[] a) throws Exception {
    int n = a.length > 0 ? Integer.parseInt(a[0]) : 60_000;
    int rate = a.length > 1 ? Integer.parseInt(a[1]) : 3_000;
    JsonNode body =
        new ObjectMapper()
            .readTree("{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":8}");
    Tracing on = Tracing.start(TracingSettings.fromEnv(System.getenv()));
    Tracing off = Tracing.off();
    URI url = URI.create("http://127.0.0.1:19091/v1");
    int rounds = a.length > 2 ? Integer.parseInt(a[2]) : 5;
    double minOff = Double.MAX_VALUE;
    double minOn = Double.MAX_VALUE;
    for (int round = 0; round <= rounds; round++) {
      long dropped = on.droppedSpans();
      double offUs = run(off, n / 2, rate, body, url);
      double onUs = run(on, n, rate, body, url);
      dropped = on.droppedSpans() - dropped;
      System.out.printf(
          "round %d: off %.2f µs/call, on %.2f µs/call, dropped %d%s%n",
          round, offUs, onUs, dropped, round == 0 ? " (warm-up, not counted)" : "");
      if (round > 0 && dropped == 0) {
        minOff = Math.min(minOff, offUs);
        minOn = Math.min(minOn, onUs);
      }
    }
    // the least CPU a round took: contention from other processes only ever adds
    System.out.printf(
        "min over rounds without drops: off %.2f, on %.2f, tracing %.2f µs/call%n",
        minOff, minOn, minOn - minOff);
    on.close();
  }

  static double run(Tracing t, int n, int rate, JsonNode body, URI url) throws Exception {
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    var threads = ManagementFactory.getThreadMXBean();
    long cpu0 = os.getProcessCpuTime();
    long own0 = threads.getCurrentThreadCpuTime();
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      HttpHeaders in = new DefaultHttpHeaders();
      CallTrace c = t.call(in, "chat");
      c.request("req-" + i, "bench", "bench", body);
      c.attributed(null);
      c.attemptStarted(1, false, "openai", "sim", "gpt-4o-mini", url);
      HttpHeaders out = new DefaultHttpHeaders();
      c.inject(out);
      c.attemptEnded(null, 200);
      CallRecord r =
          CallRecord.builder()
              .requestId("req-" + i)
              .route("bench")
              .tier("main")
              .target("openai", "sim", "gpt-4o-mini")
              .outcome(200, null)
              .usage(new Usage(9, 8, 0, 0), true)
              .cost(new Cost(new BigDecimal("0.0000061"), true))
              .timing(1_000_000, -1)
              .finishReason("stop")
              .upstreamStatus(200)
              .build();
      c.end(r, null, null);
      if ((i & 63) == 63) {
        long due = t0 + (long) (i * 1e9 / rate);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
      }
    }
    double own = (threads.getCurrentThreadCpuTime() - own0) / 1000.0 / n;
    t.flush(10_000);
    double all = (os.getProcessCpuTime() - cpu0) / 1000.0 / n;
    if (t.enabled()) {
      System.out.printf("  on: %.2f µs/call on the calling thread, %.2f in the process%n", own, all);
    }
    return all;
  }
}
