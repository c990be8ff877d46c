# Every routine command. `make run` and `make test` are all a fresh machine needs.
CARGO ?= cargo
# One profile for building, running and testing, so the dependencies are compiled once.
PROFILE := --release
SETTLE := target/release/settle

.PHONY: build run test check fmt bless bench bench-shards clean tools fuzz install
# apt-get needs root; use sudo when not root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

build:
	$(CARGO) build $(PROFILE) --locked

# `make install PREFIX=/opt/settle` (default /usr/local; DESTDIR for packaging): the release
# binary, built without debug information (Cargo.toml's [profile.release]), to PREFIX/bin, and
# the PDF templates to PREFIX/share/settle/templates, for `settle run --templates`, and the
# crontab's retry wrapper to PREFIX/lib/settle/retry.
PREFIX ?= /usr/local
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/settle \
		$(DESTDIR)$(PREFIX)/share/settle/templates/fonts
	install -m 0755 $(SETTLE) $(DESTDIR)$(PREFIX)/bin/settle
	install -m 0755 deploy/retry.sh $(DESTDIR)$(PREFIX)/lib/settle/retry
	install -m 0644 templates/*.toml templates/README.md $(DESTDIR)$(PREFIX)/share/settle/templates/
	install -m 0644 templates/fonts/* $(DESTDIR)$(PREFIX)/share/settle/templates/fonts/

run: build
	$(SETTLE) run --inputs inputs/demo --period 2026-10 --out outputs

test: tools
	$(CARGO) test $(PROFILE) --locked

# What the tests need from the system: pdftotext (poppler-utils) reads the PDFs back; headless
# Chromium and its WebDriver (chromium, chromium-driver) drive the portal's browser test, with the
# PDFs' Chinese font (fonts-wqy-microhei) so its screenshots show Chinese.
tools:
	@command -v pdftotext >/dev/null 2>&1 || { \
		echo "installing poppler-utils (pdftotext) for the PDF tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq poppler-utils >/dev/null; }
	@{ command -v chromium && command -v chromedriver && \
		test -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc; } >/dev/null 2>&1 || { \
		echo "installing chromium, chromium-driver and fonts-wqy-microhei for the portal's browser test"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver fonts-wqy-microhei >/dev/null; }

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(PROFILE) --locked --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Rewrite tests/fixtures/*/expected from the current binary. Review `git diff` before committing.
bless:
	BLESS=1 $(CARGO) test $(PROFILE) --locked --test fixtures

# Generates 1M and 10M line datasets into .bench/cache (once), times `settle run` against DuckDB's
# bare R2 query, and rewrites the table in BENCHMARKS.md. Not part of `make test`.
BENCH_SIZES ?= 1000000 10000000
bench: build .bench/venv/bin/python
	python3 benches/bench.py $(BENCH_SIZES)

# A generated month (BENCH_SHARD_LINES, 30M by default) on one machine, then split into 1, 2, 4
# and 8 shards run one after another and merged: CPU seconds per stage, the byte-identity of the
# merged folder, and the expected wall time of 1B lines on 64 pods (benches/shards.py; medians of
# 3 by `perf stat -e task-clock`; `--exports FILES` there splits a FOCUS month in parts). Long, and
# not part of `make test`.
BENCH_SHARD_LINES ?= 30000000
bench-shards: build
	python3 benches/shards.py $(BENCH_SHARD_LINES)

.bench/venv/bin/python:
	python3 -m venv .bench/venv
	.bench/venv/bin/pip install --quiet duckdb

# Coverage-guided fuzzing with AFL++ on one core, for FUZZ_SECONDS: the targets in fuzz/ call
# settle::fuzz (rows, cells, dataset, and the exports: focus_csv, alibaba, tencent, huawei,
# parquet). Installs cargo-afl from crates.io once (it builds AFL++). The parquet target builds
# the fuzz crate's `parquet` feature, which compiles polars instrumented (long, once).
# Not part of `make test`, which replays fuzz/corpus instead (tests/fuzz_corpus.rs).
FUZZ_TARGET ?= dataset
FUZZ_SECONDS ?= 600
FUZZ_FEATURES := $(if $(filter parquet,$(FUZZ_TARGET)),--features parquet)
fuzz:
	@command -v cargo-afl >/dev/null 2>&1 || $(CARGO) install cargo-afl --locked
	@$(CARGO) afl config --build >/dev/null 2>&1 || true
	cd fuzz && $(CARGO) afl build --release --locked $(FUZZ_FEATURES)
	mkdir -p fuzz/target/afl
	cd fuzz && AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
		$(CARGO) afl fuzz -V $(FUZZ_SECONDS) -i corpus/$(FUZZ_TARGET) -o target/afl/$(FUZZ_TARGET) \
		target/release/$(FUZZ_TARGET)
	@crashes=$$(ls fuzz/target/afl/$(FUZZ_TARGET)/default/crashes 2>/dev/null | grep -vc README); \
		echo "crashes: $$crashes"; test "$$crashes" = 0

clean:
	rm -rf outputs/*/
