package dev.tollgate.operator.ledger;

import dev.tollgate.api.v1alpha1.ProviderCredential;
import dev.tollgate.api.v1alpha1.ProviderCredentialSpec;
import dev.tollgate.sidecar.config.report.ReportReply;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Divides each ProviderCredential's account limits (requests and tokens per minute) among the live
 * sidecars of its namespace, so that together they never hold more than the account allows.
 *
 * <p>Every sidecar of a namespace runs the namespace's configuration, so every live sidecar may
 * call every credential and gets an equal share: {@code limit / live}, the remainder going one by
 * one to the first sidecars in ledger order, so the shares add up to the limit exactly. The shares
 * held are recorded in the spend ledger next to each reporter, and a sidecar is granted its fair
 * share only as far as the others' recorded shares leave room: {@code min(fair, limit - others)}.
 * So the sum of the shares held never exceeds the limit, also while pods come and go: a starting
 * sidecar gets what is free (often nothing) at once and its full share after the others' next
 * reports have shrunk theirs, which takes up to two report intervals. A sidecar that stops
 * reporting stops counting once it has been silent for the liveness TTL, and its share becomes free
 * for the others' next reports; of two boots of one pod only the newer counts (the older process is
 * gone).
 *
 * <p>The ledger is one Kubernetes object per namespace written with optimistic concurrency, so all
 * operator replicas see the same roster and the same shares.
 */
final class RateShares {
  private RateShares() {}

  /**
   * This reporter's shares of every limited credential, recorded in {@code ledger}; {@code key} is
   * the reporter's {@code podUid/bootId}, which must already be in the ledger with {@code lastSeen
   * = now}.
   */
  static List<ReportReply.CredentialShare> grant(
      SpendLedger ledger,
      String key,
      List<ProviderCredential> credentials,
      Instant now,
      Duration ttl) {
    SpendLedger.Reporter me = ledger.reporters.get(key);
    if (Boolean.TRUE.equals(me.ended)) {
      me.rateShares = new TreeMap<>(); // its final report: it holds nothing any more
      return List.of();
    }
    if (credentials.stream().noneMatch(RateShares::limited)) {
      me.rateShares = new TreeMap<>();
      return List.of(); // nothing to divide: no need to know who is live
    }
    List<String> live = live(ledger, now, ttl);
    if (!live.contains(key)) {
      live.add(key);
      live.sort(null);
    }
    int n = live.size();
    int index = live.indexOf(key);
    Map<String, SpendLedger.RateShare> held = new TreeMap<>();
    List<ReportReply.CredentialShare> out = new ArrayList<>();
    for (ProviderCredential c : credentials) {
      ProviderCredentialSpec.AccountLimits limits =
          c.getSpec() == null ? null : c.getSpec().getLimits();
      if (limits == null
          || (limits.getRequestsPerMinute() == null
              && limits.getTokensPerMinute() == null
              && limits.getTokensPerDay() == null)) {
        continue; // tokensPerDay alone: the sidecar divides it by the live count in the reply
      }
      String name = c.getMetadata().getName();
      long[] others = new long[2];
      for (String k : live) {
        if (k.equals(key)) {
          continue;
        }
        SpendLedger.RateShare s = ledger.reporters.get(k).rateShares.get(name);
        if (s != null) {
          others[0] += s.requestsPerMinute == null ? 0 : s.requestsPerMinute;
          others[1] += s.tokensPerMinute == null ? 0 : s.tokensPerMinute;
        }
      }
      Long rpm =
          limits.getRequestsPerMinute() == null
              ? null
              : share(limits.getRequestsPerMinute().longValue(), others[0], n, index);
      Long tpm =
          limits.getTokensPerMinute() == null
              ? null
              : share(limits.getTokensPerMinute(), others[1], n, index);
      SpendLedger.RateShare s = new SpendLedger.RateShare();
      s.requestsPerMinute = rpm;
      s.tokensPerMinute = tpm;
      held.put(name, s);
      out.add(new ReportReply.CredentialShare(name, rpm, tpm, n));
    }
    me.rateShares = held;
    return out;
  }

  private static boolean limited(ProviderCredential c) {
    ProviderCredentialSpec.AccountLimits limits =
        c.getSpec() == null ? null : c.getSpec().getLimits();
    return limits != null
        && (limits.getRequestsPerMinute() != null
            || limits.getTokensPerMinute() != null
            || limits.getTokensPerDay() != null);
  }

  /** The fair share of the {@code index}-th of {@code n}, as far as {@code others} leave room. */
  static long share(long limit, long others, int n, int index) {
    long fair = limit / n + (index < limit % n ? 1 : 0);
    return Math.max(0, Math.min(fair, limit - others));
  }

  /**
   * Keys of the reporters that reported within {@code ttl}, sorted; of several boots of one pod
   * only the one heard from last.
   */
  static List<String> live(SpendLedger ledger, Instant now, Duration ttl) {
    Map<String, String> newestBootOfPod = new HashMap<>();
    Map<String, Instant> seen = new HashMap<>();
    for (Map.Entry<String, SpendLedger.Reporter> e : ledger.reporters.entrySet()) {
      SpendLedger.Reporter r = e.getValue();
      if (!r.live(now, ttl)) {
        continue;
      }
      seen.put(e.getKey(), r.seen());
      String pod = podUid(e.getKey());
      newestBootOfPod.merge(pod, e.getKey(), (a, b) -> seen.get(b).isAfter(seen.get(a)) ? b : a);
    }
    List<String> live = new ArrayList<>(newestBootOfPod.values());
    live.sort(null);
    return live;
  }

  private static String podUid(String key) {
    int slash = key.indexOf('/');
    return slash < 0 ? key : key.substring(0, slash);
  }
}
