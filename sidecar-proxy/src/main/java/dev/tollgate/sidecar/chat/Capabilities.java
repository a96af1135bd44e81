package dev.tollgate.sidecar.chat;

import dev.tollgate.sidecar.chat.ChatRequest.Media;
import dev.tollgate.sidecar.wire.InvalidRequest;

/**
 * What a provider's API can take of a translated request beyond text and tools. A target that
 * cannot carry what a request needs is skipped for that request (routing tries a capable one); only
 * when none can, the call is refused with a 400 naming the feature. The feature names are a small
 * fixed set ({@link #FEATURES}), so they can label metrics.
 *
 * @param imageData images as inline bytes
 * @param imageUrl images by URL, fetched by the provider
 * @param documentData PDF documents as inline bytes
 * @param documentUrl PDF documents by URL, fetched by the provider
 * @param jsonSchema structured output (JSON object or JSON schema)
 * @param logprobs log probabilities of the answer's tokens (OpenAI {@code logprobs})
 * @param toolResultMedia images and documents inside tool results
 * @param citations Anthropic citations on documents and in the answer (Messages only)
 */
public record Capabilities(
    boolean imageData,
    boolean imageUrl,
    boolean documentData,
    boolean documentUrl,
    boolean jsonSchema,
    boolean logprobs,
    boolean toolResultMedia,
    boolean citations) {

  /** An API without Anthropic's document citations. */
  public Capabilities(
      boolean imageData,
      boolean imageUrl,
      boolean documentData,
      boolean documentUrl,
      boolean jsonSchema,
      boolean logprobs,
      boolean toolResultMedia) {
    this(
        imageData,
        imageUrl,
        documentData,
        documentUrl,
        jsonSchema,
        logprobs,
        toolResultMedia,
        false);
  }

  /** An API that takes media in tool results when it takes them at all (Messages, Converse). */
  public Capabilities(
      boolean imageData,
      boolean imageUrl,
      boolean documentData,
      boolean documentUrl,
      boolean jsonSchema,
      boolean logprobs) {
    this(imageData, imageUrl, documentData, documentUrl, jsonSchema, logprobs, true);
  }

  /** An API without log probabilities (Anthropic Messages, Bedrock Converse). */
  public Capabilities(
      boolean imageData,
      boolean imageUrl,
      boolean documentData,
      boolean documentUrl,
      boolean jsonSchema) {
    this(imageData, imageUrl, documentData, documentUrl, jsonSchema, false);
  }

  /** Every feature name {@link #missing} returns. */
  public static final java.util.List<String> FEATURES =
      java.util.List.of(
          "image",
          "image_url",
          "document",
          "document_url",
          "response_format",
          "logprobs",
          "tool_result_media",
          "citations",
          "untranslatable");

  /** A feature only a target speaking the caller's format can serve ({@code n > 1}, audio, ...). */
  public static final String UNTRANSLATABLE = "untranslatable";

  public static final Capabilities ALL = new Capabilities(true, true, true, true, true, true, true);

  /** The first feature {@code r} needs that this provider lacks, or null when it can serve it. */
  public String missing(ChatRequest r) {
    for (Media m : r.media()) {
      boolean ok =
          m.kind() == Media.Kind.IMAGE
              ? (m.byUrl() ? imageUrl : imageData)
              : (m.byUrl() ? documentUrl : documentData);
      if (!ok) {
        return m.feature();
      }
    }
    if (r.responseFormat() != null && !jsonSchema) {
      return "response_format";
    }
    if (r.logprobs() && !logprobs) {
      return "logprobs";
    }
    if (!toolResultMedia && r.toolResultMedia()) {
      return "tool_result_media";
    }
    if (!citations && r.media().stream().anyMatch(Media::citations)) {
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
