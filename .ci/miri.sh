#!/usr/bin/env bash
# Miri, with strict provenance, over the arrays' own code: every unit test named `heap_*`
# (guard.rs, snapshot.rs: the cells, the guard's paths, snapshots, element operations on heap
# arrays, which run the same cell, lock and seqlock code as a mapped array) and the pure
# helpers listed by exact name below. Under miri, as under loom, heap storage uses the model
# of the robust mutex (src/raw_lock/model.rs, which under miri also reports EDEADLK and
# honours timeouts): miri's pthread shims implement neither robust nor process-shared
# mutexes. Mapped arrays stay out: memfd_create, shm_open, flock, posix_fallocate and mmap of
# a file are foreign calls miri does not emulate; real-process tests, loom, ThreadSanitizer
# and the fuzzers cover them.
#
# The script fails if a listed test is missing, if fewer than MIN_HEAP `heap_` tests exist
# (a rename cannot make it run nothing), or if any test fails. It installs the miri
# component when missing; only if that install itself fails does it skip, loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
MIN_HEAP=7
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  echo "miri: component missing; running: rustup component add --toolchain nightly miri rust-src"
  if ! rustup component add --toolchain nightly miri rust-src; then
    echo "################################################################################" >&2
    echo "miri: SKIPPED: 'rustup component add --toolchain nightly miri rust-src' failed" >&2
    echo "################################################################################" >&2
    exit 0
  fi
fi
tests=(
  backing::tests::shm_names_are_checked
  element::tests::float_cas_compares_bits
  element::tests::type_codes_round_trip_and_sizes_match_rust
  header::tests::checksum_sees_every_field
  header::tests::region_size_is_checked
  layout::tests::stripes_start_on_their_own_lines
  striped::tests::every_stripe_is_summed_and_taken
  striped::tests::stripes_start_on_128_byte_boundaries
  raw_lock::pthread::tests::timespec_addition_carries_and_long_waits_are_forever
)
export MIRIFLAGS="-Zmiri-strict-provenance"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_MIRI:-target/miri}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
mapfile -t heap < <(cargo +nightly miri test --lib -- --list 2>/dev/null | sed -n 's/^\(.*::heap_[a-z0-9_]*\): test$/\1/p')
if [ "${#heap[@]}" -lt "$MIN_HEAP" ]; then
  echo "miri: found ${#heap[@]} heap_ tests, expected at least $MIN_HEAP" >&2
  exit 1
fi
all=("${tests[@]}" "${heap[@]}")
cargo +nightly miri test --lib -- --exact "${all[@]}" 2>&1 | tee "$log"
if ! grep -q "test result: ok. ${#all[@]} passed" "$log"; then
  echo "miri: expected ${#all[@]} tests to pass; was one renamed, removed or failing?" >&2
  exit 1
fi
echo "miri: ${#all[@]} tests passed (${#heap[@]} on heap arrays)"
