package dev.tollgate.sidecar;

/** Entry point of the sidecar proxy. The proxy itself arrives with the sidecar-core issue. */
public final class SidecarMain {
  private SidecarMain() {}

  public static void main(String[] args) {
    System.err.println("tollgate-sidecar: the proxy is not built yet (see the sidecar-core issue)");
    System.exit(2);
  }
}
