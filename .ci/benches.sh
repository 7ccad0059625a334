#!/usr/bin/env bash
# Keeps the benchmarks from rotting. Every criterion bench must compile and run once
# (criterion's --test mode: one iteration of each benchmark, nothing measured), and the
# report must run end to end with tiny sizes. Nothing here asserts a timing.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --no-run
cargo bench --benches -- --test
cargo run --release --example bench_report -- --quick
