"""A process SIGKILLed while holding get_lock(): reported, repaired, and usable again."""

import multiprocessing as mp

import pytest

import shmarray
import workers


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_a_holder_killed_mid_write_is_reported_then_repaired(start_method, region_name):
    ctx = mp.get_context(start_method)
    arr = shmarray.Array("q", 8, name=region_name)
    ready = ctx.Event()
    child = ctx.Process(target=workers.die_holding_lock, args=(arr, ready))
    child.start()
    assert ready.wait(60)
    child.join(60)
    assert child.exitcode == -9

    with pytest.raises(shmarray.OwnerDiedError, match=region_name):
        with arr.get_lock():
            pass
    with pytest.raises(shmarray.OwnerDiedError, match=region_name):
        arr.snapshot()
    # Lock-free operations are unaffected.
    assert arr.fetch_add(7, 1) == 0

    # A repair lock released without make_consistent() leaves the death recorded.
    with arr.lock_for_repair() as g:
        assert g.owner_died
    with pytest.raises(shmarray.OwnerDiedError):
        arr.get_lock().acquire()

    with arr.lock_for_repair() as g:
        assert g.owner_died
        assert arr[:4] == [1, 1, 1, 1]  # the dead holder's half-write
        arr[:4] = [0, 0, 0, 0]  # through the held lock: undo it
        g.make_consistent()
        assert not g.owner_died

    assert arr.snapshot() == [0] * 7 + [1]
    with arr.get_lock():
        arr[0] += 5
    assert arr.snapshot()[0] == 5


def test_make_consistent_outside_the_lock_is_an_error(region_name):
    arr = shmarray.Array("b", 1, name=region_name)
    guard = arr.lock_for_repair()
    with pytest.raises(RuntimeError, match=region_name):
        guard.make_consistent()
