package dev.tollgate.operator.webhook;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.webhook.admission.AdmissionRequestHandler;
import io.javaoperatorsdk.webhook.admission.AdmissionUtils;
import io.javaoperatorsdk.webhook.admission.Operation;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admission handler for pod creation: asks {@link SidecarInjector} whether to inject and answers
 * with the JSON patch. It never rejects a pod: if anything goes wrong the pod is admitted as it is,
 * with a warning the user sees in {@code kubectl}, because an LLM gateway must not stop workloads
 * from starting.
 */
public final class PodInjectionHandler implements AdmissionRequestHandler {
  private static final Logger LOG = LoggerFactory.getLogger(PodInjectionHandler.class);

  private final SidecarInjector injector;
  private final NamespaceView namespaces;
  private final BiConsumer<SidecarInjector.Decision, String> onDecision;

  /**
   * @param onDecision called with each decision and namespace (metrics)
   */
  public PodInjectionHandler(
      SidecarInjector injector,
      NamespaceView namespaces,
      BiConsumer<SidecarInjector.Decision, String> onDecision) {
    this.injector = injector;
    this.namespaces = namespaces;
    this.onDecision = onDecision;
  }

  @Override
  public AdmissionResponse handle(AdmissionRequest request) {
    String namespace = request.getNamespace();
    try {
      if (!"CREATE".equals(request.getOperation())
          || request.getKind() == null
          || !"Pod".equals(request.getKind().getKind())
          || (request.getSubResource() != null && !request.getSubResource().isEmpty())) {
        return AdmissionUtils.allowedAdmissionResponse();
      }
      Pod original = (Pod) AdmissionUtils.getTargetResource(request, Operation.CREATE);
      String claimed =
          original.getMetadata() == null ? null : original.getMetadata().getNamespace();
      // The API server always names the namespace of a pod it admits, and a pod that names one
      // names the same. Anything else did not come from the API server: the answer names
      // Secrets of a namespace, so it is given only for the one namespace the review is about.
      if (namespace == null
          || namespace.isBlank()
          || (claimed != null && !claimed.isEmpty() && !claimed.equals(namespace))) {
        LOG.warn(
            "AdmissionReview for namespace {} with a pod of namespace {}: not from the API server;"
                + " admitted without a patch",
            namespace,
            claimed);
        return AdmissionUtils.allowedAdmissionResponse();
      }
      SidecarInjector.Decision decision =
          injector.decide(original, namespace, namespaces.labels(namespace));
      onDecision.accept(decision, namespace);
      if (decision != SidecarInjector.Decision.INJECT) {
        LOG.debug("pod {}/{} not injected: {}", namespace, podName(original), decision);
        return AdmissionUtils.allowedAdmissionResponse();
      }
      Set<String> secrets = namespaces.referencedSecrets(namespace);
      Pod mutated = Serialization.clone(original);
      dev.tollgate.sidecar.config.report.UsageReport.Workload workload =
          WorkloadResolver.resolve(original, namespace, namespaces::controllerOf);
      injector.inject(mutated, secrets, namespaces.usesPodIdentity(namespace), workload);
      LOG.info(
          "injected the Tollgate sidecar into pod {}/{} of {} with {} secret(s) mounted",
          namespace,
          podName(original),
          workload == null ? "no named workload" : workload.key() + " (" + workload.source() + ")",
          secrets.size());
      return AdmissionUtils.admissionResponseFromMutation(original, mutated);
    } catch (RuntimeException e) {
      LOG.warn(
          "sidecar injection failed for a pod in namespace {}; admitting it unchanged",
          namespace,
          e);
      AdmissionResponse response = AdmissionUtils.allowedAdmissionResponse();
      response.setWarnings(
          List.of(
              "tollgate: sidecar not injected ("
                  + e.getClass().getSimpleName()
                  + "); the pod runs without the LLM gateway. See the tollgate-operator logs."));
      return response;
    }
  }

  private static String podName(Pod pod) {
    if (pod.getMetadata() == null) {
      return "?";
    }
    String name = pod.getMetadata().getName();
    return name != null ? name : pod.getMetadata().getGenerateName() + "*";
  }
}
