package dev.tollgate.local;

import com.jayway.jsonpath.Configuration;
import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.Option;
import dev.tollgate.api.CrdSummary;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders objects as {@code kubectl get} does for a CRD: NAME plus the CRD's printer columns of
 * priority 0, each evaluated with its JSONPath. The columns come from the generated CRD, so what
 * this prints is what a cluster would print.
 */
final class KubectlTable {
  private static final Configuration JSON_PATH =
      Configuration.defaultConfiguration()
          .addOptions(Option.SUPPRESS_EXCEPTIONS, Option.DEFAULT_PATH_LEAF_TO_NULL);

  private KubectlTable() {}

  static String render(String plural, List<? extends HasMetadata> objects, Instant now) {
    List<CustomResourceColumnDefinition> columns =
        CrdSummary.load(plural)
            .getSpec()
            .getVersions()
            .get(0)
            .getAdditionalPrinterColumns()
            .stream()
            .filter(c -> c.getPriority() == null || c.getPriority() == 0)
            .toList();
    List<List<String>> rows = new ArrayList<>();
    List<String> header = new ArrayList<>(List.of("NAME"));
    columns.forEach(c -> header.add(c.getName().toUpperCase()));
    rows.add(header);
    for (HasMetadata object : objects) {
      String json = Serialization.asJson(object);
      List<String> row = new ArrayList<>(List.of(object.getMetadata().getName()));
      for (CustomResourceColumnDefinition column : columns) {
        row.add(cell(json, column, now));
      }
      rows.add(row);
    }
    return format(rows);
  }

  private static String cell(String json, CustomResourceColumnDefinition column, Instant now) {
    Object value = JsonPath.using(JSON_PATH).parse(json).read("$" + column.getJsonPath());
    if (value instanceof List<?> list) {
      value = list.isEmpty() ? null : list.size() == 1 ? list.get(0) : list;
    }
    if (value == null) {
      return "";
    }
    if ("date".equals(column.getType())) {
      return age(Duration.between(Instant.parse(value.toString()), now));
    }
    return value.toString();
  }

  static String age(Duration d) {
    long s = Math.max(0, d.toSeconds());
    if (s < 120) {
      return s + "s";
    }
    if (s < 7200) {
      return (s / 60) + "m";
    }
    return (s / 3600) + "h";
  }

  static String format(List<List<String>> rows) {
    int columns = rows.get(0).size();
    int[] widths = new int[columns];
    for (List<String> row : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (List<String> row : rows) {
      for (int i = 0; i < columns; i++) {
        out.append(i == columns - 1 ? row.get(i) : pad(row.get(i), widths[i] + 3));
      }
      out.append('\n');
    }
    return out.toString();
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(Math.max(0, width - s.length()));
  }
}
