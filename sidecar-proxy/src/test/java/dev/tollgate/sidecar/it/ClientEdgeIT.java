package dev.tollgate.sidecar.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Callers at the edges of HTTP: announced bodies over the limit, and callers gone at once. */
class ClientEdgeIT {
  private static TestBed bed;

  @BeforeAll
  static void start() throws Exception {
    bed = TestBed.start();
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @BeforeEach
  void reset() {
    bed.sim.reset();
  }

  @ParameterizedTest
  @CsvSource({
    "/v1/chat/completions, '\"error\":{\"message\":\"the request body is larger', too_large",
    "/v1/messages, '\"type\":\"error\",\"error\":{\"type\":\"request_too_large\"', larger than"
  })
  void anExpectContinueOverTheLimitGetsTheCallersFormat(String path, String shape, String words)
      throws Exception {
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST "
                  + path
                  + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + "Expect: 100-continue\r\nContent-Length: 10000000\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

      assertThat(response)
          .startsWith("HTTP/1.1 413")
          .contains("content-type: application/json")
          .contains(shape)
          .contains(words)
          .doesNotContain("100 Continue");
    }
  }

  /**
   * A caller that sends its whole body, over the limit, without waiting (as the SDKs do): it reads
   * the 413, not a reset, although the sidecar answers before the body has arrived.
   */
  @Test
  void aBodyOverTheLimitStillBeingSentGetsThe413NotAReset() throws Exception {
    int length = 8 * 1024 * 1024;
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + "Content-Length: "
                  + length
                  + "\r\n\r\n{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"")
              .getBytes(StandardCharsets.US_ASCII));
      byte[] piece = new byte[16 * 1024];
      java.util.Arrays.fill(piece, (byte) 'a');
      try {
        for (int sent = 0; sent < length; sent += piece.length) {
          out.write(piece);
        }
        out.flush();
      } catch (java.io.IOException closedWhileSending) {
        // the sidecar answered and stopped reading: read its answer
      }
      String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

      assertThat(response)
          .startsWith("HTTP/1.1 413")
          .contains("the request body is larger than the sidecar's limit");
    }
  }

  @Test
  void anExpectContinueUnderTheLimitIsServed() throws Exception {
    String body = "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + "Connection: close\r\nExpect: 100-continue\r\nContent-Length: "
                  + body.length()
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] cont = new byte[25];
      assertThat(new String(cont, 0, in.readNBytes(cont, 0, 25), StandardCharsets.US_ASCII))
          .startsWith("HTTP/1.1 100 Continue");
      out.write(body.getBytes(StandardCharsets.UTF_8));
      out.flush();
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).contains("HTTP/1.1 200");
    }
  }

  /**
   * The caller sends its whole request and at once shuts down its side, or closes: the sidecar sees
   * the end of its input right after the request, before any provider is asked, and asks none.
   */
  @ParameterizedTest
  @CsvSource({"oa, false, true", "oa, true, true", "an, false, false", "an, true, false"})
  void aCallerGoneRightAfterItsRequestCausesNoProviderCall(
      String route, boolean stream, boolean shutdownOnly) throws Exception {
    String body =
        "{\"model\":\""
            + route
            + "\",\"stream\":"
            + stream
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    for (int i = 0; i < 20; i++) {
      try (Socket s = connect()) {
        s.getOutputStream()
            .write(
                ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: application/json\r\nContent-Length: "
                        + body.length()
                        + "\r\n\r\n"
                        + body)
                    .getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        if (shutdownOnly) {
          s.shutdownOutput();
          s.getInputStream().readAllBytes(); // the sidecar closes its side
        }
      }
    }
    Thread.sleep(500);

    // Best effort, by design: the barrier holds when the caller's end of input arrives before the
    // sidecar's next poll of the socket. The test's client writes its request and its FIN in two
    // system calls, so on a loaded machine the sidecar may wake between them and dispatch (seen: 1
    // to 3 of 20 in full builds at load 16). Before the fix every one of the 20 reached the
    // provider; a barrier that stopped working would let most of them through again.
    assertThat(bed.sim.stats().requests()).isLessThan(10);
    // still serving, and a caller that stays is answered
    assertThat(
            bed.post(
                    "/v1/chat/completions",
                    "{\"model\":\"oa\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .statusCode())
        .isEqualTo(200);
  }

  private static Socket connect() throws Exception {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", bed.sidecar.port()));
    s.setSoTimeout(10_000);
    return s;
  }
}
