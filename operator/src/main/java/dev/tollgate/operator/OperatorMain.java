package dev.tollgate.operator;

/** Entry point of the operator. The reconcilers arrive with the operator issue. */
public final class OperatorMain {
  private OperatorMain() {}

  public static void main(String[] args) {
    System.err.println("tollgate-operator: the reconcilers are not built yet (see the operator issue)");
    System.exit(2);
  }
}
