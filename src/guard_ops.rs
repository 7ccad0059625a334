//! The array's element read-modify-writes on a held [`ArrayGuard`], so that a locked loop
//! never has to fall back to the lock-free calls and choose an ordering.
//!
//! Every one is the same atomic read-modify-write as the array's own operation, with
//! Relaxed ordering: the lock orders it for other lock holders (the mutex's acquire and
//! release) and for snapshot readers (the seqlock's fences in `seqlock.rs`). Being atomic,
//! none of them loses a lock-free write that another process makes to the same element at
//! the same moment, exactly like [`ArrayGuard::add`].

use crate::element::{Element, Integer};
use crate::guard::ArrayGuard;
use crate::sync::Ordering::Relaxed;

impl<T: Element> ArrayGuard<'_, T> {
    /// Subtracts `value` from element `index` and returns the previous value (wrapping for
    /// integers), as [`SharedArray::fetch_sub`](crate::SharedArray::fetch_sub) under the lock.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[5u32])?;
    /// assert_eq!(arr.lock()?.sub(0, 2), 5);
    /// assert_eq!(arr.get(0), Some(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn sub(&self, index: usize, value: T) -> T {
        // Relaxed: ordered by the lock and the seqlock (module docs).
        self.array().fetch_sub(index, value, Relaxed)
    }

    /// Stores `value` in element `index` and returns the previous value, as
    /// [`SharedArray::swap`](crate::SharedArray::swap) under the lock.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[1i64, 2])?;
    /// assert_eq!(arr.lock()?.swap(1, 9), 2);
    /// assert_eq!(arr.snapshot()?, [1, 9]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn swap(&self, index: usize, value: T) -> T {
        // Relaxed: as in `sub`.
        self.array().swap(index, value, Relaxed)
    }

    /// Stores the larger of element `index` and `value`, returning the previous value, as
    /// [`SharedArray::fetch_max`](crate::SharedArray::fetch_max) under the lock (floats:
    /// `f64::max`).
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[3u8])?;
    /// let guard = arr.lock()?;
    /// assert_eq!(guard.fetch_max(0, 7), 3);
    /// assert_eq!(guard.fetch_max(0, 5), 7);
    /// assert_eq!(guard.get(0), 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_max(&self, index: usize, value: T) -> T {
        // Relaxed: as in `sub`.
        self.array().fetch_max(index, value, Relaxed)
    }

    /// Stores the smaller of element `index` and `value`, returning the previous value, as
    /// [`SharedArray::fetch_min`](crate::SharedArray::fetch_min) under the lock (floats:
    /// `f64::min`).
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[1.5f32])?;
    /// assert_eq!(arr.lock()?.fetch_min(0, -2.0), 1.5);
    /// assert_eq!(arr.get(0), Some(-2.0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_min(&self, index: usize, value: T) -> T {
        // Relaxed: as in `sub`.
        self.array().fetch_min(index, value, Relaxed)
    }

    /// Stores `new` in element `index` if it holds `current` (floats: the same bit
    /// pattern), as [`SharedArray::compare_exchange`](crate::SharedArray::compare_exchange)
    /// under the lock. `Ok(previous)` if it stored, `Err(actual)` if not.
    ///
    /// Under the lock only a lock-free writer can make it fail; with no lock-free writers a
    /// [`get`](Self::get) and a [`set`](Self::set) do the same more cheaply.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[4u16])?;
    /// let guard = arr.lock()?;
    /// assert_eq!(guard.compare_exchange(0, 4, 5), Ok(4));
    /// assert_eq!(guard.compare_exchange(0, 4, 6), Err(5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn compare_exchange(&self, index: usize, current: T, new: T) -> Result<T, T> {
        // Relaxed on success and failure: as in `sub`; a failure reads a value some
        // lock-free writer stored, which the caller orders through its own protocol if any.
        self.array()
            .compare_exchange(index, current, new, Relaxed, Relaxed)
    }
}

impl<T: Integer> ArrayGuard<'_, T> {
    /// Bitwise "and" of element `index` with `value`, returning the previous value, as
    /// [`SharedArray::fetch_and`](crate::SharedArray::fetch_and) under the lock.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[0b1100u8])?;
    /// assert_eq!(arr.lock()?.fetch_and(0, 0b0110), 0b1100);
    /// assert_eq!(arr.get(0), Some(0b0100));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_and(&self, index: usize, value: T) -> T {
        // Relaxed: as in `sub`.
        self.array().fetch_and(index, value, Relaxed)
    }

    /// Bitwise "or", as [`fetch_and`](Self::fetch_and).
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[0b1100u8])?;
    /// assert_eq!(arr.lock()?.fetch_or(0, 0b0110), 0b1100);
    /// assert_eq!(arr.get(0), Some(0b1110));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_or(&self, index: usize, value: T) -> T {
        // Relaxed: as in `sub`.
        self.array().fetch_or(index, value, Relaxed)
    }

    /// Bitwise "xor", as [`fetch_and`](Self::fetch_and).
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[0b1100u8])?;
    /// assert_eq!(arr.lock()?.fetch_xor(0, 0b0110), 0b1100);
    /// assert_eq!(arr.get(0), Some(0b1010));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_xor(&self, index: usize, value: T) -> T {
        // Relaxed: as in `sub`.
        self.array().fetch_xor(index, value, Relaxed)
    }

    /// Bitwise "nand" (`!(old & value)`), as [`fetch_and`](Self::fetch_and).
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[0b1100u8])?;
    /// assert_eq!(arr.lock()?.fetch_nand(0, 0b0110), 0b1100);
    /// assert_eq!(arr.get(0), Some(!0b0100));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_nand(&self, index: usize, value: T) -> T {
        // Relaxed: as in `sub`.
        self.array().fetch_nand(index, value, Relaxed)
    }
}
