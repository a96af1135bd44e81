package dev.tollgate.operator.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.operator.ledger.ConfigMapLedgerStore;
import dev.tollgate.operator.webhook.WebhookTls;
import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The report endpoint against the attacks of issue #16, on loopback with the real server: any pod
 * can obtain a token and send a report, so a forged, negative, huge or foreign-pod report must be
 * refused with a clear error and change nothing, and junk tokens must not each cost a TokenReview.
 * No operator runs here: nothing but the report endpoint writes ConfigMaps, so "no ConfigMap
 * changed" means "the ledger was not touched". Each test uses its own namespace.
 */
@EnableKubernetesMockClient(crud = true)
class ReportAbuseIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger TESTS = new AtomicInteger();
  static KubernetesClient client;
  static WebhookTls tls;

  private final AtomicInteger reviews = new AtomicInteger();
  private final TokenReviewer counting =
      token -> {
        reviews.incrementAndGet();
        return new FakeTokenReviewer().review(token);
      };
  private final String ns = "victim-" + TESTS.incrementAndGet();
  private ReportChannel channel;
  private HttpClient https;
  private Map<String, String> before;

  @BeforeAll
  static void tls() {
    tls = WebhookTls.generate(List.of("localhost"), Duration.ofDays(1));
  }

  @AfterEach
  void close() {
    if (channel != null) {
      channel.close();
    }
  }

  private void start() throws Exception {
    channel =
        ReportChannel.start(
            new ReportChannel.Settings(
                0,
                Duration.ofMillis(100),
                Duration.ofSeconds(30),
                ConfigMapLedgerStore.DEFAULT_NAME),
            client,
            tls.serverContext(),
            counting,
            Clock.systemUTC());
    https = HttpClient.newBuilder().sslContext(tls.clientContextTrustingCa()).build();
    before = configMaps();
  }

  /** Every ConfigMap's namespace/name and resource version. */
  private static Map<String, String> configMaps() {
    Map<String, String> all = new java.util.TreeMap<>();
    client
        .configMaps()
        .inAnyNamespace()
        .list()
        .getItems()
        .forEach(
            c ->
                all.put(
                    c.getMetadata().getNamespace() + "/" + c.getMetadata().getName(),
                    c.getMetadata().getResourceVersion()));
    return all;
  }

  private static UsageReport.Line line(String cost, long requests) {
    return UsageReport.Line.builder("chat", "main", "openai", "gpt-4o", "monthly")
        .requests(requests)
        .inputTokens(10)
        .outputTokens(5)
        .costUsd(cost)
        .build();
  }

  private UsageReport report(String pod, String uid, long seq, UsageReport.Line... lines) {
    return UsageReport.builder(ns, pod, uid, "boot-1", seq, null).lines(List.of(lines)).build();
  }

  private HttpResponse<String> post(String token, Object report) throws Exception {
    byte[] body = report instanceof String s ? s.getBytes() : JSON.writeValueAsBytes(report);
    return https.send(
        HttpRequest.newBuilder(
                URI.create("https://localhost:" + channel.port() + ReportServer.PATH))
            .header("Authorization", "Bearer " + token)
            .timeout(Duration.ofSeconds(5))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private void assertLedgerUntouched() {
    assertThat(configMaps()).as("no ConfigMap (ledger) was written").isEqualTo(before);
  }

  @Test
  void aHugeExponentIsRefusedAtOnceNamingTheField() throws Exception {
    start();
    String token = FakeTokenReviewer.token(ns, "pod-a", "uid-a");
    HttpResponse<String> r = post(token, report("pod-a", "uid-a", 1, line("1E+100000", 1)));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("lines[0].costUsd").contains("1E+100000");
    assertThat(post(token, report("pod-a", "uid-a", 1, line("1E+10000000", 1))).statusCode())
        .isEqualTo(400);
    assertLedgerUntouched();
  }

  @Test
  void negativeMoneyAndCountsAreRefused() throws Exception {
    start();
    String token = FakeTokenReviewer.token(ns, "pod-a", "uid-a");
    HttpResponse<String> negative = post(token, report("pod-a", "uid-a", 1, line("-1000", 1)));
    assertThat(negative.statusCode()).isEqualTo(400);
    assertThat(negative.body()).contains("lines[0].costUsd");
    HttpResponse<String> count = post(token, report("pod-a", "uid-a", 1, line("0.01", -5)));
    assertThat(count.statusCode()).isEqualTo(400);
    assertThat(count.body()).contains("lines[0].requests");
    HttpResponse<String> huge =
        post(token, report("pod-a", "uid-a", 1, line("0.01", Long.MAX_VALUE)));
    assertThat(huge.statusCode()).isEqualTo(400);
    assertThat(huge.body()).contains("lines[0].requests");
    HttpResponse<String> tooBig = post(token, report("pod-a", "uid-a", 1, line("99999999999", 1)));
    assertThat(tooBig.statusCode()).isEqualTo(400);
    assertThat(tooBig.body()).contains("above the limit");
    UsageReport.CallerSpend negativeCaller =
        new UsageReport.CallerSpend("monthly", "alice", 1, "-3");
    HttpResponse<String> caller =
        post(
            token,
            UsageReport.builder(ns, "pod-a", "uid-a", "boot-1", 1, null)
                .callers(List.of(negativeCaller))
                .build());
    assertThat(caller.statusCode()).isEqualTo(400);
    assertThat(caller.body()).contains("callers[0].costUsd");
    String bigNumber =
        "{\"namespace\":\""
            + ns
            + "\",\"pod\":\"pod-a\",\"podUid\":\"uid-a\",\"bootId\":\"b\","
            + "\"sequence\":1,\"lines\":[{\"route\":\"chat\",\"requests\":1"
            + "0".repeat(5000)
            + ",\"costUsd\":\"0\"}]}";
    assertThat(post(token, bigNumber).statusCode()).isEqualTo(400);
    assertLedgerUntouched();
  }

  @Test
  void aReportMustComeFromTheTokensOwnPod() throws Exception {
    start();
    String token = FakeTokenReviewer.token(ns, "pod-a", "uid-a");
    HttpResponse<String> otherPod = post(token, report("pod-b", "uid-b", 1, line("0.01", 1)));
    assertThat(otherPod.statusCode()).isEqualTo(403);
    assertThat(otherPod.body()).contains("bound to pod pod-a");
    HttpResponse<String> otherUid = post(token, report("pod-a", "uid-other", 1, line("0.01", 1)));
    assertThat(otherUid.statusCode()).isEqualTo(403);
    assertThat(otherUid.body()).contains("UID uid-a");
    HttpResponse<String> noPod = post(token, report(null, "uid-a", 1, line("0.01", 1)));
    assertThat(noPod.statusCode()).isEqualTo(400);
    assertThat(noPod.body()).contains("pod: required");
    assertLedgerUntouched();

    // the honest report of the same pod goes through
    assertThat(post(token, report("pod-a", "uid-a", 1, line("0.0125", 1))).statusCode())
        .isEqualTo(200);
    assertThat(configMaps()).isNotEqualTo(before);
  }

  @Test
  void aFloodOfGarbageTokensCostsOneTokenReview() throws Exception {
    start();
    for (int i = 0; i < 200; i++) {
      HttpResponse<String> r = post("garbage", report("pod-a", "uid-a", 1));
      assertThat(r.statusCode()).isEqualTo(401);
    }
    assertThat(reviews.get()).isEqualTo(1);
    // a valid token is reviewed once and then served from the cache
    String token = FakeTokenReviewer.token(ns, "pod-a", "uid-a");
    for (int seq = 1; seq <= 5; seq++) {
      assertThat(post(token, report("pod-a", "uid-a", seq)).statusCode()).isEqualTo(200);
    }
    assertThat(reviews.get()).isEqualTo(2);
  }

  @Test
  void onePodCannotFloodTheEndpoint() throws Exception {
    start();
    String token = FakeTokenReviewer.token(ns, "pod-a", "uid-a");
    int limited = 0;
    for (int i = 0; i < 60; i++) {
      // invalid on purpose: rate limiting comes before parsing and costs no ledger write
      HttpResponse<String> r = post(token, report("pod-a", "uid-a", 0));
      if (r.statusCode() == 429) {
        limited++;
        assertThat(r.headers().firstValue("Retry-After")).isPresent();
      }
    }
    assertThat(limited).isPositive();
    // another pod is not affected
    assertThat(
            post(FakeTokenReviewer.token(ns, "pod-b", "uid-b"), report("pod-b", "uid-b", 1))
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void theConfigurationEndpointNeedsAPodBoundTokenToo() throws Exception {
    start();
    HttpResponse<String> r =
        https.send(
            HttpRequest.newBuilder(URI.create("https://localhost:" + channel.port() + "/v1/config"))
                .header("Authorization", "Bearer garbage")
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("pod-bound");
  }
}
