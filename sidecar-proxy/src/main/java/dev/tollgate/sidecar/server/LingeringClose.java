package dev.tollgate.sidecar.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a caller's connection after an answer sent while the caller was still sending its request
 * body, the way nginx's {@code lingering_close} does: once the answer is written, the sidecar's
 * side of the connection is shut down for output (the caller reads the answer, then end of stream),
 * what the caller still sends is read and dropped, and the connection closes when the caller closes
 * its side or after {@value #MAX_MILLIS} ms.
 *
 * <p>Closing at once would leave the unread body in the socket's receive buffer, and the kernel
 * then answers the close with a reset instead of a FIN: a caller still writing its body gets
 * "connection reset" and may never read the 413 that was sent before it (seen on the native epoll
 * transport, whose reads leave more of the body unread at that moment than NIO's).
 */
public final class LingeringClose {
  /** How long the rest of a body is read and dropped at most. */
  static final long MAX_MILLIS = 2_000;

  private LingeringClose() {}

  /** Once {@code written} is done, half-closes its channel and lets it linger (see above). */
  public static void after(ChannelFuture written) {
    Channel ch = written.channel();
    written.addListener(
        (ChannelFuture f) -> {
          if (!f.isSuccess() || !ch.isActive() || !(ch instanceof DuplexChannel duplex)) {
            ch.close();
            return;
          }
          ScheduledFuture<?> deadline =
              ch.eventLoop().schedule(() -> ch.close(), MAX_MILLIS, TimeUnit.MILLISECONDS);
          ch.closeFuture().addListener(c -> deadline.cancel(false));
          duplex
              .shutdownOutput()
              .addListener(
                  (ChannelFuture s) -> {
                    if (!s.isSuccess()) {
                      ch.close();
                    }
                  });
          // the rest of the body is read (and dropped by the finished call) until the caller closes
          ch.config().setAutoRead(true);
        });
  }
}
