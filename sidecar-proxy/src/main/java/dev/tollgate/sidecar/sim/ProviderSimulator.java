package dev.tollgate.sidecar.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.eventstream.HeaderValue;
import software.amazon.eventstream.Message;

/**
 * A fake of the OpenAI, Anthropic and Gemini HTTP APIs, streaming and not, for tests, local mode
 * and benchmarks. It answers with deterministic text ({@code t0 t1 t2 ...}), reports the usage its
 * {@link SimulatorBehavior} says, can misbehave in every way the proxy must survive, and counts the
 * tokens it served. Everything runs on its own Netty event loop; delays are scheduled, never slept.
 *
 * <p>Paths: any path ending in {@code /chat/completions} speaks OpenAI (Azure's deployment paths
 * included), {@code /messages} speaks Anthropic, {@code :generateContent} and {@code
 * :streamGenerateContent} speak Gemini, {@code /model/{id}/converse[-stream]} speaks Bedrock
 * (streams as AWS event-stream frames), and {@code GET .../models} lists models.
 */
public final class ProviderSimulator implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int RECORDED_MAX = 64;

  /** The access token the simulated OAuth endpoint ({@code POST /token}) hands out. */
  public static final String VERTEX_TOKEN = "ya29.simulated-vertex-token";

  private final EventLoopGroup group;
  private final Channel serverChannel;
  private final boolean tls;
  private volatile SimulatorBehavior behavior = SimulatorBehavior.defaults();
  private volatile String requiredApiKey;
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong tokenRequests = new AtomicLong();
  private final AtomicLong answered = new AtomicLong();
  private final AtomicLong inputTokens = new AtomicLong();
  private final AtomicLong outputTokens = new AtomicLong();
  private final AtomicLong cacheRead = new AtomicLong();
  private final AtomicLong cacheWrite = new AtomicLong();
  private final ConcurrentLinkedDeque<RecordedRequest> recorded = new ConcurrentLinkedDeque<>();
  private final SimulatedPromptCache promptCache = new SimulatedPromptCache();
  private volatile boolean promptCaching;

  private ProviderSimulator(String host, int port, int threads, SslContext tls)
      throws InterruptedException {
    this.tls = tls != null;
    group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
    serverChannel =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (tls != null) {
                      ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
                    }
                    ch.pipeline()
                        .addLast("http-codec", new HttpServerCodec())
                        .addLast("aggregator", new HttpObjectAggregator(16 * 1024 * 1024))
                        .addLast("simulator", new SimHandler());
                  }
                })
            .bind(host, port)
            .sync()
            .channel();
  }

  /** Starts a simulator on {@code 127.0.0.1} and an ephemeral port. */
  public static ProviderSimulator start() throws InterruptedException {
    return start("127.0.0.1", 0, 1);
  }

  public static ProviderSimulator start(String host, int port, int threads)
      throws InterruptedException {
    return new ProviderSimulator(host, port, threads, null);
  }

  /** Starts a simulator that speaks HTTPS with {@code tls} (a server context). */
  public static ProviderSimulator startTls(SslContext tls) throws InterruptedException {
    return new ProviderSimulator("127.0.0.1", 0, 1, tls);
  }

  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** {@code http://127.0.0.1:<port>} (https when started with TLS) */
  public String baseUrl() {
    return (tls ? "https" : "http") + "://127.0.0.1:" + port();
  }

  public SimulatorBehavior behavior() {
    return behavior;
  }

  public void behavior(SimulatorBehavior newBehavior) {
    this.behavior = newBehavior;
  }

  /**
   * Report cache reads and writes as the providers would (see {@link SimulatedPromptCache}) instead
   * of the fixed numbers of the behaviour; off by default.
   */
  public void simulatePromptCaching(boolean on) {
    this.promptCaching = on;
    promptCache.clear();
  }

  /** Answer 401 unless requests carry this key (in the header the provider uses); null: any key. */
  public void requireApiKey(String key) {
    this.requiredApiKey = key;
  }

  public SimulatorStats stats() {
    return new SimulatorStats(
        requests.get(),
        answered.get(),
        inputTokens.get(),
        outputTokens.get(),
        cacheRead.get(),
        cacheWrite.get());
  }

  /** How many access tokens the simulated OAuth endpoint handed out. */
  public long tokenRequests() {
    return tokenRequests.get();
  }

  /** The most recent request, or null. */
  public RecordedRequest lastRequest() {
    return recorded.peekLast();
  }

  /** Back to default behaviour, zero counts, no recorded requests. */
  public void reset() {
    behavior = SimulatorBehavior.defaults();
    requiredApiKey = null;
    for (AtomicLong a :
        List.of(requests, answered, inputTokens, outputTokens, cacheRead, cacheWrite)) {
      a.set(0);
    }
    recorded.clear();
    promptCaching = false;
    promptCache.clear();
  }

  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private enum Api {
    OPENAI,
    ANTHROPIC,
    GEMINI,
    BEDROCK
  }

  /** One call: the decoded request plus what to answer. */
  private record Call(
      Api api,
      boolean stream,
      boolean includeUsage,
      String model,
      int input,
      int output,
      boolean truncated,
      boolean toolCall,
      SimulatorBehavior b,
      int cacheRead,
      int cacheWrite) {}

  private final class SimHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      requests.incrementAndGet();
      String body = req.content().toString(StandardCharsets.UTF_8);
      JsonNode json = parse(body);
      record(req, json);
      QueryStringDecoder qs = new QueryStringDecoder(req.uri());
      String path = qs.path();
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      if (req.method().equals(HttpMethod.GET) && path.endsWith("/models")) {
        ObjectNode list = JSON.createObjectNode().put("object", "list");
        list.putArray("data").addObject().put("id", "sim-model").put("object", "model");
        sendJson(ctx, HttpResponseStatus.OK, list, keepAlive);
        return;
      }
      if (req.method().equals(HttpMethod.POST) && path.equals("/token")) {
        // an OAuth token endpoint, as a service-account key's token_uri (Vertex AI)
        tokenRequests.incrementAndGet();
        ObjectNode token = JSON.createObjectNode().put("access_token", VERTEX_TOKEN);
        token.put("expires_in", 3600).put("token_type", "Bearer");
        sendJson(ctx, HttpResponseStatus.OK, token, keepAlive);
        return;
      }
      Api api;
      if (path.endsWith("/chat/completions")) {
        api = Api.OPENAI;
      } else if (path.endsWith("/messages")
          || path.contains(":rawPredict")
          || path.contains(":streamRawPredict")) {
        api = Api.ANTHROPIC;
      } else if (path.contains(":generateContent") || path.contains(":streamGenerateContent")) {
        api = Api.GEMINI;
      } else if (path.startsWith("/model/")
          && (path.endsWith("/converse") || path.endsWith("/converse-stream"))) {
        api = Api.BEDROCK;
      } else {
        sendJson(
            ctx, HttpResponseStatus.NOT_FOUND, error(Api.OPENAI, 404, "no such path"), keepAlive);
        return;
      }
      if (!req.method().equals(HttpMethod.POST)) {
        sendJson(
            ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, error(api, 405, "use POST"), keepAlive);
        return;
      }
      if (!authorized(api, req, qs)) {
        sendJson(
            ctx, HttpResponseStatus.UNAUTHORIZED, error(api, 401, "invalid api key"), keepAlive);
        return;
      }
      if (json == null) {
        sendJson(
            ctx, HttpResponseStatus.BAD_REQUEST, error(api, 400, "body is not JSON"), keepAlive);
        return;
      }
      if (api == Api.BEDROCK
          && json.toString().contains("\"cachePoint\"")
          && !SimulatedPromptCache.bedrockCaches(modelOf(api, path, json))) {
        // as Bedrock does for a model without prompt caching
        sendJson(
            ctx,
            HttpResponseStatus.BAD_REQUEST,
            error(
                api,
                400,
                "You invoked an unsupported model or your request did not allow prompt caching."),
            keepAlive);
        return;
      }
      SimulatorBehavior b = behavior;
      Call call = call(api, path, json, body.length(), b, promptCacheHit(api, path, json));
      Fault fault =
          b.fault() != Fault.NONE && ThreadLocalRandom.current().nextDouble() < b.faultRate()
              ? b.fault()
              : Fault.NONE;
      long delay = b.timeToFirstToken().toMillis();
      ctx.executor()
          .schedule(() -> answer(ctx, call, fault, keepAlive), delay, TimeUnit.MILLISECONDS);
    }

    private void answer(ChannelHandlerContext ctx, Call call, Fault fault, boolean keepAlive) {
      switch (fault) {
        case RATE_LIMITED -> {
          FullHttpResponse r =
              jsonResponse(
                  HttpResponseStatus.TOO_MANY_REQUESTS, error(call.api(), 429, "rate limited"));
          r.headers().set(HttpHeaderNames.RETRY_AFTER, call.b().retryAfterSeconds());
          send(ctx, r, keepAlive);
        }
        case SERVER_ERROR ->
            sendJson(
                ctx,
                HttpResponseStatus.INTERNAL_SERVER_ERROR,
                error(call.api(), 500, "internal error"),
                keepAlive);
        case OVERLOADED ->
            sendJson(
                ctx,
                call.api() == Api.ANTHROPIC
                    ? new HttpResponseStatus(529, "Overloaded")
                    : HttpResponseStatus.SERVICE_UNAVAILABLE,
                error(call.api(), call.api() == Api.ANTHROPIC ? 529 : 503, "overloaded"),
                keepAlive);
        case RESET -> {
          ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
          ctx.close();
        }
        case STALL -> {
          // never answer; the client's timeout must fire
        }
        case BAD_REQUEST ->
            sendJson(
                ctx,
                HttpResponseStatus.BAD_REQUEST,
                error(call.api(), 400, "this request is invalid"),
                keepAlive);
        case GARBAGE -> {
          if (call.stream()) {
            startStream(ctx, call);
            ctx.writeAndFlush(sse(null, "this is {not json"));
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
                .addListener(ChannelFutureListener.CLOSE);
          } else {
            FullHttpResponse r =
                new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1,
                    HttpResponseStatus.OK,
                    Unpooled.copiedBuffer("<html>gateway says hi</html>", StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html");
            send(ctx, r, keepAlive);
          }
        }
        default -> {
          countAnswered(call);
          if (call.stream()) {
            stream(ctx, call, fault == Fault.BREAK_STREAM, keepAlive);
          } else {
            sendFull(ctx, call, fault == Fault.TRUNCATED_BODY, keepAlive);
          }
        }
      }
    }

    private void sendFull(
        ChannelHandlerContext ctx, Call call, boolean truncate, boolean keepAlive) {
      ObjectNode body =
          switch (call.api()) {
            case OPENAI -> openAiFull(call);
            case ANTHROPIC -> anthropicFull(call);
            case GEMINI -> geminiFull(call);
            case BEDROCK -> bedrockFull(call);
          };
      if (truncate) {
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers()
            .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
            .set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        ctx.write(head);
        ctx.writeAndFlush(
                new DefaultHttpContent(Unpooled.wrappedBuffer(bytes, 0, bytes.length / 2)))
            .addListener(ChannelFutureListener.CLOSE);
        outputTokens.addAndGet(call.output() / 2);
        return;
      }
      outputTokens.addAndGet(call.output());
      sendJson(ctx, HttpResponseStatus.OK, body, keepAlive);
    }

    private void stream(
        ChannelHandlerContext ctx, Call call, boolean breakHalfway, boolean keepAlive) {
      List<Frame> frames =
          switch (call.api()) {
            case OPENAI -> openAiStream(call);
            case ANTHROPIC -> anthropicStream(call);
            case GEMINI -> geminiStream(call);
            case BEDROCK -> bedrockStream(call);
          };
      startStream(ctx, call);
      int tps = call.b().tokensPerSecond();
      long intervalMicros = tps > 0 ? 1_000_000L / tps : 0;
      int stopAt = breakHalfway ? Math.max(1, frames.size() / 2) : frames.size();
      sendFrames(ctx, frames, 0, stopAt, intervalMicros, breakHalfway, keepAlive);
    }

    private void sendFrames(
        ChannelHandlerContext ctx,
        List<Frame> frames,
        int from,
        int stopAt,
        long intervalMicros,
        boolean broken,
        boolean keepAlive) {
      int i = from;
      while (i < stopAt) {
        Frame f = frames.get(i);
        ctx.writeAndFlush(
            f.binary() ? eventStreamFrame(f.event(), f.data()) : sse(f.event(), f.data()));
        outputTokens.addAndGet(f.tokens());
        i++;
        if (f.tokens() > 0 && intervalMicros > 0 && i < stopAt) {
          int next = i;
          ctx.executor()
              .schedule(
                  () -> sendFrames(ctx, frames, next, stopAt, intervalMicros, broken, keepAlive),
                  intervalMicros,
                  TimeUnit.MICROSECONDS);
          return;
        }
      }
      if (broken) {
        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
        ctx.close();
        return;
      }
      ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
          .addListener(
              keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
    }

    private void startStream(ChannelHandlerContext ctx, Call call) {
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      head.headers()
          .set(
              HttpHeaderNames.CONTENT_TYPE,
              call.api() == Api.BEDROCK
                  ? "application/vnd.amazon.eventstream"
                  : "text/event-stream")
          .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
          .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      ctx.writeAndFlush(head);
    }

    private boolean authorized(Api api, FullHttpRequest req, QueryStringDecoder qs) {
      String key =
          switch (api) {
            case OPENAI -> {
              String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
              String azure = req.headers().get("api-key");
              yield azure != null
                  ? azure
                  : auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
            }
            case ANTHROPIC ->
                bearer(req) != null
                    ? bearer(req)
                    : req.headers().contains("anthropic-version")
                        ? req.headers().get("x-api-key")
                        : null;
            case BEDROCK -> {
              String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
              yield auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
            }
            case GEMINI -> {
              String h = req.headers().get("x-goog-api-key");
              List<String> q = qs.parameters().get("key");
              yield h != null ? h : q != null ? q.get(0) : bearer(req);
            }
          };
      String required = requiredApiKey;
      return key != null && !key.isEmpty() && (required == null || required.equals(key));
    }

    private static String bearer(FullHttpRequest req) {
      String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
      return auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private void record(FullHttpRequest req, JsonNode json) {
    Map<String, String> headers = new LinkedHashMap<>();
    req.headers().forEach(e -> headers.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
    recorded.add(new RecordedRequest(req.method().name(), req.uri(), headers, json));
    while (recorded.size() > RECORDED_MAX) {
      recorded.pollFirst();
    }
  }

  private void countAnswered(Call call) {
    answered.incrementAndGet();
    inputTokens.addAndGet(call.input());
    cacheRead.addAndGet(call.cacheRead());
    cacheWrite.addAndGet(call.cacheWrite());
  }

  /** Cache reads and writes from the simulated provider cache, or null when it is off. */
  private SimulatedPromptCache.Hit promptCacheHit(Api api, String path, JsonNode json) {
    if (!promptCaching) {
      return null;
    }
    String model = modelOf(api, path, json);
    return switch (api) {
      case ANTHROPIC -> promptCache.marked(model, json, false);
      case BEDROCK -> promptCache.marked(model, json, true);
      case OPENAI -> promptCache.automatic(model, json, false, true);
      case GEMINI -> promptCache.automatic(model, json, true, false);
    };
  }

  private static String modelOf(Api api, String path, JsonNode json) {
    return switch (api) {
      case GEMINI -> path.substring(path.lastIndexOf('/') + 1, path.lastIndexOf(':'));
      case BEDROCK ->
          java.net.URLDecoder.decode(
              path.substring("/model/".length(), path.lastIndexOf('/')), StandardCharsets.UTF_8);
      default ->
          path.contains("Predict")
              ? path.substring(path.lastIndexOf('/') + 1, path.lastIndexOf(':'))
              : json.path("model").asText("unknown");
    };
  }

  private static Call call(
      Api api,
      String path,
      JsonNode json,
      int bodyBytes,
      SimulatorBehavior b,
      SimulatedPromptCache.Hit hit) {
    boolean stream =
        switch (api) {
          case GEMINI -> path.contains(":streamGenerateContent");
          case BEDROCK -> path.endsWith("/converse-stream");
          default -> json.path("stream").asBoolean();
        };
    boolean includeUsage = json.path("stream_options").path("include_usage").asBoolean();
    String model = modelOf(api, path, json);
    int max =
        switch (api) {
          case OPENAI ->
              json.has("max_completion_tokens")
                  ? json.path("max_completion_tokens").asInt()
                  : json.path("max_tokens").asInt(Integer.MAX_VALUE);
          case ANTHROPIC -> json.path("max_tokens").asInt(Integer.MAX_VALUE);
          case GEMINI ->
              json.path("generationConfig").path("maxOutputTokens").asInt(Integer.MAX_VALUE);
          case BEDROCK -> json.path("inferenceConfig").path("maxTokens").asInt(Integer.MAX_VALUE);
        };
    int output = Math.min(b.outputTokens(), max);
    int cacheRead = hit != null ? hit.read() : b.cacheReadTokens();
    // only Anthropic and Bedrock report cache writes
    int cacheWrite =
        api != Api.ANTHROPIC && api != Api.BEDROCK
            ? 0
            : hit != null ? hit.write() : b.cacheWriteTokens();
    int input =
        b.inputTokens() != null
            ? b.inputTokens()
            : Math.max(1, bodyBytes / 4 - (hit != null ? hit.read() + hit.write() : 0));
    JsonNode tools =
        api == Api.BEDROCK ? json.path("toolConfig").path("tools") : json.path("tools");
    boolean hasTools = tools.size() > 0 && b.toolCallName() != null;
    return new Call(
        api,
        stream,
        includeUsage,
        model,
        input,
        output,
        output < b.outputTokens(),
        hasTools,
        b,
        cacheRead,
        cacheWrite);
  }

  private static String token(int i) {
    return (i == 0 ? "" : " ") + "t" + i;
  }

  private static String text(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(token(i));
    }
    return sb.toString();
  }

  private record Frame(String event, String data, int tokens, boolean binary) {
    Frame(String event, String data, int tokens) {
      this(event, data, tokens, false);
    }
  }

  // ---- OpenAI ----

  private static ObjectNode openAiUsage(Call c) {
    ObjectNode u = JSON.createObjectNode();
    int prompt = c.input() + c.cacheRead();
    u.put("prompt_tokens", prompt);
    u.put("completion_tokens", c.output());
    u.put("total_tokens", prompt + c.output());
    u.putObject("prompt_tokens_details").put("cached_tokens", c.cacheRead());
    return u;
  }

  private static String openAiFinish(Call c) {
    return c.toolCall() ? "tool_calls" : c.truncated() ? "length" : "stop";
  }

  private static ObjectNode openAiFull(Call c) {
    ObjectNode r = JSON.createObjectNode();
    r.put("id", "chatcmpl-sim").put("object", "chat.completion").put("created", 1_700_000_000L);
    r.put("model", c.model());
    ObjectNode choice = r.putArray("choices").addObject();
    choice.put("index", 0);
    ObjectNode msg = choice.putObject("message").put("role", "assistant");
    if (c.toolCall()) {
      msg.putNull("content");
      ObjectNode tc = msg.putArray("tool_calls").addObject();
      tc.put("id", "call_sim_1").put("type", "function");
      tc.putObject("function")
          .put("name", c.b().toolCallName())
          .put("arguments", c.b().toolCallArguments());
    } else {
      msg.put("content", text(c.output()));
    }
    choice.putNull("logprobs");
    choice.put("finish_reason", openAiFinish(c));
    if (!c.b().omitUsage()) {
      r.set("usage", openAiUsage(c));
    }
    return r;
  }

  private static ObjectNode openAiChunk(Call c) {
    ObjectNode r = JSON.createObjectNode();
    r.put("id", "chatcmpl-sim")
        .put("object", "chat.completion.chunk")
        .put("created", 1_700_000_000L);
    r.put("model", c.model());
    return r;
  }

  private static List<Frame> openAiStream(Call c) {
    List<Frame> frames = new ArrayList<>();
    ObjectNode first = openAiChunk(c);
    ObjectNode ch = first.putArray("choices").addObject().put("index", 0);
    ch.putObject("delta").put("role", "assistant").put("content", "");
    ch.putNull("finish_reason");
    frames.add(new Frame(null, first.toString(), 0));
    if (c.toolCall()) {
      ObjectNode chunk = openAiChunk(c);
      ObjectNode d = chunk.putArray("choices").addObject().put("index", 0).putObject("delta");
      ObjectNode tc = d.putArray("tool_calls").addObject().put("index", 0);
      tc.put("id", "call_sim_1").put("type", "function");
      tc.putObject("function").put("name", c.b().toolCallName()).put("arguments", "");
      frames.add(new Frame(null, chunk.toString(), 0));
      String args = c.b().toolCallArguments();
      int half = args.length() / 2;
      for (String part : List.of(args.substring(0, half), args.substring(half))) {
        ObjectNode a = openAiChunk(c);
        ObjectNode ad = a.putArray("choices").addObject().put("index", 0).putObject("delta");
        ad.putArray("tool_calls")
            .addObject()
            .put("index", 0)
            .putObject("function")
            .put("arguments", part);
        frames.add(new Frame(null, a.toString(), 0));
      }
      outputTokensOfToolCall(frames, c);
    } else {
      for (int i = 0; i < c.output(); i++) {
        ObjectNode chunk = openAiChunk(c);
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
        choice.putObject("delta").put("content", token(i));
        choice.putNull("finish_reason");
        frames.add(new Frame(null, chunk.toString(), 1));
      }
    }
    ObjectNode last = openAiChunk(c);
    ObjectNode lc = last.putArray("choices").addObject().put("index", 0);
    lc.putObject("delta");
    lc.put("finish_reason", openAiFinish(c));
    frames.add(new Frame(null, last.toString(), 0));
    if (c.includeUsage() && !c.b().omitUsage()) {
      ObjectNode u = openAiChunk(c);
      u.putArray("choices");
      u.set("usage", openAiUsage(c));
      frames.add(new Frame(null, u.toString(), 0));
    }
    frames.add(new Frame(null, "[DONE]", 0));
    return frames;
  }

  /** A tool call's output tokens are counted once, on the frame that carries the name. */
  private static void outputTokensOfToolCall(List<Frame> frames, Call c) {
    int idx = frames.size() - 3;
    Frame f = frames.get(idx);
    frames.set(idx, new Frame(f.event(), f.data(), c.output()));
  }

  // ---- Anthropic ----

  private static ObjectNode anthropicUsage(Call c, int output) {
    ObjectNode u = JSON.createObjectNode();
    u.put("input_tokens", c.input());
    u.put("cache_creation_input_tokens", c.cacheWrite());
    u.put("cache_read_input_tokens", c.cacheRead());
    u.put("output_tokens", output);
    return u;
  }

  private static String anthropicStop(Call c) {
    return c.toolCall() ? "tool_use" : c.truncated() ? "max_tokens" : "end_turn";
  }

  private static ObjectNode anthropicFull(Call c) {
    ObjectNode r = JSON.createObjectNode();
    r.put("id", "msg_sim").put("type", "message").put("role", "assistant").put("model", c.model());
    ArrayNode content = r.putArray("content");
    if (c.toolCall()) {
      ObjectNode t = content.addObject().put("type", "tool_use").put("id", "toolu_sim_1");
      t.put("name", c.b().toolCallName());
      t.set("input", parse(c.b().toolCallArguments()));
    } else {
      content.addObject().put("type", "text").put("text", text(c.output()));
    }
    r.put("stop_reason", anthropicStop(c));
    r.putNull("stop_sequence");
    if (!c.b().omitUsage()) {
      r.set("usage", anthropicUsage(c, c.output()));
    }
    return r;
  }

  private static List<Frame> anthropicStream(Call c) {
    List<Frame> frames = new ArrayList<>();
    ObjectNode start = JSON.createObjectNode().put("type", "message_start");
    ObjectNode msg = start.putObject("message");
    msg.put("id", "msg_sim")
        .put("type", "message")
        .put("role", "assistant")
        .put("model", c.model());
    msg.putArray("content");
    msg.putNull("stop_reason");
    msg.putNull("stop_sequence");
    if (!c.b().omitUsage()) {
      msg.set("usage", anthropicUsage(c, 1));
    }
    frames.add(new Frame("message_start", start.toString(), 0));
    ObjectNode blockStart =
        JSON.createObjectNode().put("type", "content_block_start").put("index", 0);
    if (c.toolCall()) {
      ObjectNode cb = blockStart.putObject("content_block").put("type", "tool_use");
      cb.put("id", "toolu_sim_1").put("name", c.b().toolCallName());
      cb.putObject("input");
    } else {
      blockStart.putObject("content_block").put("type", "text").put("text", "");
    }
    frames.add(new Frame("content_block_start", blockStart.toString(), 0));
    frames.add(new Frame("ping", "{\"type\":\"ping\"}", 0));
    if (c.toolCall()) {
      String args = c.b().toolCallArguments();
      int half = args.length() / 2;
      boolean first = true;
      for (String part : List.of(args.substring(0, half), args.substring(half))) {
        ObjectNode d = JSON.createObjectNode().put("type", "content_block_delta").put("index", 0);
        d.putObject("delta").put("type", "input_json_delta").put("partial_json", part);
        frames.add(new Frame("content_block_delta", d.toString(), first ? c.output() : 0));
        first = false;
      }
    } else {
      for (int i = 0; i < c.output(); i++) {
        ObjectNode d = JSON.createObjectNode().put("type", "content_block_delta").put("index", 0);
        d.putObject("delta").put("type", "text_delta").put("text", token(i));
        frames.add(new Frame("content_block_delta", d.toString(), 1));
      }
    }
    frames.add(new Frame("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}", 0));
    ObjectNode delta = JSON.createObjectNode().put("type", "message_delta");
    delta.putObject("delta").put("stop_reason", anthropicStop(c)).putNull("stop_sequence");
    if (!c.b().omitUsage()) {
      delta.putObject("usage").put("output_tokens", c.output());
    }
    frames.add(new Frame("message_delta", delta.toString(), 0));
    frames.add(new Frame("message_stop", "{\"type\":\"message_stop\"}", 0));
    return frames;
  }

  // ---- Gemini ----

  private static ObjectNode geminiUsage(Call c, int output) {
    ObjectNode u = JSON.createObjectNode();
    int prompt = c.input() + c.cacheRead();
    u.put("promptTokenCount", prompt);
    u.put("candidatesTokenCount", output);
    u.put("totalTokenCount", prompt + output);
    if (c.cacheRead() > 0) {
      u.put("cachedContentTokenCount", c.cacheRead());
    }
    return u;
  }

  private static ObjectNode geminiChunk(
      Call c, String textPart, boolean functionCall, String finish, int outputSoFar) {
    ObjectNode r = JSON.createObjectNode();
    ObjectNode cand = r.putArray("candidates").addObject();
    ObjectNode content = cand.putObject("content");
    ArrayNode parts = content.putArray("parts");
    if (functionCall) {
      ObjectNode fc = parts.addObject().putObject("functionCall");
      fc.put("name", c.b().toolCallName());
      fc.set("args", parse(c.b().toolCallArguments()));
    } else if (textPart != null) {
      parts.addObject().put("text", textPart);
    }
    content.put("role", "model");
    if (finish != null) {
      cand.put("finishReason", finish);
    }
    cand.put("index", 0);
    if (!c.b().omitUsage()) {
      r.set("usageMetadata", geminiUsage(c, outputSoFar));
    }
    r.put("modelVersion", c.model());
    return r;
  }

  private static ObjectNode geminiFull(Call c) {
    return geminiChunk(
        c,
        c.toolCall() ? null : text(c.output()),
        c.toolCall(),
        c.truncated() ? "MAX_TOKENS" : "STOP",
        c.output());
  }

  private static List<Frame> geminiStream(Call c) {
    List<Frame> frames = new ArrayList<>();
    if (c.toolCall()) {
      frames.add(
          new Frame(null, geminiChunk(c, null, true, "STOP", c.output()).toString(), c.output()));
      return frames;
    }
    for (int i = 0; i < c.output(); i++) {
      boolean last = i == c.output() - 1;
      String finish = last ? (c.truncated() ? "MAX_TOKENS" : "STOP") : null;
      frames.add(new Frame(null, geminiChunk(c, token(i), false, finish, i + 1).toString(), 1));
    }
    if (c.output() == 0) {
      frames.add(new Frame(null, geminiChunk(c, "", false, "STOP", 0).toString(), 0));
    }
    return frames;
  }

  // ---- Bedrock (Converse) ----

  private static ObjectNode bedrockUsage(Call c) {
    ObjectNode u = JSON.createObjectNode();
    u.put("inputTokens", c.input());
    u.put("outputTokens", c.output());
    u.put("totalTokens", c.input() + c.output());
    u.put("cacheReadInputTokens", c.cacheRead());
    u.put("cacheWriteInputTokens", c.cacheWrite());
    return u;
  }

  private static String bedrockStop(Call c) {
    return c.toolCall() ? "tool_use" : c.truncated() ? "max_tokens" : "end_turn";
  }

  private static ObjectNode bedrockFull(Call c) {
    ObjectNode r = JSON.createObjectNode();
    ObjectNode msg = r.putObject("output").putObject("message").put("role", "assistant");
    ArrayNode content = msg.putArray("content");
    if (c.toolCall()) {
      ObjectNode use = content.addObject().putObject("toolUse").put("toolUseId", "tooluse_sim_1");
      use.put("name", c.b().toolCallName());
      use.set("input", parse(c.b().toolCallArguments()));
    } else {
      content.addObject().put("text", text(c.output()));
    }
    r.put("stopReason", bedrockStop(c));
    if (!c.b().omitUsage()) {
      r.set("usage", bedrockUsage(c));
    }
    r.putObject("metrics").put("latencyMs", 1);
    return r;
  }

  private static List<Frame> bedrockStream(Call c) {
    List<Frame> frames = new ArrayList<>();
    frames.add(new Frame("messageStart", "{\"role\":\"assistant\"}", 0, true));
    if (c.toolCall()) {
      ObjectNode start = JSON.createObjectNode().put("contentBlockIndex", 0);
      start
          .putObject("start")
          .putObject("toolUse")
          .put("toolUseId", "tooluse_sim_1")
          .put("name", c.b().toolCallName());
      frames.add(new Frame("contentBlockStart", start.toString(), c.output(), true));
      ObjectNode d = JSON.createObjectNode().put("contentBlockIndex", 0);
      d.putObject("delta").putObject("toolUse").put("input", c.b().toolCallArguments());
      frames.add(new Frame("contentBlockDelta", d.toString(), 0, true));
    } else {
      for (int i = 0; i < c.output(); i++) {
        ObjectNode d = JSON.createObjectNode().put("contentBlockIndex", 0);
        d.putObject("delta").put("text", token(i));
        frames.add(new Frame("contentBlockDelta", d.toString(), 1, true));
      }
    }
    frames.add(new Frame("contentBlockStop", "{\"contentBlockIndex\":0}", 0, true));
    frames.add(
        new Frame(
            "messageStop",
            JSON.createObjectNode().put("stopReason", bedrockStop(c)).toString(),
            0,
            true));
    if (!c.b().omitUsage()) {
      ObjectNode meta = JSON.createObjectNode();
      meta.set("usage", bedrockUsage(c));
      meta.putObject("metrics").put("latencyMs", 1);
      frames.add(new Frame("metadata", meta.toString(), 0, true));
    }
    return frames;
  }

  private static DefaultHttpContent eventStreamFrame(String event, String json) {
    Map<String, HeaderValue> headers = new LinkedHashMap<>();
    headers.put(":event-type", HeaderValue.fromString(event));
    headers.put(":content-type", HeaderValue.fromString("application/json"));
    headers.put(":message-type", HeaderValue.fromString("event"));
    ByteBuffer frame = new Message(headers, json.getBytes(StandardCharsets.UTF_8)).toByteBuffer();
    return new DefaultHttpContent(Unpooled.wrappedBuffer(frame));
  }

  // ---- plumbing ----

  private static ObjectNode error(Api api, int status, String message) {
    ObjectNode r = JSON.createObjectNode();
    switch (api) {
      case ANTHROPIC -> {
        r.put("type", "error");
        String type =
            switch (status) {
              case 429 -> "rate_limit_error";
              case 529 -> "overloaded_error";
              case 401 -> "authentication_error";
              case 400, 404, 405 -> "invalid_request_error";
              default -> "api_error";
            };
        r.putObject("error").put("type", type).put("message", message);
      }
      case BEDROCK -> r.put("message", message);
      case GEMINI -> {
        String s =
            switch (status) {
              case 429 -> "RESOURCE_EXHAUSTED";
              case 503 -> "UNAVAILABLE";
              case 401 -> "UNAUTHENTICATED";
              case 400 -> "INVALID_ARGUMENT";
              default -> "INTERNAL";
            };
        r.putObject("error").put("code", status).put("message", message).put("status", s);
      }
      default -> {
        ObjectNode e = r.putObject("error").put("message", message);
        e.put(
            "type",
            status == 429
                ? "rate_limit_exceeded"
                : status >= 500 ? "server_error" : "invalid_request_error");
        e.putNull("param");
        e.putNull("code");
      }
    }
    return r;
  }

  private static JsonNode parse(String body) {
    try {
      return body == null || body.isBlank() ? null : JSON.readTree(body);
    } catch (Exception e) {
      return null;
    }
  }

  private static DefaultHttpContent sse(String event, String data) {
    String text = (event == null ? "" : "event: " + event + "\n") + "data: " + data + "\n\n";
    return new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
  }

  private static FullHttpResponse jsonResponse(HttpResponseStatus status, JsonNode body) {
    ByteBuf buf = Unpooled.wrappedBuffer(body.toString().getBytes(StandardCharsets.UTF_8));
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, buf);
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    return r;
  }

  private static void sendJson(
      ChannelHandlerContext ctx, HttpResponseStatus status, JsonNode body, boolean keepAlive) {
    send(ctx, jsonResponse(status, body), keepAlive);
  }

  private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
    HttpUtil.setContentLength(r, r.content().readableBytes());
    HttpUtil.setKeepAlive(r, keepAlive);
    ctx.writeAndFlush(r)
        .addListener(
            keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
  }
}
