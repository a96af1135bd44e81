package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import lombok.Data;
import lombok.NoArgsConstructor;

/** Observed state of a {@link ProviderCredential}: conditions and per-model health. */
@Data
@NoArgsConstructor
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class ProviderCredentialStatus {
  private Long observedGeneration;
  private List<Condition> conditions = new ArrayList<>();

  /** Worst health over the models, for {@code kubectl get}. */
  private Health overallHealth;

  private List<ModelHealth> health = new ArrayList<>();

  /** Models routed through this credential that have no price in the catalogue or overrides. */
  private List<String> unpricedModels = new ArrayList<>();

  /** Health of one model of the account, aggregated over the pods that report it. */
  @Data
  @NoArgsConstructor
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ModelHealth {
    private String model;
    private Health state;

    /** Errors per request in percent over the reporting window, as a decimal string. */
    private String errorRatePercent;

    private Long ttftP50Millis;
    private Long ttftP95Millis;
    private String lastError;
    private String lastErrorTime;
    private Integer reportingPods;
  }
}
