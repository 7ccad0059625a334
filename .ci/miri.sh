#!/usr/bin/env bash
# Miri, with strict provenance, over the unit tests that run on heap memory only: the cell
# operations of every element type (element::), header arithmetic (header::), name checks
# (backing::) and lock deadlines (raw_lock::). Tests that map memory or call the pthread
# robust-mutex functions are not run: Miri supports neither mmap of files nor robust
# mutexes. The miri component must come with the toolchain; where it is missing (it cannot
# be downloaded on machines that reach only package registries) this says so and skips.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  echo "miri not available on this machine's nightly toolchain (component 'miri' not installed): skipping"
  exit 0
fi
export MIRIFLAGS="-Zmiri-strict-provenance"
export CARGO_TARGET_DIR=target/miri
cargo +nightly miri test --lib -- element:: header:: backing:: raw_lock::
