#!/usr/bin/env bash
# Fuzzes the crate with cargo-fuzz (libFuzzer, on the nightly toolchain) for a bounded time
# per target, starting from the committed seeds in fuzz/corpus/. New inputs go to a scratch
# directory, so the committed corpus does not change. Any crash fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "nightly toolchain absent: skipping fuzzing"
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz from crates.io"
  cargo install cargo-fuzz --locked
fi

cargo +nightly fuzz build
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"; rm -f "${TMPDIR:-/tmp}"/shmarray-fuzz-*' EXIT
for target in $(cargo +nightly fuzz list); do
  mkdir -p "$scratch/$target"
  echo "fuzzing $target for ${seconds}s"
  cargo +nightly fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>&1 | tail -n 12
  # `tail` hides the fuzzer's exit status: check it.
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz target $target failed" >&2; exit 1; }
done
