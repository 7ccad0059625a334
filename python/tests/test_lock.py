"""get_lock(): reentrant on its thread as multiprocessing's RLock, waited for without the GIL."""

import threading
import time

import pytest

import shmarray

JOIN = 30


def test_every_operation_works_inside_the_lock_and_nesting_is_allowed():
    arr = shmarray.Array("q", 4)
    lock = arr.get_lock()
    with lock:
        with arr.get_lock():
            arr[0] += 1
            arr[1] = 5
            arr[2:4] = [7, 8]
            arr.fetch_add(0, 1)
            assert arr.snapshot() == [2, 5, 7, 8]
            assert arr.to_numpy().tolist() == [2, 5, 7, 8]
            assert arr[:] == [2, 5, 7, 8]
        assert lock.acquire()
        lock.release()
        assert arr.snapshot() == [2, 5, 7, 8]
    assert arr.snapshot() == [2, 5, 7, 8]


def test_release_without_acquire_is_an_error():
    arr = shmarray.Array("i", 1)
    with pytest.raises(RuntimeError, match="anonymous region"):
        arr.get_lock().release()


def in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    t.start()
    t.join(JOIN)
    assert not t.is_alive(), "the thread is stuck"
    return out[0]


def test_another_thread_does_not_get_the_held_lock():
    arr = shmarray.Array("i", 1)
    with arr.get_lock():
        assert in_thread(lambda: arr.get_lock().acquire(False)) is False
        assert in_thread(lambda: arr.get_lock().acquire(timeout=0.05)) is False
    lock = arr.get_lock()

    def take_and_release():
        took = lock.acquire(timeout=5)
        lock.release()
        return took

    assert in_thread(take_and_release) is True


def test_a_waiting_thread_releases_the_gil_so_the_holder_can_finish():
    arr = shmarray.Array("q", 3)
    entered = threading.Event()

    def waiter():
        entered.wait(JOIN)
        with arr.get_lock():  # blocks: must not hold the GIL meanwhile
            return arr.snapshot()

    def snapshotter():
        entered.wait(JOIN)
        return arr.snapshot()  # may fall back to the lock: must not hold the GIL either

    results = []
    threads = [threading.Thread(target=lambda f=f: results.append(f()), daemon=True)
               for f in (waiter, snapshotter)]
    for t in threads:
        t.start()
    with arr.get_lock():
        entered.set()
        time.sleep(0.2)  # let them block
        for i in range(3):  # Python work: needs the GIL the waiters must have released
            arr[i] += 1
    for t in threads:
        t.join(JOIN)
        assert not t.is_alive(), "a thread waiting for the lock kept the GIL"
    assert results == [[1, 1, 1], [1, 1, 1]]


def test_threads_taking_turns_lose_no_update():
    arr = shmarray.Array("q", 5)

    def work():
        for _ in range(200):
            with arr.get_lock():
                for i in range(len(arr)):
                    arr[i] += 1

    threads = [threading.Thread(target=work, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN)
    assert arr.snapshot() == [800] * 5


def test_a_child_forked_inside_the_lock_does_not_hold_it():
    import multiprocessing as mp

    import workers

    ctx = mp.get_context("fork")
    arr = shmarray.Array("i", 1)
    queue = ctx.Queue()
    with arr.get_lock():
        child = ctx.Process(target=workers.try_lock_briefly, args=(arr, queue))
        child.start()
        got = queue.get(timeout=JOIN)
        child.join(JOIN)
    assert got is False, "the child took its parent's held lock for its own"
    assert child.exitcode == 0


def test_a_second_object_of_the_region_raises_instead_of_deadlocking(region_name):
    a = shmarray.Array("q", 2, name=region_name)
    b = shmarray.Array.open(region_name)
    with a.get_lock():
        with pytest.raises(RuntimeError, match="through another Array object"):
            b.get_lock().acquire()
        with pytest.raises(RuntimeError, match="through another Array object"):
            b.snapshot()
        b.fetch_add(0, 1)  # lock-free operations never wait
    assert b.snapshot() == [1, 0]
