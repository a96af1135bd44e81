package dev.tollgate.sidecar.config;

import java.math.BigDecimal;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The built-in prices, in US dollars per million tokens, seeded from the project's source
 * documents, and the rule that combines them with a credential's overrides. The operator uses it to
 * flag unpriced models in status; the sidecar uses it to price every call.
 *
 * <p>Entries are model-id prefixes: {@code claude-3-5-sonnet} prices {@code
 * claude-3-5-sonnet-20241022}; the longest matching prefix wins, so {@code gpt-4o-mini} is not
 * priced as {@code gpt-4o}.
 */
public final class PriceCatalogue {

  /**
   * Seed prices. Where the seeds give only a cost per conversation (1,000 input + 1,000 output
   * tokens), the per-token prices are the ones that reproduce it: GPT-4o $0.020 = $5 + $15, Mistral
   * Large $0.008 = $2 + $6, Command R+ $0.018 = $3 + $15. Cache prices are listed only where the
   * seeds give them. Embedding models are not in the seeds: their prices are OpenAI's list prices
   * (developers.openai.com/api/docs/models/text-embedding-3-large, "Embeddings, per 1M tokens":
   * 3-small $0.02, 3-large $0.13, ada-002 $0.10), input only: an embedding has no output tokens.
   * The embedding models of the translated providers (the last block, kept together for the move to
   * a catalogue file) are priced at their providers' on-demand list prices per million input
   * tokens: Gemini/Vertex AI gemini-embedding-001 $0.15; Bedrock Titan Text Embeddings V2 $0.02
   * (Bedrock lists $0.00002 per 1,000 tokens), V1 $0.10, Cohere Embed English and Multilingual v3
   * $0.10. Vertex AI's text-embedding-00x models are billed per character, not per token, so they
   * are left unpriced (counted; the operator flags them) until a credential's prices override.
   */
  private static final List<ModelPrice> BUILT_IN =
      List.of(
          price("claude-3-5-sonnet", "3.00", "15.00", "0.30", "3.75"),
          price("claude-3-sonnet", "3.00", "15.00", "0.30", "3.75"),
          price("claude-sonnet-4-5", "3.00", "15.00", "0.30", "3.75"),
          price("claude-3-opus", "15.00", "75.00", "1.50", "18.75"),
          price("claude-3-haiku", "0.25", "1.25", "0.03", "0.30"),
          price("claude-haiku-4-5", "0.25", "1.25", "0.03", "0.30"),
          price("gpt-4o", "5.00", "15.00", null, null),
          price("gpt-4o-mini", "0.15", "0.60", null, null),
          price("gpt-3.5-turbo", "0.50", "1.50", null, null),
          price("gemini-1.5-flash", "0.075", "0.30", null, null),
          price("gemini-1.5-flash-8b", "0.0375", "0.15", null, null),
          price("gemini-2.0-flash", "0.075", "0.30", null, null),
          price("llama-3.1-70b", "0.59", "0.79", null, null),
          price("mistral-large", "2.00", "6.00", null, null),
          price("command-r-plus", "3.00", "15.00", null, null),
          price("text-embedding-3-small", "0.02", "0", null, null),
          price("text-embedding-3-large", "0.13", "0", null, null),
          price("text-embedding-ada-002", "0.10", "0", null, null),
          // embedding models of the translated providers (Gemini, Vertex AI, Bedrock)
          price("gemini-embedding-001", "0.15", "0", null, null),
          price("titan-embed-text-v2", "0.02", "0", null, null),
          price("titan-embed-text-v1", "0.10", "0", null, null),
          price("embed-english-v3", "0.10", "0", null, null),
          price("embed-multilingual-v3", "0.10", "0", null, null));

  private final List<ModelPrice> entries;

  private PriceCatalogue(List<ModelPrice> entries) {
    this.entries =
        entries.stream()
            .sorted(Comparator.comparingInt((ModelPrice p) -> p.model().length()).reversed())
            .toList();
  }

  /** The catalogue seeded with the prices of the project's source documents. */
  public static PriceCatalogue builtIn() {
    return new PriceCatalogue(BUILT_IN);
  }

  /** A catalogue of the given entries (tests, or a future catalogue file). */
  public static PriceCatalogue of(List<ModelPrice> entries) {
    return new PriceCatalogue(entries);
  }

  public List<ModelPrice> entries() {
    return entries;
  }

  /**
   * The catalogue entry with the longest prefix of {@code model}. Cloud model ids that prefix the
   * vendor (Bedrock's {@code anthropic.claude-3-haiku-20240307-v1:0}, inference profiles such as
   * {@code us.anthropic...}) are looked up again by the part after each dot, so they are priced
   * like the vendor's own id (the seeds list Bedrock prices equal to Anthropic's).
   */
  public Optional<ModelPrice> lookup(String model) {
    String id = model;
    while (true) {
      String candidate = id;
      Optional<ModelPrice> hit =
          entries.stream().filter(p -> candidate.startsWith(p.model())).findFirst();
      int dot = id.indexOf('.');
      if (hit.isPresent() || dot < 0) {
        return hit;
      }
      id = id.substring(dot + 1);
    }
  }

  /**
   * The effective price of {@code model} through {@code credential}, before markup: the
   * credential's override, its missing cache prices filled from the catalogue; else the catalogue.
   * A cache price known nowhere is the input price, which never under-charges. Empty when the model
   * has no price at all: callers must flag that, not price it as zero.
   */
  public Optional<ModelPrice> resolve(CredentialConfig credential, String model) {
    Optional<ModelPrice> catalogue = lookup(model);
    Optional<ModelPrice> override = credential == null ? Optional.empty() : credential.price(model);
    ModelPrice base = override.or(() -> catalogue).orElse(null);
    if (base == null || base.input() == null || base.output() == null) {
      return Optional.empty();
    }
    BigDecimal cacheRead =
        firstNonNull(
            base.cacheRead(), catalogue.map(ModelPrice::cacheRead).orElse(null), base.input());
    BigDecimal cacheWrite =
        firstNonNull(
            base.cacheWrite(), catalogue.map(ModelPrice::cacheWrite).orElse(null), base.input());
    return Optional.of(new ModelPrice(model, base.input(), base.output(), cacheRead, cacheWrite));
  }

  private static BigDecimal firstNonNull(BigDecimal a, BigDecimal b, BigDecimal c) {
    return a != null ? a : b != null ? b : c;
  }

  private static ModelPrice price(
      String model, String input, String output, String cacheRead, String cacheWrite) {
    return new ModelPrice(
        model,
        new BigDecimal(input),
        new BigDecimal(output),
        cacheRead == null ? null : new BigDecimal(cacheRead),
        cacheWrite == null ? null : new BigDecimal(cacheWrite));
  }
}
