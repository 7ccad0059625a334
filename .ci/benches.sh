#!/usr/bin/env bash
# Keeps the benchmarks from rotting: every criterion bench must compile, and the report
# command must run (tiny sizes). Nothing here asserts a timing.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --no-run
# One short criterion pass of the reference workload, so the fork pool runs under criterion.
SHMARRAY_BENCH_QUICK=1 cargo bench --bench workload -- --warm-up-time 0.05 --measurement-time 0.1 "procs=2/.*/5$"
cargo run --release --example bench_report -- --quick
