"""Atomic numbers shared between processes: a lock-free, crash-safe ``multiprocessing.Array``.

``shmarray.Array`` takes the same arguments as ``multiprocessing.Array`` and supports the
same indexing, plus atomic read-modify-write operations (``fetch_add``, ...) that need no
lock, a cross-process lock that survives the death of its holder (``OwnerDiedError``,
``lock_for_repair``), consistent snapshots and NumPy copies.
"""

from ._shmarray import Array, Lock, OwnerDiedError, RepairLock, StripedArray, unlink

__all__ = ["Array", "Lock", "OwnerDiedError", "RepairLock", "StripedArray", "unlink"]


def _reopen(name, typecode):
    """Unpickles a named array: attaches to it again by name."""
    return Array.open(name, typecode)


def _reopen_striped(name, typecode):
    """Unpickles a named striped array: attaches to it again by name."""
    return StripedArray.open(name, typecode)
