#!/usr/bin/env python3
"""`make bench`: times `settle run` against DuckDB's bare R2 query on generated datasets.

For each size it generates a dataset once into the cache (`settle gen`, deterministic), then
measures with GNU time:
  - settle: the full run, every rule and every CSV output (`--no-pdf`);
  - settle + PDF: the same run with every PDF (a statement per partner, a rollup per master);
  - duckdb: the bare R2 consumption query on the same bills.csv, amounts read as DECIMAL(38,8),
    payable summed by account, product and currency for the usage and the deduction periods.
It reports wall time, CPU time (user + system) and peak RSS, and rewrites the results table in
BENCHMARKS.md. It is a benchmark, not a test: nothing in `make test` times anything.
"""

import datetime
import os
import platform
import re
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


RUNS = 3


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


def dataset(lines):
    name = f"gen-{lines // 1_000_000}m" if lines >= 1_000_000 else f"gen-{lines}"
    path = os.path.join(CACHE, name)
    if not os.path.exists(os.path.join(path, "bills.csv")):
        accounts = max(1000, lines // 100)
        subprocess.run(
            [SETTLE, "gen", "--lines", str(lines), "--accounts", str(accounts), "--partners", "200", "--seed", "42", path],
            check=True,
        )
    return path


def main():
    sizes = [int(s) for s in (sys.argv[1:] or ["1000000", "10000000"])]
    rows = []
    for lines in sizes:
        path = dataset(lines)
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
        rows.append((lines, size_mb, settle, with_pdf, duck))
        print(
            f"{lines:>11,} lines ({size_mb:,.0f} MB): settle {settle[0]:.2f} s wall, {settle[1]:.2f} s CPU, "
            f"{settle[2]:,.0f} MiB · with PDFs {with_pdf[0]:.2f} s, {with_pdf[2]:,.0f} MiB · "
            f"duckdb {duck[0]:.2f} s, {duck[1]:.2f} s CPU, {duck[2]:,.0f} MiB · "
            f"ratios {settle[0] / duck[0]:.2f}× / {with_pdf[0] / duck[0]:.2f}×"
        )
    write_table(rows)


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
        f" each figure is the median of {RUNS} runs by wall time.",
        "",
        "| bill lines | bills.csv | settle (CSV) wall | CPU | peak RSS | settle + PDF wall | peak RSS | DuckDB wall | CPU | peak RSS | CSV / DuckDB | PDF / DuckDB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lines, size_mb, s, p, d in rows:
        table.append(
            f"| {lines:,} | {size_mb:,.0f} MB | {s[0]:.2f} s | {s[1]:.2f} s | {s[2]:,.0f} MiB | "
            f"{p[0]:.2f} s | {p[2]:,.0f} MiB | {d[0]:.2f} s | {d[1]:.2f} s | {d[2]:,.0f} MiB | "
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
