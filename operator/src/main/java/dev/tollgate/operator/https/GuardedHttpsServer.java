package dev.tollgate.operator.https;

import io.netty.bootstrap.ServerBootstrap;
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
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTPS server that holds under abuse, for the operator's endpoints that any pod (reports)
 * or the API server (admission) calls: a TLS handshake timeout, a deadline for reading a whole
 * request once its first byte arrived (slow senders), an idle timeout between requests, a cap on
 * open connections, bounded bodies, and handlers on a bounded worker pool whose overflow is
 * answered 503 instead of queued without end. Idle or slow connections cost an event-loop
 * registration, never a thread (the JDK's {@code HttpsServer} this replaces lets two idle TCP
 * connections hold both webhook threads, and does its TLS handshakes on them too).
 *
 * <p>One request at a time per connection: reading pauses while a handler works, so answers never
 * overtake each other and a client cannot queue work behind its own request.
 */
public final class GuardedHttpsServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GuardedHttpsServer.class);

  /**
   * How much the server lets one client take.
   *
   * @param handshakeTimeout a TLS handshake not finished by then closes the connection
   * @param requestTimeout a request whose first byte arrived must be complete by then (headers and
   *     body): a slow sender is cut off
   * @param idleTimeout a connection with no request in progress is closed after this
   * @param maxConnections open connections beyond this are closed at once
   * @param maxBodyBytes larger request bodies get 413
   * @param workers threads that run handlers (handlers may block, e.g. on a TokenReview)
   * @param queue requests waiting for a worker; beyond it requests get 503 with Retry-After
   */
  public record Limits(
      Duration handshakeTimeout,
      Duration requestTimeout,
      Duration idleTimeout,
      int maxConnections,
      int maxBodyBytes,
      int workers,
      int queue) {}

  /** A whole request as a handler sees it. The body is at most {@link Limits#maxBodyBytes}. */
  public record Request(
      String method,
      String path,
      Map<String, List<String>> query,
      HttpHeaders headers,
      byte[] body,
      InetSocketAddress remote) {
    /** The first value of the query parameter {@code name}, or null. */
    public String queryParameter(String name) {
      List<String> values = query.get(name);
      return values == null || values.isEmpty() ? null : values.get(0);
    }
  }

  /** An answer. */
  public record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
    public Response {
      headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    public static Response of(int status, String contentType, byte[] body) {
      return new Response(status, contentType, body, Map.of());
    }

    public static Response text(int status, String text) {
      return of(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
    }

    /** This response with one more header. */
    public Response withHeader(String name, String value) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.put(name, value);
      return new Response(status, contentType, body, h);
    }
  }

  /**
   * Answers requests of one path. Runs on a worker thread; may block or return a future that
   * completes later (the connection waits without holding a thread).
   */
  @FunctionalInterface
  public interface Handler {
    CompletableFuture<Response> handle(Request request) throws Exception;
  }

  private final String name;
  private final EventLoopGroup boss;
  private final EventLoopGroup loops;
  private final ThreadPoolExecutor workers;
  private final Channel server;
  private final AtomicInteger open = new AtomicInteger();

  private GuardedHttpsServer(
      String name,
      int port,
      SSLContext tls,
      Limits limits,
      Map<String, Handler> routes,
      int eventLoops)
      throws IOException {
    this.name = name;
    this.boss =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory(name + "-accept", true), NioIoHandler.newFactory());
    this.loops =
        new MultiThreadIoEventLoopGroup(
            eventLoops, new DefaultThreadFactory(name + "-io", true), NioIoHandler.newFactory());
    this.workers =
        new ThreadPoolExecutor(
            limits.workers(),
            limits.workers(),
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(limits.queue()),
            new DefaultThreadFactory(name, true));
    workers.allowCoreThreadTimeOut(true);
    Map<String, Handler> table = Map.copyOf(routes);
    ServerBootstrap b =
        new ServerBootstrap()
            .group(boss, loops)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (open.incrementAndGet() > limits.maxConnections()) {
                      open.decrementAndGet();
                      LOG.warn(
                          "{}: {} connections open, refusing one from {}",
                          name,
                          limits.maxConnections(),
                          ch.remoteAddress());
                      ch.close();
                      return;
                    }
                    ch.closeFuture().addListener(f -> open.decrementAndGet());
                    SSLEngine engine = tls.createSSLEngine();
                    engine.setUseClientMode(false);
                    SslHandler ssl = new SslHandler(engine);
                    ssl.setHandshakeTimeoutMillis(limits.handshakeTimeout().toMillis());
                    ch.pipeline()
                        .addLast("tls", ssl)
                        .addLast("guard", new ConnectionGuard(limits))
                        .addLast("http", new HttpServerCodec(4096, 16 * 1024, 8192))
                        .addLast("body", new HttpObjectAggregator(limits.maxBodyBytes()))
                        .addLast("dispatch", new Dispatch(table));
                  }
                });
    try {
      this.server = b.bind(port).sync().channel();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new IOException(name + ": interrupted while binding port " + port, e);
    } catch (RuntimeException e) {
      close();
      throw new IOException(name + ": cannot listen on port " + port + ": " + e.getMessage(), e);
    }
  }

  /**
   * Starts serving {@code routes} (path → handler; other paths get 404) on {@code port} (0 picks a
   * free one).
   */
  public static GuardedHttpsServer start(
      String name, int port, SSLContext tls, Limits limits, Map<String, Handler> routes)
      throws IOException {
    return new GuardedHttpsServer(name, port, tls, limits, routes, 2);
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** Connections open now (tests and metrics). */
  public int openConnections() {
    return open.get();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownNow();
  }

  /**
   * Enforces the request deadline and the idle timeout of one connection. States: waiting for a
   * request (idle timer), reading one (deadline from its first byte), in a handler (no timer: the
   * handler has its own bounds).
   */
  private static final class ConnectionGuard extends io.netty.channel.ChannelDuplexHandler {
    private final Limits limits;
    private io.netty.util.concurrent.ScheduledFuture<?> timer;
    private boolean reading;
    private boolean busy;

    ConnectionGuard(Limits limits) {
      this.limits = limits;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      // until the first request: the handshake timeout covers the handshake, this the rest
      arm(ctx, limits.handshakeTimeout().plus(limits.idleTimeout()), "idle");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!reading && !busy) {
        reading = true;
        arm(ctx, limits.requestTimeout(), "request not received in time");
      }
      ctx.fireChannelRead(msg);
    }

    void requestReceived() {
      reading = false;
      busy = true;
      cancel();
    }

    void responseSent(ChannelHandlerContext ctx) {
      busy = false;
      arm(ctx, limits.idleTimeout(), "idle");
    }

    private void arm(ChannelHandlerContext ctx, Duration after, String why) {
      cancel();
      timer =
          ctx.executor()
              .schedule(
                  () -> {
                    LOG.debug(
                        "closing a connection from {}: {}", ctx.channel().remoteAddress(), why);
                    ctx.close();
                  },
                  after.toMillis(),
                  TimeUnit.MILLISECONDS);
    }

    private void cancel() {
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      cancel();
      ctx.fireChannelInactive();
    }
  }

  private final class Dispatch extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Map<String, Handler> routes;

    Dispatch(Map<String, Handler> routes) {
      this.routes = routes;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest msg) {
      ConnectionGuard guard = ctx.pipeline().get(ConnectionGuard.class);
      guard.requestReceived();
      ctx.channel().config().setAutoRead(false);
      boolean keepAlive = HttpUtil.isKeepAlive(msg);
      if (!msg.decoderResult().isSuccess()) {
        write(ctx, guard, Response.text(400, "malformed HTTP request"), false);
        return;
      }
      QueryStringDecoder uri = new QueryStringDecoder(msg.uri());
      Handler handler = routes.get(uri.path());
      if (handler == null) {
        write(ctx, guard, Response.text(404, "no such endpoint: " + uri.path()), keepAlive);
        return;
      }
      byte[] body = new byte[msg.content().readableBytes()];
      msg.content().readBytes(body);
      Request request =
          new Request(
              msg.method().name(),
              uri.path(),
              uri.parameters(),
              msg.headers().copy(),
              body,
              (InetSocketAddress) ctx.channel().remoteAddress());
      try {
        workers.execute(
            () -> {
              CompletableFuture<Response> answer;
              try {
                answer = handler.handle(request);
              } catch (Exception | Error e) {
                answer = CompletableFuture.failedFuture(e);
              }
              answer.whenComplete(
                  (r, e) -> {
                    Response out = r;
                    if (e != null || r == null) {
                      LOG.warn("{}: {} {} failed", name, request.method(), request.path(), e);
                      out = Response.text(500, "internal error; see the operator's log");
                    }
                    Response done = out;
                    ctx.executor().execute(() -> write(ctx, guard, done, keepAlive));
                  });
            });
      } catch (RejectedExecutionException e) {
        write(
            ctx,
            guard,
            Response.text(503, "busy; retry shortly").withHeader("Retry-After", "1"),
            false);
      }
    }

    private void write(
        ChannelHandlerContext ctx, ConnectionGuard guard, Response r, boolean keepAlive) {
      FullHttpResponse response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.valueOf(r.status()),
              Unpooled.wrappedBuffer(r.body()));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
      response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
      r.headers().forEach((k, v) -> response.headers().set(k, v));
      if (!keepAlive) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      ctx.writeAndFlush(response)
          .addListener(
              f -> {
                if (!f.isSuccess()) {
                  ctx.close();
                  return;
                }
                guard.responseSent(ctx);
                ctx.channel().config().setAutoRead(true);
              });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug(
          "{}: connection from {} failed: {}",
          name,
          ctx.channel().remoteAddress(),
          cause.toString());
      ctx.close();
    }
  }
}
