"""Shared fixtures: unique shared memory names that are always removed afterwards."""

import itertools
import os

import pytest

import shmarray

_counter = itertools.count()


@pytest.fixture
def region_name():
    """A fresh POSIX shared memory name, unlinked after the test if it still exists."""
    name = f"shmarray-test-py-{os.getpid()}-{next(_counter)}"
    yield name
    try:
        shmarray.unlink(name)
    except FileNotFoundError:
        pass
