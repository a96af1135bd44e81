package dev.tollgate.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Least privilege of the rendered chart (issue #16): no wildcard anywhere, no ConfigMap or Secret
 * write that holds cluster-wide unless it names its objects, Secrets read-only outside the
 * operator's namespace and bound only to the watched namespaces when they are listed, and the
 * injection webhook called only for pods that opted in.
 */
class RbacTest {
  private static final Set<String> WRITES =
      Set.of(
          "create",
          "update",
          "patch",
          "delete",
          "deletecollection",
          "escalate",
          "bind",
          "impersonate");

  private static List<HelmChart.Manifests> renders() throws Exception {
    return List.of(
        HelmChart.template(),
        HelmChart.template("-f", HelmChart.fullValues()),
        HelmChart.template("--set", "webhook.certManager.enabled=false"));
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(v -> out.add(v.asText()));
    return out;
  }

  @Test
  void theWebhookMayGetReplicaSetsAndJobsToNameWorkloadsAndNothingMore() throws Exception {
    HelmChart.Manifests m = HelmChart.template();
    List<String> grants = new ArrayList<>();
    for (JsonNode role : roles(m)) {
      if (!role.at("/metadata/name").asText().endsWith("-webhook")) {
        continue;
      }
      for (JsonNode rule : role.path("rules")) {
        for (String resource : texts(rule.path("resources"))) {
          if (resource.equals("replicasets") || resource.equals("jobs")) {
            grants.add(texts(rule.path("apiGroups")) + resource + texts(rule.path("verbs")));
          }
        }
      }
    }
    assertThat(grants).containsExactlyInAnyOrder("[apps]replicasets[get]", "[batch]jobs[get]");
  }

  @Test
  void noRuleHasAWildcard() throws Exception {
    for (HelmChart.Manifests m : renders()) {
      for (JsonNode role : roles(m)) {
        for (JsonNode rule : role.path("rules")) {
          for (String field : List.of("verbs", "resources", "apiGroups", "resourceNames")) {
            assertThat(texts(rule.path(field)))
                .as(role.at("/metadata/name").asText() + " " + field)
                .noneMatch(v -> v.contains("*"));
          }
        }
      }
    }
  }

  @Test
  void clusterWideConfigMapAndSecretWritesNameTheirObjects() throws Exception {
    for (HelmChart.Manifests m : renders()) {
      for (JsonNode role : clusterWideRoles(m)) {
        for (JsonNode rule : role.path("rules")) {
          List<String> resources = texts(rule.path("resources"));
          List<String> verbs = texts(rule.path("verbs"));
          String where = role.at("/metadata/name").asText() + " " + rule;
          if (resources.contains("secrets")) {
            if (verbs.contains("create")) {
              // the Redis cache key: create stands alone, never with update or delete
              assertThat(verbs).as(where).containsExactly("create");
              assertThat(resources).as(where).containsExactly("secrets");
            } else {
              assertThat(verbs).as(where).allMatch(v -> Set.of("get", "list", "watch").contains(v));
            }
          }
          if (resources.contains("configmaps")) {
            List<String> named =
                verbs.stream().filter(v -> WRITES.contains(v) && !v.equals("create")).toList();
            if (!named.isEmpty()) {
              assertThat(texts(rule.path("resourceNames")))
                  .as(where + ": ConfigMap writes must name the ConfigMaps")
                  .isNotEmpty();
            }
            if (verbs.contains("create")) {
              // create cannot be limited by name: it stands alone, with nothing else
              assertThat(verbs).as(where).containsExactly("create");
            }
            if (rule.has("resourceNames")) {
              assertThat(texts(rule.path("resourceNames")))
                  .as(where)
                  .isSubsetOf("tollgate-sidecar-config", "tollgate-report-ca", "tollgate-spend");
            }
          }
        }
      }
    }
  }

  @Test
  void withWatchedNamespacesSecretsAreReadOnlyThere() throws Exception {
    HelmChart.Manifests m = HelmChart.template("-f", HelmChart.fullValues());
    Set<String> clusterBound = new HashSet<>();
    m.docs().stream()
        .filter(d -> d.get("kind").asText().equals("ClusterRoleBinding"))
        .forEach(d -> clusterBound.add(d.at("/roleRef/name").asText()));
    for (JsonNode role : roles(m)) {
      if (!clusterBound.contains(role.at("/metadata/name").asText())) {
        continue;
      }
      for (JsonNode rule : role.path("rules")) {
        assertThat(texts(rule.path("resources")))
            .as("a cluster-wide binding of " + role.at("/metadata/name").asText())
            .doesNotContain("secrets", "configmaps");
      }
    }
  }

  @Test
  void theWebhookIsCalledOnlyForPodsThatOptedIn() throws Exception {
    JsonNode webhooks = HelmChart.template().one("MutatingWebhookConfiguration").path("webhooks");
    assertThat(webhooks).hasSize(2);
    for (JsonNode w : webhooks) {
      assertThat(w.at("/objectSelector/matchExpressions/0/key").asText())
          .isEqualTo("tollgate.dev/inject");
    }
    // pods labelled in, outside opted-in namespaces
    assertThat(texts(webhooks.get(0).at("/objectSelector/matchExpressions/0/values")))
        .containsExactly("true");
    // every pod of an opted-in namespace, except those labelled out
    assertThat(webhooks.get(1).at("/namespaceSelector/matchExpressions/1/operator").asText())
        .isEqualTo("In");
    assertThat(texts(webhooks.get(1).at("/objectSelector/matchExpressions/0/values")))
        .containsExactly("false");
  }

  private static List<JsonNode> roles(HelmChart.Manifests m) {
    return m.docs().stream()
        .filter(d -> Set.of("ClusterRole", "Role").contains(d.get("kind").asText()))
        .toList();
  }

  /** ClusterRoles: whatever binds them, their rules may hold in every namespace. */
  private static List<JsonNode> clusterWideRoles(HelmChart.Manifests m) {
    return m.docs().stream().filter(d -> d.get("kind").asText().equals("ClusterRole")).toList();
  }
}
