package dev.tollgate.sidecar.server;

import dev.tollgate.sidecar.config.ServerSettings;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
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

  private final ProxyContext px;
  private final EventLoopGroup group;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private Channel listener;

  public SidecarServer(ProxyContext px, int threads) {
    this.px = px;
    this.group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
  }

  /** Binds; {@code port} 0 picks a free port. */
  public SidecarServer start(String host, int port, ServerSettings settings)
      throws InterruptedException {
    int maxBody = (int) Math.min(Integer.MAX_VALUE - 8, settings.maxRequestBodyBytes());
    Duration readTimeout = settings.clientReadTimeout();
    listener =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    connections.add(ch);
                    EndpointHandler endpoints = new EndpointHandler(px);
                    ch.pipeline()
                        .addLast("http-codec", new HttpServerCodec())
                        .addLast("client-timeout", new ClientReadTimeout(readTimeout, endpoints))
                        .addLast("aggregator", new BoundedRequestAggregator(maxBody, endpoints))
                        .addLast("endpoints", endpoints);
                  }
                })
            .bind(host, port)
            .sync()
            .channel();
    LOG.info("sidecar listening on {}", listener.localAddress());
    return this;
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
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    LOG.info("sidecar stopped");
  }

  @Override
  public void close() {
    shutdown(Duration.ZERO);
  }
}
