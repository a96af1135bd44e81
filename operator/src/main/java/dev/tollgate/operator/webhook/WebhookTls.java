package dev.tollgate.operator.webhook;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * TLS material of the webhook: either PEM files mounted from a Secret (cert-manager) or a CA and
 * serving certificate generated at start-up, whose CA the operator then writes into the webhook
 * configuration's {@code caBundle}. There is no plain-HTTP mode: the API server only calls webhooks
 * over TLS, and a missing certificate is an error, never a fallback.
 *
 * @param certificateChain serving certificate first, then its issuers
 * @param privateKey key of the serving certificate
 * @param caPem PEM of the CA that signed the serving certificate (for {@code caBundle})
 */
public record WebhookTls(
    List<X509Certificate> certificateChain, PrivateKey privateKey, String caPem) {

  private static final SecureRandom RANDOM = new SecureRandom();

  /** Reads {@code tls.crt}, {@code tls.key} and (if present) {@code ca.crt} from a directory. */
  public static WebhookTls fromDirectory(Path dir) {
    Path cert = dir.resolve("tls.crt");
    Path key = dir.resolve("tls.key");
    if (!Files.isReadable(cert) || !Files.isReadable(key)) {
      throw new IllegalStateException(
          "webhook TLS: expected tls.crt and tls.key in "
              + dir
              + " (mount the cert-manager Secret there, or unset the certificate directory to let"
              + " the operator generate a certificate)");
    }
    try {
      List<X509Certificate> chain = readCertificates(Files.readString(cert));
      PrivateKey privateKey = readPrivateKey(Files.readString(key));
      Path caFile = dir.resolve("ca.crt");
      String ca =
          Files.isReadable(caFile) ? Files.readString(caFile) : toPem(chain.get(chain.size() - 1));
      return new WebhookTls(chain, privateKey, ca);
    } catch (IOException e) {
      throw new UncheckedIOException("webhook TLS: cannot read " + dir, e);
    }
  }

  /**
   * Generates a CA and a serving certificate for the webhook Service's DNS names.
   *
   * @param dnsNames e.g. {@code tollgate-webhook.tollgate-system.svc}
   */
  public static WebhookTls generate(List<String> dnsNames, Duration validity) {
    try {
      Instant now = Instant.now();
      Date notBefore = Date.from(now.minus(Duration.ofMinutes(5)));
      Date notAfter = Date.from(now.plus(validity));

      KeyPair caKeys = newKeyPair();
      X500Name caName = new X500Name("CN=tollgate-webhook-ca");
      X509v3CertificateBuilder caBuilder =
          new JcaX509v3CertificateBuilder(
              caName, serial(), notBefore, notAfter, caName, caKeys.getPublic());
      caBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      caBuilder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate ca = sign(caBuilder, caKeys.getPrivate());

      KeyPair serverKeys = newKeyPair();
      X509v3CertificateBuilder serverBuilder =
          new JcaX509v3CertificateBuilder(
              caName,
              serial(),
              notBefore,
              notAfter,
              new X500Name("CN=" + dnsNames.get(0)),
              serverKeys.getPublic());
      serverBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      serverBuilder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      serverBuilder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      GeneralName[] names =
          dnsNames.stream()
              .map(n -> new GeneralName(GeneralName.dNSName, n))
              .toArray(GeneralName[]::new);
      serverBuilder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      X509Certificate server = sign(serverBuilder, caKeys.getPrivate());

      return new WebhookTls(List.of(server, ca), serverKeys.getPrivate(), toPem(ca));
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("webhook TLS: cannot generate a certificate", e);
    }
  }

  /** A server-side SSL context presenting this certificate. */
  public SSLContext serverContext() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      char[] password = new char[0];
      store.setKeyEntry(
          "webhook", privateKey, password, certificateChain.toArray(Certificate[]::new));
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(store, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), null, RANDOM);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("webhook TLS: cannot build the SSL context", e);
    }
  }

  /** A client-side SSL context trusting only this certificate's CA (for tests and probes). */
  public SSLContext clientContextTrustingCa() {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      List<X509Certificate> cas = readCertificates(caPem);
      for (int i = 0; i < cas.size(); i++) {
        trust.setCertificateEntry("ca-" + i, cas.get(i));
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), RANDOM);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<X509Certificate> readCertificates(String pem) {
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      List<X509Certificate> result = new ArrayList<>();
      for (Certificate c :
          factory.generateCertificates(
              new java.io.ByteArrayInputStream(
                  pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)))) {
        result.add((X509Certificate) c);
      }
      if (result.isEmpty()) {
        throw new IllegalStateException("webhook TLS: no certificate in PEM input");
      }
      return result;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("webhook TLS: unreadable certificate", e);
    }
  }

  static PrivateKey readPrivateKey(String pem) throws IOException {
    try (Reader reader = new StringReader(pem);
        PEMParser parser = new PEMParser(reader)) {
      Object object = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (object instanceof PEMKeyPair pair) {
        // SEC1 "EC PRIVATE KEY" blocks may omit the public key; only the private part is needed.
        return converter.getPrivateKey(pair.getPrivateKeyInfo());
      }
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      throw new IllegalStateException(
          "webhook TLS: tls.key holds no unencrypted private key (PKCS#1, SEC1 or PKCS#8 PEM)");
    }
  }

  static String toPem(Object object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(256, RANDOM);
    return generator.generateKeyPair();
  }

  private static BigInteger serial() {
    return new BigInteger(64, RANDOM).abs().add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
      throws OperatorCreationException, GeneralSecurityException {
    ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
    return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
  }
}
