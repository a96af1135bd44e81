package dev.tollgate.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fake of the OpenAI, Anthropic, Gemini and Bedrock HTTP APIs, streaming and not, for tests,
 * local mode and benchmarks. It answers with deterministic text ({@code t0 t1 t2 ...}), reports the
 * usage its {@link SimulatorBehavior} says, can misbehave in every way the proxy must survive, and
 * counts the tokens it served. Everything runs on its own Netty event loop; delays are scheduled,
 * never slept.
 *
 * <p>Paths: any path ending in {@code /chat/completions} speaks OpenAI (Azure's deployment paths
 * included), {@code /messages} speaks Anthropic, {@code :generateContent} and {@code
 * :streamGenerateContent} speak Gemini, {@code /model/{id}/converse[-stream]} speaks Bedrock
 * (streams as AWS event-stream frames), and {@code GET .../models} lists models. Each API is one
 * {@link Dialect}; {@link SimulatorHandler} serves a connection.
 */
public final class ProviderSimulator implements AutoCloseable {
  private static final int RECORDED_MAX = 64;

  /** The access token the simulated OAuth endpoint ({@code POST /token}) hands out. */
  public static final String VERTEX_TOKEN = "ya29.simulated-vertex-token";

  private final EventLoopGroup group;
  private final Channel serverChannel;
  private final boolean tls;
  private volatile SimulatorBehavior behavior = SimulatorBehavior.defaults();
  private volatile String requiredApiKey;
  private volatile AwsSignatureCheck awsSignature;
  private volatile String requiredBearer;
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
                        .addLast("uploads", new StreamedFileUploads(ProviderSimulator.this))
                        .addLast("aggregator", new HttpObjectAggregator(16 * 1024 * 1024))
                        .addLast("simulator", new SimulatorHandler(ProviderSimulator.this));
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

  /**
   * Bedrock requests must be SigV4-signed for this account (403 in AWS's shape otherwise) instead
   * of carrying an API key; null: API keys as usual.
   */
  public void requireAwsSignature(AwsSignatureCheck check) {
    this.awsSignature = check;
  }

  /**
   * Answer 401 in the provider's shape unless requests carry this bearer token (an OAuth or Entra
   * access token); null: as {@link #requireApiKey}.
   */
  public void requireBearerToken(String token) {
    this.requiredBearer = token;
  }

  AwsSignatureCheck awsSignature() {
    return awsSignature;
  }

  String requiredBearer() {
    return requiredBearer;
  }

  private final SimulatedBatches batches = new SimulatedBatches();
  private final SimulatedFiles files = new SimulatedFiles();
  private final SimulatedOpenAiBatches openAiBatches = new SimulatedOpenAiBatches(files);

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

  /** Anthropic Message Batches kept by this simulator. */
  SimulatedBatches batches() {
    return batches;
  }

  /** OpenAI Files kept by this simulator. */
  SimulatedFiles files() {
    return files;
  }

  /** OpenAI Batches kept by this simulator. */
  SimulatedOpenAiBatches openAiBatches() {
    return openAiBatches;
  }

  /**
   * How long a created Anthropic Message Batch or OpenAI Batch stays in progress before it ends
   * (default: at once).
   */
  public void batchDelay(java.time.Duration delay) {
    batches.delay(delay);
    openAiBatches.delay(delay);
  }

  /** The content of the stored OpenAI file {@code id} as uploaded (or as written), or null. */
  public byte[] storedFile(String id) {
    SimulatedFiles.StoredFile f = files.get(id);
    return f == null ? null : f.content().clone();
  }

  /** The most recent request, or null. */
  public RecordedRequest lastRequest() {
    return recorded.peekLast();
  }

  /** Back to default behaviour, zero counts, no recorded requests. */
  public void reset() {
    behavior = SimulatorBehavior.defaults();
    requiredApiKey = null;
    awsSignature = null;
    requiredBearer = null;
    for (AtomicLong a :
        List.of(requests, answered, inputTokens, outputTokens, cacheRead, cacheWrite)) {
      a.set(0);
    }
    recorded.clear();
    promptCaching = false;
    promptCache.clear();
    batches.reset();
    openAiBatches.reset();
    files.reset();
  }

  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  // ---- for SimulatorHandler ----

  /** Counts a request and keeps it for {@link #lastRequest()} (the most recent few). */
  void countRequest(io.netty.handler.codec.http.HttpRequest req, JsonNode json) {
    requests.incrementAndGet();
    Map<String, String> headers = new LinkedHashMap<>();
    req.headers().forEach(e -> headers.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
    recorded.add(new RecordedRequest(req.method().name(), req.uri(), headers, json));
    while (recorded.size() > RECORDED_MAX) {
      recorded.pollFirst();
    }
  }

  void countTokenRequest() {
    tokenRequests.incrementAndGet();
  }

  void countAnswered(Call call) {
    answered.incrementAndGet();
    if (!call.dialect().bills()) {
      return; // token counting: the tokens are counted, not consumed
    }
    inputTokens.addAndGet(call.input());
    cacheRead.addAndGet(call.cacheRead());
    cacheWrite.addAndGet(call.cacheWrite());
  }

  void countOutput(int tokens) {
    outputTokens.addAndGet(tokens);
  }

  /** Whether a request carrying {@code key} is let in (see {@link #requireApiKey}). */
  boolean accepts(String key) {
    String required = requiredApiKey;
    return key != null && !key.isEmpty() && (required == null || required.equals(key));
  }

  /** Cache reads and writes from the simulated provider cache, or null when it is off. */
  SimulatedPromptCache.Hit promptCacheHit(Dialect dialect, String model, JsonNode json) {
    return promptCaching ? dialect.promptCacheHit(promptCache, model, json) : null;
  }
}
