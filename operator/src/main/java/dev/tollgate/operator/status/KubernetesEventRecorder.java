package dev.tollgate.operator.status;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes core/v1 Events (what {@code kubectl describe} and {@code kubectl get events} show). An
 * Event that cannot be written is logged and dropped: it must never fail a reconcile.
 */
public final class KubernetesEventRecorder implements EventRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesEventRecorder.class);
  static final String COMPONENT = "tollgate-operator";

  private final KubernetesClient client;
  private final String reportingInstance;
  private final Clock clock;

  public KubernetesEventRecorder(KubernetesClient client, String reportingInstance, Clock clock) {
    this.client = client;
    this.reportingInstance = reportingInstance;
    this.clock = clock;
  }

  @Override
  public void warning(HasMetadata regarding, String transition, String reason, String message) {
    record(regarding, transition, "Warning", reason, message);
  }

  @Override
  public void normal(HasMetadata regarding, String transition, String reason, String message) {
    record(regarding, transition, "Normal", reason, message);
  }

  private void record(
      HasMetadata regarding, String transition, String type, String reason, String message) {
    String now = dev.tollgate.api.status.Conditions.format(clock.instant());
    String ns = regarding.getMetadata().getNamespace();
    Event event =
        new EventBuilder()
            .withNewMetadata()
            // object name plus a suffix, as client-go does; the suffix is derived from the
            // transition so that recording it twice is refused as a duplicate
            .withName(regarding.getMetadata().getName() + "." + suffix(regarding, transition))
            .withNamespace(ns)
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(regarding.getApiVersion())
                    .withKind(regarding.getKind())
                    .withName(regarding.getMetadata().getName())
                    .withNamespace(ns)
                    .withUid(regarding.getMetadata().getUid())
                    .withResourceVersion(regarding.getMetadata().getResourceVersion())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(truncate(message))
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent(COMPONENT)
            .withReportingInstance(reportingInstance)
            .build();
    try {
      client.v1().events().inNamespace(ns).resource(event).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        LOG.debug("Event {} already recorded", event.getMetadata().getName());
        return;
      }
      LOG.warn(
          "could not record Event {} on {}: {}",
          reason,
          regarding.getMetadata().getName(),
          e.getMessage());
    }
  }

  private static String suffix(HasMetadata regarding, String transition) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(
                  (regarding.getKind() + "/" + regarding.getMetadata().getUid() + "/" + transition)
                      .getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }

  /** The API server refuses Event messages over 1 KiB. */
  private static String truncate(String message) {
    return message.length() <= 1024 ? message : message.substring(0, 1021) + "...";
  }
}
