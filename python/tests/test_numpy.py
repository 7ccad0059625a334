"""to_numpy(): a consistent copy with the dtype of every type code; a clear error without numpy."""

import sys

import pytest

import shmarray

numpy = pytest.importorskip("numpy")


@pytest.mark.parametrize("code", "bBhHiIlLqQfd")
def test_the_dtype_matches_the_type_code(code):
    arr = shmarray.Array(code, [1, 2, 3])
    out = arr.to_numpy()
    assert out.dtype == numpy.dtype(code)
    assert out.dtype.itemsize == numpy.array([0], dtype=code).itemsize
    assert out.tolist() == arr.snapshot()
    out[0] = 9  # a copy: the shared array is untouched
    assert arr[0] == 1


def test_empty_and_large_arrays():
    assert shmarray.Array("d", 0).to_numpy().shape == (0,)
    big = shmarray.Array("Q", range(1_000_000))
    out = big.to_numpy()
    assert out.shape == (1_000_000,)
    assert int(out.sum()) == 999_999 * 1_000_000 // 2


def test_without_numpy_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ModuleNotFoundError, match="pip install numpy"):
        shmarray.Array("q", 1).to_numpy()
