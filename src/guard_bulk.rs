//! Bulk operations on a held [`ArrayGuard`]: whole-array and range updates, fill, and copies
//! in and out, each one walk over the cells.
//!
//! # Why they exist
//! A loop of `guard.add(i, 1)` pays an atomic read-modify-write (`lock xadd` on x86) per
//! element, and an index loop of `guard.set(i, guard.get(i) + 1)` reloads the array's cell
//! pointer and length and bounds-checks on every element, because the compiler cannot prove
//! that a store to a cell did not change them. The methods here take the cell slice once and
//! walk it, with a Relaxed load and a Relaxed store per element: the code a raw mutex around
//! a loop of Relaxed atomics compiles to.
//!
//! # What a Relaxed load + store means beside lock-free writers
//! The lock excludes every other lock user, so for them a bulk update is exactly as atomic
//! as a loop of read-modify-writes, and all-or-nothing to snapshots. It does **not** exclude
//! lock-free writers ([`SharedArray::fetch_add`](crate::SharedArray::fetch_add) and friends,
//! from any process). Between the load and the store of one element, such a writer can change
//! that element; the store then overwrites its change, which is lost. For example, an
//! `update_each(|v| v + 1)` racing with a lock-free `fetch_add(i, 5)` can leave element `i`
//! one higher than before instead of six. (No memory unsafety and no torn value: each load
//! and store is still atomic.)
//!
//! So: use `update_each`/`update_range` when every writer of the array takes the lock (or
//! when losing such a race is acceptable), and [`ArrayGuard::add`] (an atomic RMW) in code
//! that mixes locked and lock-free writers. `fill` and `copy_from_slice` only store, so a
//! concurrent lock-free write is ordered before (overwritten, as with any later store) or
//! after (kept) each element's store; nothing is read and written back.
//!
//! Every element is still an atomic cell: reading and writing them with plain or volatile
//! accesses would be undefined behaviour whenever another process may write them.

use crate::element::Element;
use crate::guard::ArrayGuard;
use crate::sync::Ordering;
use core::ops::{Bound, RangeBounds};

/// The range `range` of a slice of `len`, checked as slice indexing checks it.
#[track_caller]
fn bounds(range: impl RangeBounds<usize>, len: usize) -> core::ops::Range<usize> {
    let start = match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s
            .checked_add(1)
            .unwrap_or_else(|| panic!("range start {s} overflows usize")),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e
            .checked_add(1)
            .unwrap_or_else(|| panic!("range end {e} overflows usize")),
        Bound::Excluded(&e) => e,
        Bound::Unbounded => len,
    };
    if start > end {
        panic!("range starts at {start} but ends at {end}");
    }
    if end > len {
        panic!("range end {end} out of range for an array of length {len}");
    }
    start..end
}

impl<T: Element> ArrayGuard<'_, T> {
    /// Replaces every element `v` with `f(v)`, in index order, in one walk over the cells.
    ///
    /// Each element is a Relaxed load and a Relaxed store, not a read-modify-write: other
    /// lock users and snapshot readers see the whole update at once (when the guard drops),
    /// but a **lock-free** write ([`SharedArray::fetch_add`](crate::SharedArray::fetch_add)
    /// and friends) that lands on an element between its load and its store is lost, because
    /// the store overwrites it. Use it when every writer takes the lock; where locked and
    /// lock-free writers mix, use [`add`](Self::add) and the other atomic read-modify-writes.
    ///
    /// `f` runs with the lock held: keep it short, and do not lock the array inside it (that
    /// is [`LockError::Deadlock`](crate::LockError::Deadlock)).
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[1u64, 2, 3])?;
    /// arr.lock()?.update_each(|v| v * 10);
    /// assert_eq!(arr.snapshot()?, [10, 20, 30]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn update_each(&self, f: impl FnMut(T) -> T) {
        update(self.array().cells(), f);
    }

    /// As [`update_each`](Self::update_each), on the elements in `range` only.
    ///
    /// # Panics
    /// If the range is out of bounds or decreasing, as slice indexing does.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[1i32, 2, 3, 4])?;
    /// arr.lock()?.update_range(1..3, |v| -v);
    /// assert_eq!(arr.snapshot()?, [1, -2, -3, 4]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn update_range(&self, range: impl RangeBounds<usize>, f: impl FnMut(T) -> T) {
        let cells = self.array().cells();
        update(&cells[bounds(range, cells.len())], f);
    }

    /// Sets every element to `value` (Relaxed stores; see [`update_each`](Self::update_each)
    /// for what that means beside lock-free writers).
    ///
    /// ```
    /// let arr = shmarray::SharedArray::<f64>::new(3)?;
    /// arr.lock()?.fill(0.5);
    /// assert_eq!(arr.snapshot()?, [0.5, 0.5, 0.5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn fill(&self, value: T) {
        for cell in self.array().cells() {
            // Relaxed: ordered after the odd seqlock value by the Release fence in
            // `SeqCount::begin_write`, published by the Release store in `end_write`, and
            // ordered for the next lock holder by the mutex.
            T::store(cell, value, Ordering::Relaxed);
        }
    }

    /// Copies every element into `out`, in one walk: with the lock held, a copy consistent
    /// with respect to every other lock user (lock-free writers can still change elements
    /// during the copy; [`snapshot`](crate::SharedArray::snapshot) has the same limit).
    ///
    /// # Panics
    /// If `out.len() != len`, as `slice::copy_from_slice`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[7u8, 8, 9])?;
    /// let mut out = [0; 3];
    /// arr.lock()?.copy_to_slice(&mut out);
    /// assert_eq!(out, [7, 8, 9]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn copy_to_slice(&self, out: &mut [T]) {
        let cells = self.array().cells();
        if out.len() != cells.len() {
            length_mismatch(cells.len(), out.len());
        }
        for (o, cell) in out.iter_mut().zip(cells) {
            // Relaxed: the lock orders these loads after every earlier holder's stores.
            *o = T::load(cell, Ordering::Relaxed);
        }
    }
}

/// The one walk behind `update_each` and `update_range`.
#[inline(always)]
fn update<T: Element>(cells: &[T::Atomic], mut f: impl FnMut(T) -> T) {
    for cell in cells {
        // Relaxed: the lock orders the load after every earlier holder's stores; the store
        // is ordered as in `fill`. Not a read-modify-write: see the module docs.
        let v = T::load(cell, Ordering::Relaxed);
        T::store(cell, f(v), Ordering::Relaxed);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn length_mismatch(len: usize, found: usize) -> ! {
    panic!("destination slice length ({found}) does not match array length ({len})")
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::bounds;

    #[test]
    fn bounds_follow_slice_indexing() {
        assert_eq!(bounds(.., 4), 0..4);
        assert_eq!(bounds(1..=2, 4), 1..3);
        assert_eq!(bounds(4.., 4), 4..4);
        assert_eq!(
            bounds(
                (core::ops::Bound::Excluded(0), core::ops::Bound::Unbounded),
                4
            ),
            1..4
        );
        for bad in [
            std::panic::catch_unwind(|| bounds(3..core::hint::black_box(2), 4)),
            std::panic::catch_unwind(|| bounds(0..5, 4)),
            std::panic::catch_unwind(|| bounds(..=usize::MAX, 4)),
        ] {
            assert!(bad.is_err());
        }
    }
}
