package dev.tollgate.operator.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.Map;

/**
 * Keeps each namespace's ledger as JSON in an operator-owned ConfigMap ({@code tollgate-spend}),
 * written with the resourceVersion read as a precondition (optimistic concurrency).
 */
public final class ConfigMapLedgerStore implements LedgerStore {
  public static final String DEFAULT_NAME = "tollgate-spend";
  static final String KEY = "ledger.json";
  public static final String LABEL_SELECTOR = "app.kubernetes.io/component=spend-ledger";
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final KubernetesClient client;
  private final String name;

  public ConfigMapLedgerStore(KubernetesClient client, String name) {
    this.client = client;
    this.name = name;
  }

  @Override
  public Versioned load(String namespace) {
    ConfigMap cm = client.configMaps().inNamespace(namespace).withName(name).get();
    if (cm == null) {
      return new Versioned(new SpendLedger(), null);
    }
    return new Versioned(parse(cm), cm.getMetadata().getResourceVersion());
  }

  /** The ledger a ConfigMap holds (an empty one if it holds none). */
  public static SpendLedger parse(ConfigMap cm) {
    String json = cm.getData() == null ? null : cm.getData().get(KEY);
    try {
      return json == null ? new SpendLedger() : JSON.readValue(json, SpendLedger.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(
          "ConfigMap "
              + cm.getMetadata().getNamespace()
              + "/"
              + cm.getMetadata().getName()
              + " does not hold a Tollgate spend ledger ("
              + e.getOriginalMessage()
              + "); it is owned by the operator, do not edit it",
          e);
    }
  }

  @Override
  public boolean save(String namespace, SpendLedger ledger, String version) {
    String json;
    try {
      json = JSON.writeValueAsString(ledger);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the spend ledger", e);
    }
    ConfigMap cm =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .withResourceVersion(version)
            .addToLabels("app.kubernetes.io/managed-by", "tollgate-operator")
            .addToLabels("app.kubernetes.io/component", "spend-ledger")
            .endMetadata()
            .withData(Map.of(KEY, json))
            .build();
    try {
      if (version == null) {
        client.configMaps().inNamespace(namespace).resource(cm).create();
      } else {
        client.configMaps().inNamespace(namespace).resource(cm).update();
      }
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        return false;
      }
      throw e;
    }
  }
}
