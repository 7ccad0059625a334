#!/usr/bin/env bash
# Run after the test suite: no test may leave a named segment in /dev/shm or a region file
# in the temporary directory. Tests name them shmarray-test-* / shmarray-doc-* and remove
# them with drop guards, so anything left is a leak.
set -euo pipefail
tmp="${TMPDIR:-/tmp}"
left=$( { ls -1 /dev/shm 2>/dev/null | grep -E '^shmarray-(test|doc)-' || true;
          ls -1 "$tmp" 2>/dev/null | grep -E '^shmarray-(test|doc)-' | sed "s|^|$tmp/|" || true; } )
if [ -n "$left" ]; then
  echo "segments or region files left behind by the tests:" >&2
  echo "$left" >&2
  exit 1
fi
echo "leaks: no segment or region file left behind"
