package dev.tollgate.sidecar.chat;

import dev.tollgate.sidecar.chat.ChatRequest.Media;
import dev.tollgate.sidecar.wire.InvalidRequest;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What a provider's API can take of a translated request beyond text and tools. A target that
 * cannot carry what a request needs is skipped for that request (routing tries a capable one); only
 * when none can, the call is refused with a 400 naming the feature. The feature names are a small
 * fixed set ({@link #FEATURES}), so they can label metrics.
 *
 * @param features what the API takes, a fixed set of {@link Feature}s
 */
public record Capabilities(Set<Feature> features) {

  /** A feature beyond text and tools; its wire name labels metrics and refusals. */
  public enum Feature {
    /** Images as inline bytes. */
    IMAGE("image"),
    /** Images by URL, fetched by the provider. */
    IMAGE_URL("image_url"),
    /** PDF documents as inline bytes. */
    DOCUMENT("document"),
    /** PDF documents by URL, fetched by the provider. */
    DOCUMENT_URL("document_url"),
    /** Structured output (JSON object or JSON schema). */
    RESPONSE_FORMAT("response_format"),
    /** Log probabilities of the answer's tokens (OpenAI {@code logprobs}). */
    LOGPROBS("logprobs"),
    /** Images and documents inside tool results. */
    TOOL_RESULT_MEDIA("tool_result_media"),
    /** Anthropic citations on documents and in the answer (Messages only). */
    CITATIONS("citations");

    private final String wireName;

    Feature(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }
  }

  public Capabilities {
    features =
        features.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(features));
  }

  /** An API that takes exactly {@code features}. */
  public static Capabilities of(Feature... features) {
    return new Capabilities(features.length == 0 ? Set.of() : EnumSet.of(features[0], features));
  }

  /** Whether the API takes {@code feature}. */
  public boolean has(Feature feature) {
    return features.contains(feature);
  }

  /** Every feature name {@link #missing} returns. */
  public static final List<String> FEATURES =
      Stream.concat(
              Arrays.stream(Feature.values()).map(Feature::wireName), Stream.of("untranslatable"))
          .toList();

  /** A feature only a target speaking the caller's format can serve ({@code n > 1}, audio, ...). */
  public static final String UNTRANSLATABLE = "untranslatable";

  public static final Capabilities ALL = new Capabilities(EnumSet.allOf(Feature.class));

  /** The first feature {@code r} needs that this provider lacks, or null when it can serve it. */
  public String missing(ChatRequest r) {
    for (Media m : r.media()) {
      boolean ok =
          m.kind() == Media.Kind.IMAGE
              ? has(m.byUrl() ? Feature.IMAGE_URL : Feature.IMAGE)
              : has(m.byUrl() ? Feature.DOCUMENT_URL : Feature.DOCUMENT);
      if (!ok) {
        return m.feature();
      }
    }
    if (r.responseFormat() != null && !has(Feature.RESPONSE_FORMAT)) {
      return "response_format";
    }
    if (r.logprobs() && !has(Feature.LOGPROBS)) {
      return "logprobs";
    }
    if (!has(Feature.TOOL_RESULT_MEDIA) && r.toolResultMedia()) {
      return "tool_result_media";
    }
    if (!has(Feature.CITATIONS) && r.media().stream().anyMatch(Media::citations)) {
      return "citations";
    }
    return null;
  }

  /** The refusal of a call that needs {@code feature}, which no target of the route can carry. */
  public static InvalidRequest refused(String feature, String detail) {
    return new InvalidRequest(
        feature,
        null,
        "the request needs "
            + describe(feature)
            + ", which no provider of this route can take"
            + (detail == null ? "" : " (" + detail + ")"));
  }

  private static String describe(String feature) {
    return switch (feature) {
      case "image" -> "an inline image";
      case "image_url" -> "an image by URL";
      case "document" -> "a PDF document";
      case "document_url" -> "a PDF document by URL";
      case "response_format" -> "structured output (response_format)";
      case "logprobs" -> "log probabilities (logprobs)";
      case "tool_result_media" -> "images or documents inside a tool result";
      case "citations" -> "citations on documents";
      default -> feature;
    };
  }
}
