package dev.tollgate.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * Sends customer-support style conversations to the sidecars as an application would, in OpenAI's
 * chat-completions format and, for one request in eight, OpenAI's Responses API (as the Agents SDK
 * and Codex call it: instructions plus input items, routed by the same model alias and translated
 * for providers that do not speak it): multi-turn messages behind a stable system prompt, a share
 * of them streamed, frequently asked questions repeated, some with a screenshot (an image) and some
 * asking for JSON ({@code response_format} json_schema), so that failover must translate those too.
 * Counts what the caller saw.
 */
final class TrafficDriver {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A 1×1 PNG standing in for a customer's screenshot. */
  private static final String SCREENSHOT =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

  /**
   * A support prompt with the company's policies, as the seed describes, long enough (about 1,200
   * tokens) for Claude's prompt cache: routes with {@code promptCaching} mark it, and the simulator
   * writes it to its cache once and reads it afterwards.
   */
  private static final String SYSTEM_PROMPT =
      """
      You are the support assistant of Acme Cloud. Answer briefly and politely. If you do not       know, say so and offer to open a ticket.

      Company policies:
      %s
      Tone: friendly, concise, no jargon. Never promise dates the engineering team has not       published. Never ask for passwords or full card numbers.
      """
          .formatted(policies());

  private static String policies() {
    List<String> topics =
        List.of(
            "Refunds are granted within 30 days of a charge when the service was unavailable.",
            "Double charges are refunded at once; confirm the order id before promising it.",
            "Invoices are sent on the 1st of each month to the account owner's address.",
            "Password resets send an email to the registered address; ask to check spam.",
            "Support hours are 24/7 for Enterprise, 8:00 to 20:00 CET on weekdays otherwise.",
            "Rate limit errors (429) mean the plan's quota is used; point to the usage page.",
            "Regional moves (EU, US) are scheduled by the platform team within 5 working days.",
            "Cancellations take effect at the end of the billing period; data is kept 30 days.",
            "Incidents are announced on the status page; link it instead of guessing causes.",
            "Billing disputes above 500 EUR are escalated to tier 2 with the invoice number.");
    StringBuilder sb = new StringBuilder();
    for (String plan : List.of("Free", "Team", "Business", "Enterprise", "Partner")) {
      sb.append("Plan ").append(plan).append(":\n");
      for (String topic : topics) {
        sb.append("- ").append(topic).append('\n');
      }
    }
    return sb.toString();
  }

  private static final List<String> FAQ =
      List.of(
          "How do I reset my password?",
          "What are your support hours?",
          "Where can I download my invoice?",
          "How do I cancel my subscription?");

  /** How many distinct FAQ questions the driver asks (local mode's budget estimate uses it). */
  static final int FAQ_QUESTIONS = FAQ.size();

  private static final List<String> ISSUES =
      List.of(
          "Our API integration fails with 429 errors intermittently since yesterday, what changed?",
          "The dashboard is slow when I filter by region, is there an incident?",
          "I was charged twice for order %d, can you refund one of the charges?",
          "How do I move my workspace %d to the EU region without downtime?");

  /** What the callers saw. */
  record Result(
      int requests,
      int succeeded,
      int streamed,
      Map<Integer, Integer> failuresByStatus,
      long totalLatencyMillis,
      int cacheHits) {}

  /** A caller's view of one answer: its HTTP status and whether the sidecar replayed it. */
  private record Answer(int status, boolean cacheHit) {}

  private final HttpClient http =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .version(HttpClient.Version.HTTP_1_1)
          .build();
  private final List<String> sidecarUrls;
  private final String model;

  TrafficDriver(List<String> sidecarUrls, String model) {
    this.sidecarUrls = List.copyOf(sidecarUrls);
    this.model = model;
  }

  /**
   * Sends {@code count} requests, {@code concurrency} at a time, calling {@code onDone} with the
   * number finished so far after each one.
   */
  Result run(int count, int concurrency, IntConsumer onDone) throws InterruptedException {
    AtomicInteger done = new AtomicInteger();
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger streamed = new AtomicInteger();
    AtomicInteger hits = new AtomicInteger();
    AtomicLong latency = new AtomicLong();
    Map<Integer, Integer> failures = new ConcurrentHashMap<>();
    Semaphore slots = new Semaphore(concurrency);
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    try {
      for (int i = 0; i < count; i++) {
        int n = i;
        slots.acquire();
        pool.execute(
            () -> {
              try {
                boolean stream = n % 4 == 3;
                long start = System.nanoTime();
                Answer answer = send(n, stream);
                int status = answer.status();
                latency.addAndGet((System.nanoTime() - start) / 1_000_000);
                if (answer.cacheHit()) {
                  hits.incrementAndGet();
                }
                if (status == 200) {
                  ok.incrementAndGet();
                  if (stream) {
                    streamed.incrementAndGet();
                  }
                } else {
                  failures.merge(status, 1, Integer::sum);
                }
              } finally {
                slots.release();
                onDone.accept(done.incrementAndGet());
              }
            });
      }
    } finally {
      pool.shutdown();
      pool.awaitTermination(5, java.util.concurrent.TimeUnit.MINUTES);
    }
    return new Result(
        count, ok.get(), streamed.get(), Map.copyOf(failures), latency.get(), hits.get());
  }

  /** One request; the HTTP status the caller saw (0: no answer at all). */
  private Answer send(int n, boolean stream) {
    boolean responses = n % 8 == 5;
    String url =
        sidecarUrls.get(n % sidecarUrls.size())
            + (responses ? "/v1/responses" : "/v1/chat/completions");
    try {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(url))
              .timeout(Duration.ofSeconds(30))
              .header("Content-Type", "application/json")
              .header("x-tollgate-user", "customer-" + (n % 37))
              .POST(
                  HttpRequest.BodyPublishers.ofString(
                      responses ? responsesBody(n, stream) : body(n, stream)))
              .build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      boolean hit =
          response.headers().firstValue("x-tollgate-cache").map("hit"::equals).orElse(false);
      String end = responses ? "event: response.completed" : "[DONE]";
      if (response.statusCode() == 200 && stream && !response.body().contains(end)) {
        // a stream that ended without its terminator is a failure the app would see
        return new Answer(0, hit);
      }
      return new Answer(response.statusCode(), hit);
    } catch (java.io.IOException e) {
      return new Answer(0, false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(0, false);
    }
  }

  /** The same conversation as {@link #body}, as a Responses API request. */
  private String responsesBody(int n, boolean stream) {
    ObjectNode chat;
    try {
      chat = (ObjectNode) JSON.readTree(body(n, false));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    ObjectNode body = JSON.createObjectNode();
    body.put("model", model);
    ArrayNode input = body.putArray("input");
    for (var m : chat.path("messages")) {
      if ("system".equals(m.path("role").asText())) {
        body.put("instructions", m.path("content").asText());
      } else {
        input
            .addObject()
            .put("role", m.path("role").asText())
            .put("content", m.path("content").asText());
      }
    }
    body.put("temperature", 0);
    if (stream) {
      body.put("stream", true);
    }
    return body.toString();
  }

  private String body(int n, boolean stream) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", model);
    ArrayNode messages = body.putArray("messages");
    messages.addObject().put("role", "system").put("content", SYSTEM_PROMPT);
    if (n % 5 < 2) {
      // Frequently asked questions, asked the same way again and again.
      messages.addObject().put("role", "user").put("content", FAQ.get(n % FAQ.size()));
    } else {
      String issue = ISSUES.get(n % ISSUES.size()).formatted(1000 + n);
      messages.addObject().put("role", "user").put("content", issue);
      messages
          .addObject()
          .put("role", "assistant")
          .put("content", "I'm sorry about that. Could you tell me your account id?");
      ObjectNode last = messages.addObject().put("role", "user");
      if (n % 8 == 3) {
        // a screenshot of the error, as support bots receive them (translated as an image block
        // when another provider serves the call)
        ArrayNode parts = last.putArray("content");
        parts.addObject().put("type", "text").put("text", "It is ACME-" + (4000 + n) + ".");
        parts
            .addObject()
            .put("type", "image_url")
            .putObject("image_url")
            .put("url", "data:image/png;base64," + SCREENSHOT);
      } else {
        last.put("content", "It is ACME-" + (4000 + n) + ".");
      }
    }
    if (n % 8 == 7) {
      // the ticket classification as JSON (structured output, translated when failed over)
      ObjectNode schema = body.putObject("response_format").put("type", "json_schema");
      ObjectNode js = schema.putObject("json_schema").put("name", "ticket");
      ObjectNode props = js.putObject("schema").put("type", "object").putObject("properties");
      props.putObject("category").put("type", "string");
      props.putObject("urgent").put("type", "boolean");
    }
    body.put("temperature", 0);
    if (stream) {
      body.put("stream", true);
      body.putObject("stream_options").put("include_usage", true);
    }
    return body.toString();
  }
}
