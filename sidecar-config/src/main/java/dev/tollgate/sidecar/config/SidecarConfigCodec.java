package dev.tollgate.sidecar.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads and writes the sidecar configuration as YAML. Output is canonical: routes, credentials,
 * budgets and price overrides sorted by name, fields in declaration order, defaults spelled out,
 * durations as {@code 1m30s}, money as decimal strings. The same configuration therefore always
 * yields byte-identical text, so the operator only rewrites a ConfigMap when something changed.
 *
 * <p>Unknown fields are ignored so that a sidecar one version behind can read a newer operator's
 * rendering during a rolling upgrade.
 */
public final class SidecarConfigCodec {
  private static final ObjectMapper YAML = configure(yamlMapper());

  private SidecarConfigCodec() {}

  /** Parses and validates. */
  public static SidecarConfig read(String yaml) throws SidecarConfigException {
    SidecarConfig config = parse(yaml);
    List<String> problems = SidecarConfigValidator.validate(config);
    if (!problems.isEmpty()) {
      throw new SidecarConfigException("invalid sidecar configuration", problems, null);
    }
    return config;
  }

  /** Parses without validating (tests, tools that want to report all problems themselves). */
  public static SidecarConfig parse(String yaml) throws SidecarConfigException {
    if (yaml == null || yaml.isBlank()) {
      throw new SidecarConfigException(
          "sidecar configuration is empty", List.of("(root): no content"), null);
    }
    try {
      SidecarConfig config = YAML.readValue(yaml, SidecarConfig.class);
      if (config == null) {
        throw new SidecarConfigException(
            "sidecar configuration is empty", List.of("(root): no content"), null);
      }
      return config;
    } catch (JsonMappingException e) {
      throw new SidecarConfigException(
          "cannot read sidecar configuration", List.of(describe(e)), e);
    } catch (JsonProcessingException e) {
      throw new SidecarConfigException(
          "sidecar configuration is not valid YAML", List.of(e.getOriginalMessage()), e);
    }
  }

  /**
   * Fields in {@code yaml} that no record declares, as paths such as {@code
   * routes[0].tiers[1].timout}. Reading ignores them (a newer renderer may add fields); a sidecar
   * logs them, since in a hand-written file they are usually typos.
   */
  public static List<String> unknownFields(String yaml) {
    List<String> found = new java.util.ArrayList<>();
    try {
      com.fasterxml.jackson.databind.JsonNode tree = YAML.readTree(yaml);
      if (tree != null) {
        walk(tree, SidecarConfig.class, "", found);
      }
    } catch (JsonProcessingException e) {
      // unreadable text is reported by read(); here only the unknown fields matter
    }
    return found;
  }

  /** Compares a YAML object with the record type it is read into, recursively. */
  private static void walk(
      com.fasterxml.jackson.databind.JsonNode node,
      java.lang.reflect.Type type,
      String path,
      List<String> found) {
    Class<?> raw =
        type instanceof java.lang.reflect.ParameterizedType pt
            ? (Class<?>) pt.getRawType()
            : type instanceof Class<?> c ? c : Object.class;
    if (List.class.isAssignableFrom(raw) && node.isArray()) {
      java.lang.reflect.Type element =
          ((java.lang.reflect.ParameterizedType) type).getActualTypeArguments()[0];
      for (int i = 0; i < node.size(); i++) {
        walk(node.get(i), element, path + "[" + i + "]", found);
      }
      return;
    }
    if (!raw.isRecord() || !node.isObject()) {
      return;
    }
    java.util.Map<String, java.lang.reflect.Type> fields = new java.util.HashMap<>();
    for (java.lang.reflect.RecordComponent rc : raw.getRecordComponents()) {
      // @JsonProperty cannot target a record component: Java copies it to the accessor.
      com.fasterxml.jackson.annotation.JsonProperty renamed =
          rc.getAccessor().getAnnotation(com.fasterxml.jackson.annotation.JsonProperty.class);
      fields.put(
          renamed != null && !renamed.value().isEmpty() ? renamed.value() : rc.getName(),
          rc.getGenericType());
    }
    node.fields()
        .forEachRemaining(
            e -> {
              String child = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
              java.lang.reflect.Type t = fields.get(e.getKey());
              if (t == null) {
                found.add(child);
              } else {
                walk(e.getValue(), t, child, found);
              }
            });
  }

  /** Canonical YAML text of {@code config}. */
  public static String write(SidecarConfig config) {
    try {
      return YAML.writeValueAsString(canonical(config));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write sidecar configuration", e);
    }
  }

  /**
   * The configuration with {@code version} set to a hash of its canonical text (without version):
   * {@code sha256:} and the first 16 hex digits.
   */
  public static SidecarConfig withContentHash(SidecarConfig config) {
    String text = write(config.withVersion(null));
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return config.withVersion("sha256:" + HexFormat.of().formatHex(digest, 0, 8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }

  /**
   * The SHA-256 (64 lowercase hex digits) of a configuration's text as UTF-8: the integrity check
   * between operator and sidecar. The operator hashes the canonical text it rendered ({@link
   * #write}, which the ConfigMap holds byte for byte); the sidecar hashes the text it read, before
   * anything else touches it. Unlike {@link #withContentHash}'s short version, it covers every
   * byte, the version line included.
   */
  public static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }

  /** {@link #sha256(String)} of the canonical text of {@code config}. */
  public static String sha256(SidecarConfig config) {
    return sha256(write(config));
  }

  /** Sorts the name-keyed lists; tier, target and fallback order is meaningful and kept. */
  static SidecarConfig canonical(SidecarConfig c) {
    List<RouteConfig> routes =
        c.routes().stream()
            .sorted(
                Comparator.comparing(RouteConfig::model, Comparator.nullsFirst(String::compareTo)))
            .toList();
    List<CredentialConfig> credentials =
        c.credentials().stream()
            .map(SidecarConfigCodec::canonical)
            .sorted(
                Comparator.comparing(
                    CredentialConfig::name, Comparator.nullsFirst(String::compareTo)))
            .toList();
    List<BudgetConfig> budgets =
        c.budgets().stream()
            .sorted(
                Comparator.comparing(BudgetConfig::name, Comparator.nullsFirst(String::compareTo)))
            .toList();
    return new SidecarConfig(
        c.version(), c.namespace(), c.server(), routes, credentials, budgets, c.prices());
  }

  private static CredentialConfig canonical(CredentialConfig c) {
    List<ModelPrice> prices =
        c.prices().stream()
            .sorted(
                Comparator.comparing(ModelPrice::model, Comparator.nullsFirst(String::compareTo)))
            .toList();
    return c.withPrices(prices);
  }

  private static String describe(JsonMappingException e) {
    StringBuilder path = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (!path.isEmpty()) {
          path.append('.');
        }
        path.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        path.append('[').append(ref.getIndex()).append(']');
      }
    }
    String where =
        e.getLocation() == null
            ? ""
            : " (line "
                + e.getLocation().getLineNr()
                + ", column "
                + e.getLocation().getColumnNr()
                + ")";
    String message = e.getOriginalMessage();
    Throwable cause = e.getCause();
    if (cause instanceof IllegalArgumentException && cause.getMessage() != null) {
      message = cause.getMessage();
    }
    return (path.isEmpty() ? "(root)" : path) + where + ": " + firstLine(message);
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unreadable value";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static YAMLMapper yamlMapper() {
    YAMLFactory factory =
        YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .build();
    return YAMLMapper.builder(factory)
        .disable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .build();
  }

  /** A JSON mapper with the same conventions (durations, money), for APIs that speak JSON. */
  public static ObjectMapper jsonMapper() {
    return configure(
        JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .build());
  }

  private static ObjectMapper configure(ObjectMapper mapper) {
    SimpleModule module = new SimpleModule("tollgate-config");
    module.addSerializer(Duration.class, new DurationSerializer());
    module.addDeserializer(Duration.class, new DurationDeserializer());
    module.addSerializer(BigDecimal.class, new MoneySerializer());
    mapper.registerModule(module);
    mapper.setSerializationInclusion(JsonInclude.Include.NON_EMPTY);
    return mapper;
  }

  private static final class DurationSerializer extends JsonSerializer<Duration> {
    @Override
    public void serialize(Duration value, JsonGenerator gen, SerializerProvider serializers)
        throws IOException {
      gen.writeString(Durations.format(value));
    }
  }

  private static final class DurationDeserializer extends JsonDeserializer<Duration> {
    @Override
    public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      try {
        return Durations.parse(p.getValueAsString());
      } catch (IllegalArgumentException e) {
        throw JsonMappingException.from(p, e.getMessage(), e);
      }
    }
  }

  /** Money and percentages as plain decimal strings: never a float, never exponent notation. */
  private static final class MoneySerializer extends JsonSerializer<BigDecimal> {
    @Override
    public void serialize(BigDecimal value, JsonGenerator gen, SerializerProvider serializers)
        throws IOException {
      gen.writeString(value.toPlainString());
    }
  }
}
