"""The reference article's workloads, in real processes, under fork and under spawn."""

import multiprocessing as mp

import pytest

import shmarray
import workers

PROCS, LOOPS, N = 4, 300, 7
DEADLINE = 120  # seconds any child may take before the test fails


def run(ctx, target, argsets):
    procs = [ctx.Process(target=target, args=args) for args in argsets]
    for p in procs:
        p.start()
    for p in procs:
        p.join(DEADLINE)
        assert p.exitcode == 0, f"{p} ended with {p.exitcode}"


def make(start_method, typecode, size, region_name):
    """An array the children of `start_method` can reach: spawn needs a name."""
    if start_method == "spawn":
        return shmarray.Array(typecode, size, name=region_name)
    return shmarray.Array(typecode, size)


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
@pytest.mark.parametrize(
    "target", [workers.fetch_add_all, workers.locked_loop_all, workers.locked_per_increment]
)
def test_every_process_increments_every_element_and_no_update_is_lost(
    start_method, target, region_name
):
    ctx = mp.get_context(start_method)
    arr = make(start_method, "q", N, region_name)
    run(ctx, target, [(arr, LOOPS)] * PROCS)
    assert arr.snapshot() == [PROCS * LOOPS] * N


def test_named_arrays_work_under_fork_too(region_name):
    arr = shmarray.Array("i", N, name=region_name)
    run(mp.get_context("fork"), workers.fetch_add_all, [(arr, LOOPS)] * PROCS)
    assert list(arr) == [PROCS * LOOPS] * N


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_disjoint_partitions_written_without_the_lock(start_method, region_name):
    ctx = mp.get_context(start_method)
    arr = make(start_method, "i", 10, region_name)
    run(ctx, workers.write_range, [(arr, 0, 5, 100), (arr, 5, 10, 200)])
    assert arr[:] == [100] * 5 + [200] * 5


def test_a_locked_pass_is_all_or_nothing_to_snapshots():
    ctx = mp.get_context("fork")
    arr = shmarray.Array("Q", 64)
    queue = ctx.Queue()
    reader = ctx.Process(target=workers.check_snapshots, args=(arr, 3000, queue))
    reader.start()
    run(ctx, workers.locked_loop_all, [(arr, 200)] * 2)
    torn = queue.get(timeout=DEADLINE)
    reader.join(DEADLINE)
    assert torn is None, f"a snapshot saw a locked pass half-done: {torn}"
    assert arr.snapshot() == [400] * 64
