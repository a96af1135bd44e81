package dev.tollgate.sidecar.routing;

import dev.tollgate.sidecar.config.RouteConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Picks one of a tier's targets in proportion to the weights, deterministically from a key (the
 * request id, or the caller's affinity header value): the same key always lands on the same target,
 * so a retried request or a conversation stays put while the keys of many requests spread by
 * weight.
 */
public final class WeightedSplit {
  private WeightedSplit() {}

  /** The targets in try order: the weighted pick first, then the others as declared. */
  public static List<RouteConfig.Target> order(List<RouteConfig.Target> targets, String key) {
    RouteConfig.Target first = pick(targets, key);
    List<RouteConfig.Target> out = new ArrayList<>(targets.size());
    out.add(first);
    for (RouteConfig.Target t : targets) {
      if (t != first) {
        out.add(t);
      }
    }
    return out;
  }

  /** The target for {@code key}; weight 0 targets are never picked unless all weights are 0. */
  public static RouteConfig.Target pick(List<RouteConfig.Target> targets, String key) {
    long total = 0;
    for (RouteConfig.Target t : targets) {
      total += Math.max(0, t.weight());
    }
    if (total == 0) {
      return targets.get(0);
    }
    long point = Long.remainderUnsigned(hash(key), total);
    for (RouteConfig.Target t : targets) {
      point -= Math.max(0, t.weight());
      if (point < 0) {
        return t;
      }
    }
    return targets.get(targets.size() - 1);
  }

  /** FNV-1a over UTF-8, finished with the SplitMix64 mixer so that similar ids spread evenly. */
  static long hash(String key) {
    long h = 0xcbf29ce484222325L;
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
    h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }
}
