"""StripedArray: counters added to from many processes, exact once the writers have stopped."""

import multiprocessing as mp
import pickle

import pytest

import shmarray
import workers

PROCS, LOOPS, N = 4, 500, 3


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_adds_from_many_processes_sum_exactly(start_method, region_name):
    ctx = mp.get_context(start_method)
    name = region_name if start_method == "spawn" else None
    arr = shmarray.StripedArray("Q", N, name=name)
    procs = [ctx.Process(target=workers.striped_add_all, args=(arr, LOOPS)) for _ in range(PROCS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert arr.sums() == [PROCS * LOOPS] * N
    assert arr.sum(-1) == PROCS * LOOPS
    assert arr.take(0) == PROCS * LOOPS
    assert arr.sums() == [0] + [PROCS * LOOPS] * (N - 1)
    assert arr.take_all() == [0] + [PROCS * LOOPS] * (N - 1)
    assert arr.sums() == [0] * N


def test_every_type_code_and_the_attributes(region_name):
    for code in "bBhHiIlLqQfd":
        arr = shmarray.StripedArray(code, 2)
        arr.add(1, 3)
        arr.sub(1, 1)
        assert (arr.typecode, len(arr), arr.sums()) == (code, 2, [0, 2])
        assert arr.stripes >= 1
    named = shmarray.StripedArray("q", 2, name=region_name)
    other = shmarray.StripedArray.open(region_name)
    other.add(0, 5)
    assert named.sum(0) == 5 and other.typecode == "q" and named.name == region_name
    assert repr(named) == f"shmarray.StripedArray('q', 2, name='{region_name}')"
    copy = pickle.loads(pickle.dumps(named))
    copy.add(0, 1)
    assert named.sum(0) == 6


def test_bad_input(region_name):
    arr = shmarray.StripedArray("B", 2, name=region_name)
    with pytest.raises(IndexError, match=region_name):
        arr.add(2, 1)
    with pytest.raises(IndexError, match=region_name):
        arr.sum(-3)
    with pytest.raises(OverflowError, match=region_name):
        arr.add(0, 256)
    with pytest.raises(TypeError, match=region_name):
        arr.add(0, 1.5)
    with pytest.raises(ValueError, match="unknown type code"):
        shmarray.StripedArray("u", 2)
    with pytest.raises(ValueError, match="negative size"):
        shmarray.StripedArray("q", -1)
    with pytest.raises(FileExistsError, match=region_name):
        shmarray.StripedArray("B", 2, name=region_name)
    with pytest.raises(TypeError, match=region_name):
        shmarray.Array.open(region_name)  # a striped region is not a dense array
    with pytest.raises(pickle.PicklingError, match="name="):
        pickle.dumps(shmarray.StripedArray("q", 1))
