#!/usr/bin/env bash
# Miri, with strict provenance, over the unit tests that Miri can run: those that touch
# neither mmap nor the pthread robust mutex. They are listed by exact name below (the
# script fails if any of them is missing, so a rename cannot make it run nothing):
#
#   backing::tests::shm_names_are_checked                      name validation (CString)
#   element::tests::float_cas_compares_bits                    float cells: CAS on bit patterns
#   element::tests::type_codes_round_trip_and_sizes_match_rust type codes, cell sizes
#   header::tests::checksum_sees_every_field                   header checksum arithmetic
#   header::tests::region_size_is_checked                      size overflow checks
#   raw_lock::pthread::tests::timespec_addition_carries_and_long_waits_are_forever   lock deadlines
#
# Not run, and why:
# - every test that makes an array, heap arrays included (array::tests::*, and all of
#   tests/): even SharedArray::new_heap initialises the same robust, process-shared
#   pthread mutex as a mapped array (pthread_mutexattr_setpshared/setrobust), and Miri's
#   pthread shims implement neither attribute, nor pthread_mutex_timedlock/consistent;
# - mapped arrays: memfd_create, shm_open, flock, posix_fallocate and mmap of a file are
#   foreign calls Miri does not emulate.
# The code those tests cover is checked by loom (tests/loom.rs: the cell, lock and seqlock
# code on loom's atomics), ThreadSanitizer (.ci/tsan.sh) and the fuzzers (.ci/fuzz.sh).
#
# The miri component must come with the nightly toolchain. Where it is missing (as on
# machines that reach only package registries, where rustup cannot download it) this says
# so and skips.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  echo "miri not available on this toolchain: skipping (the nightly toolchain has no 'miri' component; install it with 'rustup component add --toolchain nightly miri')"
  exit 0
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
cargo +nightly miri test --lib -- --exact "${tests[@]}" 2>&1 | tee "$log"
if ! grep -q "test result: ok. ${#tests[@]} passed" "$log"; then
  echo "miri: expected ${#tests[@]} tests to pass; was one renamed or removed?" >&2
  exit 1
fi
