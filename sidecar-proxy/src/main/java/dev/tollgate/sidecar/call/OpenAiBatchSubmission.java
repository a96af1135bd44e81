package dev.tollgate.sidecar.call;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.sidecar.wire.ApiFormat;
import dev.tollgate.sidecar.wire.ErrorKind;
import dev.tollgate.sidecar.wire.Json;
import dev.tollgate.sidecar.wire.ProxyException;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.FullHttpRequest;
import java.util.regex.Pattern;

/**
 * {@code POST /v1/batches} at OpenAI: the request names the batch's input file, whose estimate
 * ({@link OpenAiBatchEstimate}) is admitted against the budgets before the batch is created.
 */
final class OpenAiBatchSubmission {
  /** OpenAI's file ids ({@code file-...}): anything else is not put in a provider URL. */
  private static final Pattern FILE_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");

  private OpenAiBatchSubmission() {}

  static boolean applies(ApiFormat format, FullHttpRequest req, String path) {
    return format == ApiFormat.OPENAI
        && "POST".equals(req.method().name())
        && "/v1/batches".equals(path);
  }

  /** The batch's {@code input_file_id}; a 400 in OpenAI's format when there is none. */
  static String inputFileId(FullHttpRequest req) {
    JsonNode body = Json.parseOrNull(ByteBufUtil.getBytes(req.content()));
    String id = body == null ? "" : body.path("input_file_id").asText("");
    if (!FILE_ID.matcher(id).matches()) {
      throw new ProxyException(
          ErrorKind.INVALID_REQUEST,
          "a batch is a JSON object whose input_file_id names an uploaded file (e.g. file-abc123)");
    }
    return id;
  }
}
