//! Consistent whole-array snapshots: the seqlock's read side.
//!
//! A snapshot first copies the cells optimistically, between two reads of the seqlock
//! counter (`seqlock.rs`), a bounded number of times; each try looks at the counter every
//! few thousand elements and gives up as soon as a write has begun, so a busy writer costs a
//! try a chunk, not a whole pass. Readers never wait for each other and
//! never write shared memory on this path. If writers keep overlapping, or a dead writer left
//! the counter odd, it falls back to taking the lock (without opening a write), so it cannot
//! spin forever; behind a dead writer the fallback reports [`SnapshotError::OwnerDied`]
//! instead of handing out half-written data.

use crate::array::SharedArray;
use crate::control::Wait;
use crate::element::Element;
use crate::error::SnapshotError;
use crate::raw_lock::RawLockError;
use crate::seqlock::SeqCount;
use crate::sync::{spin_hint, Ordering, SNAPSHOT_CHUNK, SNAPSHOT_OPTIMISTIC_TRIES};

impl<T: Element> SharedArray<T> {
    /// A copy of the whole array that is consistent with respect to every write made under
    /// the lock: everything one [`ArrayGuard`](crate::ArrayGuard) wrote is in it entirely or
    /// not at all.
    ///
    /// Lock-free operations ([`fetch_add`](Self::fetch_add), [`store`](Self::store), ...)
    /// do not take part in the seqlock: with respect to them a snapshot is only per-element
    /// atomic, like [`to_vec`](Self::to_vec).
    ///
    /// # Errors
    /// As [`snapshot_into`](Self::snapshot_into), but for `LengthMismatch`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::<u64>::new(2)?;
    /// arr.lock()?.copy_from_slice(&[1, 1]);
    /// assert_eq!(arr.snapshot()?, [1, 1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshot(&self) -> Result<Vec<T>, SnapshotError> {
        let mut out = vec![T::default(); self.len()];
        self.snapshot_into(&mut out)?;
        Ok(out)
    }

    /// As [`snapshot`](Self::snapshot), into a buffer of the array's length: no allocation.
    ///
    /// # Errors
    /// - [`SnapshotError::LengthMismatch`] if `out.len() != self.len()`;
    /// - [`SnapshotError::OwnerDied`] if a lock holder died mid-write and nobody repaired;
    /// - [`SnapshotError::Deadlock`] if this thread holds the lock and writers kept the
    ///   optimistic path from succeeding (read through the guard instead);
    /// - [`SnapshotError::Os`] if the fallback lock failed.
    ///
    /// On error `out` holds unspecified values.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[3i32, 4])?;
    /// let mut out = [0; 2];
    /// arr.snapshot_into(&mut out)?;
    /// assert_eq!(out, [3, 4]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshot_into(&self, out: &mut [T]) -> Result<(), SnapshotError> {
        if out.len() != self.len() {
            return Err(SnapshotError::LengthMismatch {
                expected: self.len(),
                found: out.len(),
            });
        }
        let control = self.control();
        let cells = self.cells();
        let copy = |out: &mut [T]| {
            for (o, cell) in out.iter_mut().zip(cells) {
                // Relaxed: ordered by the seqlock's fences (optimistic path) or by the lock
                // (fallback path).
                *o = T::load(cell, Ordering::Relaxed);
            }
        };
        for _ in 0..SNAPSHOT_OPTIMISTIC_TRIES {
            if control
                .seq()
                .read(|| copy_checked(control.seq(), cells, out))
            {
                return Ok(());
            }
            spin_hint();
        }
        self.snapshot_locked(out, copy)
    }

    #[cold]
    fn snapshot_locked(
        &self,
        out: &mut [T],
        copy: impl FnOnce(&mut [T]),
    ) -> Result<(), SnapshotError> {
        let control = self.control();
        let held = control.lock_read(Wait::Forever).map_err(|e| match e {
            RawLockError::Deadlock => SnapshotError::Deadlock,
            RawLockError::Os(e) => SnapshotError::Os(e),
            // An untimed lock does not report "busy"; should a corrupted lock word make it do
            // so, that is an OS-level failure, not a panic.
            RawLockError::WouldBlock => SnapshotError::Os(std::io::ErrorKind::WouldBlock.into()),
        })?;
        let result = if held.owner_died {
            Err(SnapshotError::OwnerDied)
        } else {
            copy(out);
            Ok(())
        };
        // SAFETY: we took the lock with `lock_read` just above.
        unsafe { control.unlock_read() };
        result
    }
}

/// The optimistic path's copy: Relaxed loads of `cells` into `out`, [`SNAPSHOT_CHUNK`]
/// elements at a time, stopping early once a write has begun since the copy started (the
/// try is lost; [`SeqCount::read`] sees the same change and reports it). Against a writer
/// that locks per operation, a failed try then costs one chunk instead of one array.
#[inline]
fn copy_checked<T: Element>(seq: &SeqCount, cells: &[T::Atomic], out: &mut [T]) {
    let start = seq.peek();
    for (out, cells) in out
        .chunks_mut(SNAPSHOT_CHUNK)
        .zip(cells.chunks(SNAPSHOT_CHUNK))
    {
        for (o, cell) in out.iter_mut().zip(cells) {
            // Relaxed: ordered by the seqlock's fences in `SeqCount::read`.
            *o = T::load(cell, Ordering::Relaxed);
        }
        if !seq.unchanged_since(start) {
            return;
        }
    }
}
