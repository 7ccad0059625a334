#!/usr/bin/env python3
"""Python's side of the reference workload, for comparison with this crate.

PROCS processes, forked together, each add 1 to every one of the N elements of one
`multiprocessing.Array('q', N)`, LOOPS times over. In Python `arr[i] += 1` is a read then a
write, so the array's lock must be held around it; two ways of holding it are measured:

  per_op      the lock taken and released around every single increment
              (what `SharedArray::lock()` per element, or `fetch_add`, replaces)
  whole_loop  the lock held for a whole pass over the array
              (what one `ArrayGuard` over the loop replaces)

Each mode is timed from before the first process starts until the last one is joined,
as `bench_report` times the crate's `Timing::WholeRun` rows, and the array is checked to
hold exactly PROCS x LOOPS everywhere afterwards. Output, one line per mode:

  per_op procs=2 loops=20000 n=5: 0.655 M inc/s

Usage: python3 benches/baseline_multiprocessing.py [PROCS LOOPS N]   (default 2 20000 5)
"""

import multiprocessing
import sys
import time

USAGE = "usage: baseline_multiprocessing.py [PROCS LOOPS N]   (whole numbers >= 1; default 2 20000 5)"


def add_one_each_under_its_own_lock(arr, loops):
    lock = arr.get_lock()
    n = len(arr)
    for _ in range(loops):
        for i in range(n):
            with lock:
                arr[i] += 1


def add_one_each_under_one_lock_per_pass(arr, loops):
    lock = arr.get_lock()
    n = len(arr)
    for _ in range(loops):
        with lock:
            for i in range(n):
                arr[i] += 1


MODES = {
    "per_op": add_one_each_under_its_own_lock,
    "whole_loop": add_one_each_under_one_lock_per_pass,
}


def measure(mode, procs, loops, n):
    """Runs one mode; returns millions of increments per second, or raises if inexact."""
    arr = multiprocessing.Array("q", n)
    workers = [
        multiprocessing.Process(target=MODES[mode], args=(arr, loops)) for _ in range(procs)
    ]
    began = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - began
    failed = [w.exitcode for w in workers if w.exitcode != 0]
    if failed:
        raise RuntimeError(f"{mode}: a worker exited with {failed[0]}")
    wrong = [(i, v) for i, v in enumerate(arr[:]) if v != procs * loops]
    if wrong:
        raise RuntimeError(f"{mode}: elements not {procs * loops}: {wrong[:5]}")
    return procs * loops * n / seconds / 1e6


def parse(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        sys.exit(0)
    if not argv:
        return 2, 20_000, 5
    try:
        values = [int(a) for a in argv]
    except ValueError:
        values = []
    if len(values) != 3 or min(values) < 1:
        print(f"bad arguments {argv!r}\n{USAGE}", file=sys.stderr)
        sys.exit(2)
    return tuple(values)


def main():
    procs, loops, n = parse(sys.argv[1:])
    # Fork, as the crate's benchmarks do: no interpreter start-up inside the timing.
    multiprocessing.set_start_method("fork")
    for mode in MODES:
        mops = measure(mode, procs, loops, n)
        print(f"{mode} procs={procs} loops={loops} n={n}: {mops:.3f} M inc/s", flush=True)


if __name__ == "__main__":
    main()
