#!/usr/bin/env bash
# ThreadSanitizer over the multi-threaded tests (tests/threads.rs: lock-free, locked and
# snapshot threads on heap, memfd and file-backed arrays, and one region mapped twice;
# tests/striped_threads.rs: striped adds racing takes and sums), on the nightly toolchain. Skips with a message where there is no nightly.
#
# std is not rebuilt with instrumentation (rust-src is not installed, so no -Zbuild-std).
# What that costs: std's own atomics are invisible to the sanitizer. The tests join their
# threads with pthread_join and the crate locks with pthread_mutex_*, both intercepted, so
# the edges the tests rely on are still seen; the one false positive left (libtest's result
# channel) is suppressed in .ci/tsan.supp, with its reason.
#
# Then a canary: a test that races on purpose must be reported, or this script fails. It
# proves the sanitizer is really on and the suppressions do not hide a plain race.
#
# Own target directory (instrumented builds share nothing with the normal ones):
# CARGO_TARGET_DIR_TSAN, default target/tsan.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "nightly toolchain absent: skipping ThreadSanitizer"
  exit 0
fi
# The prebuilt std is not instrumented; rustc refuses to link the two unless told to.
export RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer"
export RUSTDOCFLAGS="$RUSTFLAGS"
export TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/.ci/tsan.supp"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_TSAN:-target/tsan}"
target=x86_64-unknown-linux-gnu

echo "tsan: tests/threads.rs, tests/striped_threads.rs"
cargo +nightly test --target "$target" --test threads --test striped_threads
echo "tsan: no race reported in the crate's threaded tests"

echo "tsan: canary (a deliberate race must be reported)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if SHMARRAY_TSAN_CANARY=1 cargo +nightly test --target "$target" --test threads -- \
    --ignored --exact tsan_canary_an_unsynchronised_counter_is_reported >"$log" 2>&1; then
  cat "$log" >&2
  echo "tsan: the canary's race was not reported: the sanitizer is not working" >&2
  exit 1
fi
if ! grep -q "WARNING: ThreadSanitizer: data race" "$log" \
    || ! grep -q "tsan_canary_an_unsynchronised_counter_is_reported" "$log"; then
  cat "$log" >&2
  echo "tsan: the canary failed, but not with a race report in the canary" >&2
  exit 1
fi
echo "tsan: the canary's race was reported, as it must be"
