package dev.tollgate.operator.webhook;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Gives the Tollgate sidecar the pod's cloud identity when a credential of the namespace uses one
 * ({@code auth} awsIam or azureWorkloadIdentity): the environment and token mounts that EKS's and
 * Azure's own webhooks put into the application's containers are copied to the sidecar when it has
 * none of them (those webhooks may have run before Tollgate's added the sidecar). Nothing is
 * invented: a pod without them gets nothing, and GKE Workload Identity needs nothing in the pod.
 */
final class CloudIdentityEnv {
  /** The variables EKS (IRSA, Pod Identity) and Azure Workload Identity set. */
  static final Set<String> VARIABLES =
      Set.of(
          "AWS_ROLE_ARN",
          "AWS_WEB_IDENTITY_TOKEN_FILE",
          "AWS_ROLE_SESSION_NAME",
          "AWS_REGION",
          "AWS_DEFAULT_REGION",
          "AWS_STS_REGIONAL_ENDPOINTS",
          "AWS_CONTAINER_CREDENTIALS_FULL_URI",
          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
          "AZURE_CLIENT_ID",
          "AZURE_TENANT_ID",
          "AZURE_FEDERATED_TOKEN_FILE",
          "AZURE_AUTHORITY_HOST");

  private static final Set<String> TOKEN_FILES =
      Set.of(
          "AWS_WEB_IDENTITY_TOKEN_FILE",
          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
          "AZURE_FEDERATED_TOKEN_FILE");

  private CloudIdentityEnv() {}

  /** Copies the first app container's identity variables and token mounts to {@code sidecar}. */
  static void share(List<Container> apps, Container sidecar) {
    if (has(sidecar)) {
      return; // the cloud's webhook already saw the sidecar
    }
    for (Container app : apps) {
      if (!has(app)) {
        continue;
      }
      List<EnvVar> env = new ArrayList<>(nullToEmpty(sidecar.getEnv()));
      List<VolumeMount> mounts = new ArrayList<>(nullToEmpty(sidecar.getVolumeMounts()));
      for (EnvVar v : nullToEmpty(app.getEnv())) {
        if (!VARIABLES.contains(v.getName())) {
          continue;
        }
        env.add(v);
        if (TOKEN_FILES.contains(v.getName()) && v.getValue() != null) {
          for (VolumeMount m : nullToEmpty(app.getVolumeMounts())) {
            boolean holdsFile = v.getValue().startsWith(m.getMountPath() + "/");
            if (holdsFile && mounts.stream().noneMatch(x -> x.getName().equals(m.getName()))) {
              mounts.add(m);
            }
          }
        }
      }
      sidecar.setEnv(env);
      sidecar.setVolumeMounts(mounts);
      return;
    }
  }

  private static boolean has(Container c) {
    return nullToEmpty(c.getEnv()).stream().anyMatch(v -> VARIABLES.contains(v.getName()));
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
