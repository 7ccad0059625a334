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
//!
//! On the fallback path a reader does wait: for the lock's holder (a live writer, or a
//! stopped one, for as long as it stays stopped), and behind other readers in their
//! fallback. [`snapshot_timeout`](SharedArray::snapshot_timeout) bounds that wait.
//!
//! An array made with the seqlock off ([`ArrayOptions::seqlock`](crate::ArrayOptions::seqlock))
//! has no counter to read: every snapshot takes the fallback path at once.

use crate::array::SharedArray;
use crate::control::Wait;
use crate::element::Element;
use crate::error::SnapshotError;
use crate::raw_lock::RawLockError;
use crate::seqlock::{SeqCount, Seqlock};
use crate::sync::{spin_hint, Ordering, SNAPSHOT_CHUNK, SNAPSHOT_OPTIMISTIC_TRIES};
use std::time::Duration;

impl<T: Element> SharedArray<T> {
    /// A copy of the whole array that is consistent with respect to every write made under
    /// the lock: everything one [`ArrayGuard`](crate::ArrayGuard) wrote is in it entirely or
    /// not at all.
    ///
    /// Lock-free operations ([`fetch_add`](Self::fetch_add), [`store`](Self::store), ...)
    /// do not take part in the seqlock: with respect to them a snapshot is only per-element
    /// atomic, like [`to_vec`](Self::to_vec).
    ///
    /// Readers do not wait for each other on the optimistic path. When writers keep
    /// overlapping it, or the counter is odd (a write is open, or a writer died mid-write),
    /// the snapshot takes the lock and **waits for its holder**, as long as the holder keeps
    /// it: a holder stopped with `SIGSTOP`, or a lock word left by a machine that rebooted,
    /// stalls it. [`snapshot_timeout`](Self::snapshot_timeout) bounds that wait.
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
    /// - [`SnapshotError::Deadlock`] if this thread holds the lock: its own open write keeps
    ///   the counter odd, so the optimistic path cannot succeed and the fallback cannot take
    ///   the lock (read through the guard instead);
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
        self.snapshot_waiting(out, Wait::Forever)
    }

    /// As [`snapshot`](Self::snapshot), waiting at most `timeout` on the fallback path for
    /// the lock's holder. The optimistic tries before it are bounded and take no lock.
    ///
    /// # Errors
    /// [`SnapshotError::TimedOut`] if the fallback did not get the lock in time (its holder
    /// is slow, stopped, or lost to a reboot), and as [`snapshot`](Self::snapshot).
    ///
    /// ```
    /// use std::time::Duration;
    /// let arr = shmarray::SharedArray::from_slice(&[1u16, 2])?;
    /// assert_eq!(arr.snapshot_timeout(Duration::from_millis(100))?, [1, 2]);
    ///
    /// let guard = arr.lock()?; // an open write: the snapshot must wait for it
    /// std::thread::scope(|s| {
    ///     let waited = s.spawn(|| arr.snapshot_timeout(Duration::from_millis(10)));
    ///     let waited = waited.join().unwrap();
    ///     assert!(matches!(waited, Err(shmarray::SnapshotError::TimedOut)));
    /// });
    /// # drop(guard);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshot_timeout(&self, timeout: Duration) -> Result<Vec<T>, SnapshotError> {
        let mut out = vec![T::default(); self.len()];
        self.snapshot_into_timeout(&mut out, timeout)?;
        Ok(out)
    }

    /// As [`snapshot_into`](Self::snapshot_into), waiting at most `timeout` on the fallback
    /// path, as [`snapshot_timeout`](Self::snapshot_timeout).
    ///
    /// # Errors
    /// [`SnapshotError::TimedOut`] if the time ran out, and as
    /// [`snapshot_into`](Self::snapshot_into).
    ///
    /// ```
    /// use std::time::Duration;
    /// let arr = shmarray::SharedArray::from_slice(&[5u64, 6])?;
    /// let mut out = [0; 2];
    /// arr.snapshot_into_timeout(&mut out, Duration::from_millis(100))?;
    /// assert_eq!(out, [5, 6]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshot_into_timeout(
        &self,
        out: &mut [T],
        timeout: Duration,
    ) -> Result<(), SnapshotError> {
        self.snapshot_waiting(out, Wait::For(timeout))
    }

    fn snapshot_waiting(&self, out: &mut [T], wait: Wait) -> Result<(), SnapshotError> {
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
        // Without the seqlock no counter tells a consistent copy: take the lock at once.
        // (Mutant for `.ci/loom-mutants.sh`: read optimistically anyway.)
        let tries = match self.seqlock {
            Seqlock::Off if !cfg!(shmarray_mutant = "seqlock_off_snapshot_unlocked") => 0,
            _ => SNAPSHOT_OPTIMISTIC_TRIES,
        };
        for _ in 0..tries {
            if control
                .seq()
                .read(|| copy_checked(control.seq(), cells, out))
            {
                return Ok(());
            }
            spin_hint();
        }
        self.snapshot_locked(out, copy, wait)
    }

    #[cold]
    fn snapshot_locked(
        &self,
        out: &mut [T],
        copy: impl FnOnce(&mut [T]),
        wait: Wait,
    ) -> Result<(), SnapshotError> {
        let control = self.control();
        let held = control
            .lock_read(wait, self.seqlock)
            .map_err(|e| match (e, wait) {
                (RawLockError::Deadlock, _) => SnapshotError::Deadlock,
                (RawLockError::Os(e), _) => SnapshotError::Os(e),
                (RawLockError::WouldBlock, Wait::For(_)) => SnapshotError::TimedOut,
                // An untimed lock does not report "busy"; should a corrupted lock word make it
                // do so, that is an OS-level failure, not a panic.
                (RawLockError::WouldBlock, _) => {
                    SnapshotError::Os(std::io::ErrorKind::WouldBlock.into())
                }
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

    /// Under loom only: a reader whose process is killed while it holds the lock in the
    /// snapshot fallback (counter even, no write open).
    #[cfg(loom)]
    #[doc(hidden)]
    pub fn simulate_reader_death(&self) {
        let control = self.control();
        if control.lock_read(Wait::Forever, self.seqlock).is_ok() {
            // SAFETY: `lock_read` just gave this thread the lock, which it never touches
            // again as owner.
            unsafe { control.simulate_owner_death() };
        }
    }
}

/// Heap arrays only, so that miri runs them too (`.ci/miri.sh` selects `heap_` tests).
#[cfg(all(test, not(loom)))]
mod tests {
    use crate::{SharedArray, SnapshotError};

    #[test]
    fn heap_snapshots_see_locked_writes_whole_or_not_at_all() {
        const WRITES: u64 = 20;
        let arr = SharedArray::<u32>::new_heap(3).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                for v in 1..=WRITES as u32 {
                    arr.lock().unwrap().copy_from_slice(&[v, v, v]);
                }
            });
            let mut out = [0; 3];
            for _ in 0..WRITES {
                arr.snapshot_into(&mut out).unwrap();
                assert!(out.iter().all(|&x| x == out[0]), "torn snapshot {out:?}");
            }
        });
        assert_eq!(arr.snapshot().unwrap(), [WRITES as u32; 3]);
        let mut short = [0; 2];
        assert!(matches!(
            arr.snapshot_into(&mut short),
            Err(SnapshotError::LengthMismatch {
                expected: 3,
                found: 2
            })
        ));
    }

    #[test]
    fn heap_element_operations_on_every_kind_of_cell() {
        use crate::sync::Ordering::SeqCst;
        let ints = SharedArray::from_slice_heap(&[i8::MAX, -1]).unwrap();
        assert_eq!(ints.fetch_add(0, 1, SeqCst), i8::MAX);
        assert_eq!(ints.load(0, SeqCst), i8::MIN, "wrapping, as AtomicI8");
        assert_eq!(ints.fetch_max(1, 5, SeqCst), -1);
        assert_eq!(ints.swap(1, 3, SeqCst), 5);
        assert_eq!(ints.compare_exchange(1, 3, 4, SeqCst, SeqCst), Ok(3));
        let floats = SharedArray::from_slice_heap(&[1.5f64, -0.0]).unwrap();
        assert_eq!(floats.fetch_add(0, 2.0, SeqCst), 1.5);
        assert_eq!(floats.fetch_min(0, 1.0, SeqCst), 3.5);
        assert_eq!(floats.get(0), Some(1.0));
        assert!(
            floats
                .compare_exchange(1, 0.0, 1.0, SeqCst, SeqCst)
                .is_err(),
            "floats compare by bit pattern: -0.0 is not 0.0"
        );
        let words = SharedArray::<u64>::new_heap(2).unwrap();
        words.store(1, u64::MAX, SeqCst);
        assert_eq!(words.fetch_sub(1, 1, SeqCst), u64::MAX);
        assert_eq!(words.to_vec(), [0, u64::MAX - 1]);
        assert_eq!(words.iter().sum::<u64>(), u64::MAX - 1);
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
