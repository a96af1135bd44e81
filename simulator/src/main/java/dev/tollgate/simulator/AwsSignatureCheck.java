package dev.tollgate.simulator;

import io.netty.handler.codec.http.FullHttpRequest;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * Checks a request's SigV4 signature as Bedrock does: the access key must be known, the session
 * token must match, the date must be within 5 minutes, and the SDK's signer, run again on the
 * headers the request says it signed and its body at its own {@code X-Amz-Date}, must produce the
 * same {@code Authorization}. Failures carry AWS's error type and message.
 *
 * @param keys the credentials the simulated account knows, by access key id (null: unknown);
 *     session credentials also require their session token
 * @param region the region requests must be scoped to
 */
public record AwsSignatureCheck(Function<String, AwsCredentialsIdentity> keys, String region) {

  /** One known key pair; {@code sessionToken} null for long-term keys. */
  public static AwsSignatureCheck of(
      String accessKeyId, String secretAccessKey, String sessionToken, String region) {
    AwsCredentialsIdentity known =
        sessionToken == null
            ? AwsCredentialsIdentity.create(accessKeyId, secretAccessKey)
            : AwsSessionCredentialsIdentity.create(accessKeyId, secretAccessKey, sessionToken);
    return new AwsSignatureCheck(id -> id.equals(accessKeyId) ? known : null, region);
  }

  private static final Pattern AUTH =
      Pattern.compile(
          "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request,"
              + " ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})");
  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final List<String> ADDED_BY_SIGNER =
      List.of("x-amz-date", "x-amz-security-token", "x-amz-content-sha256");

  /** Why a request was refused: AWS's {@code x-amzn-ErrorType} and message. */
  public record Refusal(String errorType, String message) {}

  /** Null when the signature holds, else why not. */
  Refusal check(FullHttpRequest req, byte[] body) {
    String auth = req.headers().get("authorization");
    Matcher m = auth == null ? null : AUTH.matcher(auth);
    if (m == null || !m.matches()) {
      return new Refusal("MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    AwsCredentialsIdentity identity = keys.apply(m.group(1));
    if (identity == null
        || (identity instanceof AwsSessionCredentialsIdentity s
            && !s.sessionToken().equals(req.headers().get("x-amz-security-token")))) {
      return new Refusal(
          "UnrecognizedClientException", "The security token included in the request is invalid.");
    }
    if (!m.group(3).equals(region) || !m.group(4).equals("bedrock")) {
      return new Refusal(
          "InvalidSignatureException",
          "Credential should be scoped to a valid region and service 'bedrock'.");
    }
    Instant at;
    try {
      at = Instant.from(AMZ_DATE.parse(req.headers().get("x-amz-date", "")));
    } catch (DateTimeParseException e) {
      return new Refusal("IncompleteSignatureException", "X-Amz-Date is missing or malformed.");
    }
    if (Duration.between(at, Instant.now()).abs().compareTo(Duration.ofMinutes(5)) > 0) {
      return new Refusal("InvalidSignatureException", "Signature expired: " + at);
    }
    String host = req.headers().get("host");
    SdkHttpRequest.Builder again =
        SdkHttpRequest.builder()
            .method(SdkHttpMethod.POST)
            .uri(URI.create("http://" + host + req.uri()));
    for (String name : Arrays.asList(m.group(5).split(";"))) {
      if (!ADDED_BY_SIGNER.contains(name)) {
        again.putHeader(name, req.headers().getAll(name));
      }
    }
    Map<String, List<String>> signed =
        AwsV4HttpSigner.create()
            .sign(
                r ->
                    r.identity(identity)
                        .request(again.build())
                        .payload(ContentStreamProvider.fromByteArray(body))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "bedrock")
                        .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                        .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC)))
            .request()
            .headers();
    String expected =
        signed.entrySet().stream()
            .filter(e -> e.getKey().equalsIgnoreCase("authorization"))
            .map(e -> e.getValue().get(0))
            .findFirst()
            .orElse("");
    if (!expected.equals(auth)) {
      return new Refusal(
          "InvalidSignatureException",
          "The request signature we calculated does not match the signature you provided. Check"
              + " your AWS Secret Access Key and signing method. Consult the service documentation"
              + " for details.");
    }
    return null;
  }
}
