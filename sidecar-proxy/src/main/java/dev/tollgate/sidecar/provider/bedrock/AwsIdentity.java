package dev.tollgate.sidecar.provider.bedrock;

import dev.tollgate.sidecar.provider.CloudIdentity;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * AWS credentials from the SDK's default chain, as the pod's environment offers them: system
 * properties and environment keys (a Secret mapped to {@code AWS_ACCESS_KEY_ID} / {@code
 * AWS_SECRET_ACCESS_KEY}), an IRSA web-identity token file exchanged at STS ({@code
 * AWS_WEB_IDENTITY_TOKEN_FILE}, {@code AWS_ROLE_ARN}), a profile file, EKS Pod Identity or ECS
 * container credentials ({@code AWS_CONTAINER_CREDENTIALS_FULL_URI}), the instance profile. The
 * SDK's blocking calls (STS, the credential endpoints) run on {@link
 * dev.tollgate.sidecar.provider.CloudIdentities}' thread.
 */
public final class AwsIdentity {
  private AwsIdentity() {}

  /** A fetcher over its own chain (each credential caches its own session credentials). */
  public static CloudIdentity.Fetcher<AwsCredentials> fetcher() {
    DefaultCredentialsProvider chain = DefaultCredentialsProvider.builder().build();
    return () -> {
      AwsCredentials c;
      try {
        c = chain.resolveCredentials();
      } catch (SdkClientException e) {
        throw new IllegalStateException(shorter(e.getMessage()), e);
      }
      return new CloudIdentity.Fetched<>(c, c.expirationTime().orElse(null));
    };
  }

  /** The chain's message without its list of class names; each provider's reason stays. */
  static String shorter(String message) {
    return message == null
        ? "no AWS credentials found"
        : message.replaceFirst(
            "^Unable to load credentials from any of the providers in the chain"
                + " AwsCredentialsProviderChain\\(credentialsProviders=\\[[^\\]]*\\]\\) : ",
            "no AWS credentials in the pod's environment: ");
  }
}
