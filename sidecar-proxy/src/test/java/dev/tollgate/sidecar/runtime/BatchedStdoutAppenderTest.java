package dev.tollgate.sidecar.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class BatchedStdoutAppenderTest {
  /** Counts the writes that would each be a system call on stdout. */
  static final class CountingSink extends OutputStream {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final AtomicInteger writes = new AtomicInteger();

    @Override
    public synchronized void write(int b) {
      writes.incrementAndGet();
      bytes.write(b);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      writes.incrementAndGet();
      bytes.write(b, off, len);
    }

    synchronized String text() {
      return bytes.toString(StandardCharsets.UTF_8);
    }
  }

  private static BatchedStdoutAppender appender(LoggerContext ctx, OutputStream sink, int queue) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(ctx);
    encoder.setPattern("%msg%n");
    encoder.start();
    BatchedStdoutAppender a = new BatchedStdoutAppender(sink);
    a.setContext(ctx);
    a.setEncoder(encoder);
    a.setQueueSize(queue);
    a.setFlushIntervalMillis(20);
    a.start();
    return a;
  }

  private static Logger logger(LoggerContext ctx, BatchedStdoutAppender a) {
    Logger log = ctx.getLogger("test.batched." + System.nanoTime());
    log.setLevel(Level.INFO);
    log.setAdditive(false);
    log.addAppender(a);
    return log;
  }

  @Test
  void everyLineFromManyThreadsIsWrittenInOrderInFarFewerWritesThanLinesAndStopFlushes()
      throws Exception {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    CountingSink sink = new CountingSink();
    BatchedStdoutAppender a = appender(ctx, sink, 256);
    Logger log = logger(ctx, a);
    int threads = 4;
    int perThread = 5_000;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread th =
          new Thread(
              () -> {
                try {
                  go.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int i = 0; i < perThread; i++) {
                  log.info("t{} line {}", id, i);
                }
              });
      th.start();
      ts.add(th);
    }
    go.countDown();
    for (Thread th : ts) {
      th.join(30_000);
    }
    // stopped at once: what is still queued must be written before stop returns
    a.stop();

    String[] lines = sink.text().split("\n");
    assertThat(lines).hasSize(threads * perThread);
    int[] next = new int[threads];
    for (String line : lines) {
      String[] p = line.split(" ");
      int t = Integer.parseInt(p[0].substring(1));
      assertThat(Integer.parseInt(p[2])).as("order of thread %d", t).isEqualTo(next[t]);
      next[t]++;
    }
    // a small queue forces the loggers to wait for room (bounded) and still nothing is lost;
    // the writer writes a batch per wake-up, not a line per write
    assertThat(sink.writes.get()).isLessThan(threads * perThread / 10);
  }

  @Test
  void aLineIsWrittenWithinTheFlushIntervalWithoutMoreLinesBehindIt() throws Exception {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    CountingSink sink = new CountingSink();
    BatchedStdoutAppender a = appender(ctx, sink, 8192);
    Logger log = logger(ctx, a);
    log.info("alone");
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!sink.text().equals("alone\n") && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(sink.text()).isEqualTo("alone\n");
    a.stop();
  }
}
