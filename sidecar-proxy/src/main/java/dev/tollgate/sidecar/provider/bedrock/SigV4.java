package dev.tollgate.sidecar.provider.bedrock;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Signs a Bedrock request with the AWS SDK's SigV4 signer (service {@code bedrock}): host, content
 * type and the body are covered; the signer's {@code Authorization}, {@code X-Amz-Date} and, for
 * session credentials, {@code X-Amz-Security-Token} headers are added to the request. Pure CPU
 * work, fine on an event loop.
 */
public final class SigV4 {
  static final String SERVICE = "bedrock";
  private static final AwsV4HttpSigner SIGNER = AwsV4HttpSigner.create();
  private static final List<String> SIGNED = List.of("host", "content-type");

  private SigV4() {}

  /** Adds the signature of a POST of {@code body} to {@code url} with these headers. */
  public static void sign(
      HttpHeaders headers,
      URI url,
      byte[] body,
      String region,
      AwsCredentialsIdentity credentials,
      Clock clock) {
    sign(headers, url, body, SERVICE, region, credentials, clock);
  }

  /** As above for any service: AWS's published test vectors use the service name "service". */
  static void sign(
      HttpHeaders headers,
      URI url,
      byte[] body,
      String service,
      String region,
      AwsCredentialsIdentity credentials,
      Clock clock) {
    SdkHttpRequest.Builder request = SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(url);
    for (String name : SIGNED) {
      String v = headers.get(name);
      if (v != null) {
        request.putHeader(name, v);
      }
    }
    if (headers.get(HttpHeaderNames.HOST) == null) {
      request.putHeader(
          "host", url.getPort() > 0 ? url.getHost() + ":" + url.getPort() : url.getHost());
    }
    SignedRequest signed =
        SIGNER.sign(
            r ->
                r.identity(credentials)
                    .request(request.build())
                    .payload(ContentStreamProvider.fromByteArray(body))
                    .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
                    .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                    .putProperty(HttpSigner.SIGNING_CLOCK, clock));
    for (Map.Entry<String, List<String>> h : signed.request().headers().entrySet()) {
      if (!SIGNED.contains(h.getKey().toLowerCase(java.util.Locale.ROOT))
          && !h.getKey().equalsIgnoreCase("host")) {
        headers.set(h.getKey(), h.getValue());
      }
    }
  }
}
