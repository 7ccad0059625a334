"""Named arrays pickle as their name and reopen; anonymous ones say to pass name=."""

import multiprocessing as mp
import pickle

import pytest

import shmarray
import workers


def test_a_named_array_round_trips_to_the_same_memory(region_name):
    arr = shmarray.Array("d", [1.0, 2.0], name=region_name)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(arr, protocol))
        assert (copy.name, copy.typecode, copy[:]) == (region_name, "d", arr[:])
        copy.fetch_add(0, 1.0)
    assert arr[0] == 1.0 + pickle.HIGHEST_PROTOCOL + 1


def test_an_anonymous_array_refuses_to_pickle_and_says_to_pass_a_name():
    with pytest.raises(pickle.PicklingError, match="name="):
        pickle.dumps(shmarray.Array("q", 3))


def test_an_anonymous_array_given_to_a_spawn_child_says_to_pass_a_name():
    ctx = mp.get_context("spawn")
    p = ctx.Process(target=workers.reopen_and_add, args=(shmarray.Array("q", 1), 1))
    with pytest.raises(pickle.PicklingError, match="name="):
        p.start()


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_a_named_array_reaches_spawn_and_forkserver_children(start_method, region_name):
    arr = shmarray.Array("i", 1, name=region_name)
    p = mp.get_context(start_method).Process(target=workers.reopen_and_add, args=(arr, 5))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert arr[0] == 5


def test_owner_died_error_pickles():
    err = pickle.loads(pickle.dumps(shmarray.OwnerDiedError("x")))
    assert isinstance(err, shmarray.OwnerDiedError) and isinstance(err, RuntimeError)
