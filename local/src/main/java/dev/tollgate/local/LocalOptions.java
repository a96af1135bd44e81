package dev.tollgate.local;

import java.nio.file.Path;

/**
 * Options of local mode ({@code java -jar local/target/tollgate-local.jar}).
 *
 * @param example scenario folder under {@code examplesDir}
 * @param examplesDir where the scenarios live (the repository's {@code examples/})
 * @param sidecars how many sidecars serve the traffic
 * @param requests how many requests the traffic driver sends
 * @param concurrency requests in flight at once
 * @param realProviders call the providers named by the example with keys from the environment
 *     instead of the simulator
 * @param keepRunning leave the sidecars listening after the run, until Ctrl-C
 * @param verbose show the operator's, sidecars' and API server's logs (default: warnings only)
 * @param otlp an OTLP/HTTP collector's base URL the sidecars export their traces to, or null
 */
public record LocalOptions(
    String example,
    Path examplesDir,
    int sidecars,
    int requests,
    int concurrency,
    boolean realProviders,
    boolean keepRunning,
    boolean verbose,
    java.net.URI otlp) {

  static final String USAGE =
      """
      usage: java -jar local/target/tollgate-local.jar [options]
        --example NAME        scenario under examples/ (default customer-support)
        --examples-dir DIR    where the scenarios are (default ./examples)
        --sidecars N          sidecars serving the traffic (default 2)
        --requests N          requests to send (default 240)
        --concurrency N       requests in flight at once (default 8)
        --real-providers      call real providers; keys from OPENAI_API_KEY, ANTHROPIC_API_KEY,
                              GROQ_API_KEY, GEMINI_API_KEY, ... (default: the simulator)
        --keep-running        keep the sidecars listening after the run (Ctrl-C to stop)
        --verbose             show the components' logs, one JSON line per LLM call included
        --otlp URL            export the sidecars' OpenTelemetry traces to a collector's OTLP/HTTP
                              endpoint (e.g. http://localhost:4318; default: no traces)
      """;

  public LocalOptions {
    if (sidecars < 1 || sidecars > 16) {
      throw new IllegalArgumentException("--sidecars must be between 1 and 16, got " + sidecars);
    }
    if (requests < 1) {
      throw new IllegalArgumentException("--requests must be at least 1, got " + requests);
    }
    if (concurrency < 1 || concurrency > 256) {
      throw new IllegalArgumentException("--concurrency must be between 1 and 256");
    }
  }

  /** Parses local mode's command-line arguments. */
  public static LocalOptions parse(String... args) {
    String example = "customer-support";
    Path examplesDir = Path.of("examples");
    int sidecars = 2;
    int requests = 240;
    int concurrency = 8;
    boolean real = false;
    boolean keep = false;
    boolean verbose = false;
    java.net.URI otlp = null;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "--real-providers" -> real = true;
        case "--keep-running" -> keep = true;
        case "--verbose" -> verbose = true;
        case "--example" -> example = value(args, ++i, arg);
        case "--examples-dir" -> examplesDir = Path.of(value(args, ++i, arg));
        case "--sidecars" -> sidecars = number(value(args, ++i, arg), arg);
        case "--requests" -> requests = number(value(args, ++i, arg), arg);
        case "--concurrency" -> concurrency = number(value(args, ++i, arg), arg);
        case "--otlp" -> otlp = url(value(args, ++i, arg), arg);
        default -> throw new IllegalArgumentException("unknown option " + arg + "\n" + USAGE);
      }
    }
    return new LocalOptions(
        example, examplesDir, sidecars, requests, concurrency, real, keep, verbose, otlp);
  }

  private static String value(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException(option + " needs a value\n" + USAGE);
    }
    return args[index];
  }

  private static java.net.URI url(String value, String option) {
    try {
      java.net.URI u = java.net.URI.create(value);
      if (("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null) {
        return u;
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        option + " expects an http(s) URL such as http://localhost:4318, got '" + value + "'");
  }

  private static int number(String value, String option) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " expects a number, got '" + value + "'");
    }
  }
}
