"""Indexing, slicing, iteration and the atomic operations, as array/multiprocessing behave."""

import array
import ctypes
import math

import pytest

import shmarray

INT_CODES = "bBhHiIlLqQ"
ALL_CODES = INT_CODES + "fd"
CTYPES = [
    ctypes.c_byte, ctypes.c_ubyte, ctypes.c_short, ctypes.c_ushort, ctypes.c_int, ctypes.c_uint,
    ctypes.c_long, ctypes.c_ulong, ctypes.c_longlong, ctypes.c_ulonglong, ctypes.c_int8,
    ctypes.c_uint64, ctypes.c_float, ctypes.c_double,
]


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_type_code_holds_what_the_array_module_holds(code):
    values = [0, 1, 2, 3, 100]
    arr = shmarray.Array(code, values)
    assert arr.typecode == code
    assert list(arr) == list(array.array(code, values))
    assert len(arr) == 5


@pytest.mark.parametrize("ctype", CTYPES)
def test_ctypes_types_are_accepted_as_multiprocessing_does(ctype):
    arr = shmarray.Array(ctype, 3)
    assert arr.typecode == ctype._type_
    assert arr.to_numpy().itemsize == ctypes.sizeof(ctype)


@pytest.mark.parametrize("code", INT_CODES)
def test_integer_limits_round_trip(code):
    info = array.array(code)
    bits = 8 * info.itemsize
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if code.islower() else (0, 2**bits - 1)
    arr = shmarray.Array(code, [lo, hi])
    assert arr[:] == [lo, hi]


def test_size_makes_zeros_and_initializer_copies():
    assert shmarray.Array("d", 3)[:] == [0.0, 0.0, 0.0]
    assert shmarray.Array("i", range(4))[:] == [0, 1, 2, 3]
    assert shmarray.Array("f", array.array("f", [0.5, 1.5]))[:] == [0.5, 1.5]
    assert shmarray.Array("q", 0)[:] == []
    assert shmarray.Array("q", [], lock=False)[:] == []


def test_indexing_and_slicing_follow_list_semantics():
    ref = list(range(10))
    arr = shmarray.Array("q", ref)
    for i in range(-10, 10):
        assert arr[i] == ref[i]
    for sl in [slice(None), slice(2, 7), slice(-3, None), slice(None, None, 2),
               slice(8, 1, -3), slice(5, 2), slice(-100, 100)]:
        assert arr[sl] == ref[sl]
    arr[-1] = 42
    ref[-1] = 42
    arr[1:7:2] = [7, 8, 9]
    ref[1:7:2] = [7, 8, 9]
    arr[0:2] = range(100, 102)
    ref[0:2] = range(100, 102)
    arr[2:4] = array.array("q", [5, 6])
    ref[2:4] = [5, 6]
    assert arr[:] == ref
    assert list(arr) == ref
    assert arr.snapshot() == ref


def test_iteration_stops_and_is_repeatable():
    arr = shmarray.Array("H", [3, 4])
    it = iter(arr)
    assert list(it) == [3, 4]
    assert list(it) == []
    assert [x for x in arr] == [3, 4]
    assert 4 in arr


def test_atomic_operations_return_the_previous_value():
    arr = shmarray.Array("q", [10, 0])
    assert arr.fetch_add(0, 5) == 10
    assert arr.fetch_sub(0, 3) == 15
    assert arr.swap(0, 1) == 12
    assert arr.fetch_max(0, 9) == 1
    assert arr.fetch_max(0, 2) == 9
    assert arr.fetch_min(0, -4) == 9
    assert arr[0] == -4
    assert arr.compare_exchange(1, 0, 7) == (True, 0)
    assert arr.compare_exchange(1, 0, 8) == (False, 7)
    assert arr.fetch_add(-1, 1) == 7
    assert arr[1] == 8


def test_bit_operations_on_integers():
    arr = shmarray.Array("B", [0b1100])
    assert arr.fetch_and(0, 0b1010) == 0b1100
    assert arr.fetch_or(0, 0b0001) == 0b1000
    assert arr.fetch_xor(0, 0b1111) == 0b1001
    assert arr.fetch_nand(0, 0b0110) == 0b0110
    assert arr[0] == 0b11111001


def test_integer_arithmetic_wraps_as_the_crate_does():
    arr = shmarray.Array("b", [127])
    assert arr.fetch_add(0, 1) == 127
    assert arr[0] == -128


def test_float_operations():
    arr = shmarray.Array("d", [1.0])
    assert arr.fetch_add(0, 0.5) == 1.0
    assert arr.fetch_sub(0, 0.25) == 1.5
    assert arr.fetch_max(0, 3) == 1.25
    assert arr.compare_exchange(0, 3.0, 4.5) == (True, 3.0)
    arr[0] = math.inf
    assert arr[0] == math.inf
    f = shmarray.Array("f", [0.1])
    assert f[0] == array.array("f", [0.1])[0]


def test_a_named_array_is_one_memory_for_every_opener(region_name):
    a = shmarray.Array("L", 3, name=region_name)
    b = shmarray.Array.open(region_name)
    c = shmarray.Array.open(region_name, "L")
    b.fetch_add(2, 5)
    c[0] = 1
    assert a[:] == [1, 0, 5]
    assert (a.name, b.typecode) == (region_name, "L")
    assert repr(a) == f"shmarray.Array('L', 3, name='{region_name}')"
    a.unlink()
    with pytest.raises(FileNotFoundError, match=region_name):
        shmarray.Array.open(region_name)
    assert b[2] == 5  # still mapped after unlink


@pytest.mark.parametrize("code", ALL_CODES)
def test_open_finds_the_type_code_in_the_region(code, region_name):
    shmarray.Array(code, [1, 2], name=region_name)
    opened = shmarray.Array.open(region_name)
    assert (opened.typecode, opened[:]) == (code, [1, 2])


def test_named_initializer_is_visible_to_openers(region_name):
    shmarray.Array("d", [1.5, 2.5], name=region_name)
    assert shmarray.Array.open(region_name)[:] == [1.5, 2.5]
