#!/usr/bin/env bash
# Keeps the benchmarks from rotting. Every criterion bench must compile and run once
# (criterion's --test mode: one iteration of each benchmark, nothing measured), and the
# report must run end to end with tiny sizes, with its callgrind table (instruction counts
# under valgrind, examples/callgrind_ops.rs). Nothing here asserts a timing or a count.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing valgrind (Debian package) for the callgrind table"
    apt-get install -y --no-install-recommends valgrind >/dev/null ||
      { apt-get update >/dev/null && apt-get install -y --no-install-recommends valgrind >/dev/null; }
  else
    echo "valgrind absent and cannot be installed here: the callgrind table will say NOT RUN"
  fi
fi
cargo bench --no-run
cargo bench --benches -- --test
# bench_report runs the callgrind probe found beside it: build every example.
cargo build --release --examples
cargo run --release --example bench_report -- --quick
