package dev.tollgate.sidecar.server;

import dev.tollgate.sidecar.config.ServerSettings;
import dev.tollgate.sidecar.runtime.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar's listener. Each caller connection's pipeline is built in named steps: HTTP codec,
 * client read timeout, bounded request aggregation, endpoints. Upstream connections of a call run
 * on the same event loop as the caller's connection.
 */
public final class SidecarServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SidecarServer.class);

  /** Concurrent HTTP/2 streams per caller connection. */
  private static final int MAX_STREAMS = 128;

  private final ProxyContext px;
  private final EventLoopGroup group;
  private final int threads;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private Channel listener;
  private HealthProber prober;

  public SidecarServer(ProxyContext px, int threads) {
    this.px = px;
    this.threads = threads;
    this.group = Transport.current().newGroup(threads);
  }

  /** Binds; {@code port} 0 picks a free port. */
  public SidecarServer start(String host, int port, ServerSettings settings)
      throws InterruptedException {
    RequestMemory memory = RequestMemory.forHeap(Runtime.getRuntime().maxMemory());
    int maxBody = (int) Math.min(settings.maxRequestBodyBytes(), memory.maxBodyBytes());
    if (maxBody < settings.maxRequestBodyBytes()) {
      LOG.info(
          "request bodies limited to {} bytes (server.maxRequestBodyBytes {}): what this heap of"
              + " {} MiB can parse safely",
          maxBody,
          settings.maxRequestBodyBytes(),
          Runtime.getRuntime().maxMemory() >> 20);
    }
    long heldUpload = Math.min(settings.maxBatchUploadBytes(), memory.maxHeldUploadBytes());
    if (heldUpload < settings.maxBatchUploadBytes()) {
      LOG.info(
          "OpenAI batch uploads held up to {} bytes (server.maxBatchUploadBytes {}): what this"
              + " heap can hold",
          heldUpload,
          settings.maxBatchUploadBytes());
    }
    px.openAiBatchFiles().limits(heldUpload, maxBody);
    Duration readTimeout = settings.clientReadTimeout();
    listener =
        new ServerBootstrap()
            .group(group)
            .channel(Transport.current().serverChannel())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    connections.add(ch);
                    EndpointHandler endpoints = new EndpointHandler(px, memory);
                    HttpServerCodec http1 = new HttpServerCodec();
                    ch.pipeline()
                        .addLast("request-start", new RequestStartWatch())
                        .addLast("h2c", h2c(http1, maxBody, readTimeout, memory, endpoints))
                        .addLast("client-timeout", new ClientReadTimeout(readTimeout, endpoints))
                        .addLast("uploads", new StreamedUploads(endpoints))
                        .addLast("aggregator", new BoundedRequestAggregator(maxBody, endpoints))
                        .addLast("endpoints", endpoints);
                  }
                })
            .bind(host, port)
            .sync()
            .channel();
    prober = HealthProber.start(px, group.next());
    LOG.info(
        "sidecar listening on {} ({} event loops, {})",
        listener.localAddress(),
        threads,
        Transport.current());
    return this;
  }

  /**
   * Prepares, in the background on each event loop, what the first call through it would otherwise
   * set up itself (its DNS resolver). Called once the sidecar answers its probes.
   */
  public void prepareFirstCalls() {
    px.upstream().prepareResolvers(group);
  }

  /**
   * HTTP/1.1 by default; HTTP/2 cleartext by upgrade or prior knowledge. Each HTTP/2 stream gets
   * the same request handling as an HTTP/1.1 connection (its own aggregator and endpoints) in a
   * child channel on the connection's event loop; the HTTP/1.1 steps of the connection are removed.
   */
  private CleartextHttp2ServerUpgradeHandler h2c(
      HttpServerCodec http1,
      int maxBody,
      Duration readTimeout,
      RequestMemory memory,
      EndpointHandler http1Endpoints) {
    ChannelInitializer<Channel> stream =
        new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel child) {
            EndpointHandler endpoints = new EndpointHandler(px, memory);
            child
                .pipeline()
                .addLast("h2-to-http", new Http2StreamFrameToHttpObjectCodec(true))
                .addLast("client-timeout", new ClientReadTimeout(readTimeout, endpoints))
                .addLast("uploads", new StreamedUploads(endpoints))
                .addLast("aggregator", new BoundedRequestAggregator(maxBody, endpoints))
                .addLast("endpoints", endpoints);
          }
        };
    ChannelInitializer<Channel> http2 =
        new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline()
                .addAfter(ch.pipeline().context(this).name(), "h2-frames", frameCodec())
                .addAfter("h2-frames", "h2-streams", new Http2MultiplexHandler(stream));
            for (String http1Step :
                new String[] {
                  "request-start", "client-timeout", "uploads", "aggregator", "endpoints"
                }) {
              if (ch.pipeline().get(http1Step) != null) {
                ch.pipeline().remove(http1Step);
              }
            }
          }
        };
    HttpServerUpgradeHandler upgrade =
        new BoundedUpgradeHandler(
            http1,
            protocol ->
                AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                    ? new Http2ServerUpgradeCodec(
                        frameCodec(), new Http2MultiplexHandler(stream), new Http1StepsRemover())
                    : null,
            maxBody,
            http1Endpoints);
    return new CleartextHttp2ServerUpgradeHandler(http1, upgrade, http2);
  }

  /** An upgrade request over the body limit gets the same 413 as any other request. */
  private static final class BoundedUpgradeHandler extends HttpServerUpgradeHandler {
    private final EndpointHandler endpoints;
    private final int limit;

    BoundedUpgradeHandler(
        SourceCodec codec, UpgradeCodecFactory factory, int limit, EndpointHandler endpoints) {
      super(codec, factory, limit);
      this.limit = limit;
      this.endpoints = endpoints;
    }

    @Override
    protected void handleOversizedMessage(
        io.netty.channel.ChannelHandlerContext ctx,
        io.netty.handler.codec.http.HttpMessage oversized) {
      if (oversized instanceof io.netty.handler.codec.http.HttpRequest req) {
        endpoints.tooLarge(ctx, req.uri(), limit);
      } else {
        ctx.close();
      }
    }
  }

  /** HTTP/2 framing with a bound on concurrent streams per connection (each may hold a body). */
  private static io.netty.handler.codec.http2.Http2FrameCodec frameCodec() {
    return Http2FrameCodecBuilder.forServer()
        .initialSettings(
            io.netty.handler.codec.http2.Http2Settings.defaultSettings()
                .maxConcurrentStreams(MAX_STREAMS))
        .build();
  }

  /** After an upgrade to HTTP/2, takes the connection's HTTP/1.1 steps out of its pipeline. */
  private static final class Http1StepsRemover extends io.netty.channel.ChannelHandlerAdapter {
    @Override
    public void handlerAdded(io.netty.channel.ChannelHandlerContext ctx) {
      for (String http1Step :
          new String[] {"request-start", "client-timeout", "uploads", "aggregator", "endpoints"}) {
        if (ctx.pipeline().get(http1Step) != null) {
          ctx.pipeline().remove(http1Step);
        }
      }
      ctx.pipeline().remove(this);
    }
  }

  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /**
   * Stops accepting, lets calls in flight finish for up to {@code grace}, then closes everything.
   * Blocks the calling thread (a shutdown hook), never an event loop.
   */
  public void shutdown(Duration grace) {
    px.startShutdown();
    if (prober != null) {
      prober.stop();
    }
    if (listener != null) {
      listener.close().awaitUninterruptibly();
    }
    long deadline = System.nanoTime() + grace.toNanos();
    while (px.inFlight().get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    int left = px.inFlight().get();
    if (left > 0) {
      LOG.warn(
          "shutdown grace period of {} ms over; closing {} call(s) still in flight",
          grace.toMillis(),
          left);
    }
    connections.close().awaitUninterruptibly();
    px.upstream().close();
    px.vertexTokens().close();
    px.identities().close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    LOG.info("sidecar stopped");
  }

  @Override
  public void close() {
    shutdown(Duration.ZERO);
  }
}
