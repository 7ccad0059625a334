"""The reference article's workload (P processes x L loops x N elements, every process
incrementing every element) four ways in one run, on the same machine:

  multiprocessing.Array, get_lock() around each increment   (the article's program)
  multiprocessing.Array, get_lock() around each whole pass   (the article's faster variant)
  shmarray.Array, fetch_add                                  (lock-free)
  shmarray.Array, get_lock() around each whole pass

Prints increments per second and the two ratios the package is held to:
fetch_add >= 10x the per-increment lock, and whole-pass lock >= 2x multiprocessing's.

    python python/bench/reference.py [PROCS LOOPS N]      (default 2 20000 5)
"""

import multiprocessing as mp
import sys
import time

import shmarray


def mp_lock_per_increment(arr, loops, gate):
    gate.wait()
    for _ in range(loops):
        for i in range(len(arr)):
            with arr.get_lock():
                arr[i] += 1


def lock_whole_loop(arr, loops, gate):
    gate.wait()
    for _ in range(loops):
        with arr.get_lock():
            for i in range(len(arr)):
                arr[i] += 1


def shm_fetch_add(arr, loops, gate):
    gate.wait()
    n = len(arr)
    add = arr.fetch_add
    for _ in range(loops):
        for i in range(n):
            add(i, 1)


WAYS = [
    ("multiprocessing.Array, lock per increment", lambda n: mp.Array("q", n), mp_lock_per_increment),
    ("multiprocessing.Array, lock whole loop", lambda n: mp.Array("q", n), lock_whole_loop),
    ("shmarray.Array, fetch_add", lambda n: shmarray.Array("q", n), shm_fetch_add),
    ("shmarray.Array, lock whole loop", lambda n: shmarray.Array("q", n), lock_whole_loop),
]


def run(make, target, procs, loops, n):
    """Increments per second, timed from the moment every process is ready to go."""
    arr = make(n)
    gate = mp.Barrier(procs + 1)
    ps = [mp.Process(target=target, args=(arr, loops, gate)) for _ in range(procs)]
    for p in ps:
        p.start()
    gate.wait()
    start = time.perf_counter()
    for p in ps:
        p.join()
    elapsed = time.perf_counter() - start
    assert all(p.exitcode == 0 for p in ps)
    assert list(arr) == [procs * loops] * n, "lost updates"
    return procs * loops * n / elapsed


def main():
    mp.set_start_method("fork")
    procs, loops, n = (int(a) for a in sys.argv[1:4]) if len(sys.argv) > 1 else (2, 20000, 5)
    print(f"P={procs} processes x L={loops} loops x N={n} elements (start method fork)\n")
    print(f"| {'way':<42} | {'M increments/s':>14} |")
    print(f"|{'-' * 44}|{'-' * 16}:|")
    rates = {}
    for label, make, target in WAYS:
        rates[label] = run(make, target, procs, loops, n)
        print(f"| {label:<42} | {rates[label] / 1e6:>14.3f} |")
    per_op = rates["shmarray.Array, fetch_add"] / rates["multiprocessing.Array, lock per increment"]
    whole = rates["shmarray.Array, lock whole loop"] / rates["multiprocessing.Array, lock whole loop"]
    print()
    print(f"fetch_add / multiprocessing lock per increment: {per_op:.1f}x "
          f"(target >= 10x: {'met' if per_op >= 10 else 'MISSED'})")
    print(f"shmarray whole-loop lock / multiprocessing whole-loop lock: {whole:.1f}x "
          f"(target >= 2x: {'met' if whole >= 2 else 'MISSED'})")


if __name__ == "__main__":
    main()
