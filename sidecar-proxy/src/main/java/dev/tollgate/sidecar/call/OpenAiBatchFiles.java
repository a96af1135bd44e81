package dev.tollgate.sidecar.call;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The estimates of the OpenAI batch input files this sidecar uploaded, by credential and file id,
 * until {@code POST /v1/batches} names them: at most {@value #MAX_FILES}, each kept {@link #TTL}
 * (the oldest dropped first). A file not remembered (uploaded elsewhere, or before a restart) is
 * read back from the provider instead ({@link OpenAiBatchInputRead}). Also holds the bounds the
 * server derived from the heap for batch uploads and their lines.
 */
public final class OpenAiBatchFiles {
  static final int MAX_FILES = 1_000;
  static final Duration TTL = Duration.ofHours(24);

  private record Entry(OpenAiBatchEstimate estimate, Instant until) {}

  private final Map<String, Entry> files = new LinkedHashMap<>();
  private final Clock clock;
  private volatile long maxUploadBytes = 100L * 1024 * 1024;
  private volatile long maxLineBytes = 4L * 1024 * 1024;

  public OpenAiBatchFiles(Clock clock) {
    this.clock = clock;
  }

  /**
   * The largest upload held whole to be read as a batch input file, and the largest line read (a
   * request's body limit), as the server derived them from its settings and heap.
   */
  public void limits(long uploadBytes, long lineBytes) {
    maxUploadBytes = uploadBytes;
    maxLineBytes = lineBytes;
  }

  public long maxUploadBytes() {
    return maxUploadBytes;
  }

  long maxLineBytes() {
    return maxLineBytes;
  }

  synchronized void remember(String credential, String fileId, OpenAiBatchEstimate estimate) {
    Instant now = clock.instant();
    files.values().removeIf(e -> e.until().isBefore(now));
    while (files.size() >= MAX_FILES) {
      Iterator<Entry> oldest = files.values().iterator();
      oldest.next();
      oldest.remove();
    }
    files.put(credential + "/" + fileId, new Entry(estimate, now.plus(TTL)));
  }

  /** The estimate of the file, or null when this sidecar does not remember it. */
  synchronized OpenAiBatchEstimate estimate(String credential, String fileId) {
    Entry e = files.get(credential + "/" + fileId);
    return e == null || e.until().isBefore(clock.instant()) ? null : e.estimate();
  }

  /** Forgets everything, as a restart would. */
  public synchronized void clear() {
    files.clear();
  }
}
