package dev.tollgate.sidecar.health;

import dev.tollgate.sidecar.config.HealthSettings;
import dev.tollgate.sidecar.config.SidecarConfig;
import dev.tollgate.sidecar.runtime.Transport;
import dev.tollgate.sidecar.server.ProxyContext;
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
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar's second listener, for kubelet probes and Prometheus: {@code GET /healthz}, {@code
 * /readyz} and {@code /metrics} on all interfaces, and nothing of the proxy. The proxy itself stays
 * on loopback because it holds the namespace's API keys; kubelet sends {@code httpGet} probes to
 * the pod IP, so they need a listener there.
 */
public final class HealthListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HealthListener.class);

  private static final int MAX_REQUEST_BYTES = 8 * 1024;
  private static final int READ_TIMEOUT_SECONDS = 10;

  private final EventLoopGroup group;
  private final Channel listener;

  private HealthListener(EventLoopGroup group, Channel listener) {
    this.group = group;
    this.listener = listener;
  }

  /**
   * Binds {@code settings} ({@code port} 0 picks a free port) and serves the probes of {@code px},
   * whose proxy listens on loopback {@code proxyPort}.
   */
  public static HealthListener start(HealthSettings settings, ProxyContext px, int proxyPort)
      throws InterruptedException {
    EventLoopGroup group = Transport.current().newGroup(1);
    ProxyLiveness liveness = new ProxyLiveness(group, proxyPort);
    try {
      Channel channel =
          new ServerBootstrap()
              .group(group)
              .channel(Transport.current().serverChannel())
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline()
                          .addLast("http", new HttpServerCodec())
                          .addLast("read-timeout", new ReadTimeoutHandler(READ_TIMEOUT_SECONDS))
                          .addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BYTES))
                          .addLast("probes", new Probes(px, liveness));
                    }
                  })
              .bind(settings.bindAddress(), settings.port())
              .sync()
              .channel();
      LOG.info("health and metrics listening on {}", channel.localAddress());
      return new HealthListener(group, channel);
    } catch (RuntimeException | InterruptedException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) listener.localAddress();
  }

  public int port() {
    return address().getPort();
  }

  @Override
  public void close() {
    listener.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** Answers the three probe paths; everything else is 404, other methods 405. */
  private static final class Probes extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final ProxyContext px;
    private final ProxyLiveness liveness;

    Probes(ProxyContext px, ProxyLiveness liveness) {
      this.px = px;
      this.liveness = liveness;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      String path = req.uri();
      int query = path.indexOf('?');
      if (query >= 0) {
        path = path.substring(0, query);
      }
      boolean known = path.equals("/healthz") || path.equals("/readyz") || path.equals("/metrics");
      FullHttpResponse response;
      if (!known) {
        response =
            text(
                HttpResponseStatus.NOT_FOUND,
                "not found: this port serves GET /healthz, /readyz and /metrics only\n");
      } else if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
        response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET\n");
        response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
      } else if (path.equals("/healthz")) {
        // live only while the proxy itself answers on loopback: its event loops, not just ours
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        liveness
            .check()
            .whenComplete(
                (problem, e) ->
                    send(
                        ctx,
                        problem == null && e == null
                            ? text(HttpResponseStatus.OK, "ok\n")
                            : text(
                                HttpResponseStatus.SERVICE_UNAVAILABLE,
                                "proxy does not answer on loopback: "
                                    + (e != null ? e : problem)
                                    + "\n"),
                        keepAlive));
        return;
      } else {
        response =
            switch (path) {
              case "/readyz" -> readiness();
              default -> {
                FullHttpResponse metrics =
                    new DefaultFullHttpResponse(
                        HttpVersion.HTTP_1_1,
                        HttpResponseStatus.OK,
                        Unpooled.wrappedBuffer(px.metrics().scrape()));
                metrics.headers().set(HttpHeaderNames.CONTENT_TYPE, px.metrics().contentType());
                yield metrics;
              }
            };
      }
      send(ctx, response, HttpUtil.isKeepAlive(req));
    }

    private static void send(
        ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
      HttpUtil.setContentLength(response, response.content().readableBytes());
      HttpUtil.setKeepAlive(response, keepAlive);
      var written = ctx.writeAndFlush(response);
      if (!keepAlive) {
        written.addListener(ChannelFutureListener.CLOSE);
      }
    }

    private FullHttpResponse readiness() {
      SidecarConfig cfg = px.config().current();
      if (px.shuttingDown()) {
        return text(HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting down\n");
      }
      if (cfg == null) {
        return text(HttpResponseStatus.SERVICE_UNAVAILABLE, "no valid configuration loaded\n");
      }
      return text(HttpResponseStatus.OK, "ready: configuration " + cfg.version() + "\n");
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
      FullHttpResponse r =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              status,
              Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8)));
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
      return r;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
