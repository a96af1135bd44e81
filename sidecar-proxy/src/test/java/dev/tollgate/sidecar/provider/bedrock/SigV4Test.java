package dev.tollgate.sidecar.provider.bedrock;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.signer.Aws4Signer;
import software.amazon.awssdk.auth.signer.params.Aws4SignerParams;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;
import software.amazon.awssdk.regions.Region;

/**
 * The SigV4 signature of Bedrock requests. The signer (the SDK's {@code AwsV4HttpSigner}) also
 * signs {@code x-amz-content-sha256}, as the SDK's service clients do, so AWS's published test
 * vectors (example credentials {@code AKIDEXAMPLE}, 2015-08-30T12:36:00Z) are checked through the
 * SDK's other, older signer ({@code Aws4Signer}), which must then agree with ours on the same fixed
 * inputs.
 */
class SigV4Test {
  private static final AwsCredentialsIdentity EXAMPLE =
      AwsCredentialsIdentity.create("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  private static final Instant VECTOR_TIME = Instant.parse("2015-08-30T12:36:00Z");
  private static final Clock AT = Clock.fixed(VECTOR_TIME, ZoneOffset.UTC);

  @Test
  void theOracleReproducesAwsPostVanillaVector() {
    SdkHttpFullRequest req =
        SdkHttpFullRequest.builder()
            .method(SdkHttpMethod.POST)
            .uri(URI.create("https://example.amazonaws.com/"))
            .putHeader("host", "example.amazonaws.com")
            .build();
    assertThat(
            legacy(
                req,
                AwsBasicCredentials.create("AKIDEXAMPLE", EXAMPLE.secretAccessKey()),
                "service",
                "us-east-1"))
        .isEqualTo(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,"
                + " SignedHeaders=host;x-amz-date,"
                + " Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
  }

  @Test
  void bedrockCallIsSignedAsTheSdksOtherSignerSignsIt() {
    HttpHeaders h =
        new DefaultHttpHeaders()
            .set("host", "bedrock-runtime.eu-west-1.amazonaws.com")
            .set("content-type", "application/json")
            .set("x-request-id", "not signed");
    byte[] body = "{\"messages\":[]}".getBytes(StandardCharsets.UTF_8);
    URI url =
        URI.create(
            "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
    SigV4.sign(
        h,
        url,
        body,
        "eu-west-1",
        AwsSessionCredentialsIdentity.create("ASIAEXAMPLE", "secret", "session-token"),
        AT);
    assertThat(h.get("authorization"))
        .startsWith(
            "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20150830/eu-west-1/bedrock/aws4_request,"
                + " SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;"
                + "x-amz-security-token,");
    assertThat(h.get("x-amz-date")).isEqualTo("20150830T123600Z");
    assertThat(h.get("x-amz-security-token")).isEqualTo("session-token");
    assertThat(h.get("x-request-id")).isEqualTo("not signed");

    SdkHttpFullRequest same =
        SdkHttpFullRequest.builder()
            .method(SdkHttpMethod.POST)
            .uri(url)
            .putHeader("host", h.get("host"))
            .putHeader("content-type", h.get("content-type"))
            .putHeader("x-amz-content-sha256", h.get("x-amz-content-sha256"))
            .contentStreamProvider(() -> new java.io.ByteArrayInputStream(body))
            .build();
    assertThat(
            legacy(
                same,
                AwsSessionCredentials.create("ASIAEXAMPLE", "secret", "session-token"),
                "bedrock",
                "eu-west-1"))
        .isEqualTo(h.get("authorization"));
  }

  @Test
  void aChangedBodyChangesTheSignature() {
    URI url = URI.create("https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse");
    HttpHeaders a = new DefaultHttpHeaders().set("host", url.getHost());
    HttpHeaders b = new DefaultHttpHeaders().set("host", url.getHost());
    SigV4.sign(a, url, "{}".getBytes(StandardCharsets.UTF_8), "us-east-1", EXAMPLE, AT);
    SigV4.sign(b, url, "{ }".getBytes(StandardCharsets.UTF_8), "us-east-1", EXAMPLE, AT);
    assertThat(a.get("authorization")).isNotEqualTo(b.get("authorization"));
  }

  @SuppressWarnings("deprecation")
  private static String legacy(
      SdkHttpFullRequest req,
      software.amazon.awssdk.auth.credentials.AwsCredentials creds,
      String service,
      String region) {
    Aws4SignerParams params =
        Aws4SignerParams.builder()
            .awsCredentials(creds)
            .signingName(service)
            .signingRegion(Region.of(region))
            .signingClockOverride(AT)
            .doubleUrlEncode(true)
            .build();
    return Aws4Signer.create().sign(req, params).firstMatchingHeader("Authorization").orElseThrow();
  }
}
