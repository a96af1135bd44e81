package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.upstream.ExchangeListener;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;
import java.util.function.IntSupplier;

/**
 * Passes the events of attempt {@code n} on only while it is the call's current attempt: late
 * events of an abandoned attempt (timed out, failed over) are dropped.
 */
record CurrentAttempt(int n, IntSupplier current, ExchangeListener call)
    implements ExchangeListener {
  @Override
  public void onHead(HttpResponse head) {
    if (n == current.getAsInt()) {
      call.onHead(head);
    }
  }

  @Override
  public void onContent(ByteBuf content, boolean last) {
    if (n == current.getAsInt()) {
      call.onContent(content, last);
    }
  }

  @Override
  public void onFailure(Throwable cause, boolean afterHead) {
    if (n == current.getAsInt()) {
      call.onFailure(cause, afterHead);
    }
  }
}
