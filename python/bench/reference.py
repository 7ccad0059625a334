"""The reference article's workload (P processes x L loops x N elements, every process
incrementing every element) four ways in one run, on the same machine:

  multiprocessing.Array, get_lock() around each increment   (the article's program)
  multiprocessing.Array, get_lock() around each whole pass   (the article's faster variant)
  shmarray.Array, fetch_add                                  (lock-free)
  shmarray.Array, get_lock() around each whole pass

Prints increments per second and the two ratios the package is held to:
fetch_add >= 10x the per-increment lock, and whole-pass lock >= 2x multiprocessing's.

    python python/bench/reference.py [PROCS LOOPS N ROUNDS]      (default 2 20000 5 5)

Each round runs the four ways one after another, in an order that rotates every round; the
rates are medians over the rounds, and each ratio is the median of the per-round ratios, so
that a change of machine load between two ways moves the range rather than the result.
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


def median(xs):
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def main():
    mp.set_start_method("fork")
    args = [int(a) for a in sys.argv[1:5]]
    procs, loops, n, rounds = args + [2, 20000, 5, 5][len(args):]
    print(f"P={procs} processes x L={loops} loops x N={n} elements, {rounds} rounds "
          f"(start method fork; the four ways alternate within each round, order rotating)\n")
    rates = {label: [] for label, _, _ in WAYS}
    for r in range(rounds):
        for label, make, target in WAYS[r % len(WAYS):] + WAYS[:r % len(WAYS)]:
            rates[label].append(run(make, target, procs, loops, n))
    mp_op, mp_loop, shm_add, shm_loop = (rates[label] for label, _, _ in WAYS)
    ratios = {
        "fetch_add / multiprocessing lock per increment": ([a / b for a, b in zip(shm_add, mp_op)], 10),
        "shmarray whole-loop lock / multiprocessing whole-loop lock": ([a / b for a, b in zip(shm_loop, mp_loop)], 2),
    }
    print(f"| {'way':<42} | {'M increments/s (median)':>23} | {'range':>15} |")
    print(f"|{'-' * 44}|{'-' * 24}:|{'-' * 16}:|")
    for label, _, _ in WAYS:
        xs = rates[label]
        print(f"| {label:<42} | {median(xs) / 1e6:>23.3f} | "
              f"{min(xs) / 1e6:>6.3f} - {max(xs) / 1e6:<6.3f} |")
    print()
    print(f"| {'ratio (median of the per-round ratios)':<58} | {'ratio':>6} | {'range':>13} | target |")
    print(f"|{'-' * 60}|{'-' * 7}:|{'-' * 14}:|{'-' * 8}|")
    for label, (xs, target) in ratios.items():
        verdict = "met" if median(xs) >= target else "MISSED"
        print(f"| {label:<58} | {median(xs):>5.1f}x | {min(xs):>5.1f} - {max(xs):<5.1f} | "
              f">= {target}x {verdict} |")


if __name__ == "__main__":
    main()
