#!/usr/bin/env python3
"""Turns JMH's JSON (run with -prof gc) into BENCHMARKS.md's tables of targets, ratios and absolute figures.

Usage: benchmarks/summarize.py benchmarks/results/jmh-jdk17.json [later.json ...]  (later files override)
"""
import json
import sys


def load(path):
    scores, alloc = {}, {}
    for r in json.load(open(path)):
        name = r["benchmark"].rsplit(".", 2)
        key = (name[1], name[2], r["params"].get("threads") if r.get("params") else None,
               int(r["params"]["n"]) if r.get("params") else None)
        scores[key] = r["primaryMetric"]["score"]
        norm = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
        if norm:
            alloc[key] = norm["score"]
    return scores, alloc


def yes(ok):
    return "**yes**" if ok else "**no**"


def main(paths):
    scores, alloc = {}, {}
    for path in paths:
        more_scores, more_alloc = load(path)
        scores.update(more_scores)
        alloc.update(more_alloc)
    f = lambda m: ("FilterBenchmark", m, None, None)
    bare, hand, rec = scores[f("happyBare")], scores[f("happyHandWritten")], scores[f("happyRecoveryFilter")]
    rec_alloc = alloc.get(f("happyRecoveryFilter"), float("nan"))
    print("| Happy path | (a) bare | (b) hand-written | (c) RecoveryFilter | (c) - (b) | <= 3 ns | (c) bytes/request | 0 B |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |")
    print(f"| ns/op | {bare:.2f} | {hand:.2f} | {rec:.2f} | {rec - hand:.2f} ns | {yes(rec - hand <= 3)} "
          f"| {rec_alloc:.0f} | {yes(rec_alloc < 0.5)} |")
    print()
    fh, fr = scores[f("failureHandWritten")], scores[f("failureRecoveryFilter")]
    print("| Failure path, no-op logging | (b) hand-written (sendError) | (c) RecoveryFilter | (c) / (b) | <= 1.4 | (b) bytes | (c) bytes |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
    print(f"| ns/op | {fh:,.0f} | {fr:,.0f} | {fr / fh:.2f} | {yes(fr / fh <= 1.4)} "
          f"| {alloc.get(f('failureHandWritten'), 0):,.0f} | {alloc.get(f('failureRecoveryFilter'), 0):,.0f} |")
    print()
    g = lambda m: ("LoggedFailureBenchmark", m, None, None)
    if g("failureLoggedByHand") in scores:
        lh, lr = scores[g("failureLoggedByHand")], scores[g("failureRecoveryFilter")]
        print("| Failure path, logback to a file | hand-written filter logging the stack | RecoveryFilter (defaults) | ratio | <= 0.25 | hand bytes | RecoveryFilter bytes |")
        print("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
        print(f"| ns/op | {lh:,.0f} | {lr:,.0f} | {lr / lh:.2f} | {yes(lr / lh <= 0.25)} "
              f"| {alloc.get(g('failureLoggedByHand'), 0):,.0f} | {alloc.get(g('failureRecoveryFilter'), 0):,.0f} |")
        print()
    print("| Fan-out | N | ChildTasks µs | invokeAll µs | allOf µs | ChildTasks / invokeAll | <= 1.15 | ChildTasks B/task | allOf B/task | ratio | <= 2 at N = 1 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |")
    for threads in ("platform", "virtual"):
        for n in (1, 8, 64, 512):
            k = lambda m: ("FanOutBenchmark", m, threads, n)
            if k("childTasks") not in scores:
                print(f"| {threads} | {n} | n/a | n/a | n/a | | | | | | |")
                continue
            ct, ia, ao = scores[k("childTasks")], scores[k("invokeAll")], scores[k("completableFutureAllOf")]
            cta, aoa = alloc[k("childTasks")] / n, alloc[k("completableFutureAllOf")] / n
            bytes_verdict = yes(cta / aoa <= 2) if n == 1 else ""
            print(f"| {threads} | {n} | {ct:,.1f} | {ia:,.1f} | {ao:,.1f} | {ct / ia:.2f} | {yes(ct / ia <= 1.15)} "
                  f"| {cta:,.0f} | {aoa:,.0f} | {cta / aoa:.2f} | {bytes_verdict} |")
    s_ = lambda m, n: ("StructuredFanOutBenchmark", m, None, n)
    if s_("structuredTaskScope", 1) in scores:
        print()
        print("| Fan-out, virtual threads | N | ChildTasks µs | StructuredTaskScope µs | ratio | ChildTasks B/task | StructuredTaskScope B/task |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for n in (1, 8, 64, 512):
            ct, st = scores[s_("childTasks", n)], scores[s_("structuredTaskScope", n)]
            print(f"| virtual | {n} | {ct:,.1f} | {st:,.1f} | {ct / st:.2f} | {alloc.get(s_('childTasks', n), 0) / n:,.0f} "
                  f"| {alloc.get(s_('structuredTaskScope', n), 0) / n:,.0f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
