package dev.tollgate.operator.report;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What one test opens (its sidecars, report channels of its own), closed right after the test,
 * newest first, whatever its outcome; before the test's {@code @AfterEach} methods, so a report
 * channel closed there outlives the sidecars reporting to it. A test that closes one itself takes
 * it back with {@link #remove}. Registered with {@code @RegisterExtension} on an instance field.
 */
final class ClosedAfterTest implements AfterTestExecutionCallback {
  private final List<AutoCloseable> open = new ArrayList<>();

  <T extends AutoCloseable> T add(T closeable) {
    open.add(closeable);
    return closeable;
  }

  void remove(AutoCloseable closeable) {
    open.remove(closeable);
  }

  @Override
  public void afterTestExecution(ExtensionContext context) throws Exception {
    Exception first = null;
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    open.clear();
    if (first != null) {
      throw first;
    }
  }
}
