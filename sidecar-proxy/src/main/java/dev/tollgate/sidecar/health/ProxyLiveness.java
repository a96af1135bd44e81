package dev.tollgate.sidecar.health;

import dev.tollgate.sidecar.runtime.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Whether the proxy answers its own {@code /healthz} on loopback: the liveness that kubelet's probe
 * on the health port stands for. Without it a wedged proxy event loop would still look live,
 * because the health listener runs on an event loop of its own.
 *
 * <p>Each check is one short Netty connection on the health listener's event loop (connect within 2
 * s, the answer's head within 2 s more, then closed): no client of its own, so the JDK's {@code
 * java.net.http} client (~70 classes and its selector thread, issue #24) is not loaded.
 */
final class ProxyLiveness {
  private static final int TIMEOUT_MILLIS = 2000;

  private final Bootstrap bootstrap;
  private final String host;

  ProxyLiveness(EventLoopGroup group, int proxyPort) {
    InetSocketAddress proxy = new InetSocketAddress(InetAddress.getLoopbackAddress(), proxyPort);
    this.host = proxy.getAddress().getHostAddress() + ":" + proxyPort;
    this.bootstrap =
        new Bootstrap()
            .group(group)
            .channel(Transport.current().socketChannel())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, TIMEOUT_MILLIS)
            .remoteAddress(proxy);
  }

  /** Completes with null when the proxy answered 200, else with what went wrong. */
  CompletableFuture<String> check() {
    CompletableFuture<String> result = new CompletableFuture<>();
    ChannelFuture connected =
        bootstrap
            .clone()
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast("http", new HttpClientCodec())
                        .addLast(
                            "read-timeout",
                            new ReadTimeoutHandler(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS))
                        .addLast("answer", new Answer(result));
                  }
                })
            .connect();
    connected.addListener(
        (ChannelFuture f) -> {
          if (!f.isSuccess()) {
            result.complete(f.cause().getClass().getSimpleName());
            return;
          }
          FullHttpRequest request =
              new DefaultFullHttpRequest(
                  HttpVersion.HTTP_1_1, HttpMethod.GET, "/healthz", Unpooled.EMPTY_BUFFER);
          request
              .headers()
              .set(HttpHeaderNames.HOST, host)
              .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
              .set(HttpHeaderNames.CONTENT_LENGTH, 0);
          f.channel()
              .writeAndFlush(request)
              .addListener(
                  (ChannelFuture w) -> {
                    if (!w.isSuccess()) {
                      result.complete(w.cause().getClass().getSimpleName());
                      w.channel().close();
                    }
                  });
        });
    return result;
  }

  /** Completes the check with the answer's status (its head is enough) and closes. */
  private static final class Answer extends ChannelInboundHandlerAdapter {
    private final CompletableFuture<String> result;

    Answer(CompletableFuture<String> result) {
      this.result = result;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpResponse response) {
          int status = response.status().code();
          result.complete(status == 200 ? null : "HTTP " + status);
          ctx.close();
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      result.complete(cause.getClass().getSimpleName());
      ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      result.complete("connection closed before an answer");
      ctx.fireChannelInactive();
    }
  }
}
