#!/usr/bin/env bash
# Loom models of the three granularities and the seqlock (tests/loom.rs), of the guard's
# bulk operations (tests/loom_bulk.rs) and of the striped array (tests/loom_striped.rs), on
# the crate's own code with loom's atomics swapped in by src/sync.rs. Release build, bounded
# preemptions, as crossbeam and tokio run theirs. Its own target dir: --cfg loom rebuilds
# every crate.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_LOOM:-target/loom}"
cargo test --release --test loom --test loom_bulk --test loom_striped
