package dev.tollgate.simulator;

import java.time.Duration;

/**
 * Runs the provider simulator on its own, for benchmarks: {@code java -jar
 * simulator/target/tollgate-simulator.jar --port 9000 --ttft 0ms --tps 0 --output-tokens 8}.
 */
public final class SimulatorMain {
  private SimulatorMain() {}

  public static void main(String[] args) throws Exception {
    int port = 9000;
    int threads = 1;
    SimulatorBehavior b = SimulatorBehavior.defaults();
    Duration ttft = Duration.ZERO;
    int tps = 0;
    for (int i = 0; i + 1 < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(v);
        case "--threads" -> threads = Integer.parseInt(v);
        case "--ttft" -> ttft = dev.tollgate.sidecar.config.Durations.parse(v);
        case "--tps" -> tps = Integer.parseInt(v);
        case "--output-tokens" -> b = b.withUsage(b.inputTokens(), Integer.parseInt(v), 0, 0);
        case "--fault" -> b = b.withFault(Fault.valueOf(v));
        case "--fault-rate" -> b = b.withFault(b.fault(), Double.parseDouble(v));
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    ProviderSimulator sim = ProviderSimulator.start("127.0.0.1", port, threads);
    sim.behavior(b.withTiming(ttft, tps));
    Runtime.getRuntime().addShutdownHook(new Thread(sim::close, "simulator-shutdown"));
    System.out.println("provider simulator listening on " + sim.baseUrl());
    Thread.currentThread().join();
  }
}
