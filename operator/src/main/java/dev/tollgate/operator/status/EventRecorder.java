package dev.tollgate.operator.status;

import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * Records Kubernetes Events about a resource. Callers record only transitions (a route becoming
 * rejected, a Secret going missing), never once per reconcile. Messages must not hold secret
 * values.
 *
 * <p>{@code transition} identifies the transition (see {@link Statuses#transitionKey}): recording
 * the same transition twice, as two reconciles working from the same cached status would, yields
 * one Event.
 */
public interface EventRecorder {
  void warning(HasMetadata regarding, String transition, String reason, String message);

  void normal(HasMetadata regarding, String transition, String reason, String message);
}
