package dev.tollgate.sidecar.it;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * A fake AWS STS on loopback that answers {@code AssumeRoleWithWebIdentity} as STS does (query
 * protocol, XML): it checks the web-identity token and the role, then issues new session
 * credentials each time, valid for {@link #validity}; or answers AccessDenied while {@link #deny}
 * is set. What it issued is what the simulator's signature check knows.
 */
final class FakeSts implements AutoCloseable {
  private final HttpServer server;
  private final String expectedToken;
  private final String roleArn;
  private final Map<String, AwsSessionCredentialsIdentity> issued = new ConcurrentHashMap<>();
  private final AtomicInteger exchanges = new AtomicInteger();
  volatile Duration validity = Duration.ofHours(1);
  volatile boolean deny;

  FakeSts(String expectedToken, String roleArn) throws IOException {
    this.expectedToken = expectedToken;
    this.roleArn = roleArn;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The credentials issued under this access key id, or null (the simulator's lookup). */
  AwsCredentialsIdentity issued(String accessKeyId) {
    return issued.get(accessKeyId);
  }

  int exchanges() {
    return exchanges.get();
  }

  private void handle(com.sun.net.httpserver.HttpExchange ex) throws IOException {
    Map<String, String> form = new HashMap<>();
    for (String pair :
        new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        form.put(
            pair.substring(0, eq),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    if (!"AssumeRoleWithWebIdentity".equals(form.get("Action"))) {
      reply(ex, 400, error("InvalidAction", "unsupported action " + form.get("Action")));
      return;
    }
    if (deny || !roleArn.equals(form.get("RoleArn"))) {
      reply(
          ex,
          403,
          error("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"));
      return;
    }
    if (!expectedToken.equals(form.get("WebIdentityToken"))) {
      reply(
          ex,
          400,
          error(
              "InvalidIdentityToken",
              "Couldn't retrieve verification key from your identity provider"));
      return;
    }
    int n = exchanges.incrementAndGet();
    String keyId = "ASIAFAKE" + String.format("%012d", n);
    AwsSessionCredentialsIdentity creds =
        AwsSessionCredentialsIdentity.create(keyId, "secret-" + n, "session-token-" + n);
    issued.put(keyId, creds);
    Instant expiry = Instant.now().plus(validity).truncatedTo(ChronoUnit.SECONDS);
    reply(
        ex,
        200,
        """
        <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleWithWebIdentityResult>
            <SubjectFromWebIdentityToken>system:serviceaccount:shop:checkout</SubjectFromWebIdentityToken>
            <AssumedRoleUser>
              <Arn>arn:aws:sts::111122223333:assumed-role/bedrock-caller/tollgate</Arn>
              <AssumedRoleId>AROAFAKE:tollgate</AssumedRoleId>
            </AssumedRoleUser>
            <Credentials>
              <AccessKeyId>%s</AccessKeyId>
              <SecretAccessKey>%s</SecretAccessKey>
              <SessionToken>%s</SessionToken>
              <Expiration>%s</Expiration>
            </Credentials>
          </AssumeRoleWithWebIdentityResult>
          <ResponseMetadata><RequestId>fake-%d</RequestId></ResponseMetadata>
        </AssumeRoleWithWebIdentityResponse>
        """
            .formatted(keyId, creds.secretAccessKey(), creds.sessionToken(), expiry, n));
  }

  private static String error(String code, String message) {
    return """
        <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>
          <RequestId>fake-error</RequestId>
        </ErrorResponse>
        """
        .formatted(code, message);
  }

  private static void reply(com.sun.net.httpserver.HttpExchange ex, int status, String xml)
      throws IOException {
    byte[] b = xml.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/xml");
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
    ex.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
