#!/usr/bin/env bash
# Fuzzes the crate with cargo-fuzz (libFuzzer + AddressSanitizer, on the nightly toolchain):
# each target (fuzz/fuzz_targets/) runs for a bounded time, FUZZ_SECONDS per target
# (default 60), starting from the committed seeds in fuzz/corpus/<target>/. Any crash,
# panic, sanitizer report or leak fails the run, and its reproducer is kept in
# fuzz/artifacts/<target>/ (rerun it with `cargo +nightly fuzz run <target> <file>`).
#
# First, fuzz/tests/seeds.rs checks that the committed seeds still mean what their names
# say (regenerate them with SHMARRAY_WRITE_SEEDS=1, see that file).
#
# New inputs the fuzzer finds go to a scratch directory, so the committed corpus does not
# change; the targets' region files go there too (TMPDIR), and it is removed at the end.
# cargo-fuzz is installed from crates.io if missing (a few minutes, once).
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

echo "fuzz: the committed seeds"
cargo +nightly test --manifest-path fuzz/Cargo.toml

echo "fuzz: building the targets"
cargo +nightly fuzz build

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in $(cargo +nightly fuzz list); do
  mkdir -p "$scratch/$target" "$scratch/tmp-$target"
  echo "fuzz: $target for ${seconds}s"
  log="$scratch/$target.log"
  if ! TMPDIR="$scratch/tmp-$target" cargo +nightly fuzz run "$target" \
      "$scratch/$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    cat "$log" >&2
    echo "fuzz: target $target failed; reproducer in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E "^(#[0-9]+.*DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)" "$log" || tail -n 5 "$log"
done
echo "fuzz: no crash in ${seconds}s per target"
