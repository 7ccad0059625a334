"""Bad input gets Python's own exceptions, each message naming the region."""

import ctypes

import pytest

import shmarray


@pytest.mark.parametrize("code", ["u", "c", "qq", "", "x", ctypes.c_bool, ctypes.c_char])
def test_unknown_type_codes_are_value_errors(code, region_name):
    with pytest.raises(ValueError, match=f'region "{region_name}".*unknown type code'):
        shmarray.Array(code, 3, name=region_name)
    with pytest.raises(FileNotFoundError):
        shmarray.Array.open(region_name)  # nothing was created


@pytest.mark.parametrize("code", [3, 3.5, None, int])
def test_a_type_code_of_the_wrong_type_is_a_type_error(code):
    with pytest.raises(TypeError, match="anonymous region: typecode_or_type"):
        shmarray.Array(code, 3)


def test_bad_sizes_and_initializers():
    with pytest.raises(ValueError, match="anonymous region: negative size -1"):
        shmarray.Array("i", -1)
    with pytest.raises(TypeError, match="expected a size or an iterable"):
        shmarray.Array("i", None)
    with pytest.raises(TypeError, match="holds 'i' elements: expected an integer, got str"):
        shmarray.Array("i", "ab")
    with pytest.raises(TypeError, match="expected an integer, got float"):
        shmarray.Array("q", [1, 2.5])
    with pytest.raises(OverflowError, match="value 256 does not fit the 'B' elements"):
        shmarray.Array("B", [1, 256])
    with pytest.raises(TypeError, match="expected a number, got str"):
        shmarray.Array("d", ["1.0"])
    with pytest.raises(MemoryError, match="anonymous region"):
        shmarray.Array("q", 2**62)
    with pytest.raises(TypeError):
        shmarray.Array("i", 3, lock=object())


def test_indices_out_of_range_are_index_errors(region_name):
    arr = shmarray.Array("h", 5, name=region_name)
    for bad in (5, -6, 2**40):
        with pytest.raises(IndexError, match=f'index {bad} out of range for region "{region_name}" .* of length 5'):
            arr[bad]
        with pytest.raises(IndexError, match=region_name):
            arr[bad] = 1
        with pytest.raises(IndexError, match=region_name):
            arr.fetch_add(bad, 1)
        with pytest.raises(IndexError, match=region_name):
            arr.compare_exchange(bad, 0, 1)


def test_non_integer_indices_are_type_errors(region_name):
    arr = shmarray.Array("h", 5, name=region_name)
    with pytest.raises(TypeError, match=f'region "{region_name}" .* indices must be integers or slices, not str'):
        arr["0"]
    with pytest.raises(TypeError, match=region_name):
        arr[1.0] = 3
    with pytest.raises(TypeError):
        arr.fetch_add("0", 1)


@pytest.mark.parametrize(
    "code, value, error",
    [
        ("B", 256, OverflowError), ("B", -1, OverflowError), ("b", 128, OverflowError),
        ("h", 2**15, OverflowError), ("H", 2**16, OverflowError), ("i", 2**31, OverflowError),
        ("I", -1, OverflowError), ("l", 2**63, OverflowError), ("L", -1, OverflowError),
        ("q", -(2**63) - 1, OverflowError), ("Q", 2**64, OverflowError),
        ("i", 1.5, TypeError), ("Q", "1", TypeError), ("d", "x", TypeError), ("f", None, TypeError),
    ],
)
def test_values_that_do_not_fit_are_rejected_before_any_write(code, value, error, region_name):
    arr = shmarray.Array(code, 2, name=region_name)
    for op in (
        lambda: arr.__setitem__(0, value),
        lambda: arr.fetch_add(0, value),
        lambda: arr.swap(0, value),
        lambda: arr.compare_exchange(0, 0, value),
        lambda: arr.__setitem__(slice(0, 2), [0, value]),
    ):
        with pytest.raises(error, match=region_name):
            op()
    assert arr.snapshot() == [0, 0]


def test_slice_assignment_of_the_wrong_length_writes_nothing():
    arr = shmarray.Array("i", 4)
    with pytest.raises(ValueError, match="cannot assign 3 values to a slice of 2 elements"):
        arr[0:2] = [1, 2, 3]
    with pytest.raises(TypeError, match="expected a size or an iterable"):
        arr[0:2] = 5
    assert arr[:] == [0, 0, 0, 0]


@pytest.mark.parametrize("op", ["fetch_and", "fetch_or", "fetch_xor", "fetch_nand"])
def test_bit_operations_on_floats_are_type_errors(op):
    arr = shmarray.Array("d", 1)
    with pytest.raises(TypeError, match=f"{op} needs integer elements; anonymous region holds 'd'"):
        getattr(arr, op)(0, 1)


def test_names(region_name):
    shmarray.Array("q", 1, name=region_name)
    with pytest.raises(FileExistsError, match=region_name):
        shmarray.Array("q", 1, name=region_name)
    with pytest.raises(FileNotFoundError, match=f"{region_name}-missing"):
        shmarray.Array.open(region_name + "-missing")
    with pytest.raises(FileNotFoundError, match=f"{region_name}-missing"):
        shmarray.unlink(region_name + "-missing")
    with pytest.raises(TypeError, match=f"{region_name}.*holds i64 elements \\(type code 'q'\\), not i32"):
        shmarray.Array.open(region_name, "i")
    with pytest.raises(ValueError, match="a/b"):
        shmarray.Array("q", 1, name="a/b")
    with pytest.raises(ValueError, match="no name to unlink"):
        shmarray.Array("q", 1).unlink()
