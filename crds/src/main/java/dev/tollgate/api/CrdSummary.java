package dev.tollgate.api;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Prints what the generated CRDs (packaged in this jar under {@code META-INF/fabric8}) declare:
 * names, short names, printer columns and validation rules, as a quick look at the API without a
 * cluster.
 */
public final class CrdSummary {
  /** Plural names of the Tollgate CRDs, in the order a user meets them. */
  public static final List<String> PLURALS = List.of("providercredentials", "llmroutes", "budgets");

  private CrdSummary() {}

  /** Loads one generated CRD from the classpath. */
  public static CustomResourceDefinition load(String plural) {
    String resource = "/META-INF/fabric8/" + plural + ".tollgate.dev-v1.yml";
    try (InputStream in = CrdSummary.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("generated CRD missing from the classpath: " + resource);
      }
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the summary of every Tollgate CRD. */
  public static void print(PrintStream out) {
    for (String plural : PLURALS) {
      CustomResourceDefinition crd = load(plural);
      CustomResourceDefinitionVersion version = crd.getSpec().getVersions().get(0);
      String yaml = Serialization.asYaml(version.getSchema());
      long rules = yaml.lines().filter(l -> l.trim().startsWith("rule:")).count();
      long patterns = yaml.lines().filter(l -> l.trim().startsWith("pattern:")).count();
      long enums = yaml.lines().filter(l -> l.trim().startsWith("enum:")).count();
      out.printf(
          "%-20s %s/%s  short names: %s  categories: %s%n",
          crd.getSpec().getNames().getKind(),
          crd.getSpec().getGroup(),
          version.getName(),
          String.join(",", crd.getSpec().getNames().getShortNames()),
          String.join(",", crd.getSpec().getNames().getCategories()));
      out.printf(
          "%-20s columns: %s%n",
          "",
          version.getAdditionalPrinterColumns().stream()
              .map(CustomResourceColumnDefinition::getName)
              .collect(Collectors.joining(", ")));
      out.printf(
          "%-20s validation: %d patterns, %d enums, %d CEL rules; status subresource: %s%n",
          "",
          patterns,
          enums,
          rules,
          version.getSubresources() != null && version.getSubresources().getStatus() != null
              ? "yes"
              : "no");
    }
  }

  public static void main(String[] args) {
    print(System.out);
  }
}
