package dev.tollgate.sidecar.chat;

import dev.tollgate.sidecar.chat.ChatRequest.Media;
import dev.tollgate.sidecar.wire.FieldCheck;
import java.util.List;

/**
 * Reads an attached image or document from a caller's request into a {@link Media} part, checking
 * what the providers check: the image types every provider takes (JPEG, PNG, GIF, WebP), PDF
 * documents, well-formed base64, and {@code http(s)} URLs. The sidecar never fetches a URL (that
 * would let a caller make the sidecar reach into the pod's network): a URL is passed on to a
 * provider that fetches it, and a target that cannot is skipped ({@link Capabilities}).
 */
public final class MediaSource {
  /** The image types OpenAI, Anthropic, Gemini and Bedrock all take. */
  public static final List<String> IMAGE_TYPES =
      List.of("image/jpeg", "image/png", "image/gif", "image/webp");

  public static final String PDF = "application/pdf";

  private MediaSource() {}

  /** An image given as a URL or a {@code data:} URL (OpenAI's {@code image_url.url}). */
  public static Media image(String url, FieldCheck f, String path) {
    if (url.startsWith("data:")) {
      String[] typeAndData = dataUrl(url, f, path);
      return inline(Media.Kind.IMAGE, typeAndData[0], typeAndData[1], null, f, path);
    }
    return byUrl(Media.Kind.IMAGE, url, f, path);
  }

  /** A document given as a {@code data:} URL (OpenAI's {@code file.file_data}). */
  public static Media document(String dataUrl, String name, FieldCheck f, String path) {
    if (!dataUrl.startsWith("data:")) {
      throw f.value(path, "expected a base64-encoded data URL of a PDF file");
    }
    String[] typeAndData = dataUrl(dataUrl, f, path);
    return inline(Media.Kind.DOCUMENT, typeAndData[0], typeAndData[1], name, f, path);
  }

  /** Inline base64 {@code data} of {@code mediaType}, checked for its kind. */
  public static Media inline(
      Media.Kind kind, String mediaType, String data, String name, FieldCheck f, String path) {
    List<String> allowed = kind == Media.Kind.IMAGE ? IMAGE_TYPES : List.of(PDF);
    if (mediaType == null || !allowed.contains(mediaType)) {
      throw f.value(
          path,
          "the media type must be one of "
              + String.join(", ", allowed)
              + (mediaType == null ? "" : ", not " + clip(mediaType)));
    }
    if (data.isEmpty() || !isBase64(data)) {
      throw f.value(path, "the data is not valid base64");
    }
    return new Media(kind, mediaType, data, null, name);
  }

  /** A {@code http(s)} URL the provider fetches. */
  public static Media byUrl(Media.Kind kind, String url, FieldCheck f, String path) {
    if (!(url.startsWith("https://") || url.startsWith("http://")) || url.length() > 8192) {
      throw f.value(path, "expected an http(s) URL or a base64-encoded data URL");
    }
    return new Media(kind, null, null, url, null);
  }

  /** {@code data:<type>;base64,<data>} as its type and data. */
  private static String[] dataUrl(String url, FieldCheck f, String path) {
    int comma = url.indexOf(',');
    String head = comma < 0 ? "" : url.substring(5, comma);
    if (comma < 0 || !head.endsWith(";base64")) {
      throw f.value(path, "expected a base64-encoded data URL (data:<media type>;base64,<data>)");
    }
    return new String[] {head.substring(0, head.length() - 7), url.substring(comma + 1)};
  }

  private static boolean isBase64(String s) {
    int pad = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '=') {
        pad++;
      } else if (pad > 0
          || !((c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9')
              || c == '+'
              || c == '/')) {
        return false;
      }
    }
    return pad <= 2 && s.length() % 4 == 0;
  }

  private static String clip(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "…" : s;
  }
}
