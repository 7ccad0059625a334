"""Process bodies for the tests: module-level, so that spawn children can import them.

Each takes the array itself (anonymous arrays reach fork children by inheritance, named ones
reach spawn children by pickling, which reopens them by name).
"""

import os
import signal
import time


def fetch_add_all(arr, loops):
    """The reference workload, lock-free: every process increments every element."""
    for _ in range(loops):
        for i in range(len(arr)):
            arr.fetch_add(i, 1)


def locked_loop_all(arr, loops):
    """The reference workload with the lock around each whole pass over the array."""
    for _ in range(loops):
        with arr.get_lock():
            for i in range(len(arr)):
                arr[i] += 1


def locked_per_increment(arr, loops):
    """The reference workload with the lock around each increment (the article's form)."""
    for _ in range(loops):
        for i in range(len(arr)):
            with arr.get_lock():
                arr[i] += 1


def write_range(arr, start, stop, value):
    """The reference's second program: a disjoint index range, written without a lock."""
    for i in range(start, stop):
        arr[i] = value


def check_snapshots(arr, rounds, queue):
    """Reports the first snapshot whose elements differ (a locked pass seen half-done)."""
    for _ in range(rounds):
        snap = arr.snapshot()
        if len(set(snap)) != 1:
            queue.put(snap)
            return
    queue.put(None)


def die_holding_lock(arr, ready):
    """Takes the lock, half-writes the array, and is killed there (SIGKILL, by itself)."""
    with arr.get_lock():
        for i in range(len(arr) // 2):
            arr[i] = 1
        ready.set()
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(60)


def reopen_and_add(arr, value):
    """Adds `value` to element 0 of an array that reached this process by pickling."""
    arr.fetch_add(0, value)


def striped_add_all(arr, loops):
    """Every process adds 1 to every element of a StripedArray, `loops` times."""
    for _ in range(loops):
        for i in range(len(arr)):
            arr.add(i, 1)


def try_lock_briefly(arr, queue):
    """Reports whether this process gets the lock within 0.2 s."""
    queue.put(arr.get_lock().acquire(timeout=0.2))
