package dev.tollgate.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The chart as a platform engineer installs it: lint, default render, full render, bad values. */
class ChartRenderTest {

  @Test
  void lintsStrictlyWithDefaultAndFullValues() throws Exception {
    HelmChart.Run defaults = HelmChart.helm("lint", "--strict", HelmChart.CHART.toString());
    HelmChart.Run full =
        HelmChart.helm(
            "lint", "--strict", HelmChart.CHART.toString(), "-f", HelmChart.fullValues());

    assertThat(defaults.exitCode()).as(defaults.output()).isZero();
    assertThat(full.exitCode()).as(full.output()).isZero();
  }

  @Test
  void defaultInstallRunsTwoOperatorReplicasWithLeaderElection() throws Exception {
    HelmChart.Manifests m = HelmChart.template();

    JsonNode deployment = m.one("Deployment");
    assertThat(deployment.at("/spec/replicas").asInt()).isEqualTo(2);
    JsonNode container = deployment.at("/spec/template/spec/containers/0");
    assertThat(env(container, "TOLLGATE_LEADER_ELECTION")).isEqualTo("true");
    assertThat(env(container, "TOLLGATE_WATCH_NAMESPACES")).isEmpty();
    // sized for 10,000 pods keeping a connection (or two) each to the leader
    assertThat(Integer.parseInt(env(container, "TOLLGATE_REPORT_MAX_CONNECTIONS")))
        .isGreaterThanOrEqualTo(20_000);
    assertThat(container.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
    assertThat(deployment.at("/spec/template/spec/securityContext/runAsNonRoot").asBoolean())
        .isTrue();
    assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/readyz");
    assertThat(m.one("PodDisruptionBudget").at("/spec/minAvailable").asInt()).isEqualTo(1);
    assertThat(m.kinds()).doesNotContain("Certificate", "ServiceMonitor", "PrometheusRule");
  }

  @Test
  void webhookNeverBlocksPodsAndNeverSeesSystemNamespaces() throws Exception {
    JsonNode webhook = HelmChart.template().one("MutatingWebhookConfiguration").at("/webhooks/0");

    assertThat(webhook.at("/failurePolicy").asText()).isEqualTo("Ignore");
    assertThat(webhook.at("/timeoutSeconds").asInt()).isLessThanOrEqualTo(5);
    assertThat(webhook.at("/sideEffects").asText()).isEqualTo("None");
    assertThat(webhook.at("/clientConfig/service/path").asText()).isEqualTo("/mutate-pods");
    List<String> excluded = new ArrayList<>();
    webhook
        .at("/namespaceSelector/matchExpressions/0/values")
        .forEach(v -> excluded.add(v.asText()));
    assertThat(excluded).contains("tollgate-system", "kube-system");
    assertThat(webhook.at("/rules/0/operations/0").asText()).isEqualTo("CREATE");
  }

  @Test
  void rbacGrantsStatusWritesButNoSpecWrites() throws Exception {
    JsonNode role = HelmChart.template().named("ClusterRole", "-operator");

    List<String> tollgateVerbs = new ArrayList<>();
    List<String> statusVerbs = new ArrayList<>();
    for (JsonNode rule : role.get("rules")) {
      if (!rule.path("apiGroups").toString().contains("tollgate.dev")) {
        continue;
      }
      boolean status = rule.get("resources").toString().contains("/status");
      rule.get("verbs").forEach(v -> (status ? statusVerbs : tollgateVerbs).add(v.asText()));
    }
    // Argo CD stays in sync only if the operator never writes spec: it may read the kinds and
    // patch them (finalizers), but never create, update or delete them.
    assertThat(tollgateVerbs).containsExactlyInAnyOrder("get", "list", "watch", "patch");
    assertThat(statusVerbs).containsExactly("patch");
  }

  @Test
  void watchingAListOfNamespacesBindsTheRulesOnlyThere() throws Exception {
    HelmChart.Manifests all = HelmChart.template();
    HelmChart.Manifests some = HelmChart.template("-f", HelmChart.fullValues());

    assertThat(all.docs())
        .filteredOn(d -> d.get("kind").asText().equals("ClusterRoleBinding"))
        .extracting(d -> d.at("/roleRef/name").asText())
        .containsExactlyInAnyOrder("tg-tollgate-operator", "tg-tollgate-webhook");
    assertThat(some.docs())
        .filteredOn(d -> d.get("kind").asText().equals("ClusterRoleBinding"))
        .extracting(d -> d.at("/roleRef/name").asText())
        .containsExactly("tg-tollgate-webhook");
    assertThat(some.docs())
        .filteredOn(d -> d.get("kind").asText().equals("RoleBinding"))
        .extracting(d -> d.at("/metadata/namespace").asText())
        .containsExactlyInAnyOrder("support", "assistant", "tollgate-system");
  }

  @Test
  void fullValuesTurnOnCertManagerMonitoringAndAlerts() throws Exception {
    HelmChart.Manifests m = HelmChart.template("-f", HelmChart.fullValues());

    assertThat(m.kinds()).contains("Certificate", "Issuer", "ServiceMonitor", "PodMonitor");
    JsonNode certificate = m.one("Certificate");
    assertThat(certificate.at("/spec/privateKey/encoding").asText()).isEqualTo("PKCS8");
    assertThat(certificate.at("/spec/dnsNames/0").asText())
        .isEqualTo("tg-tollgate-webhook.tollgate-system.svc");
    JsonNode webhook = m.one("MutatingWebhookConfiguration");
    assertThat(webhook.at("/metadata/annotations").toString())
        .contains("cert-manager.io/inject-ca-from");
    assertThat(webhook.at("/webhooks/0/clientConfig/caBundle").isMissingNode()).isTrue();
    JsonNode container = m.one("Deployment").at("/spec/template/spec/containers/0");
    assertThat(env(container, "TOLLGATE_WATCH_NAMESPACES")).isEqualTo("support,assistant");
    assertThat(env(container, "TOLLGATE_WEBHOOK_CERT_DIR")).isEqualTo("/etc/tollgate/webhook-tls");
    assertThat(m.one("Deployment").at("/spec/replicas").asInt()).isEqualTo(3);
    // the sidecar's probe and metrics listener on the pod IP (SidecarInjector.HEALTH_PORT_NAME);
    // its proxy port is loopback only and not declared
    assertThat(m.one("PodMonitor").at("/spec/podMetricsEndpoints/0/port").asText())
        .isEqualTo("tollgate-health");
    assertThat(env(container, "TOLLGATE_SIDECAR_HEALTH_PORT")).isEqualTo("4001");
  }

  @Test
  void alertsCarryTheSeedThresholds() throws Exception {
    JsonNode rules =
        HelmChart.template("-f", HelmChart.fullValues())
            .one("PrometheusRule")
            .at("/spec/groups/0/rules");

    java.util.Map<String, String> exprByAlert = new java.util.HashMap<>();
    rules.forEach(r -> exprByAlert.put(r.get("alert").asText(), r.get("expr").asText()));
    assertThat(exprByAlert)
        .containsOnlyKeys(
            "TollgateCostSpike",
            "TollgateHighErrorRate",
            "TollgateSlowResponses",
            "TollgateLowCacheHitRate",
            "TollgateBudgetWarning",
            "TollgateBudgetCritical",
            "TollgateUserHourlySpend",
            "TollgateSlowFirstToken",
            "TollgateTokensPerDayEarly",
            "TollgateConversationCost");
    assertThat(exprByAlert.get("TollgateConversationCost"))
        .contains("increase(tollgate_conversations_over_cost_total[1h])")
        .containsPattern(">\\s+0\\s*$");
    JsonNode conversation = null;
    for (JsonNode r : rules) {
      if (r.get("alert").asText().equals("TollgateConversationCost")) {
        conversation = r;
      }
    }
    assertThat(conversation.at("/labels/threshold_usd").asText()).isEqualTo("2");
    // the threshold the alert names is the one the sidecars count with
    assertThat(
            HelmChart.template()
                .one("Deployment")
                .at("/spec/template/spec/containers/0/env")
                .toString())
        .contains("{\"name\":\"TOLLGATE_SIDECAR_TOLLGATE_CONVERSATION_COST_USD\",\"value\":\"2\"}");
    assertThat(exprByAlert.get("TollgateTokensPerDayEarly"))
        .contains("max by (namespace, scope, name) (tollgate_tokens_per_day_used_ratio)")
        .contains("> 0.8")
        .contains("and on() hour() < 12");
    assertThat(exprByAlert.get("TollgateCostSpike")).contains("> 2 * (").contains("[7d])) / 168");
    assertThat(exprByAlert.get("TollgateHighErrorRate")).containsPattern(">\\s+0\\.05\\s*$");
    assertThat(exprByAlert.get("TollgateSlowResponses")).containsPattern(">\\s+10\\s*$");
    assertThat(exprByAlert.get("TollgateLowCacheHitRate")).contains("< 0.7");
    assertThat(exprByAlert.get("TollgateBudgetWarning")).endsWith(">= 50");
    assertThat(exprByAlert.get("TollgateBudgetCritical")).endsWith(">= 90");
    assertThat(exprByAlert.get("TollgateUserHourlySpend"))
        .contains("increase(tollgate_user_cost_usd_total{user!=\"_other\"}[1h])")
        .containsPattern(">\\s+10\\s*$");
    assertThat(exprByAlert.get("TollgateSlowFirstToken"))
        .contains("histogram_quantile(0.95")
        .contains("tollgate_time_to_first_token_seconds_bucket[5m]")
        .containsPattern(">\\s+1\\.5\\s*$");
    java.util.Map<String, String> forByAlert = new java.util.HashMap<>();
    rules.forEach(r -> forByAlert.put(r.get("alert").asText(), r.path("for").asText()));
    assertThat(forByAlert.get("TollgateSlowFirstToken")).isEqualTo("5m");
  }

  @Test
  void dashboardShowsSpendTokensLatencyCacheFailoversAndBudget() throws Exception {
    JsonNode configMap = HelmChart.template().named("ConfigMap", "-dashboard");
    JsonNode dashboard =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(configMap.at("/data/tollgate.json").asText());

    List<String> queries = new ArrayList<>();
    dashboard
        .get("panels")
        .forEach(p -> p.get("targets").forEach(t -> queries.add(t.get("expr").asText())));
    assertThat(String.join("\n", queries))
        .contains("tollgate_cost_usd_total")
        .contains("tollgate_tokens_total")
        .contains("tollgate_request_duration_seconds_bucket")
        .contains("tollgate_time_to_first_token_seconds_bucket")
        .contains("cache_read")
        .contains("tollgate_failovers_total")
        .contains("tollgate_budget_used_percent")
        .contains("sum by (le, model) (rate(tollgate_time_to_first_token_seconds_bucket")
        .contains("tollgate_feature_time_to_first_token_seconds_bucket")
        .contains("topk(10, sum by (user) (increase(tollgate_user_cost_usd_total")
        .contains("tollgate_feature_cost_usd_total");
    List<String> titles = new ArrayList<>();
    dashboard.get("panels").forEach(p -> titles.add(p.get("title").asText()));
    JsonNode byWorkload =
        dashboard.get("panels").get(titles.indexOf("Spend by workload (USD per hour)"));
    assertThat(byWorkload).as("the spend-by-workload panel (titles: %s)", titles).isNotNull();
    assertThat(byWorkload.at("/targets/0/expr").asText())
        .isEqualTo(
            "topk(10, sum by (workload_kind, workload)"
                + " (increase(tollgate_workload_cost_usd_total{namespace=~\"$namespace\"}[1h])))");
    JsonNode bySa =
        dashboard.get("panels").get(titles.indexOf("Spend by service account (USD per hour)"));
    assertThat(bySa).isNotNull();
    assertThat(bySa.at("/targets/0/expr").asText())
        .contains("sum by (service_account) (increase(tollgate_workload_cost_usd_total");
    assertThat(configMap.at("/metadata/labels/grafana_dashboard").asText()).isEqualTo("1");
  }

  @Test
  void everyVariableTheChartSetsIsReadByTheOperator() throws Exception {
    JsonNode container =
        HelmChart.template("-f", HelmChart.fullValues())
            .one("Deployment")
            .at("/spec/template/spec/containers/0");
    StringBuilder operatorSources = new StringBuilder();
    try (Stream<Path> files = Files.walk(HelmChart.CHART.resolve("../../operator/src/main"))) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        operatorSources.append(Files.readString(file));
      }
    }

    List<String> unread = new ArrayList<>();
    container
        .get("env")
        .forEach(
            e -> {
              String name = e.get("name").asText();
              String sources = operatorSources.toString();
              if (!sources.contains("\"" + name + "\"") && !sources.contains("${" + name)) {
                unread.add(name);
              }
            });
    assertThat(unread).as("env vars set by the chart but read nowhere in operator/").isEmpty();
  }

  @Test
  void tracingIsPassedToTheOperatorForTheInjectedSidecarsOnlyWhenAnEndpointIsSet()
      throws Exception {
    JsonNode full =
        HelmChart.template("-f", HelmChart.fullValues())
            .one("Deployment")
            .at("/spec/template/spec/containers/0");
    assertThat(env(full, "TOLLGATE_SIDECAR_OTEL_EXPORTER_OTLP_ENDPOINT"))
        .isEqualTo("http://otel-collector.observability:4318");
    assertThat(env(full, "TOLLGATE_SIDECAR_OTEL_TRACES_SAMPLER_ARG")).isEqualTo("0.25");
    assertThat(env(full, "TOLLGATE_SIDECAR_TOLLGATE_TRACE_CONTENT")).isEqualTo("false");
    assertThat(env(full, "TOLLGATE_SIDECAR_TOLLGATE_USER_HEADER")).isEqualTo("x-tollgate-user");
    JsonNode defaults =
        HelmChart.template().one("Deployment").at("/spec/template/spec/containers/0");
    List<String> names = new ArrayList<>();
    defaults.get("env").forEach(e -> names.add(e.get("name").asText()));
    assertThat(names)
        .doesNotContain("TOLLGATE_SIDECAR_OTEL_EXPORTER_OTLP_ENDPOINT")
        .contains("TOLLGATE_SIDECAR_TOLLGATE_USER_HEADER");
  }

  @Test
  void invalidValuesAreRejectedByTheSchema() throws Exception {
    for (String bad :
        List.of(
            "operator.replicas=9",
            "webhook.failurePolicy=Sometimes",
            "sidecar.port=70000",
            "sidecar.tracing.sampler=jaeger_remote",
            "sidecar.tracing.samplerRatio=2",
            "typo=1")) {
      HelmChart.Run run =
          HelmChart.helm("template", "tg", HelmChart.CHART.toString(), "--set", bad);
      assertThat(run.exitCode()).as(bad).isNotZero();
      assertThat(run.output()).as(bad).contains("schema");
    }
  }

  @Test
  void chartCrdsAreTheGeneratedOnes() throws IOException {
    Path generated = HelmChart.CHART.resolve("../../crds").normalize();
    try (Stream<Path> files = Files.list(HelmChart.CHART.resolve("crds"))) {
      List<Path> chartCrds = files.sorted().toList();
      assertThat(chartCrds).hasSize(3);
      for (Path crd : chartCrds) {
        assertThat(Files.readString(crd))
            .as(crd.getFileName().toString())
            .isEqualTo(Files.readString(generated.resolve(crd.getFileName())));
      }
    }
  }

  private static String env(JsonNode container, String name) {
    for (JsonNode e : container.get("env")) {
      if (name.equals(e.get("name").asText())) {
        return e.path("value").asText();
      }
    }
    throw new AssertionError("no env " + name);
  }
}
