#!/usr/bin/env bash
# The Python package in python/: lint its Rust, then, in a fresh virtual environment with the
# pinned tools (python/requirements-dev.txt), the README's two commands, a short benchmark
# run, and the leak check for the segments the Python tests name.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt-get update -qq
  apt-get install -y -qq python3 python3-venv python3-dev >/dev/null
fi

venv="$PWD/target/python-venv"
python3 -m venv --clear "$venv"
# shellcheck disable=SC1091
source "$venv/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q -r python/requirements-dev.txt

# python/ is its own Cargo workspace (PyO3's extension-module feature, switched on by maturin
# only, must stay out of the crate's `cargo test`), so it is linted here.
export PYO3_PYTHON="$venv/bin/python"
cargo fmt --manifest-path python/Cargo.toml -- --check
cargo clippy --manifest-path python/Cargo.toml --all-targets -- -D warnings

# The README's two commands.
pip install ./python
python -m pytest python/tests

# The benchmark runs and its assertions hold (exact totals); its figures are for BENCHMARKS.md.
python python/bench/reference.py 2 2000 5 1

bash .ci/leaks.sh
