#!/usr/bin/env python3
"""`make bench`: times `settle run` against DuckDB's bare R2 query on generated datasets.

For each size it makes three months once into the cache, each deterministic:
  - gen: `settle gen` as it is (nothing quoted, one metered line in a thousand disagrees);
  - quoted: the same rows with every field of every file quoted (QUOTE_ALL), as Excel and the
    cloud consoles write them;
  - findings: `settle gen --mismatch 0.96`, where nearly every metered resource's bill disagrees
    with the meter, so that about 8% of the lines give a reconciliation finding.
For each month it measures with GNU time:
  - settle: the full run, every rule and every CSV output (`--no-pdf`);
  - settle + PDF: the same run with every PDF (a statement per partner, a rollup per master);
  - duckdb: the bare R2 consumption query on the same bills.csv, amounts read as DECIMAL(38,8),
    payable summed by account, product and currency for the usage and the deduction periods.
It reports wall time, CPU time (user + system) and peak RSS, and rewrites the results table in
BENCHMARKS.md. It is a benchmark, not a test: nothing in `make test` times anything.

Usage: bench.py [LINES...] (default 1000000 10000000); BENCH_MONTHS=gen,quoted,findings picks
the months and BENCH_RUNS=3 the runs of each command.
"""

import csv
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, ".bench", "cache")
SETTLE = os.path.join(ROOT, "target", "release", "settle")
PYTHON = os.path.join(ROOT, ".bench", "venv", "bin", "python")

DUCKDB_QUERY = """
import duckdb, sys
path, out = sys.argv[1], sys.argv[2]
duckdb.sql(f'''
COPY (
  SELECT account_id, product, currency,
    SUM(CASE WHEN substr(charge_start, 1, 7) = '2026-10' THEN payable_amount ELSE 0 END) AS usage_period_amount,
    SUM(CASE WHEN substr(deducted_at, 1, 7) = '2026-10' THEN payable_amount ELSE 0 END) AS deduction_period_amount
  FROM read_csv('{path}', header = true, columns = {{
    'bill_id': 'VARCHAR', 'account_id': 'VARCHAR', 'product': 'VARCHAR', 'sub_product': 'VARCHAR',
    'resource_id': 'VARCHAR', 'payment_mode': 'VARCHAR', 'billing_cycle': 'VARCHAR',
    'charge_start': 'VARCHAR', 'charge_end': 'VARCHAR', 'deducted_at': 'VARCHAR',
    'list_amount': 'DECIMAL(38,8)', 'discount_amount': 'DECIMAL(38,8)',
    'voucher_amount': 'DECIMAL(38,8)', 'payable_amount': 'DECIMAL(38,8)',
    'payment_status': 'VARCHAR', 'paid_with': 'VARCHAR', 'currency': 'VARCHAR'}})
  GROUP BY account_id, product, currency
) TO '{out}' (HEADER)
''')
"""


RUNS = int(os.environ.get("BENCH_RUNS", "3"))
MONTHS = os.environ.get("BENCH_MONTHS", "gen,quoted,findings").split(",")
# The share of metered resources whose bills disagree with the meter in the findings month.
MISMATCH = "0.96"


def timed(cmd):
    """Runs cmd under GNU time; returns (wall s, cpu s, peak RSS MiB)."""
    proc = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench: `{' '.join(cmd)}` failed:\n{proc.stderr[-2000:]}")
    text = proc.stderr

    def field(name):
        return re.search(re.escape(name) + r": (.*)", text).group(1).strip()

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    return seconds, cpu, rss


def size_name(lines):
    return f"{lines // 1_000_000}m" if lines >= 1_000_000 else str(lines)


def generate(lines, path, *extra):
    if not os.path.exists(os.path.join(path, "bills.csv")):
        accounts = max(1000, lines // 100)
        subprocess.run(
            [SETTLE, "gen", "--lines", str(lines), "--accounts", str(accounts), "--partners", "200", "--seed", "42",
             *extra, path],
            check=True,
        )
    return path


def quote_all(src, dst):
    """Writes every CSV file of `src` into `dst` with every field quoted, through a temporary folder."""
    if os.path.exists(os.path.join(dst, "bills.csv")):
        return dst
    tmp = dst + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name in sorted(os.listdir(src)):
        if name.endswith(".csv"):
            with open(os.path.join(src, name), newline="", encoding="utf-8") as f, open(
                os.path.join(tmp, name), "w", newline="", encoding="utf-8"
            ) as g:
                csv.writer(g, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(csv.reader(f))
        else:
            shutil.copy(os.path.join(src, name), os.path.join(tmp, name))
    shutil.rmtree(dst, ignore_errors=True)
    os.rename(tmp, dst)
    return dst


def dataset(month, lines):
    name = f"{month}-{size_name(lines)}"
    path = os.path.join(CACHE, name)
    if month == "gen":
        return generate(lines, path)
    if month == "quoted":
        return quote_all(dataset("gen", lines), path)
    if month == "findings":
        return generate(lines, path, "--mismatch", MISMATCH)
    sys.exit(f"bench: unknown month `{month}` (gen, quoted or findings)")


def findings(out, path):
    with open(os.path.join(out, os.path.basename(path), "2026-10", "reconciliation.csv"), encoding="utf-8-sig") as f:
        return sum(1 for _ in f) - 1


def main():
    sizes = [int(s) for s in (sys.argv[1:] or ["1000000", "10000000"])]
    rows = []
    for lines in sizes:
        for month in MONTHS:
            rows.append(measure(month, lines))
    write_table(rows)


def measure(month, lines):
    path = dataset(month, lines)
    size_mb = os.path.getsize(os.path.join(path, "bills.csv")) / 1e6
    out = os.path.join(CACHE, "out")
    # One warm-up read so both tools start from a warm page cache.
    subprocess.run(["cat", os.path.join(path, "bills.csv")], stdout=subprocess.DEVNULL, check=True)
    commands = [
        [SETTLE, "run", "--inputs", path, "--period", "2026-10", "--out", out, "--no-pdf"],
        [SETTLE, "run", "--inputs", path, "--period", "2026-10", "--out", out],
        [PYTHON, "-c", DUCKDB_QUERY, os.path.join(path, "bills.csv"), os.path.join(CACHE, "duckdb.csv")],
    ]
    # Each command RUNS times, taking turns, so that a noisy spell falls on all of them; each
    # reports its median run by wall time.
    runs = [[] for _ in commands]
    for _ in range(RUNS):
        for cmd, times in zip(commands, runs):
            times.append(timed(cmd))
    settle, with_pdf, duck = (sorted(times)[len(times) // 2] for times in runs)
    found = findings(out, path)
    print(
        f"{lines:>11,} lines, {month} ({size_mb:,.0f} MB, {found:,} findings): settle {settle[0]:.2f} s wall, "
        f"{settle[1]:.2f} s CPU, {settle[2]:,.0f} MiB · with PDFs {with_pdf[0]:.2f} s, {with_pdf[1]:.2f} s CPU, "
        f"{with_pdf[2]:,.0f} MiB · duckdb {duck[0]:.2f} s, {duck[1]:.2f} s CPU, {duck[2]:,.0f} MiB · "
        f"ratios {settle[0] / duck[0]:.2f}× / {with_pdf[0] / duck[0]:.2f}×",
        flush=True,
    )
    return (lines, month, size_mb, found, settle, with_pdf, duck)


def write_table(rows):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmarks\n"
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    table = [
        "<!-- bench:start -->",
        f"Measured {datetime.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, {cpu};"
        f" each figure is the median of {RUNS} run(s) by wall time.",
        "",
        "| bill lines | month | bills.csv | findings | settle (CSV) wall | CPU | peak RSS | settle + PDF wall | CPU | peak RSS | DuckDB wall | CPU | peak RSS | CSV / DuckDB | PDF / DuckDB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lines, month, size_mb, found, s, p, d in rows:
        table.append(
            f"| {lines:,} | {month} | {size_mb:,.0f} MB | {found:,} | {s[0]:.2f} s | {s[1]:.2f} s | {s[2]:,.0f} MiB | "
            f"{p[0]:.2f} s | {p[1]:.2f} s | {p[2]:,.0f} MiB | {d[0]:.2f} s | {d[1]:.2f} s | {d[2]:,.0f} MiB | "
            f"{s[0] / d[0]:.2f}× | {p[0] / d[0]:.2f}× |"
        )
    table.append("<!-- bench:end -->")
    block = "\n".join(table)
    if "<!-- bench:start -->" in text:
        text = re.sub(r"<!-- bench:start -->.*<!-- bench:end -->", lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    open(path, "w", encoding="utf-8").write(text)


if __name__ == "__main__":
    main()
