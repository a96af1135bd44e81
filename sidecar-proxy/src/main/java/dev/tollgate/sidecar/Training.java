package dev.tollgate.sidecar;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The training run of the image build ({@code java -XX:ArchiveClassesAtExit=… -jar
 * tollgate-sidecar.jar --train} on Java 17, {@code -XX:AOTCacheOutput=…} on Java 25): starts a
 * sidecar against a canned provider on loopback, sends it the common calls (OpenAI and Anthropic
 * callers, forwarded and translated, whole and streamed, plus probes and metrics), and exits, so
 * that the JVM writes the classes (and on 25 the linked classes and method profiles) the sidecar
 * uses into the archive the container then starts from. Nothing leaves the machine; no secret is
 * read.
 */
final class Training {
  private static final String OPENAI_ANSWER =
      """
      {"id":"chatcmpl-train","object":"chat.completion","created":1,"model":"gpt-4o-mini",\
      "choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},\
      "finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";
  private static final String OPENAI_STREAM =
      sse(
          null,
          """
          {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",\
          "choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]}""",
          """
          {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",\
          "choices":[{"index":0,"delta":{"content":"."},"finish_reason":"stop"}]}""",
          """
          {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],\
          "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""",
          "[DONE]");
  private static final String ANTHROPIC_ANSWER =
      """
      {"id":"msg_train","type":"message","role":"assistant","model":"claude-3-5-haiku-latest",\
      "content":[{"type":"text","text":"Hello."}],"stop_reason":"end_turn","stop_sequence":null,\
      "usage":{"input_tokens":5,"output_tokens":2}}""";
  private static final String ANTHROPIC_STREAM =
      sse(
          "message_start",
          """
          {"type":"message_start","message":{"id":"msg_train","type":"message","role":"assistant",\
          "model":"claude-3-5-haiku-latest","content":[],"stop_reason":null,"stop_sequence":null,\
          "usage":{"input_tokens":5,"output_tokens":1}}}""",
          "content_block_start",
          """
          {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
          "content_block_delta",
          """
          {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello."}}""",
          "content_block_stop",
          """
          {"type":"content_block_stop","index":0}""",
          "message_delta",
          """
          {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},\
          "usage":{"output_tokens":2}}""",
          "message_stop",
          """
          {"type":"message_stop"}""");

  private Training() {}

  /** Runs the training calls {@code rounds} times; throws when a call does not answer 200. */
  static void run(int rounds) throws Exception {
    Path dir = Files.createTempDirectory("tollgate-train");
    EventLoopGroup group = dev.tollgate.sidecar.runtime.Transport.current().newGroup(1);
    Sidecar sidecar = null;
    try {
      Channel provider = cannedProvider(group);
      int providerPort = ((InetSocketAddress) provider.localAddress()).getPort();
      Files.writeString(dir.resolve("key"), "training-key\n");
      Path config = dir.resolve("config.yaml");
      Files.writeString(
          config,
          """
          namespace: training
          server:
            port: 0
          routes:
            - model: o
              tiers:
                - name: main
                  targets: [{credential: openai, model: gpt-4o-mini}]
            - model: a
              tiers:
                - name: main
                  targets: [{credential: anthropic, model: claude-3-5-haiku-latest}]
          credentials:
            - {name: openai, provider: openai, endpoint: "http://127.0.0.1:%1$d/v1", apiKeyFile: "%2$s"}
            - {name: anthropic, provider: anthropic, endpoint: "http://127.0.0.1:%1$d", apiKeyFile: "%2$s"}
          """
              .formatted(providerPort, dir.resolve("key")));
      sidecar =
          Sidecar.start(config, 0, SidecarMain.eventLoops(System.getenv()), Duration.ofSeconds(2));
      var health =
          sidecar.serveHealth(new dev.tollgate.sidecar.config.HealthSettings("127.0.0.1", 0));
      int port = sidecar.port();
      List<String> failures = new ArrayList<>();
      for (int i = 0; i < rounds; i++) {
        for (String model : new String[] {"o", "a"}) {
          for (boolean stream : new boolean[] {false, true}) {
            String s = stream ? ",\"stream\":true" : "";
            call(
                port,
                "POST",
                "/v1/chat/completions",
                "{\"model\":\""
                    + model
                    + "\",\"max_tokens\":8"
                    + s
                    + (stream ? ",\"stream_options\":{\"include_usage\":true}" : "")
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                failures);
            call(
                port,
                "POST",
                "/v1/messages",
                "{\"model\":\""
                    + model
                    + "\",\"max_tokens\":8"
                    + s
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                failures);
          }
        }
        call(port, "GET", "/v1/models", null, failures);
        call(health.port(), "GET", "/readyz", null, failures);
        call(health.port(), "GET", "/metrics", null, failures);
      }
      if (!failures.isEmpty()) {
        throw new IllegalStateException("training calls failed: " + failures);
      }
    } finally {
      if (sidecar != null) {
        sidecar.shutdown(Duration.ZERO);
      }
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  /** One HTTP/1.1 call on a fresh connection; a status other than 200 is noted in failures. */
  private static void call(int port, String method, String path, String body, List<String> failures)
      throws IOException {
    byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          (method
                  + " "
                  + path
                  + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                  + "content-type: application/json\r\nanthropic-version: 2023-06-01\r\n"
                  + "content-length: "
                  + b.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(b);
      out.flush();
      InputStream in = s.getInputStream();
      String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      if (!answer.startsWith("HTTP/1.1 200")) {
        failures.add(
            method + " " + path + " " + body + " -> " + answer.lines().findFirst().orElse(""));
      }
    }
  }

  /** A provider on loopback that answers every call with a fixed OpenAI or Anthropic answer. */
  private static Channel cannedProvider(EventLoopGroup group) throws InterruptedException {
    return new ServerBootstrap()
        .group(group)
        .channel(dev.tollgate.sidecar.runtime.Transport.current().serverChannel())
        .childHandler(
            new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                ch.pipeline()
                    .addLast(new HttpServerCodec())
                    .addLast(new HttpObjectAggregator(1 << 20))
                    .addLast(
                        new SimpleChannelInboundHandler<FullHttpRequest>() {
                          @Override
                          protected void channelRead0(
                              ChannelHandlerContext ctx, FullHttpRequest req) {
                            boolean anthropic = req.uri().endsWith("/v1/messages");
                            boolean stream =
                                req.content()
                                    .toString(StandardCharsets.UTF_8)
                                    .replace(" ", "")
                                    .contains("\"stream\":true");
                            String text =
                                anthropic
                                    ? (stream ? ANTHROPIC_STREAM : ANTHROPIC_ANSWER)
                                    : (stream ? OPENAI_STREAM : OPENAI_ANSWER);
                            FullHttpResponse res =
                                new DefaultFullHttpResponse(
                                    HttpVersion.HTTP_1_1,
                                    HttpResponseStatus.OK,
                                    Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
                            res.headers()
                                .set(
                                    HttpHeaderNames.CONTENT_TYPE,
                                    stream ? "text/event-stream" : "application/json")
                                .setInt(
                                    HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
                            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
                          }
                        });
              }
            })
        .bind("127.0.0.1", 0)
        .sync()
        .channel();
  }

  /** Server-sent events: pairs of (event name or null, data) when named, else data lines only. */
  private static String sse(String first, String... rest) {
    StringBuilder b = new StringBuilder();
    if (first == null) {
      for (String data : rest) {
        b.append("data: ").append(data).append("\n\n");
      }
      return b.toString();
    }
    List<String> all = new ArrayList<>();
    all.add(first);
    all.addAll(List.of(rest));
    for (int i = 0; i + 1 < all.size(); i += 2) {
      b.append("event: ")
          .append(all.get(i))
          .append("\ndata: ")
          .append(all.get(i + 1))
          .append("\n\n");
    }
    return b.toString();
  }
}
