package dev.tollgate.operator;

import dev.tollgate.api.CrdSummary;

/**
 * Entry point of the operator. Until the reconcilers and {@code local} mode land, {@code local}
 * prints what the generated API declares so that the README's main command shows something true.
 */
public final class OperatorMain {
  private OperatorMain() {}

  public static void main(String[] args) {
    String command = args.length == 0 ? "local" : args[0];
    if (command.equals("local") || command.equals("crds")) {
      System.out.println("Tollgate API (generated CRDs in crds/):");
      CrdSummary.print(System.out);
      return;
    }
    System.err.println("usage: tollgate-operator [local|crds]");
    System.exit(2);
  }
}
