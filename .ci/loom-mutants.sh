#!/usr/bin/env bash
# Mutation check for the loom models: builds tests/loom.rs again with each deliberate defect
# below switched on in the crate (`cfg(shmarray_mutant = "...")`, declared in Cargo.toml's
# check-cfg; build.rs sets it from SHMARRAY_MUTANT, so that only the crate is rebuilt) and
# fails unless every mutant makes at least one model fail. Prints a table:
# mutant, models that caught it. A model checker is trusted once it has been seen to fail.
#
#   no_release_fence         seqlock.rs: no Release fence after the counter is made odd
#   no_acquire_fence         seqlock.rs: no Acquire fence before the reader's second load
#   counter_not_odd          seqlock.rs: a write never makes the counter odd
#   no_death_on_panic        guard.rs: a guard dropped while panicking ends the write
#   reader_death_is_a_death  control.rs: a holder's death is recorded with the counter even
#   seqlock_off_snapshot_unlocked  snapshot.rs: without the seqlock, snapshots still read
#                            optimistically (no counter guards them)
#   seqlock_off_counter_rule control.rs: without the seqlock, a death is judged by the
#                            counter, which no write touches
set -euo pipefail
cd "$(dirname "$0")/.."
mutants=(no_release_fence no_acquire_fence counter_not_odd no_death_on_panic reader_death_is_a_death
  seqlock_off_snapshot_unlocked seqlock_off_counter_rule)
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
# The loom build's own target dir and flags (as .ci/loom.sh): only the crate is rebuilt.
export RUSTFLAGS="--cfg loom"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_LOOM:-target/loom}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
table=()
survivors=()
for m in "${mutants[@]}"; do
  echo "=== mutant $m"
  export SHMARRAY_MUTANT="$m"
  if ! cargo test --release --test loom --no-run >"$log" 2>&1; then
    cat "$log" >&2
    echo "mutant $m does not build" >&2
    exit 1
  fi
  # The suite is expected to fail. Each model runs in its own process: a model that fails
  # may abort its process (a panic while unwinding), which must not hide the others.
  models=$(cargo test --release --test loom -- --list 2>/dev/null | sed -n 's/: test$//p')
  if [ -z "$models" ]; then
    echo "mutant $m: no loom models listed" >&2
    exit 1
  fi
  caught=""
  for model in $models; do
    if ! cargo test --release --test loom -- --exact "$model" >"$log" 2>&1; then
      caught="$caught $model"
    elif ! grep -q '^test result: ok. 1 passed' "$log"; then
      cat "$log" >&2
      echo "mutant $m: model $model did not run" >&2
      exit 1
    fi
  done
  caught="${caught# }"
  if [ -z "$caught" ]; then
    survivors+=("$m")
    caught="(none: survived)"
  fi
  table+=("$(printf '%-24s %s' "$m" "$caught")")
done
echo
printf '%-24s %s\n' "mutant" "models that caught it"
printf '%s\n' "${table[@]}"
if [ "${#survivors[@]}" -ne 0 ]; then
  echo "loom-mutants: not caught by any model: ${survivors[*]}" >&2
  exit 1
fi
echo "loom-mutants: every mutant was caught"
