#!/usr/bin/env bash
# Every atomic in src/ must come from src/sync.rs, so that `--cfg loom` swaps all of them.
# (Doc comments may name std's atomics: they are what users import.)
set -euo pipefail
cd "$(dirname "$0")/.."
offenders=$(grep -rnE '(std|core)::sync::atomic' src --include='*.rs' \
  | grep -v '^src/sync.rs:' \
  | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)
if [ -n "$offenders" ]; then
  echo "atomics named outside src/sync.rs:" >&2
  echo "$offenders" >&2
  exit 1
fi
echo "lint-shim: every atomic in src/ comes from src/sync.rs"
