#!/usr/bin/env python3
"""Top frames of a JFR recording, from `jfr print --json` files in a directory (see bench/profile.sh)."""
import collections
import json
import os
import sys

TOP = 25


def frames(ev):
    st = ev["values"].get("stackTrace") or {}
    out = []
    for f in st.get("frames") or []:
        m = f.get("method") or {}
        cls = ((m.get("type") or {}).get("name") or "?").replace("/", ".")
        out.append(cls + "." + (m.get("name") or "?"))
    return out


def load(d, name):
    p = os.path.join(d, name + ".json")
    if not os.path.exists(p):
        return []
    with open(p) as fh:
        return json.load(fh)["recording"]["events"]


def table(title, evs, weight, what):
    total = sum(weight(e) for e in evs) or 1
    self_w, incl_w = collections.Counter(), collections.Counter()
    for e in evs:
        w = weight(e)
        fs = frames(e)
        if fs:
            self_w[fs[0]] += w
        for f in set(fs):
            incl_w[f] += w
    print(f"### {title}\n")
    print(f"{len(evs)} samples. Self = the sample's top frame; inclusive = anywhere on the stack.\n")
    print(f"| # | self % | top frame | | inclusive % | frame |")
    print("|---|---|---|---|---|---|")
    s = self_w.most_common(TOP)
    i = [kv for kv in incl_w.most_common() if not kv[0].startswith(("java.lang.Thread.run", "io.netty.util.concurrent.FastThreadLocalRunnable", "io.netty.util.internal.ThreadExecutorMap", "io.netty.util.concurrent.SingleThreadEventExecutor$4", "io.netty.channel.nio.NioEventLoop.run"))][:TOP]
    for n in range(TOP):
        a = s[n] if n < len(s) else ("", 0)
        b = i[n] if n < len(i) else ("", 0)
        print(f"| {n+1} | {100*a[1]/total:.1f} | `{a[0]}` | | {100*b[1]/total:.1f} | `{b[0]}` |")
    print()


def without_first_per_thread(evs):
    """The allocation samples without each thread's first one. A sample's weight is what its thread
    allocated since that thread's previous sample, so a thread's first sample in a recording carries
    everything it allocated before the recording started (the whole warm-up): in one profile, two
    such samples (hey's new connections being accepted and registered at the start of the
    measured run) made 47% of the total weight. It is not what the recorded window allocated."""
    seen, out = set(), []
    for e in sorted(evs, key=lambda e: e["values"].get("startTime") or ""):
        t = (e["values"].get("eventThread") or {}).get("javaThreadId") or (e["values"].get("eventThread") or {}).get("osThreadId")
        if t in seen:
            out.append(e)
        else:
            seen.add(t)
    return out


def main(d, answered=None):
    cpu = load(d, "jdk.ExecutionSample")
    table("CPU (jdk.ExecutionSample, Java code running)", cpu, lambda e: 1, "samples")
    nat = load(d, "jdk.NativeMethodSample")
    table("Threads in native code (jdk.NativeMethodSample: waiting in epoll/park or writing)", nat, lambda e: 1, "samples")
    alloc = without_first_per_thread(load(d, "jdk.ObjectAllocationSample"))
    if answered:
        total = sum(e["values"].get("weight") or 0 for e in alloc)
        print(f"Allocated while recording (sum of the sampled weights): {total / 2**20:.0f} MiB, "
              f"**{total / int(answered) / 1024:.1f} KiB per request**.\n")
    table("Allocation (jdk.ObjectAllocationSample, by sampled weight)", alloc, lambda e: e["values"].get("weight") or 0, "bytes")
    bycls = collections.Counter()
    for e in alloc:
        bycls[((e["values"].get("objectClass") or {}).get("name") or "?")] += e["values"].get("weight") or 0
    tot = sum(bycls.values()) or 1
    print("Allocated classes: " + ", ".join(f"`{c}` {100*w/tot:.1f}%" for c, w in bycls.most_common(12)) + "\n")


def collapsed(path, title, answered=None):
    """Top frames of an async-profiler `collapsed` output (one `frame;frame;...;top count` a line)."""
    self_w, incl_w, total = collections.Counter(), collections.Counter(), 0
    with open(path) as fh:
        for line in fh:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            if not stack or not n.isdigit():
                continue
            w = int(n)
            fs = [f.replace("/", ".").removesuffix("_[j]").removesuffix("_[i]").removesuffix("_[k]") for f in stack.split(";")]
            total += w
            self_w[fs[-1]] += w
            for f in set(fs):
                incl_w[f] += w
    print(f"### {title}\n")
    per = f", {total / int(answered):.0f} per request ({answered} answered)" if answered else ""
    print(f"{total} in all{per}. Self = the top frame; inclusive = anywhere on the stack.\n")
    print("| # | self % | top frame | | inclusive % | frame |")
    print("|---|---|---|---|---|---|")
    t = total or 1
    s = self_w.most_common(TOP)
    skip = ("java.lang.Thread.run", "io.netty.util.concurrent.FastThreadLocalRunnable", "io.netty.util.internal.ThreadExecutorMap", "io.netty.util.concurrent.SingleThreadEventExecutor$")
    i = [kv for kv in incl_w.most_common() if not kv[0].startswith(skip)][:TOP]
    for n in range(TOP):
        a = s[n] if n < len(s) else ("", 0)
        b = i[n] if n < len(i) else ("", 0)
        print(f"| {n+1} | {100*a[1]/t:.1f} | `{a[0]}` | | {100*b[1]/t:.1f} | `{b[0]}` |")
    print()


if __name__ == "__main__":
    if sys.argv[1] == "--collapsed":
        collapsed(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
