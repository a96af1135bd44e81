package dev.tollgate.local;

/**
 * Entry point of {@code java -jar local/target/tollgate-local.jar [options]}: runs {@link
 * LocalMode} and exits with its code.
 */
public final class LocalMain {
  private LocalMain() {}

  public static void main(String[] args) {
    System.exit(LocalMode.run(args, System.out));
  }
}
