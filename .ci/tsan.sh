#!/usr/bin/env bash
# ThreadSanitizer over the multi-threaded tests (tests/threads.rs), on the nightly toolchain.
# std is not rebuilt with instrumentation (rust-src cannot be installed here, so no
# -Zbuild-std); the tests join their threads with pthread_join, which the sanitizer
# intercepts, so it still sees every edge the tests rely on. Suppressions, each with its
# reason, are in .ci/tsan.supp.
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
export CARGO_TARGET_DIR=target/tsan

cargo +nightly test --target x86_64-unknown-linux-gnu --test threads
