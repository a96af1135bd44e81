package dev.tollgate.local;

import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.simulator.ProviderSimulator;
import dev.tollgate.simulator.SimulatorBehavior;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The provider simulators of a run, one per ProviderCredential (so one provider can fail alone),
 * keyed by {@code namespace/name}: an example may declare a credential of the same name in several
 * namespaces (namespace-budgets does).
 */
final class Simulators implements AutoCloseable {
  private final Map<String, ProviderSimulator> byCredential = new LinkedHashMap<>();

  /**
   * Starts a simulator for each of the example's credentials (Vertex AI is not simulated) and
   * points the credential's endpoint at it.
   *
   * @return one line per credential, for the progress report
   */
  List<String> start(Example example) throws InterruptedException {
    List<String> lines = new ArrayList<>();
    for (ProviderCredential credential : example.credentials()) {
      String provider = credential.getSpec().getProvider().wireName();
      if (provider.equals("vertex-ai")) {
        lines.add(credential.getMetadata().getName() + " (vertex-ai: not simulated, calls fail)");
        continue;
      }
      ProviderSimulator sim = ProviderSimulator.start();
      // Seed numbers (customer-support): ~1,200 input and ~150 output tokens a conversation,
      // Groq answering in ~150 ms; Claude caches the marked system prompt as Anthropic does
      // (written on the first call, read afterwards) and bills ~200 new input tokens.
      boolean claude = provider.equals("anthropic");
      Duration ttft = provider.equals("groq") ? Duration.ofMillis(150) : Duration.ofMillis(400);
      sim.behavior(
          SimulatorBehavior.defaults()
              .withTiming(ttft, 2000)
              .withUsage(claude ? 200 : 1200, 150, 0, 0));
      sim.simulatePromptCaching(claude);
      String ns = credential.getMetadata().getNamespace();
      byCredential.put(key(ns == null ? example.namespace() : ns, credential), sim);
      boolean openAiFamily = !Set.of("anthropic", "gemini", "bedrock").contains(provider);
      credential.getSpec().setEndpoint(sim.baseUrl() + (openAiFamily ? "/v1" : ""));
      lines.add(
          (ns == null ? example.namespace() : ns)
              + "/"
              + credential.getMetadata().getName()
              + " ("
              + provider
              + ") -> "
              + sim.baseUrl());
    }
    return lines;
  }

  private static String key(String namespace, ProviderCredential credential) {
    return namespace + "/" + credential.getMetadata().getName();
  }

  /** The simulators of {@code namespace}'s credentials (the ones its sidecars call). */
  List<ProviderSimulator> of(String namespace) {
    return byCredential.entrySet().stream()
        .filter(e -> e.getKey().startsWith(namespace + "/"))
        .map(Map.Entry::getValue)
        .toList();
  }

  /** The simulator of {@code namespace/credential}, or null. */
  ProviderSimulator get(String key) {
    return byCredential.get(key);
  }

  @Override
  public void close() {
    byCredential.values().forEach(ProviderSimulator::close);
  }
}
