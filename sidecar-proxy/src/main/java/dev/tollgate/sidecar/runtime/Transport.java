package dev.tollgate.sidecar.runtime;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network transport every event loop and channel of the sidecar uses, chosen once per JVM:
 * Netty's native epoll on Linux when its library loads (fewer system calls and no selected-key set
 * per wake-up, issue #24), else the JDK's NIO. {@value #VARIABLE} (system property {@value
 * #PROPERTY} or environment) says {@code auto} (the default), {@code nio} (never native) or {@code
 * epoll} (native or the sidecar does not start).
 *
 * <p>Netty first loads the library with {@code System.loadLibrary} from {@code java.library.path}
 * (the image's {@code /opt/tollgate/native}) and only then extracts it from the jar to {@code
 * java.io.tmpdir}, which is read-only in the injected pod; when neither works the sidecar runs on
 * NIO and says why.
 */
public final class Transport {
  private static final Logger LOG = LoggerFactory.getLogger(Transport.class);

  static final String VARIABLE = "TOLLGATE_TRANSPORT";
  static final String PROPERTY = "tollgate.transport";

  static final Transport NIO =
      new Transport(
          "nio",
          NioIoHandler::newFactory,
          NioServerSocketChannel.class,
          NioSocketChannel.class,
          NioDatagramChannel.class);

  private static volatile Transport current;

  private final String name;
  private final Supplier<IoHandlerFactory> handlers;
  private final Class<? extends ServerSocketChannel> serverChannel;
  private final Class<? extends SocketChannel> socketChannel;
  private final Class<? extends DatagramChannel> datagramChannel;

  private Transport(
      String name,
      Supplier<IoHandlerFactory> handlers,
      Class<? extends ServerSocketChannel> serverChannel,
      Class<? extends SocketChannel> socketChannel,
      Class<? extends DatagramChannel> datagramChannel) {
    this.name = name;
    this.handlers = handlers;
    this.serverChannel = serverChannel;
    this.socketChannel = socketChannel;
    this.datagramChannel = datagramChannel;
  }

  /** The transport of this JVM, chosen and logged on first use. */
  public static Transport current() {
    Transport t = current;
    if (t == null) {
      synchronized (Transport.class) {
        t = current;
        if (t == null) {
          t = choose(System.getProperty(PROPERTY, System.getenv(VARIABLE)));
          logBufferAccess();
          current = t;
        }
      }
    }
    return t;
  }

  /**
   * Says how Netty reaches its buffers' memory: through {@code sun.misc.Unsafe}, or (Netty's
   * default on Java 25+, costlier per call; the image's {@code jvm-25.options} turns it back on)
   * through {@code ByteBuffer} and {@code MemorySegment}.
   */
  private static void logBufferAccess() {
    if (io.netty.util.internal.PlatformDependent.hasUnsafe()) {
      LOG.info("netty buffers: sun.misc.Unsafe");
    } else {
      Throwable why = io.netty.util.internal.PlatformDependent.getUnsafeUnavailabilityCause();
      LOG.info(
          "netty buffers: without sun.misc.Unsafe ({})",
          why == null ? "unavailable" : why.getMessage());
    }
  }

  /**
   * The transport a setting asks for ({@code null} or blank is {@code auto}).
   *
   * @throws IllegalArgumentException for an unknown setting, or {@code epoll} where it cannot load
   */
  static Transport choose(String setting) {
    String wanted =
        setting == null || setting.isBlank() ? "auto" : setting.trim().toLowerCase(Locale.ROOT);
    switch (wanted) {
      case "nio":
        LOG.info("network transport: nio ({}={})", VARIABLE, setting.trim());
        return NIO;
      case "auto":
      case "epoll":
        if (Epoll.isAvailable()) {
          LOG.info("network transport: epoll (native)");
          return epoll();
        }
        Throwable cause = Epoll.unavailabilityCause();
        if ("epoll".equals(wanted)) {
          throw new IllegalArgumentException(
              VARIABLE + "=epoll but the native epoll transport cannot load: " + cause, cause);
        }
        LOG.info("network transport: nio (native epoll unavailable: {})", summary(cause));
        LOG.debug("native epoll unavailable", cause);
        return NIO;
      default:
        throw new IllegalArgumentException(
            VARIABLE + " must be auto, epoll or nio, not " + setting);
    }
  }

  private static Transport epoll() {
    return new Transport(
        "epoll",
        EpollIoHandler::newFactory,
        EpollServerSocketChannel.class,
        EpollSocketChannel.class,
        EpollDatagramChannel.class);
  }

  /** The first line of the cause's message chain: short enough for the one start line. */
  private static String summary(Throwable cause) {
    if (cause == null) {
      return "no cause given";
    }
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return root.getClass().getSimpleName()
        + (message == null ? "" : ": " + message.lines().findFirst().orElse(""));
  }

  /** {@code epoll} or {@code nio}. */
  public String name() {
    return name;
  }

  /** A group of {@code threads} event loops on this transport. */
  public EventLoopGroup newGroup(int threads) {
    return new MultiThreadIoEventLoopGroup(threads, handlers.get());
  }

  public Class<? extends ServerSocketChannel> serverChannel() {
    return serverChannel;
  }

  public Class<? extends SocketChannel> socketChannel() {
    return socketChannel;
  }

  /** For the DNS resolver's UDP queries. */
  public Class<? extends DatagramChannel> datagramChannel() {
    return datagramChannel;
  }

  @Override
  public String toString() {
    return name;
  }
}
