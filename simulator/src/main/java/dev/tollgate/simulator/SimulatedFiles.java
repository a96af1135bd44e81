package dev.tollgate.simulator;

import static dev.tollgate.simulator.Http.JSON;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * OpenAI Files as the simulator keeps them: uploads up to {@value #MAX_FILE_BYTES} bytes (and the
 * batch output and error files the simulator writes) are stored, at most {@value #MAX_FILES} files
 * and {@value #MAX_TOTAL_BYTES} bytes in all (the oldest dropped first), so {@code GET
 * /v1/files/{id}} and its {@code /content} answer what was uploaded. Larger uploads are counted and
 * dropped ({@link StreamedFileUploads}) and answered with the unstored id {@value #UNSTORED_ID}.
 */
final class SimulatedFiles {
  static final int MAX_FILE_BYTES = 16 * 1024 * 1024;
  static final int MAX_FILES = 200;
  static final long MAX_TOTAL_BYTES = 128L * 1024 * 1024;

  /** The id of an upload that was too large to keep. */
  static final String UNSTORED_ID = "file-sim";

  /**
   * The prefix of stored files' ids; any other id's content is synthetic (see ResourceEndpoints).
   */
  static final String STORED_PREFIX = "file-sim-";

  record StoredFile(String id, String filename, String purpose, byte[] content, long createdAt) {
    ObjectNode object() {
      ObjectNode f = JSON.createObjectNode().put("id", id).put("object", "file");
      f.put("bytes", content.length).put("created_at", createdAt);
      f.putNull("expires_at");
      f.put("filename", filename).put("purpose", purpose).put("status", "processed");
      f.putNull("status_details");
      return f;
    }
  }

  private final Map<String, StoredFile> files = new LinkedHashMap<>();
  private final AtomicInteger next = new AtomicInteger();
  private long totalBytes;

  /** Keeps {@code content} and answers the stored file. */
  synchronized StoredFile store(String filename, String purpose, byte[] content) {
    while (!files.isEmpty()
        && (files.size() >= MAX_FILES || totalBytes + content.length > MAX_TOTAL_BYTES)) {
      Iterator<StoredFile> oldest = files.values().iterator();
      totalBytes -= oldest.next().content().length;
      oldest.remove();
    }
    String id = STORED_PREFIX + next.incrementAndGet();
    StoredFile f =
        new StoredFile(id, filename, purpose, content, System.currentTimeMillis() / 1000);
    files.put(id, f);
    totalBytes += content.length;
    return f;
  }

  /** The stored file, or null. */
  synchronized StoredFile get(String id) {
    return files.get(id);
  }

  synchronized boolean delete(String id) {
    StoredFile f = files.remove(id);
    if (f != null) {
      totalBytes -= f.content().length;
    }
    return f != null;
  }

  /** The stored files, newest first. */
  synchronized List<StoredFile> list() {
    List<StoredFile> all = new ArrayList<>(files.values());
    java.util.Collections.reverse(all);
    return all;
  }

  synchronized void reset() {
    files.clear();
    totalBytes = 0;
  }
}
