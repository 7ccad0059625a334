//! [`ArrayGuard`]: the array's cross-process lock, held; and the methods that take it.

use crate::array::SharedArray;
use crate::control::{Held, Wait, WriteLock, WriteRefused};
use crate::element::Element;
use crate::error::LockError;
use crate::raw_lock::{Acquired, RawLockError};
use crate::sync::Ordering;
use core::fmt;
use core::marker::PhantomData;
use std::time::Duration;

/// The array's lock, held by this thread: exclusive access for everyone who also locks, and
/// all-or-nothing visibility of its writes to [`snapshot`](SharedArray::snapshot) readers.
///
/// Made by [`SharedArray::lock`], [`try_lock`](SharedArray::try_lock) and
/// [`lock_timeout`](SharedArray::lock_timeout) (and, to repair after a holder's death,
/// [`lock_for_repair`](SharedArray::lock_for_repair)); released when dropped. Everything written
/// through one guard becomes visible to snapshots at once, at the drop.
///
/// Cell accesses through the guard are Relaxed atomics: the lock orders them for other lock
/// holders and snapshot readers. They stay atomic, so lock-free operations that other
/// processes run at the same time are never lost (a guard's [`add`](Self::add) is a
/// `fetch_add`, not a read then a write).
///
/// A robust pthread mutex belongs to the thread that locked it, so the guard is not `Send`:
///
/// ```compile_fail
/// let arr = shmarray::SharedArray::<u64>::new(1).unwrap();
/// let guard = arr.lock().unwrap();
/// std::thread::scope(|s| { s.spawn(move || drop(guard)); });
/// ```
pub struct ArrayGuard<'a, T: Element> {
    array: &'a SharedArray<T>,
    /// The odd seqlock value this write runs under.
    odd: u64,
    /// A holder died and this guard has not (yet) declared the data consistent.
    owner_died: bool,
    /// The process that took the lock: a copy of the guard inherited through `fork` must
    /// not end the parent's write.
    pid: u32,
    _not_send: PhantomData<*const ()>,
}

impl<T: Element> SharedArray<T> {
    /// Takes the lock; the fast path (a clean acquisition of a healthy lock) inline, the
    /// rest out of line. Both paths meet at the guard's two numbers, not at a whole guard,
    /// so that the fast path keeps the guard in registers.
    #[inline(always)]
    fn acquire(&self, wait: Wait, repair: bool) -> Result<ArrayGuard<'_, T>, LockError> {
        let (odd, owner_died) = match self.control().lock_write(wait, self.seqlock) {
            WriteLock::Open(odd) => (odd, false),
            WriteLock::Unhealthy => self.acquire_slow(Ok(Acquired::Clean), wait, repair)?,
            WriteLock::Slow(taken) => self.acquire_slow(taken, wait, repair)?,
        };
        Ok(self.guard(odd, owner_died))
    }

    /// The rest of `acquire`: the odd counter value and whether a death is unrepaired, or
    /// why the lock was not taken.
    #[cold]
    #[inline(never)]
    fn acquire_slow(
        &self,
        taken: Result<Acquired, RawLockError>,
        wait: Wait,
        repair: bool,
    ) -> Result<(u64, bool), LockError> {
        match self.control().lock_write_slow(taken, self.seqlock, repair) {
            Ok((Held { owner_died }, odd)) => Ok((odd, owner_died)),
            Err(WriteRefused::OwnerDied) => Err(LockError::OwnerDied),
            Err(WriteRefused::Raw(RawLockError::WouldBlock)) => Err(match wait {
                Wait::No => LockError::WouldBlock,
                _ => LockError::TimedOut,
            }),
            Err(WriteRefused::Raw(RawLockError::Deadlock)) => Err(LockError::Deadlock),
            Err(WriteRefused::Raw(RawLockError::Os(e))) => Err(LockError::Os(e)),
        }
    }

    /// The guard of a write just opened under `odd`.
    #[inline(always)]
    fn guard(&self, odd: u64, owner_died: bool) -> ArrayGuard<'_, T> {
        // Cached: every constructor of an array asked for the ID once.
        let pid = crate::pid::cached();
        self.control().set_holder(self.handle_id(pid));
        ArrayGuard {
            array: self,
            odd,
            owner_died,
            pid,
            _not_send: PhantomData,
        }
    }

    /// Takes the array's cross-process lock, waiting as long as it takes.
    ///
    /// Use one `lock()` around a whole loop to make the loop atomic ("lock whole loop"), or
    /// one per operation to serialise operations with other lock users ("lock per op"). For
    /// a single update the lock-free operations ([`fetch_add`](Self::fetch_add), ...) are
    /// cheaper and need no lock at all.
    ///
    /// # Errors
    /// - [`LockError::OwnerDied`]: a holder died (or panicked) holding the lock and nobody
    ///   has repaired the data since. The lock is released again before this returns; take
    ///   it with [`lock_for_repair`](Self::lock_for_repair) to repair.
    /// - [`LockError::Deadlock`]: this thread holds the lock already.
    /// - [`LockError::Os`]: the OS refused, e.g. for a lock word corrupted by another process.
    ///
    /// The error is `'static`, so `?` works in any function returning `Box<dyn Error>`:
    ///
    /// ```
    /// use shmarray::{LockError, SharedArray};
    ///
    /// fn bump_all(arr: &SharedArray<u64>) -> Result<(), Box<dyn std::error::Error>> {
    ///     // Lock whole loop: the increments are one atomic step for snapshot readers.
    ///     let guard = arr.lock()?;
    ///     for i in 0..guard.len() {
    ///         guard.add(i, 1);
    ///     }
    ///     Ok(())
    /// }
    ///
    /// let arr = SharedArray::<u64>::new(3)?;
    /// bump_all(&arr)?;
    /// // Lock per op.
    /// for i in 0..arr.len() {
    ///     arr.lock()?.add(i, 1);
    /// }
    /// assert_eq!(arr.snapshot()?, [2, 2, 2]);
    ///
    /// // A second lock() on the same thread is an error, not a hang.
    /// let held = arr.lock()?;
    /// assert!(matches!(arr.lock(), Err(LockError::Deadlock)));
    /// # drop(held);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn lock(&self) -> Result<ArrayGuard<'_, T>, LockError> {
        self.acquire(Wait::Forever, false)
    }

    /// Takes the lock if nobody holds it, without waiting.
    ///
    /// # Errors
    /// [`LockError::WouldBlock`] if another thread or process holds it,
    /// [`LockError::Deadlock`] if this thread does, and as [`lock`](Self::lock).
    ///
    /// ```
    /// use shmarray::LockError;
    /// let arr = shmarray::SharedArray::<u32>::new(1)?;
    /// let guard = arr.try_lock()?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(matches!(arr.try_lock(), Err(LockError::WouldBlock))));
    /// });
    /// assert!(matches!(arr.try_lock(), Err(LockError::Deadlock)));
    /// drop(guard);
    /// assert!(arr.try_lock().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Result<ArrayGuard<'_, T>, LockError> {
        self.acquire(Wait::No, false)
    }

    /// Takes the lock, waiting at most `timeout`. The wait is measured on the monotonic
    /// clock (`pthread_mutex_clocklock` with `CLOCK_MONOTONIC`), so a step of the wall clock
    /// neither stretches nor cuts it. A timeout of more than `u32::MAX` seconds (136 years),
    /// `Duration::MAX` included, waits forever, as [`lock`](Self::lock).
    ///
    /// This is the way out of a lock whose holder cannot be waited for: one stopped with
    /// `SIGSTOP`, or a lock word left by a holder lost with a reboot while the region lived
    /// on in a file (which a robust mutex cannot report).
    ///
    /// # Errors
    /// [`LockError::TimedOut`] if the time ran out, and as [`lock`](Self::lock).
    ///
    /// ```
    /// use std::time::Duration;
    /// let arr = shmarray::SharedArray::<u8>::new(1)?;
    /// let guard = arr.lock_timeout(Duration::from_millis(10))?;
    /// # drop(guard);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn lock_timeout(&self, timeout: Duration) -> Result<ArrayGuard<'_, T>, LockError> {
        self.acquire(Wait::For(timeout), false)
    }

    /// Takes the lock whether or not a holder's death is recorded, to repair the data.
    ///
    /// [`ArrayGuard::owner_died`] tells whether a death is recorded; after checking or
    /// repairing the data, [`ArrayGuard::make_consistent`] clears it. Dropped without that,
    /// the death stays recorded: [`lock`](Self::lock) keeps returning
    /// [`LockError::OwnerDied`] and snapshots keep failing.
    ///
    /// # Errors
    /// As [`lock`](Self::lock), but never [`LockError::OwnerDied`].
    ///
    /// ```
    /// use shmarray::{LockError, SharedArray};
    ///
    /// fn locked_with_repair(arr: &SharedArray<u64>) -> Result<(), LockError> {
    ///     let mut guard = match arr.lock() {
    ///         Err(LockError::OwnerDied) => {
    ///             let mut guard = arr.lock_for_repair()?;
    ///             if guard.owner_died() {
    ///                 guard.set(0, 0); // e.g. redo or undo the dead holder's work
    ///                 guard.make_consistent();
    ///             }
    ///             guard
    ///         }
    ///         other => other?,
    ///     };
    ///     guard.add(0, 1);
    ///     Ok(())
    /// }
    ///
    /// let arr = SharedArray::<u64>::new(1)?;
    /// locked_with_repair(&arr)?;
    /// assert_eq!(arr.snapshot()?, [1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn lock_for_repair(&self) -> Result<ArrayGuard<'_, T>, LockError> {
        self.acquire(Wait::Forever, true)
    }

    /// As [`lock_for_repair`](Self::lock_for_repair), without waiting.
    #[inline]
    pub(crate) fn try_lock_for_repair(&self) -> Result<ArrayGuard<'_, T>, LockError> {
        self.acquire(Wait::No, true)
    }

    /// As [`lock_for_repair`](Self::lock_for_repair), waiting at most `timeout`.
    ///
    /// # Errors
    /// [`LockError::TimedOut`] if the time ran out, and as
    /// [`lock_for_repair`](Self::lock_for_repair).
    ///
    /// ```
    /// use std::time::Duration;
    /// let arr = shmarray::SharedArray::<u8>::new(1)?;
    /// let guard = arr.lock_for_repair_timeout(Duration::from_millis(10))?;
    /// assert!(!guard.owner_died());
    /// # drop(guard);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn lock_for_repair_timeout(
        &self,
        timeout: Duration,
    ) -> Result<ArrayGuard<'_, T>, LockError> {
        self.acquire(Wait::For(timeout), true)
    }
}

impl<'a, T: Element> ArrayGuard<'a, T> {
    /// The array this guard locks.
    pub fn array(&self) -> &'a SharedArray<T> {
        self.array
    }

    /// The number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.array.len()
    }

    /// True if the array has no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.array.is_empty()
    }

    /// Element `index`.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[4u8, 5])?;
    /// assert_eq!(arr.lock()?.get(1), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn get(&self, index: usize) -> T {
        // Relaxed: the lock (and, for snapshot readers, the seqlock) orders it.
        self.array.load(index, Ordering::Relaxed)
    }

    /// Sets element `index` to `value`.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::<i16>::new(2)?;
    /// arr.lock()?.set(0, -3);
    /// assert_eq!(arr.get(0), Some(-3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn set(&self, index: usize, value: T) {
        // Relaxed: ordered after the odd seqlock value by the Release fence in
        // `SeqCount::begin_write`, and published by the Release store in `end_write`.
        self.array.store(index, value, Ordering::Relaxed)
    }

    /// Adds `value` to element `index` and returns the previous value (wrapping for
    /// integers). An atomic `fetch_add`, so a lock-free `fetch_add` that another process
    /// makes at the same moment is not lost.
    ///
    /// That safety costs an atomic read-modify-write per element (see BENCHMARKS.md). When
    /// every writer of the array takes the lock, `guard.set(i, guard.get(i) + v)` is right
    /// too, and runs at the speed of plain loads and stores.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[1.0f64])?;
    /// assert_eq!(arr.lock()?.add(0, 0.5), 1.0);
    /// assert_eq!(arr.get(0), Some(1.5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn add(&self, index: usize, value: T) -> T {
        // Relaxed: as in `set`.
        self.array.fetch_add(index, value, Ordering::Relaxed)
    }

    /// Every element, in order.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[1u32, 2])?;
    /// assert_eq!(arr.lock()?.iter().collect::<Vec<_>>(), [1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = T> + '_ {
        // Relaxed: as in `get`.
        self.array
            .cells()
            .iter()
            .map(|cell| T::load(cell, Ordering::Relaxed))
    }

    /// Every element. Consistent as far as lock users go: nobody else who locks can write
    /// while you hold the guard (lock-free writers still can).
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[7i8, 8])?;
    /// assert_eq!(arr.lock()?.to_vec(), [7, 8]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().collect()
    }

    /// Overwrites the whole array with `values`.
    ///
    /// # Panics
    /// If `values.len() != len`, as `slice::copy_from_slice`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::<u64>::new(2)?;
    /// arr.lock()?.copy_from_slice(&[5, 6]);
    /// assert_eq!(arr.snapshot()?, [5, 6]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn copy_from_slice(&self, values: &[T]) {
        assert_eq!(
            values.len(),
            self.len(),
            "source slice length ({}) does not match array length ({})",
            values.len(),
            self.len()
        );
        for (cell, &v) in self.array.cells().iter().zip(values) {
            // Relaxed: as in `set`.
            T::store(cell, v, Ordering::Relaxed);
        }
    }

    /// True if a holder died (or panicked) holding the lock and nobody has declared the data
    /// consistent since. Only a guard from [`lock_for_repair`](SharedArray::lock_for_repair)
    /// can see `true`: the other ways to lock refuse such a lock.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::<u64>::new(1)?;
    /// assert!(!arr.lock_for_repair()?.owner_died());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn owner_died(&self) -> bool {
        self.owner_died
    }

    /// Declares the data consistent again after a holder's death: once this guard drops,
    /// the lock is healthy, [`lock`](SharedArray::lock) succeeds and snapshots succeed. Call
    /// it after checking or repairing what the dead holder may have left half-written. Does
    /// nothing if no death is recorded.
    ///
    /// ```
    /// # let arr = shmarray::SharedArray::<u64>::new(1)?;
    /// let mut guard = arr.lock_for_repair()?;
    /// if guard.owner_died() {
    ///     guard.set(0, 0); // repair: e.g. redo or undo the dead holder's work
    ///     guard.make_consistent();
    /// }
    /// # drop(guard);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn make_consistent(&mut self) {
        if self.owner_died {
            self.array.control().make_consistent();
            self.owner_died = false;
        }
    }

    /// Under loom only: ends this guard as if its process had been killed: the lock is
    /// released the way the kernel releases a dead owner's robust mutex, and the seqlock is
    /// left exactly as the write left it.
    #[cfg(loom)]
    #[doc(hidden)]
    pub fn simulate_owner_death(self) {
        let control = self.array.control();
        core::mem::forget(self);
        // SAFETY: this thread holds the lock (we were its guard) and, the guard forgotten,
        // never touches it again as owner.
        unsafe { control.simulate_owner_death() };
    }
}

impl<T: Element> Drop for ArrayGuard<'_, T> {
    /// Ends the write and releases the lock. Two exceptions:
    /// - while the thread panics the write is abandoned, not ended: the death is recorded
    ///   and the counter stays odd, as if the process had died (which is what happens
    ///   under `panic = "abort"`), so a half-done locked loop is never published;
    /// - in a process that inherited the guard through `fork` it does nothing: the lock
    ///   and the open write belong to the parent.
    #[inline(always)]
    fn drop(&mut self) {
        if self.pid != crate::pid::cached() {
            return;
        }
        let control = self.array.control();
        // Under `panic = "abort"` no drop runs after a panic: the process dies holding the
        // lock, which the robust mutex reports. Only an unwinding panic needs the check.
        if cfg!(panic = "unwind")
            && std::thread::panicking()
            && !cfg!(shmarray_mutant = "no_death_on_panic")
        {
            // SAFETY: a guard exists only while its thread holds the lock, taken by
            // `lock_write`; the guard is !Send and this is its process, so this is that
            // thread.
            unsafe { control.abandon_write() };
            return;
        }
        // SAFETY: as above; `lock_write` returned `self.odd` under the array's `seqlock`,
        // and `self.owner_died` is whether a death is still recorded: only a holder can
        // record or clear one, and this guard is the holder.
        unsafe { control.unlock_write(self.odd, self.array.seqlock, self.owner_died) };
    }
}

impl<T: Element> SharedArray<T> {
    /// Called as the handle drops. A guard borrows its array, so none is alive now; if one
    /// was forgotten (`mem::forget(arr.lock())`) it still holds the lock, and the mutex is on
    /// its thread's robust list, which glibc and the kernel later write through. If that
    /// thread is this one, its unfinished write is recorded as a death (as after a panic)
    /// and the lock released. Returns `false` if another thread holds it that way: then the
    /// memory must be leaked, never unmapped or freed.
    pub(crate) fn release_forgotten_guard(&self) -> bool {
        let id = self.handle_id(crate::pid::current());
        self.control().release_before_drop(self.seqlock, id)
    }
}

impl<T: Element> fmt::Debug for ArrayGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArrayGuard")
            .field("array", self.array)
            .field("owner_died", &self.owner_died)
            .finish()
    }
}

/// Heap arrays only, so that miri runs them too (`.ci/miri.sh` selects `heap_` tests): the
/// guard's paths on the same code a mapped array runs, with the model of the robust mutex.
#[cfg(all(test, not(loom)))]
mod tests {
    use crate::{LockError, SharedArray, SnapshotError};
    use std::time::Duration;

    #[test]
    fn heap_lock_whole_loop_and_lock_per_op() {
        let arr = SharedArray::<u64>::new_heap(3).unwrap();
        {
            let guard = arr.lock().unwrap();
            for i in 0..guard.len() {
                guard.add(i, 2);
            }
            guard.set(2, guard.get(2) + 1);
            assert_eq!(guard.to_vec(), [2, 2, 3]);
        }
        for i in 0..arr.len() {
            arr.lock().unwrap().add(i, 1);
        }
        assert_eq!(arr.snapshot().unwrap(), [3, 3, 4]);
        arr.lock().unwrap().copy_from_slice(&[7, 8, 9]);
        assert_eq!(arr.lock().unwrap().iter().collect::<Vec<_>>(), [7, 8, 9]);
    }

    #[test]
    fn heap_relock_on_the_holding_thread_is_deadlock() {
        let arr = SharedArray::<i32>::new_heap(1).unwrap();
        let _held = arr.lock().unwrap();
        assert!(matches!(arr.lock(), Err(LockError::Deadlock)));
        assert!(matches!(arr.try_lock(), Err(LockError::Deadlock)));
        assert!(matches!(
            arr.lock_timeout(Duration::ZERO),
            Err(LockError::Deadlock)
        ));
        assert!(matches!(arr.snapshot(), Err(SnapshotError::Deadlock)));
    }

    #[test]
    fn heap_another_thread_waits_for_the_holder_within_its_timeout() {
        let arr = SharedArray::<u8>::new_heap(2).unwrap();
        let held = arr.lock().unwrap();
        held.set(0, 1); // half of a write
        std::thread::scope(|s| {
            s.spawn(|| {
                assert!(matches!(arr.try_lock(), Err(LockError::WouldBlock)));
                let timeout = Duration::from_millis(5);
                assert!(matches!(
                    arr.lock_timeout(timeout),
                    Err(LockError::TimedOut)
                ));
                assert!(matches!(
                    arr.snapshot_timeout(timeout),
                    Err(SnapshotError::TimedOut)
                ));
            });
        });
        drop(held);
        assert_eq!(arr.snapshot_timeout(Duration::ZERO).unwrap(), [1, 0]);
    }

    #[test]
    fn heap_panic_while_holding_the_guard_is_a_death() {
        let arr = SharedArray::<u64>::new_heap(2).unwrap();
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let guard = arr.lock().unwrap();
            guard.add(0, 1);
            panic!("a bug half-way through the locked loop");
        }));
        assert!(unwound.is_err());
        assert!(matches!(arr.snapshot(), Err(SnapshotError::OwnerDied)));
        assert!(matches!(arr.lock(), Err(LockError::OwnerDied)));
        assert!(matches!(arr.try_lock(), Err(LockError::OwnerDied)));
        let mut guard = arr.lock_for_repair().unwrap();
        assert!(guard.owner_died());
        guard.set(0, 0);
        guard.make_consistent();
        assert!(!guard.owner_died());
        drop(guard);
        assert_eq!(arr.snapshot().unwrap(), [0, 0]);
        assert!(!arr.lock().unwrap().owner_died());
    }

    #[test]
    fn heap_forgotten_guard_is_released_when_its_array_drops() {
        let arr = SharedArray::<u16>::new_heap(4).unwrap();
        let guard = arr.lock().unwrap();
        guard.set(0, 1);
        std::mem::forget(guard);
        assert!(arr.release_forgotten_guard(), "this thread's own guard");
        // The forgotten write is a death; the lock itself is free again.
        assert!(matches!(arr.lock(), Err(LockError::OwnerDied)));
        let again = SharedArray::<u16>::new_heap(4).unwrap();
        std::mem::forget(again.lock().unwrap());
        drop(again); // frees the storage (miri checks it is neither leaked nor used after)
    }
}
