package dev.tollgate.sidecar.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The price catalogue as a data file ({@code prices.yaml}): a date and, per provider, where its
 * prices come from, when they were checked, its batch discount and its models. The built-in file
 * ships in this jar; a platform team's override (the ConfigMap {@code tollgate-prices}) has the
 * same shape.
 *
 * @param date when the file's prices were last checked as a whole (ISO date)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PriceFile(String date, String currency, List<Section> providers) {
  /** The built-in file, on the class path next to this class. */
  public static final String BUILT_IN = "prices.yaml";

  private static final ObjectMapper YAML =
      YAMLMapper.builder()
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .build();

  public PriceFile {
    providers = Defaults.list(providers);
  }

  /**
   * One provider's prices.
   *
   * @param source the provider's pricing page the figures were read from
   * @param checked when they were read (ISO date)
   * @param batchDiscountPercent what its batch API takes off (null: no batch API priced)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Section(
      String provider,
      String source,
      String checked,
      String batchSource,
      BigDecimal batchDiscountPercent,
      String notes,
      List<CatalogueEntry> models) {
    public Section {
      models = Defaults.list(models);
    }
  }

  /** Every model of every section, each with its section's provider and batch discount. */
  public List<CatalogueEntry> entries() {
    List<CatalogueEntry> result = new ArrayList<>();
    for (Section s : providers) {
      for (CatalogueEntry e : s.models()) {
        result.add(e.inSection(s.provider(), s.batchDiscountPercent()));
      }
    }
    return List.copyOf(result);
  }

  /** Reads a price file; a problem names the file and what is wrong. */
  public static PriceFile parse(String yaml, String origin) {
    try {
      PriceFile file = YAML.readValue(yaml, PriceFile.class);
      if (file == null) {
        throw new IllegalArgumentException(origin + ": no content");
      }
      List<String> problems = file.problems();
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(origin + ": " + String.join("; ", problems));
      }
      return file;
    } catch (IOException e) {
      throw new IllegalArgumentException(origin + ": not a price file: " + e.getMessage(), e);
    }
  }

  /** The file shipped in the jar. */
  public static PriceFile builtIn() {
    try (InputStream in = PriceFile.class.getResourceAsStream(BUILT_IN)) {
      if (in == null) {
        throw new IllegalStateException(BUILT_IN + " is missing from the class path");
      }
      return parse(
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), BUILT_IN);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What is wrong with the file: missing ids, negative prices, a model listed twice. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (Section s : providers) {
      String where = "providers[" + s.provider() + "]";
      if (s.provider() == null || s.provider().isBlank()) {
        problems.add("a provider section has no name");
      }
      if (s.batchDiscountPercent() != null
          && (s.batchDiscountPercent().signum() < 0
              || s.batchDiscountPercent().compareTo(BigDecimal.valueOf(100)) > 0)) {
        problems.add(where + ".batchDiscountPercent must be between 0 and 100");
      }
      for (CatalogueEntry e : s.models()) {
        if (e.model() == null || e.model().isBlank()) {
          problems.add(where + ": a model has no id");
          continue;
        }
        String at = where + ".models[" + e.model() + "]";
        if (!seen.add(e.model())) {
          problems.add(at + " is listed twice");
        }
        for (BigDecimal p :
            new BigDecimal[] {
              e.input(),
              e.output(),
              e.cacheRead(),
              e.cacheWrite(),
              e.perMinute(),
              e.perMillionCharacters(),
              e.perImage()
            }) {
          if (p != null && p.signum() < 0) {
            problems.add(at + " has a negative price");
            break;
          }
        }
        if ((e.input() == null) != (e.output() == null)) {
          problems.add(at + " needs both input and output, or neither");
        }
        CatalogueEntry.LongContext lc = e.longContext();
        if (lc != null
            && (lc.above() == null
                || lc.above() <= 0
                || lc.input() == null
                || lc.output() == null)) {
          problems.add(at + ".longContext needs above (> 0), input and output");
        }
      }
    }
    return problems;
  }
}
