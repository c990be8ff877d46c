#!/usr/bin/env python3
"""`make bench-shards`: a generated month settled on one machine, then split into 1, 2, 4 and 8
shards, each shard run one after another, and merged; checks that the merged folder is the
one-machine folder byte for byte, and prints what issue 30 asks of the figures.

For the one-machine run, the split, every shard and the merge it measures wall time and CPU
seconds (user + system, GNU time). It prints, per shard count:
  - each shard's CPU seconds against the one-machine CPU seconds / N (asked: within 1.2x);
  - the split's and the merge's CPU seconds as a share of the one-machine run's (asked: under 15%);
and, from the 8-shard figures, the expected wall time of a 1B-line month on 64 pods (the split
and the merge scaled by lines, a shard's time scaled to 1B / 64 lines).

It is a benchmark, not a test, and it is long: the default month is 30 million lines (about
6 GB of inputs and 20 GB of stage). Usage: shards.py [LINES] (default 30000000).
"""

import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, ".bench", "cache")
WORK = os.path.join(ROOT, ".bench", "shards")
SETTLE = os.path.join(ROOT, "target", "release", "settle")
PERIOD = "2026-10"


def timed(*args):
    """Runs settle under GNU time; returns (wall seconds, CPU seconds)."""
    out = subprocess.run(["/usr/bin/time", "-v", SETTLE, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"settle {' '.join(args)} failed:\n{out.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", out.stderr)
    h, m, s = wall.groups()
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", out.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", out.stderr).group(1))
    return int(h or 0) * 3600 + int(m) * 60 + float(s), user + system


def tree(folder):
    files = {}
    for base, _, names in os.walk(folder):
        for n in names:
            path = os.path.join(base, n)
            with open(path, "rb") as f:
                files[os.path.relpath(path, folder)] = f.read()
    return files


def main():
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000_000
    inputs = os.path.join(CACHE, f"shards-{lines}")
    if not os.path.isdir(inputs):
        subprocess.run([SETTLE, "gen", "--lines", str(lines), "--accounts", str(max(lines // 100, 1000)),
                        "--partners", "200", "--seed", "42", inputs], check=True)
    shutil.rmtree(WORK, ignore_errors=True)
    one = os.path.join(WORK, "one")
    wall, cpu = timed("run", "--inputs", inputs, "--period", PERIOD, "--out", one, "--no-pdf")
    print(f"one machine: {wall:.1f} s wall, {cpu:.1f} CPU-s")
    whole = tree(os.path.join(one, os.path.basename(inputs), PERIOD))
    for n in (1, 2, 4, 8):
        stage, out = os.path.join(WORK, f"stage-{n}"), os.path.join(WORK, f"out-{n}")
        split_wall, split_cpu = timed("split", "--inputs", inputs, "--period", PERIOD, "--shards", str(n),
                                      "--out", stage)
        shards = [timed("run", "--shard", f"{i}/{n}", "--stage", stage) for i in range(n)]
        merge_wall, merge_cpu = timed("merge", "--stage", stage, "--out", out, "--no-pdf")
        same = tree(os.path.join(out, os.path.basename(inputs), PERIOD)) == whole
        worst = max(c for _, c in shards)
        print(f"{n} shard(s): split {split_cpu:.1f} CPU-s ({split_cpu / cpu:.0%} of one machine), "
              f"worst shard {worst:.1f} CPU-s ({worst / (cpu / n):.2f}x of one machine / {n}), "
              f"merge {merge_cpu:.1f} CPU-s ({merge_cpu / cpu:.0%}); byte-identical: {same}")
        if n == 8:
            scale = 1e9 / lines
            shard_wall = max(w for w, _ in shards) * scale * 8 / 64
            print(f"1B lines on 64 pods, expected: split {split_wall * scale:.0f} s + shards "
                  f"{shard_wall:.0f} s + merge {merge_wall * scale:.0f} s")
        shutil.rmtree(stage, ignore_errors=True)


if __name__ == "__main__":
    main()
