package dev.tollgate.sidecar.upstream;

import dev.tollgate.sidecar.runtime.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.ChannelHealthChecker;
import io.netty.channel.pool.SimpleChannelPool;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP/1.1 client for provider APIs. Connections are pooled per event loop and per origin, kept
 * alive between requests, and always used on the event loop of the caller's channel, so a call
 * never crosses threads. Responses are not aggregated: the listener gets each piece as it arrives
 * and pauses the connection while the caller's connection cannot take more (backpressure). A
 * request may also be sent as a head alone, its body streamed after it piece by piece ({@link
 * Exchange#writeBody}), the sender reading its source only while the connection is writable.
 */
public final class UpstreamClient {
  private static final Logger LOG = LoggerFactory.getLogger(UpstreamClient.class);
  private static final AttributeKey<Integer> USES = AttributeKey.valueOf("tollgate.uses");
  private static final AttributeKey<Boolean> BUSY = AttributeKey.valueOf("tollgate.busy");
  private static final String EXCHANGE = "exchange";

  /**
   * The system-trust TLS context, or null until something needs it. Building it initialises the
   * JDK's TLS stack (about a second and ~400 classes on a small machine), so it is built on a
   * background thread, once a configuration names an https endpoint without a CA file of its own
   * ({@link #prepareSystemTrust()}) or a call needs it, and does not delay readiness; a call to an
   * https provider that arrives before it is ready waits for it without blocking its event loop.
   */
  private volatile CompletableFuture<SslContext> ssl;

  private final Duration idleTimeout;

  /** Non-blocking DNS (honours /etc/resolv.conf search and ndots, as in a pod). */
  private final DnsAddressResolverGroup resolver =
      new DnsAddressResolverGroup(
          new DnsNameResolverBuilder()
              .datagramChannelType(Transport.current().datagramChannel())
              .socketChannelType(Transport.current().socketChannel()));

  private final Map<PoolKey, SimpleChannelPool> pools = new ConcurrentHashMap<>();

  private record PoolKey(EventLoop loop, String scheme, String host, int port, String caFile) {
    // written out: a record's generated equals/hashCode link an invokedynamic call site on first
    // use (ObjectMethods.bootstrap spins 5 method-handle classes, 17 ms at load ~13),
    // which the AOT cache cannot keep, so the first calls paid it (issue #24; footprint.md)
    @Override
    public boolean equals(Object o) {
      return o instanceof PoolKey k
          && loop == k.loop
          && port == k.port
          && Objects.equals(scheme, k.scheme)
          && Objects.equals(host, k.host)
          && Objects.equals(caFile, k.caFile);
    }

    @Override
    public int hashCode() {
      int h = System.identityHashCode(loop);
      h = 31 * h + Objects.hashCode(scheme);
      h = 31 * h + Objects.hashCode(host);
      h = 31 * h + port;
      return 31 * h + Objects.hashCode(caFile);
    }
  }

  /** Client TLS contexts trusting a credential's own CA file, built off the event loops. */
  private final Map<String, SslContext> trustByCaFile = new ConcurrentHashMap<>();

  public UpstreamClient(Duration idleTimeout) {
    this.idleTimeout = idleTimeout;
  }

  /**
   * Starts building the system-trust TLS context in the background if it is not built yet: called
   * when a configuration with an https endpoint that trusts the system's CAs is applied, so that
   * the first call does not wait for it.
   */
  public void prepareSystemTrust() {
    systemTrust();
  }

  /** Whether the system-trust TLS context has been asked for (diagnostics and tests). */
  public boolean systemTrustRequested() {
    return ssl != null;
  }

  private CompletableFuture<SslContext> systemTrust() {
    CompletableFuture<SslContext> s = ssl;
    if (s == null) {
      synchronized (this) {
        s = ssl;
        if (s == null) {
          s =
              CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return SslContextBuilder.forClient()
                          .endpointIdentificationAlgorithm("HTTPS")
                          .build();
                    } catch (SSLException e) {
                      throw new IllegalStateException("cannot create the TLS client context", e);
                    }
                  },
                  r -> {
                    Thread t = new Thread(r, "tollgate-tls-init");
                    t.setDaemon(true);
                    t.start();
                  });
          ssl = s;
        }
      }
    }
    return s;
  }

  /**
   * Sends a request made by {@code request} (called once per attempt) to {@code origin} on {@code
   * loop}. The connect timeout covers acquiring a connection, pooled or new. A request that is not
   * a {@link FullHttpRequest} is a head whose body follows through {@link Exchange#writeBody}.
   */
  public Exchange send(
      EventLoop loop,
      URI origin,
      String caFile,
      Supplier<? extends HttpRequest> request,
      Duration connectTimeout,
      ExchangeListener listener) {
    CallExchange exchange = new CallExchange(loop, request, listener, connectTimeout);
    boolean needsDefaultTls = "https".equals(origin.getScheme()) && caFile == null;
    if (needsDefaultTls && !systemTrust().isDone()) {
      systemTrust()
          .whenComplete((c, e) -> loop.execute(() -> begin(exchange, loop, origin, caFile)));
    } else {
      begin(exchange, loop, origin, caFile);
    }
    return exchange;
  }

  private void begin(CallExchange exchange, EventLoop loop, URI origin, String caFile) {
    SimpleChannelPool pool;
    try {
      pool = pool(loop, origin, caFile);
    } catch (RuntimeException e) {
      exchange.failBeforeStart(e);
      return;
    }
    exchange.start(pool);
  }

  /**
   * Creates the DNS resolver of each event loop now, on that loop, instead of at its first upstream
   * connection: Netty's {@link DnsAddressResolverGroup} makes one per event loop (a UDP channel
   * registered and bound, even for a literal address), which was about a fifth of the first call's
   * time (bench/results/footprint.md). Called once the sidecar is ready, so readiness does not wait
   * for it; a call that comes first simply creates its loop's resolver itself, as before.
   */
  public void prepareResolvers(Iterable<? extends io.netty.util.concurrent.EventExecutor> loops) {
    for (io.netty.util.concurrent.EventExecutor loop : loops) {
      loop.execute(
          () -> {
            try {
              resolver.getResolver(loop);
            } catch (RuntimeException e) {
              // the first call through this loop creates it (and reports a failure) instead
              LOG.debug("DNS resolver not prepared: {}", e.toString());
            }
          });
    }
  }

  /** Closes every pooled connection. */
  public void close() {
    pools.values().forEach(SimpleChannelPool::close);
    pools.clear();
    resolver.close();
  }

  /**
   * Builds the TLS contexts for these CA files (reading them), so that calls never read files on an
   * event loop. Called with each configuration applied, on the configuration watcher's thread.
   */
  public void prepareTrust(Collection<String> caFiles) {
    for (String f : caFiles) {
      try {
        trustByCaFile.put(
            f,
            SslContextBuilder.forClient()
                .endpointIdentificationAlgorithm("HTTPS")
                .trustManager(new File(f))
                .build());
      } catch (SSLException | IllegalArgumentException e) {
        LOG.warn(
            "cannot use CA file {}: {}; calls through its credential will fail their TLS handshake",
            f,
            e.toString());
      }
    }
  }

  private SslContext sslFor(String caFile) {
    if (caFile == null) {
      return systemTrust().join(); // completed: send() waits for it before an https pool
    }
    SslContext c = trustByCaFile.get(caFile);
    if (c == null) {
      throw new IllegalStateException(
          "CA file " + caFile + " could not be loaded; see the sidecar's log");
    }
    return c;
  }

  private SimpleChannelPool pool(EventLoop loop, URI origin, String caFile) {
    String scheme = origin.getScheme();
    int port = origin.getPort() > 0 ? origin.getPort() : "https".equals(scheme) ? 443 : 80;
    PoolKey key =
        new PoolKey(loop, scheme, origin.getHost(), port, "https".equals(scheme) ? caFile : null);
    SslContext context = "https".equals(scheme) ? sslFor(key.caFile()) : null;
    return pools.computeIfAbsent(key, k -> newPool(k, context));
  }

  private SimpleChannelPool newPool(PoolKey key, SslContext context) {
    Bootstrap b =
        new Bootstrap()
            .group(key.loop())
            .channel(Transport.current().socketChannel())
            .option(ChannelOption.TCP_NODELAY, true)
            .resolver(resolver)
            .remoteAddress(InetSocketAddress.createUnresolved(key.host(), key.port()));
    boolean tls = context != null;
    return new SimpleChannelPool(
        b,
        new AbstractChannelPoolHandler() {
          @Override
          public void channelCreated(Channel ch) {
            ch.attr(USES).set(0);
            if (tls) {
              ch.pipeline().addLast("tls", context.newHandler(ch.alloc(), key.host(), key.port()));
            }
            ch.pipeline()
                .addLast("http-codec", new HttpClientCodec())
                .addLast(
                    "idle",
                    new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS))
                .addLast("idle-close", new IdleCloser());
          }
        },
        ChannelHealthChecker.ACTIVE,
        true,
        true);
  }

  /**
   * Closes pooled connections nobody used for a while, so providers' idle cut-offs never bite, and
   * closes a connection whose error arrives when no call is using it (the call already failed).
   */
  private static final class IdleCloser extends ChannelInboundHandlerAdapter {
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("provider connection {} failed: {}", ctx.channel(), cause.toString());
      ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent && !Boolean.TRUE.equals(ctx.channel().attr(BUSY).get())) {
        ctx.close();
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }
  }

  /** Sharable only in the sense that a retry re-adds it to a fresh connection's pipeline. */
  @ChannelHandler.Sharable
  private static final class CallExchange extends ChannelInboundHandlerAdapter implements Exchange {
    private final EventLoop loop;
    private SimpleChannelPool pool;
    private final Supplier<? extends HttpRequest> request;
    private final ExchangeListener listener;
    // a streamed request body: pieces given before the connection was ready, whether any piece
    // went out (then the request cannot be sent again), whether the whole request went out (else
    // the connection cannot be reused)
    private final ArrayDeque<HttpContent> pendingBody = new ArrayDeque<>();
    private boolean bodyStarted;
    private boolean requestComplete;
    private final Duration connectTimeout;
    private Channel channel;
    private int attempt;
    private boolean reused;
    private boolean gotHead;
    private boolean keepAlive;
    private boolean done;
    private ScheduledFuture<?> connectTimer;

    CallExchange(
        EventLoop loop,
        Supplier<? extends HttpRequest> request,
        ExchangeListener listener,
        Duration connectTimeout) {
      this.loop = loop;
      this.request = request;
      this.listener = listener;
      this.connectTimeout = connectTimeout;
    }

    void start(SimpleChannelPool pool) {
      this.pool = pool;
      start();
    }

    void failBeforeStart(Throwable cause) {
      fail(cause);
    }

    void start() {
      if (done) {
        return; // abandoned before a connection was asked for
      }
      connectTimer =
          loop.schedule(
              () ->
                  fail(
                      new UpstreamConnectException(
                          "no connection to the provider within "
                              + connectTimeout.toMillis()
                              + " ms")),
              connectTimeout.toMillis(),
              TimeUnit.MILLISECONDS);
      pool.acquire().addListener((Future<Channel> f) -> onAcquired(f));
    }

    private void onAcquired(Future<Channel> f) {
      try {
        acquired(f);
      } catch (RuntimeException e) {
        fail(e);
      }
    }

    private void acquired(Future<Channel> f) {
      connectTimer.cancel(false);
      if (!f.isSuccess()) {
        fail(
            new UpstreamConnectException(
                "cannot connect to the provider: " + f.cause().getMessage()));
        return;
      }
      Channel ch = f.getNow();
      if (done) {
        pool.release(ch);
        return;
      }
      channel = ch;
      int uses = ch.attr(USES).get();
      reused = uses > 0;
      ch.attr(USES).set(uses + 1);
      ch.attr(BUSY).set(true);
      ch.pipeline().addLast(EXCHANGE, this);
      HttpRequest head = request.get();
      requestComplete = head instanceof FullHttpRequest;
      ch.write(head).addListener(this::onWritten);
      HttpContent piece;
      while ((piece = pendingBody.poll()) != null) {
        writePiece(ch, piece);
      }
      ch.flush();
      if (!requestComplete && ch.isWritable()) {
        listener.onUpstreamWritable();
      }
    }

    private void onWritten(Future<? super Void> w) {
      if (!w.isSuccess()) {
        onBrokenConnection(w.cause());
      }
    }

    private void writePiece(Channel ch, HttpContent piece) {
      bodyStarted = true;
      if (piece instanceof LastHttpContent) {
        requestComplete = true;
      }
      ch.write(piece).addListener(this::onWritten);
    }

    @Override
    public void writeBody(HttpContent piece) {
      if (done) {
        piece.release();
      } else if (channel == null) {
        pendingBody.add(piece);
      } else {
        writePiece(channel, piece);
        channel.flush();
      }
    }

    @Override
    public boolean bodyWritable() {
      return channel != null && !done && channel.isWritable();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (!done && !requestComplete && ctx.channel().isWritable()) {
        listener.onUpstreamWritable();
      }
      ctx.fireChannelWritabilityChanged();
    }

    /**
     * The connection broke. A pooled connection the provider had already closed fails before any
     * answer: that request never reached the provider, so it is sent once more on a new connection.
     */
    private void onBrokenConnection(Throwable cause) {
      if (done) {
        return;
      }
      if (reused && !gotHead && attempt == 0 && !bodyStarted) {
        attempt++;
        detach(false);
        start();
        return;
      }
      fail(cause);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (done) {
          return;
        }
        if (msg instanceof io.netty.handler.codec.http.HttpObject o
            && o.decoderResult().isFailure()) {
          // e.g. a header over the decoder's 8 KiB: the decoder drops the rest of the response, so
          // nothing more would arrive; fail now so that the call moves on instead of hanging until
          // its total timeout
          fail(
              new UpstreamBrokenException(
                  "the provider's response cannot be read: " + o.decoderResult().cause()));
          return;
        }
        if (msg instanceof HttpResponse head) {
          gotHead = true;
          keepAlive = HttpUtil.isKeepAlive(head);
          listener.onHead(head);
        }
        if (msg instanceof HttpContent content && !done) {
          boolean last = msg instanceof LastHttpContent;
          if (last) {
            done = true;
            // an answer before the whole request went out (e.g. the provider refused an upload
            // early): the rest of the body was never sent, so the connection cannot be reused
            detach(keepAlive && requestComplete);
          }
          listener.onContent(content.content(), last);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!done) {
        onBrokenConnection(
            gotHead
                ? new UpstreamBrokenException("the provider closed the connection mid-response")
                : new UpstreamConnectException(
                    "the provider closed the connection before answering"));
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (done) {
        return;
      }
      if (gotHead) {
        fail(
            new UpstreamBrokenException(
                "the connection to the provider failed mid-response: " + cause.getMessage()));
      } else {
        onBrokenConnection(cause);
      }
    }

    @Override
    public void pause() {
      if (channel != null && !done) {
        channel.config().setAutoRead(false);
      }
    }

    @Override
    public void resume() {
      if (channel != null && !done) {
        channel.config().setAutoRead(true);
      }
    }

    @Override
    public void abort() {
      if (!done) {
        done = true;
        if (connectTimer != null) {
          connectTimer.cancel(false);
        }
        detach(false);
      }
    }

    private void fail(Throwable cause) {
      if (done) {
        return;
      }
      done = true;
      if (connectTimer != null) {
        connectTimer.cancel(false);
      }
      detach(false);
      listener.onFailure(
          cause instanceof ClosedChannelException
              ? new UpstreamConnectException("the provider closed the connection")
              : cause,
          gotHead);
    }

    /** Hands the connection back to the pool: reusable only when the exchange ended cleanly. */
    private void detach(boolean reusable) {
      HttpContent unsent;
      while ((unsent = pendingBody.poll()) != null) {
        unsent.release();
      }
      Channel ch = channel;
      if (ch == null) {
        return;
      }
      channel = null;
      if (ch.pipeline().get(EXCHANGE) == this) {
        ch.pipeline().remove(EXCHANGE);
      }
      ch.attr(BUSY).set(false);
      ch.config().setAutoRead(true);
      if (!reusable) {
        ch.close();
      }
      pool.release(ch);
    }
  }
}
