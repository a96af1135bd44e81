package dev.tollgate.operator.webhook;

import dev.tollgate.sidecar.config.report.UsageReport;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workload a pod being admitted belongs to, for spend by workload with no app change. A pod a
 * Deployment creates arrives at admission without a name, with a {@code generateName} and a
 * controller owner reference to its ReplicaSet (and the {@code pod-template-hash} label); the
 * ReplicaSet's own controller reference names the Deployment. So ReplicaSets and Jobs are looked up
 * once ({@link Owners}, a short GET) to reach their Deployment or CronJob; when that GET fails
 * (timeout, RBAC missing) the naming conventions stand in: a Deployment's ReplicaSet is {@code
 * <deployment>-<pod-template-hash>}, a CronJob's Job {@code <cronjob>-<scheduled minute>}. The
 * result says which ({@code source}: {@code api}, {@code naming}, {@code ownerReference} for
 * StatefulSets and DaemonSets, {@code pod} for a pod without owner).
 */
public final class WorkloadResolver {
  private static final Logger LOG = LoggerFactory.getLogger(WorkloadResolver.class);

  /** A CronJob's Job: its name, a dash and the scheduled time in minutes since the epoch. */
  private static final Pattern CRONJOB_JOB = Pattern.compile("(.+)-[0-9]{8,10}");

  /** Reads an owner's own controller reference. */
  public interface Owners {
    /**
     * The controller reference of object {@code kind}/{@code name} (ReplicaSet or Job) in {@code
     * namespace}; empty when it has none.
     *
     * @throws RuntimeException when it cannot be read (not found, timeout, forbidden)
     */
    Optional<OwnerReference> controllerOf(String namespace, String kind, String name);
  }

  private WorkloadResolver() {}

  /**
   * The workload of {@code pod} in {@code namespace}, or null when its controller is of a kind
   * Tollgate does not name (a custom controller's pods are not attributed).
   */
  public static UsageReport.Workload resolve(Pod pod, String namespace, Owners owners) {
    String sa = pod.getSpec() == null ? null : pod.getSpec().getServiceAccountName();
    OwnerReference owner = controller(pod.getMetadata().getOwnerReferences());
    if (owner == null) {
      String name = pod.getMetadata().getName();
      return name == null || name.isEmpty()
          ? null
          : new UsageReport.Workload("Pod", name, sa, "pod");
    }
    String kind = owner.getKind();
    String name = owner.getName();
    switch (kind == null ? "" : kind) {
      case "StatefulSet", "DaemonSet", "Deployment", "CronJob" -> {
        return new UsageReport.Workload(kind, name, sa, "ownerReference");
      }
      case "ReplicaSet" -> {
        return through(
            owners,
            namespace,
            "ReplicaSet",
            name,
            "Deployment",
            sa,
            () -> {
              String hash = labels(pod).get("pod-template-hash");
              return hash != null && !hash.isEmpty() && name.endsWith("-" + hash)
                  ? new UsageReport.Workload(
                      "Deployment",
                      name.substring(0, name.length() - hash.length() - 1),
                      sa,
                      "naming")
                  : new UsageReport.Workload("ReplicaSet", name, sa, "naming");
            });
      }
      case "Job" -> {
        return through(
            owners,
            namespace,
            "Job",
            name,
            "CronJob",
            sa,
            () -> {
              Matcher m = CRONJOB_JOB.matcher(name);
              return m.matches()
                  ? new UsageReport.Workload("CronJob", m.group(1), sa, "naming")
                  : new UsageReport.Workload("Job", name, sa, "naming");
            });
      }
      default -> {
        return null;
      }
    }
  }

  /**
   * The {@code parentKind} that controls {@code kind}/{@code name}, else {@code kind}/{@code name}
   * itself; by the naming convention ({@code naming}) when it cannot be read.
   */
  private static UsageReport.Workload through(
      Owners owners,
      String namespace,
      String kind,
      String name,
      String parentKind,
      String sa,
      java.util.function.Supplier<UsageReport.Workload> naming) {
    Optional<OwnerReference> parent;
    try {
      parent = owners.controllerOf(namespace, kind, name);
    } catch (RuntimeException e) {
      LOG.debug(
          "could not read {} {}/{} ({}); the workload follows the naming convention",
          kind,
          namespace,
          name,
          e.toString());
      return naming.get();
    }
    if (parent.isPresent() && parentKind.equals(parent.get().getKind())) {
      return new UsageReport.Workload(parentKind, parent.get().getName(), sa, "api");
    }
    // no controller, or one Tollgate does not name (an Argo Rollout's ReplicaSet): the object
    return new UsageReport.Workload(kind, name, sa, "api");
  }

  private static OwnerReference controller(List<OwnerReference> refs) {
    if (refs == null) {
      return null;
    }
    return refs.stream()
        .filter(r -> Boolean.TRUE.equals(r.getController()))
        .findFirst()
        .orElse(null);
  }

  private static Map<String, String> labels(Pod pod) {
    Map<String, String> l = pod.getMetadata().getLabels();
    return l == null ? Map.of() : l;
  }
}
