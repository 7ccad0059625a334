//! [`ArcArrayGuard`]: the array's lock, held through an `Arc`, for owners that cannot hold a
//! borrow (language bindings, objects that outlive a stack frame).

use crate::array::SharedArray;
use crate::element::Element;
use crate::error::LockError;
use crate::guard::ArrayGuard;
use core::fmt;
use core::mem::ManuallyDrop;
use std::sync::Arc;

/// The array's lock, held by this thread, owning a reference to the array instead of
/// borrowing it: what [`ArrayGuard`] is to `&SharedArray`, this is to `Arc<SharedArray>`
/// (as `lock_api`'s `ArcMutexGuard` is to its `MutexGuard`).
///
/// Made by [`SharedArray::lock_arc`], [`lock_for_repair_arc`](SharedArray::lock_for_repair_arc)
/// and their `try_`/`_timeout` forms; released when dropped.
/// It keeps the array alive, so it can be stored in a struct that has no lifetime. Reach the
/// guard's operations through [`guard`](Self::guard), whose result borrows `self`.
///
/// Like [`ArrayGuard`] it is not `Send`: a robust pthread mutex belongs to the thread that
/// locked it.
///
/// ```compile_fail
/// use std::sync::Arc;
/// let arr = Arc::new(shmarray::SharedArray::<u64>::new(1).unwrap());
/// let guard = arr.lock_for_repair_arc().unwrap();
/// std::thread::spawn(move || drop(guard));
/// ```
pub struct ArcArrayGuard<T: Element> {
    /// The guard, with its borrow of `*array` widened to `'static`. Never handed out by
    /// value or by `&mut` (either could let it outlive `array`); only as `&ArrayGuard<'s, T>`
    /// for a borrow `'s` of `self`, during which `array` is alive. Dropped before `array`.
    guard: ManuallyDrop<ArrayGuard<'static, T>>,
    array: Arc<SharedArray<T>>,
}

impl<T: Element> ArcArrayGuard<T> {
    /// Takes the lock with `take`, which is handed the array for the life of the guard.
    fn take<'a>(
        array: &Arc<SharedArray<T>>,
        take: impl FnOnce(&'a SharedArray<T>) -> Result<ArrayGuard<'a, T>, LockError>,
    ) -> Result<ArcArrayGuard<T>, LockError> {
        let array = Arc::clone(array);
        // SAFETY: the pointee lives as long as any clone of the `Arc`, and `array` (moved
        // into the result below, or dropped after the guard on every error path) is one. The
        // `'static` borrow is only ever reachable through `ArcArrayGuard`, which drops the
        // guard before its `Arc` and never lets the borrow escape a borrow of itself.
        let target: &'a SharedArray<T> = unsafe { &*Arc::as_ptr(&array) };
        // A repair lock: a recorded death is the guard's `owner_died()`, not an error.
        let guard = take(target)?;
        type Static<T> = ArrayGuard<'static, T>;
        // SAFETY: only the lifetime changes (same type otherwise, so same layout). The
        // guard's borrow of the array stays valid for as long as the `Arc` stored beside it,
        // per the invariant on the `guard` field.
        let guard = unsafe { core::mem::transmute::<ArrayGuard<'a, T>, Static<T>>(guard) };
        Ok(ArcArrayGuard {
            guard: ManuallyDrop::new(guard),
            array,
        })
    }

    /// The held guard: every operation of [`ArrayGuard`], for as long as `self` is borrowed.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let arr = Arc::new(shmarray::SharedArray::<u32>::new(2)?);
    /// let held = arr.lock_for_repair_arc().unwrap();
    /// held.guard().add(1, 5);
    /// assert_eq!(held.guard().to_vec(), [0, 5]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    ///
    /// Nothing borrowed through it outlives the `ArcArrayGuard`:
    ///
    /// ```compile_fail
    /// use std::sync::Arc;
    /// let arr = Arc::new(shmarray::SharedArray::<u32>::new(2).unwrap());
    /// let held = arr.lock_for_repair_arc().unwrap();
    /// let inner = held.guard().array();
    /// drop(held);
    /// inner.len();
    /// ```
    #[inline]
    pub fn guard(&self) -> &ArrayGuard<'_, T> {
        // `&'s ArrayGuard<'static, T>` shortens to `&'s ArrayGuard<'s, T>` (the guard is
        // covariant in its lifetime), so nothing borrowed from it outlives `self`.
        &self.guard
    }

    /// The array this guard locks.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let arr = Arc::new(shmarray::SharedArray::<u8>::new(3)?);
    /// let held = arr.lock_for_repair_arc().unwrap();
    /// assert!(Arc::ptr_eq(held.array(), &arr));
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn array(&self) -> &Arc<SharedArray<T>> {
        &self.array
    }

    /// True if a previous holder died holding the lock and nobody has declared the data
    /// consistent since; see [`ArrayGuard::owner_died`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// let arr = Arc::new(shmarray::SharedArray::<u8>::new(1)?);
    /// assert!(!arr.lock_for_repair_arc().unwrap().owner_died());
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn owner_died(&self) -> bool {
        self.guard.owner_died()
    }

    /// Declares the data consistent again after a holder's death; see
    /// [`ArrayGuard::make_consistent`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// let arr = Arc::new(shmarray::SharedArray::<u8>::new(1)?);
    /// let mut held = arr.lock_for_repair_arc().unwrap();
    /// held.guard().set(0, 0); // repair what a dead holder may have left half-written
    /// held.make_consistent();
    /// assert!(!held.owner_died());
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn make_consistent(&mut self) {
        self.guard.make_consistent()
    }
}

impl<T: Element> Drop for ArcArrayGuard<T> {
    fn drop(&mut self) {
        // SAFETY: dropped once, here, while `self.array` (dropped after this body) still
        // keeps the array the guard borrows alive; `self.guard` is not used again.
        unsafe { ManuallyDrop::drop(&mut self.guard) };
    }
}

impl<T: Element> fmt::Debug for ArcArrayGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ArcArrayGuard").field(self.guard()).finish()
    }
}

impl<T: Element> SharedArray<T> {
    /// Takes the array's lock through an `Arc`, as [`lock`](Self::lock) does: the guard owns
    /// a reference to the array, so it can be kept where a borrow cannot (a struct without a
    /// lifetime, an object of another language).
    ///
    /// # Errors
    /// As [`lock`](Self::lock): [`LockError::OwnerDied`] (the lock not kept) while a holder's
    /// death is unrepaired, [`LockError::Deadlock`], [`LockError::Os`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// struct Session {
    ///     held: shmarray::ArcArrayGuard<u64>, // no lifetime: the guard owns its array
    /// }
    /// let arr = Arc::new(shmarray::SharedArray::<u64>::new(2)?);
    /// let session = Session { held: arr.lock_arc()? };
    /// session.held.guard().add(0, 1);
    /// drop(session);
    /// assert_eq!(arr.snapshot()?, [1, 0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lock_arc(self: &Arc<Self>) -> Result<ArcArrayGuard<T>, LockError> {
        ArcArrayGuard::take(self, SharedArray::lock)
    }

    /// As [`lock_arc`](Self::lock_arc), without waiting (as [`try_lock`](Self::try_lock)).
    ///
    /// # Errors
    /// [`LockError::WouldBlock`] if another thread or process holds the lock, and as
    /// [`lock_arc`](Self::lock_arc).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let arr = Arc::new(shmarray::SharedArray::<u8>::new(1)?);
    /// assert!(arr.try_lock_arc().is_ok());
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn try_lock_arc(self: &Arc<Self>) -> Result<ArcArrayGuard<T>, LockError> {
        ArcArrayGuard::take(self, SharedArray::try_lock)
    }

    /// As [`lock_arc`](Self::lock_arc), waiting at most `timeout` (as
    /// [`lock_timeout`](Self::lock_timeout)).
    ///
    /// # Errors
    /// [`LockError::TimedOut`] if the time ran out, and as [`lock_arc`](Self::lock_arc).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// let arr = Arc::new(shmarray::SharedArray::<u8>::new(1)?);
    /// assert!(arr.lock_arc_timeout(Duration::from_millis(10)).is_ok());
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn lock_arc_timeout(
        self: &Arc<Self>,
        timeout: std::time::Duration,
    ) -> Result<ArcArrayGuard<T>, LockError> {
        ArcArrayGuard::take(self, |array| array.lock_timeout(timeout))
    }

    /// Takes the array's lock through an `Arc`, waiting as long as it takes, whether or not
    /// a previous holder died holding it: the guard owns a reference to the array, so it can
    /// be kept where a borrow cannot. Check [`ArcArrayGuard::owner_died`] before trusting the
    /// data, repair, and call [`ArcArrayGuard::make_consistent`].
    ///
    /// # Errors
    /// [`LockError::Deadlock`] if this thread holds the lock already, [`LockError::Os`] if
    /// the OS refused. Never [`LockError::OwnerDied`]: a death is reported by the guard.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use shmarray::{LockError, SharedArray};
    /// let arr = Arc::new(SharedArray::<u64>::new(2)?);
    /// let held = arr.lock_for_repair_arc().unwrap();
    /// if !held.owner_died() {
    ///     for i in 0..held.guard().len() {
    ///         held.guard().add(i, 1);
    ///     }
    /// }
    /// assert!(matches!(arr.lock_for_repair_arc(), Err(LockError::Deadlock)));
    /// drop(held);
    /// assert_eq!(arr.snapshot()?, [1, 1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lock_for_repair_arc(self: &Arc<Self>) -> Result<ArcArrayGuard<T>, LockError> {
        ArcArrayGuard::take(self, SharedArray::lock_for_repair)
    }

    /// As [`lock_for_repair_arc`](Self::lock_for_repair_arc), without waiting.
    ///
    /// # Errors
    /// [`LockError::WouldBlock`] if another thread or process holds the lock, and as
    /// [`lock_for_repair_arc`](Self::lock_for_repair_arc).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use shmarray::LockError;
    /// let arr = Arc::new(shmarray::SharedArray::<i8>::new(1)?);
    /// let held = arr.try_lock_for_repair_arc().unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(matches!(arr.try_lock_for_repair_arc(), Err(LockError::WouldBlock))));
    /// });
    /// # drop(held);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn try_lock_for_repair_arc(self: &Arc<Self>) -> Result<ArcArrayGuard<T>, LockError> {
        ArcArrayGuard::take(self, SharedArray::try_lock_for_repair)
    }

    /// As [`lock_for_repair_arc`](Self::lock_for_repair_arc), waiting at most `timeout`
    /// (measured as by [`lock_timeout`](Self::lock_timeout)).
    ///
    /// # Errors
    /// [`LockError::TimedOut`] if the time ran out, and as
    /// [`lock_for_repair_arc`](Self::lock_for_repair_arc).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use shmarray::LockError;
    /// let arr = Arc::new(shmarray::SharedArray::<f32>::new(1)?);
    /// let held = arr.lock_for_repair_arc_timeout(Duration::from_millis(10)).unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let again = arr.lock_for_repair_arc_timeout(Duration::from_millis(10));
    ///         assert!(matches!(again, Err(LockError::TimedOut)));
    ///     });
    /// });
    /// # drop(held);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn lock_for_repair_arc_timeout(
        self: &Arc<Self>,
        timeout: std::time::Duration,
    ) -> Result<ArcArrayGuard<T>, LockError> {
        ArcArrayGuard::take(self, |array| array.lock_for_repair_timeout(timeout))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_guard_keeps_the_array_alive_after_the_last_other_reference_is_dropped() {
        let arr = Arc::new(SharedArray::<u64>::new(3).unwrap());
        let held = arr.lock_for_repair_arc().unwrap();
        let weak = Arc::downgrade(&arr);
        drop(arr);
        held.guard().set(2, 9);
        assert_eq!(held.guard().to_vec(), [0, 0, 9]);
        assert!(
            weak.upgrade().is_some(),
            "the guard holds a strong reference"
        );
        drop(held);
        assert!(weak.upgrade().is_none(), "the guard released its reference");
    }

    #[test]
    fn dropping_the_guard_releases_the_lock_and_publishes_to_snapshots() {
        let arr = Arc::new(SharedArray::<i32>::new(2).unwrap());
        let held = arr.lock_for_repair_arc().unwrap();
        held.guard().copy_from_slice(&[4, 5]);
        let other_thread_would_block = std::thread::scope(|s| {
            s.spawn(|| matches!(arr.try_lock_for_repair_arc(), Err(LockError::WouldBlock)))
                .join()
                .unwrap()
        });
        assert!(other_thread_would_block);
        drop(held);
        assert_eq!(arr.snapshot().unwrap(), [4, 5]);
        assert!(arr.try_lock_for_repair_arc().is_ok());
    }

    #[test]
    fn a_thread_that_dies_holding_the_lock_is_reported_and_repaired() {
        let arr = Arc::new(SharedArray::<u16>::new(2).unwrap());
        std::thread::scope(|s| {
            s.spawn(|| {
                let held = arr.lock_for_repair_arc().unwrap();
                held.guard().set(0, 7);
                // The thread ends still holding the lock: the robust mutex reports it.
                core::mem::forget(held);
            });
        });
        assert!(matches!(arr.lock_arc(), Err(LockError::OwnerDied)));
        assert!(matches!(arr.try_lock_arc(), Err(LockError::OwnerDied)));
        let mut held = arr.lock_for_repair_arc().unwrap();
        assert!(held.owner_died());
        held.guard().set(1, 7);
        held.make_consistent();
        assert!(!held.owner_died());
        drop(held);
        assert!(!arr.lock_arc().unwrap().owner_died());
        assert_eq!(arr.snapshot().unwrap(), [7, 7]);
    }

    #[test]
    fn relocking_on_the_same_thread_is_deadlock_not_a_hang() {
        let arr = Arc::new(SharedArray::<u8>::new(1).unwrap());
        let _held = arr.lock_for_repair_arc().unwrap();
        assert!(matches!(
            arr.lock_for_repair_arc(),
            Err(LockError::Deadlock)
        ));
        assert!(matches!(
            arr.try_lock_for_repair_arc(),
            Err(LockError::Deadlock)
        ));
    }
}
