#!/usr/bin/env python3
"""Draws per-request cost against fan-out N for each contender (StructuredTaskScope on JDK 25) from JMH's JSON output.

Usage: benchmarks/chart.py benchmarks/results/jmh-jdk17.json [more.json ...] -o benchmarks/results/fanout.svg
Needs Debian's python3-matplotlib. One line per (JDK, threads, contender); log-log axes.
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CONTENDERS = {"childTasks": "ChildTasks", "invokeAll": "invokeAll", "completableFutureAllOf": "CompletableFuture.allOf",
              "structuredTaskScope": "StructuredTaskScope"}
STYLES = {"childTasks": "-", "invokeAll": "--", "completableFutureAllOf": ":", "structuredTaskScope": "-."}


def series(path):
    jdk = os.path.basename(path).replace("jmh-", "").replace(".json", "")
    lines = {}
    for result in json.load(open(path)):
        name = result["benchmark"].rsplit(".", 1)
        if not name[0].endswith("FanOutBenchmark"):
            continue
        params = result["params"]
        if name[0].endswith("StructuredFanOutBenchmark"):
            if name[1] != "structuredTaskScope":
                continue  # its ChildTasks line is FanOutBenchmark's, on the same virtual threads
            params = dict(params, threads="virtual")
        key = (jdk, params["threads"], name[1])
        lines.setdefault(key, []).append((int(params["n"]), result["primaryMetric"]["score"]))
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results", nargs="+")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    lines = {}
    for path in args.results:
        lines.update(series(path))
    figure, axes = plt.subplots(figsize=(9, 5.5))
    colors = {}
    for (jdk, threads, contender), points in sorted(lines.items()):
        points.sort()
        group = f"{jdk} {threads}"
        color = colors.setdefault(group, f"C{len(colors)}")
        axes.plot([p[0] for p in points], [p[1] for p in points], STYLES[contender], marker="o", color=color,
                  label=f"{CONTENDERS[contender]} ({group})")
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xlabel("tasks per request (N)")
    axes.set_ylabel("time per request (µs, lower is better)")
    axes.set_title("Fan-out: start N no-op tasks and wait, same executor")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(args.output)


if __name__ == "__main__":
    main()
