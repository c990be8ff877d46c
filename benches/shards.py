#!/usr/bin/env python3
"""`make bench-shards`: a generated month settled on one machine, then split into 1, 2, 4 and 8
shards, each shard run one after another, and merged; checks that the merged folder is the
one-machine folder byte for byte, and prints what issue 30 asks of the figures.

Each command is run REPEAT times (3 by default) and its median taken: CPU seconds as `perf stat
-e task-clock` counts them (GNU time's user + system where perf is missing), and wall seconds.
It prints, per shard count:
  - each shard's CPU seconds against the one-machine CPU seconds / N (asked: within 1.2x);
  - the split's and the merge's CPU seconds as a share of the one-machine run's (asked: under 15%);
and, from the 8-shard figures, the expected wall time of a 1B-line month on 64 pods (the split
and the merge scaled by lines, a shard's time scaled to 1B / 64 lines).

With `--exports FILES`, the month's bill lines are first written as FOCUS exports in FILES files
(`bills.csv` removed), and the split is also run in 1, 2 and 4 parts (`--part K/M`), each part
measured: the figure that says whether the split itself spreads over pods.

It is a benchmark, not a test, and it is long: the default month is 30 million lines (about
6 GB of inputs and 20 GB of stage). Usage: shards.py [LINES] [--exports FILES] [--repeat R]
[--shards 1,2,4,8] (default 30000000 lines).
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, ".bench", "cache")
WORK = os.path.join(ROOT, ".bench", "shards")
SETTLE = os.path.join(ROOT, "target", "release", "settle")
PERIOD = "2026-10"
PERF = shutil.which("perf")


def once(args):
    """Runs settle once; returns (wall seconds, CPU seconds)."""
    if PERF:
        cmd = [PERF, "stat", "-x", ",", "-e", "task-clock", SETTLE, *args]
    else:
        cmd = ["/usr/bin/time", "-v", SETTLE, *args]
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - start
    if out.returncode != 0:
        sys.exit(f"settle {' '.join(args)} failed:\n{out.stderr}")
    if PERF:
        line = next(l for l in out.stderr.splitlines() if "task-clock" in l)
        return wall, float(line.split(",")[0]) / 1000
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", out.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", out.stderr).group(1))
    return wall, user + system


def timed(repeat, *args, before=None):
    """The medians of `repeat` runs; `before` is called before each (to clear what a run left)."""
    runs = []
    for _ in range(repeat):
        if before:
            before()
        runs.append(once(args))
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def tree(folder):
    files = {}
    for base, _, names in os.walk(folder):
        for n in names:
            path = os.path.join(base, n)
            with open(path, "rb") as f:
                files[os.path.relpath(path, folder)] = f.read()
    return files


FOCUS = ("BillingAccountId,SubAccountId,ServiceName,ServiceCategory,ResourceId,BillingCurrency,"
         "ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BilledCost,ListCost,ChargeCategory,"
         "ChargeFrequency\n")


def as_exports(bills_dir, exports_dir, files):
    """A copy of the dataset whose bill lines are FOCUS exports in `files` files of about as many
    lines, as tests/shards.rs writes them."""
    if os.path.isdir(exports_dir):
        return
    tmp = exports_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(bills_dir, tmp, ignore=shutil.ignore_patterns("bills.csv"))
    with open(os.path.join(tmp, "settle.toml"), "w") as f:
        f.write('timezone = "UTC"\n')
    folder = os.path.join(tmp, "exports", PERIOD)
    os.makedirs(folder)
    outs = [open(os.path.join(folder, f"focus-{k:02}.csv"), "w") for k in range(files)]
    for o in outs:
        o.write(FOCUS)
    with open(os.path.join(bills_dir, "bills.csv")) as bills:
        next(bills)
        for i, line in enumerate(bills):
            c = line.rstrip("\n").split(",")
            start = c[7] + " 00:00:00" if len(c[7]) == 10 else c[7]
            end = c[8] + " 00:00:00" if len(c[8]) == 10 else c[8]
            deducted = c[9] or start
            category = "Purchase" if c[5] == "prepaid" else "Usage"
            frequency = {"month": "Recurring", "once": "One-Time"}.get(c[6], "Usage-Based")
            outs[i % files].write(
                f"master,{c[1]},{c[2]},{c[3]},{c[4]},{c[16]},{start},{end},{deducted[:7]}-01 00:00:00,"
                f"{c[13]},{c[10]},{category},{frequency}\n")
    for o in outs:
        o.close()
    os.rename(tmp, exports_dir)


def sharded(inputs, whole, one_cpu, shard_counts, parts_counts, repeat, lines, label):
    for parts in parts_counts:
        for n in shard_counts:
            stage, out = os.path.join(WORK, f"stage-{n}"), os.path.join(WORK, f"out-{n}")
            shutil.rmtree(stage, ignore_errors=True)
            split_figures = []
            for k in range(parts):
                part = ["--part", f"{k}/{parts}"] if parts > 1 else []
                split_figures.append(timed(repeat, "split", "--inputs", inputs, "--period", PERIOD,
                                           "--shards", str(n), "--out", stage, *part))
            shards = [timed(repeat, "run", "--shard", f"{i}/{n}", "--stage", stage) for i in range(n)]
            merge_wall, merge_cpu = timed(repeat, "merge", "--stage", stage, "--out", out, "--no-pdf",
                                          before=lambda: shutil.rmtree(out, ignore_errors=True))
            same = tree(os.path.join(out, os.path.basename(inputs), PERIOD)) == whole
            worst = max(c for _, c in shards)
            split_cpu = max(c for _, c in split_figures)
            split_total = sum(c for _, c in split_figures)
            print(f"{label}, {parts} part(s), {n} shard(s): split {split_cpu:.2f} CPU-s per part at most "
                  f"({split_cpu / one_cpu:.0%} of one machine; {split_total:.2f} over all parts), "
                  f"worst shard {worst:.2f} CPU-s ({worst / (one_cpu / n):.2f}x of one machine / {n}), "
                  f"merge {merge_cpu:.2f} CPU-s ({merge_cpu / one_cpu:.0%}); byte-identical: {same}",
                  flush=True)
            if n == 8 and parts == 1:
                scale = 1e9 / lines
                split_wall = max(w for w, _ in split_figures)
                shard_wall = max(w for w, _ in shards) * scale * 8 / 64
                print(f"1B lines on 64 pods, expected: split {split_wall * scale:.0f} s + shards "
                      f"{shard_wall:.0f} s + merge {merge_wall * scale:.0f} s")
            shutil.rmtree(stage, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("lines", nargs="?", type=int, default=30_000_000)
    p.add_argument("--exports", type=int, default=0, metavar="FILES")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--shards", default="1,2,4,8")
    a = p.parse_args()
    shard_counts = [int(n) for n in a.shards.split(",")]
    inputs = os.path.join(CACHE, f"shards-{a.lines}")
    if not os.path.isdir(inputs):
        subprocess.run([SETTLE, "gen", "--lines", str(a.lines), "--accounts", str(max(a.lines // 100, 1000)),
                        "--partners", "200", "--seed", "42", inputs], check=True)
    parts_counts = [1]
    label = "bills.csv"
    if a.exports:
        exports = os.path.join(CACHE, f"shards-{a.lines}-focus{a.exports}")
        as_exports(inputs, exports, a.exports)
        inputs, parts_counts, label = exports, [1, 2, 4], f"FOCUS in {a.exports} files"
    shutil.rmtree(WORK, ignore_errors=True)
    one = os.path.join(WORK, "one")
    wall, cpu = timed(a.repeat, "run", "--inputs", inputs, "--period", PERIOD, "--out", one, "--no-pdf",
                      before=lambda: shutil.rmtree(one, ignore_errors=True))
    print(f"{label}, one machine: {wall:.1f} s wall, {cpu:.2f} CPU-s", flush=True)
    whole = tree(os.path.join(one, os.path.basename(inputs), PERIOD))
    sharded(inputs, whole, cpu, shard_counts, parts_counts, a.repeat, a.lines, label)


if __name__ == "__main__":
    main()
