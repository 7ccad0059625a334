//! [`SharedArray`]: the array itself, its constructors and its lock-free element operations.

use crate::control::{Control, HandleId};
use crate::element::{Element, Integer, TypeCode};
use crate::error::CreateError;
use crate::heap::HeapStorage;
use crate::seqlock::Seqlock;
use crate::storage::Storage;
use crate::sync::Ordering;
use core::fmt;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use crate::origin::Origin;
#[cfg(not(loom))]
use crate::{
    backing,
    error::OpenError,
    header::{Shape, DATA_OFFSET},
    layout::Layout,
    region::Region,
    region_options::RegionOptions,
};
use std::path::Path;
#[cfg(not(loom))]
use std::time::Duration;

/// How long opening waits, in all, for a region's "in use" lock (held exclusively for a
/// moment by a remover or by an opener reclaiming a stale lock), for its file to be sized and
/// for its creator to finish initialising it: **1 second**. [`SharedArray::open`] and
/// [`SharedArray::open_file`] use it; [`ArrayOptions::open_timeout`](crate::ArrayOptions::open_timeout) sets another.
///
/// ```
/// assert_eq!(shmarray::DEFAULT_OPEN_TIMEOUT, std::time::Duration::from_secs(1));
/// ```
pub const DEFAULT_OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// A fixed-length array of numbers shared between processes, every element an atomic cell.
///
/// The element operations (`load`, `store`, `fetch_add`, ...) are those of
/// `std::sync::atomic`, one atomic instruction each, lock-free, and take the same
/// [`Ordering`](std::sync::atomic::Ordering)s. Whole-loop atomicity comes from
/// [`lock`](SharedArray::lock), and consistent whole-array copies from
/// [`snapshot`](SharedArray::snapshot). The crate docs compare the access paths.
///
/// An index out of bounds panics, as slice indexing does; [`get`](SharedArray::get) returns
/// `None` instead.
///
/// # Where the memory lives
/// | constructor | memory | who can attach |
/// |---|---|---|
/// | [`new`](Self::new), [`from_slice`](Self::from_slice) | sealed anonymous memfd | children after `fork` |
/// | [`create`](Self::create), [`open`](Self::open) | POSIX shared memory (`/dev/shm`) | any process that knows the name |
/// | [`create_file`](Self::create_file), [`open_file`](Self::open_file) | a regular file | any process that can open it |
/// | [`new_heap`](Self::new_heap), [`from_slice_heap`](Self::from_slice_heap) | this process's heap | threads of this process |
///
/// ```
/// use shmarray::SharedArray;
/// use std::sync::atomic::Ordering::Relaxed;
///
/// let arr = SharedArray::<u64>::new(4)?;
/// arr.fetch_add(2, 5, Relaxed);
/// assert_eq!(arr.to_vec(), [0, 0, 5, 0]);
/// # Ok::<(), shmarray::CreateError>(())
/// ```
pub struct SharedArray<T: Element> {
    // No field is interior-mutable (all shared state lives behind the pointers), so
    // `&SharedArray` is a read-only reference to the compiler: in a caller's loop the cell
    // pointer and length stay in registers, and an index loop of `fetch_add` compiles as a
    // loop over a bare `&[AtomicU64]` does. Per-handle state that changes belongs in the
    // control block or the storage, not here.
    cells: NonNull<T::Atomic>,
    len: usize,
    control: NonNull<Control>,
    /// This handle's number in this process: with the process ID, the [`HandleId`] its
    /// guards record in the control block, so that dropping the handle can tell a
    /// forgotten guard of its own from another holder (`guard.rs`).
    pub(crate) serial: u32,
    /// Whether locked writes keep the seqlock counter, as the region's header says.
    pub(crate) seqlock: Seqlock,
    /// Dropped by `Drop for SharedArray` unless a forgotten guard of another thread still
    /// holds the lock, in which case it is leaked.
    _storage: ManuallyDrop<Storage<HeapStorage<T>>>,
}

impl<T: Element> Drop for SharedArray<T> {
    fn drop(&mut self) {
        if self.release_forgotten_guard() {
            // SAFETY: dropped once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self._storage) };
        }
    }
}

// SAFETY: every access to the cells and the control block goes through atomics or the
// process-shared pthread mutex, which are made for use from any thread; the storage is
// freed only by drop, which needs ownership.
unsafe impl<T: Element> Send for SharedArray<T> {}
// SAFETY: as above: `&SharedArray` gives only atomic or mutex-synchronised access.
unsafe impl<T: Element> Sync for SharedArray<T> {}

/// A new handle's serial number. Caches the process ID first, so that no guard of the
/// handle can find it missing (`pid::cached`).
fn new_handle_serial() -> u32 {
    crate::pid::current();
    crate::sync::next_handle_serial()
}

impl<T: Element> SharedArray<T> {
    /// The ID of this handle in the process with ID `pid` (see `control::HandleId`).
    #[inline(always)]
    pub(crate) fn handle_id(&self, pid: u32) -> HandleId {
        (u64::from(pid) << 32) | u64::from(self.serial)
    }
}

#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn index_out_of_bounds(index: usize, len: usize) -> ! {
    panic!("index out of bounds: the len is {len} but the index is {index}")
}

impl<T: Element> SharedArray<T> {
    fn from_heap(storage: HeapStorage<T>, seqlock: Seqlock) -> SharedArray<T> {
        SharedArray {
            cells: storage.cells.cast::<T::Atomic>(),
            len: storage.cells.len(),
            control: storage.control,
            serial: new_handle_serial(),
            seqlock,
            _storage: ManuallyDrop::new(Storage::Heap(storage)),
        }
    }

    /// An array of `len` zeros in this process's heap: not shared with other processes, but
    /// running the same code as a shared one (what the crate's loom models and property tests
    /// use).
    ///
    /// # Errors
    /// [`CreateError::TooLarge`] if `len` cells need more than `isize::MAX` bytes,
    /// [`CreateError::OutOfSpace`] if the allocator cannot give them (both checked before
    /// anything is written: no panic, no abort), [`CreateError::Io`] if the lock cannot be
    /// initialised.
    ///
    /// ```
    /// use shmarray::{CreateError, SharedArray};
    /// assert!(matches!(
    ///     SharedArray::<u64>::new_heap(usize::MAX / 2),
    ///     Err(CreateError::TooLarge { .. })
    /// ));
    /// let arr = shmarray::SharedArray::<i32>::new_heap(3)?;
    /// assert_eq!(arr.to_vec(), [0, 0, 0]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn new_heap(len: usize) -> Result<SharedArray<T>, CreateError> {
        Self::heap_from(len, core::iter::repeat_n(T::default(), len), Seqlock::On)
    }

    /// An array holding a copy of `values` in this process's heap; see
    /// [`new_heap`](Self::new_heap).
    ///
    /// # Errors
    /// As [`new_heap`](Self::new_heap).
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice_heap(&[1.5f32, 2.5])?;
    /// assert_eq!(arr.to_vec(), [1.5, 2.5]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn from_slice_heap(values: &[T]) -> Result<SharedArray<T>, CreateError> {
        Self::heap_from(values.len(), values.iter().copied(), Seqlock::On)
    }

    pub(crate) fn heap_from(
        len: usize,
        values: impl Iterator<Item = T>,
        seqlock: Seqlock,
    ) -> Result<SharedArray<T>, CreateError> {
        HeapStorage::new(len, values).map(|storage| Self::from_heap(storage, seqlock))
    }

    /// The number of elements.
    ///
    /// ```
    /// assert_eq!(shmarray::SharedArray::<u8>::new(7)?.len(), 7);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if the array has no elements.
    ///
    /// ```
    /// assert!(shmarray::SharedArray::<u8>::new(0)?.is_empty());
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The element type's Python type code, as recorded in the region header.
    ///
    /// ```
    /// use shmarray::{SharedArray, TypeCode};
    /// assert_eq!(SharedArray::<f64>::new(1)?.type_code(), TypeCode::F64);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn type_code(&self) -> TypeCode {
        T::TYPE_CODE
    }

    /// True if locked writes keep the seqlock counter, so that
    /// [`snapshot`](Self::snapshot) can read without taking the lock: the default, chosen
    /// when the region was created ([`ArrayOptions::seqlock`](crate::ArrayOptions::seqlock))
    /// and read from its header by every opener.
    ///
    /// ```
    /// use shmarray::SharedArray;
    /// assert!(SharedArray::<u8>::new(1)?.has_seqlock());
    /// assert!(!SharedArray::<u8>::options().seqlock(false).anonymous(1)?.has_seqlock());
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn has_seqlock(&self) -> bool {
        self.seqlock == Seqlock::On
    }

    /// The cells as a slice of atomics.
    #[inline(always)]
    pub(crate) fn cells(&self) -> &[T::Atomic] {
        // SAFETY: `cells` points to `len` initialised, aligned cells (heap: from a boxed
        // slice; mapped: zero-filled or initialised by the creator, checked to lie within the
        // mapping by `Region::attach`), alive as long as `self`'s storage. Atomics may be
        // shared by reference.
        unsafe { core::slice::from_raw_parts(self.cells.as_ptr(), self.len) }
    }

    #[inline(always)]
    #[track_caller]
    fn cell(&self, index: usize) -> &T::Atomic {
        match self.cells().get(index) {
            Some(cell) => cell,
            None => index_out_of_bounds(index, self.len),
        }
    }

    /// The control block: the lock and the seqlock counter.
    #[inline(always)]
    pub(crate) fn control(&self) -> &Control {
        // SAFETY: `control` points to an initialised control block that lives as long as
        // `self`'s storage (heap: boxed; mapped: inside the validated header).
        unsafe { self.control.as_ref() }
    }

    /// Loads element `index`, as [`AtomicU64::load`](std::sync::atomic::AtomicU64::load).
    ///
    /// # Panics
    /// If `index >= len`, or `order` is `Release` or `AcqRel`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Acquire;
    /// let arr = shmarray::SharedArray::from_slice(&[3i16, 4])?;
    /// assert_eq!(arr.load(1, Acquire), 4);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn load(&self, index: usize, order: Ordering) -> T {
        T::load(self.cell(index), order)
    }

    /// Stores `value` into element `index`, as `Atomic*::store`.
    ///
    /// # Panics
    /// If `index >= len`, or `order` is `Acquire` or `AcqRel`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::{Acquire, Release};
    /// let arr = shmarray::SharedArray::<u32>::new(2)?;
    /// arr.store(0, 9, Release);
    /// assert_eq!(arr.load(0, Acquire), 9);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn store(&self, index: usize, value: T, order: Ordering) {
        T::store(self.cell(index), value, order)
    }

    /// Stores `value` into element `index` and returns the previous value, as
    /// `Atomic*::swap`.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::AcqRel;
    /// let arr = shmarray::SharedArray::from_slice(&[1u8])?;
    /// assert_eq!(arr.swap(0, 2, AcqRel), 1);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn swap(&self, index: usize, value: T, order: Ordering) -> T {
        T::swap(self.cell(index), value, order)
    }

    /// Stores `new` into element `index` if it holds `current`, as
    /// `Atomic*::compare_exchange`. Floats are compared by bit pattern (so `-0.0` does not
    /// match `0.0`, and a NaN matches the same NaN).
    ///
    /// # Panics
    /// If `index >= len`, or `failure` is `Release` or `AcqRel`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::{AcqRel, Acquire};
    /// let arr = shmarray::SharedArray::from_slice(&[5i64])?;
    /// assert_eq!(arr.compare_exchange(0, 5, 6, AcqRel, Acquire), Ok(5));
    /// assert_eq!(arr.compare_exchange(0, 5, 7, AcqRel, Acquire), Err(6));
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn compare_exchange(
        &self,
        index: usize,
        current: T,
        new: T,
        success: Ordering,
        failure: Ordering,
    ) -> Result<T, T> {
        T::compare_exchange(self.cell(index), current, new, success, failure)
    }

    /// As [`compare_exchange`](Self::compare_exchange), but may fail spuriously: for use in
    /// a retry loop.
    ///
    /// # Panics
    /// If `index >= len`, or `failure` is `Release` or `AcqRel`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// let arr = shmarray::SharedArray::from_slice(&[1u16])?;
    /// let mut old = arr.load(0, Relaxed);
    /// while let Err(now) = arr.compare_exchange_weak(0, old, old * 10, Relaxed, Relaxed) {
    ///     old = now;
    /// }
    /// assert_eq!(arr.load(0, Relaxed), 10);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn compare_exchange_weak(
        &self,
        index: usize,
        current: T,
        new: T,
        success: Ordering,
        failure: Ordering,
    ) -> Result<T, T> {
        T::compare_exchange_weak(self.cell(index), current, new, success, failure)
    }

    /// Adds `value` to element `index` and returns the previous value. Integers wrap on
    /// overflow, as `Atomic*::fetch_add`; floats add with IEEE rounding, as a
    /// compare-exchange loop.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// let arr = shmarray::SharedArray::<i8>::from_slice(&[127])?;
    /// assert_eq!(arr.fetch_add(0, 1, Relaxed), 127);
    /// assert_eq!(arr.load(0, Relaxed), -128);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_add(&self, index: usize, value: T, order: Ordering) -> T {
        T::fetch_add(self.cell(index), value, order)
    }

    /// Subtracts `value` from element `index` and returns the previous value (wrapping for
    /// integers).
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// let arr = shmarray::SharedArray::<f64>::from_slice(&[1.0])?;
    /// assert_eq!(arr.fetch_sub(0, 0.25, Relaxed), 1.0);
    /// assert_eq!(arr.load(0, Relaxed), 0.75);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_sub(&self, index: usize, value: T, order: Ordering) -> T {
        T::fetch_sub(self.cell(index), value, order)
    }

    /// Stores the maximum of element `index` and `value`, returning the previous value.
    /// Floats follow [`f64::max`]: a NaN operand is ignored in favour of the other.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// let arr = shmarray::SharedArray::<u32>::from_slice(&[3])?;
    /// arr.fetch_max(0, 8, Relaxed);
    /// arr.fetch_max(0, 5, Relaxed);
    /// assert_eq!(arr.load(0, Relaxed), 8);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_max(&self, index: usize, value: T, order: Ordering) -> T {
        T::fetch_max(self.cell(index), value, order)
    }

    /// Stores the minimum of element `index` and `value`, returning the previous value.
    /// Floats follow [`f64::min`].
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// let arr = shmarray::SharedArray::<i32>::from_slice(&[3])?;
    /// arr.fetch_min(0, -2, Relaxed);
    /// assert_eq!(arr.load(0, Relaxed), -2);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_min(&self, index: usize, value: T, order: Ordering) -> T {
        T::fetch_min(self.cell(index), value, order)
    }

    /// Applies `f` to element `index` until it succeeds or `f` returns `None`, as
    /// `Atomic*::fetch_update`: a compare-exchange loop, so `f` may run several times.
    ///
    /// # Errors
    /// `Err(previous)` if `f` returned `None`.
    ///
    /// # Panics
    /// If `index >= len`, or `fetch_order` is `Release` or `AcqRel`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::{AcqRel, Acquire};
    /// let arr = shmarray::SharedArray::<u64>::from_slice(&[7])?;
    /// // Saturating decrement.
    /// let dec = |x: u64| x.checked_sub(1);
    /// assert_eq!(arr.fetch_update(0, AcqRel, Acquire, dec), Ok(7));
    /// assert_eq!(arr.load(0, Acquire), 6);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_update<F>(
        &self,
        index: usize,
        set_order: Ordering,
        fetch_order: Ordering,
        mut f: F,
    ) -> Result<T, T>
    where
        F: FnMut(T) -> Option<T>,
    {
        let cell = self.cell(index);
        let mut prev = T::load(cell, fetch_order);
        while let Some(next) = f(prev) {
            match T::compare_exchange_weak(cell, prev, next, set_order, fetch_order) {
                Ok(x) => return Ok(x),
                Err(now) => prev = now,
            }
        }
        Err(prev)
    }

    /// Element `index` (an Acquire load), or `None` if out of bounds.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[1u8, 2])?;
    /// assert_eq!(arr.get(1), Some(2));
    /// assert_eq!(arr.get(2), None);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn get(&self, index: usize) -> Option<T> {
        // Acquire: pairs with a Release store or read-modify-write by whoever wrote the cell,
        // so a reader of a value also sees what its writer did before it.
        self.cells()
            .get(index)
            .map(|cell| T::load(cell, Ordering::Acquire))
    }

    /// Every element, each read by its own Acquire load.
    ///
    /// This is **not** a consistent snapshot: other processes may write between the loads,
    /// so the result may mix states that never existed together. Use
    /// [`snapshot`](Self::snapshot) for that.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[1i32, -1])?;
    /// assert_eq!(arr.to_vec(), vec![1, -1]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().collect()
    }

    /// An iterator over the elements, each read by its own Acquire load when the iterator
    /// reaches it: like [`to_vec`](Self::to_vec), not a consistent snapshot.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[1u64, 2, 3])?;
    /// assert_eq!(arr.iter().sum::<u64>(), 6);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = T> + DoubleEndedIterator + '_ {
        // Acquire: as in `get`.
        self.cells()
            .iter()
            .map(|cell| T::load(cell, Ordering::Acquire))
    }
}

impl<T: Integer> SharedArray<T> {
    /// Bitwise "and" of element `index` with `value`; returns the previous value.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// let arr = shmarray::SharedArray::from_slice(&[0b1010u8])?;
    /// assert_eq!(arr.fetch_and(0, 0b0110, Relaxed), 0b1010);
    /// assert_eq!(arr.load(0, Relaxed), 0b0010);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_and(&self, index: usize, value: T, order: Ordering) -> T {
        T::fetch_and(self.cell(index), value, order)
    }

    /// Bitwise "or"; returns the previous value.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// let arr = shmarray::SharedArray::from_slice(&[0b1000u16])?;
    /// arr.fetch_or(0, 0b0001, Relaxed);
    /// assert_eq!(arr.load(0, Relaxed), 0b1001);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_or(&self, index: usize, value: T, order: Ordering) -> T {
        T::fetch_or(self.cell(index), value, order)
    }

    /// Bitwise "xor"; returns the previous value.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// let arr = shmarray::SharedArray::from_slice(&[0b1100i32])?;
    /// arr.fetch_xor(0, 0b0110, Relaxed);
    /// assert_eq!(arr.load(0, Relaxed), 0b1010);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_xor(&self, index: usize, value: T, order: Ordering) -> T {
        T::fetch_xor(self.cell(index), value, order)
    }

    /// Bitwise "nand"; returns the previous value.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// let arr = shmarray::SharedArray::from_slice(&[0b1100u8])?;
    /// arr.fetch_nand(0, 0b1010, Relaxed);
    /// assert_eq!(arr.load(0, Relaxed), !0b1000u8);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn fetch_nand(&self, index: usize, value: T, order: Ordering) -> T {
        T::fetch_nand(self.cell(index), value, order)
    }
}

#[cfg(not(loom))]
impl<T: Element> SharedArray<T> {
    fn shape(len: usize) -> Shape {
        Shape::of::<T>(Layout::Dense, len, 1)
    }

    /// The array over `region`, whose header describes `shape`.
    fn from_region(region: Region, shape: Shape) -> SharedArray<T> {
        SharedArray {
            cells: NonNull::new(region.cells_ptr().cast::<T::Atomic>())
                .expect("a mapping is never at address zero"),
            len: shape.len,
            control: NonNull::from(region.header().control()),
            serial: new_handle_serial(),
            seqlock: shape.seqlock(),
            _storage: ManuallyDrop::new(Storage::Mapped(region)),
        }
    }

    /// Creates a region at `origin`, writes its header and `init` into its cells, and
    /// publishes it.
    fn make(
        origin: Origin,
        len: usize,
        init: Option<&[T]>,
        opts: &RegionOptions,
        seqlock: Seqlock,
    ) -> Result<SharedArray<T>, CreateError> {
        const { assert!(DATA_OFFSET % core::mem::align_of::<T::Atomic>() == 0) };
        let shape = Self::shape(len).with_seqlock(seqlock);
        let region = Region::create(origin, shape, opts.mode)?;
        let mut array = Self::from_region(region, shape);
        if let Some(values) = init {
            for (cell, &v) in array.cells().iter().zip(values) {
                // Relaxed: published by the Release store in `publish` below.
                T::store(cell, v, Ordering::Relaxed);
            }
        }
        if let Storage::Mapped(region) = &mut *array._storage {
            region.publish(opts.unlink_on_drop);
        }
        Ok(array)
    }

    /// Creates an anonymous array (sealed memfd): the terminal of `new` and `from_slice`.
    pub(crate) fn make_anonymous(
        len: usize,
        init: Option<&[T]>,
        seqlock: Seqlock,
    ) -> Result<SharedArray<T>, CreateError> {
        Self::make(
            Origin::Anonymous,
            len,
            init,
            &RegionOptions::default(),
            seqlock,
        )
    }

    /// Creates the named array `name`: the terminal of `create` and `create_from_slice`.
    pub(crate) fn make_named(
        name: &str,
        len: usize,
        init: Option<&[T]>,
        opts: &RegionOptions,
        seqlock: Seqlock,
    ) -> Result<SharedArray<T>, CreateError> {
        Self::make(Origin::Named(name.to_owned()), len, init, opts, seqlock)
    }

    /// Creates the array file `path`: the terminal of `create_file`.
    pub(crate) fn make_file(
        path: &Path,
        len: usize,
        opts: &RegionOptions,
        seqlock: Seqlock,
    ) -> Result<SharedArray<T>, CreateError> {
        Self::make(Origin::File(path.to_owned()), len, None, opts, seqlock)
    }

    /// Opens the named array `name`: the terminal of `open`.
    pub(crate) fn attach_named(name: &str, timeout: Duration) -> Result<SharedArray<T>, OpenError> {
        let (region, shape) = Region::open_named(name, Self::shape(0), timeout)?;
        Ok(Self::from_region(region, shape))
    }

    /// Opens the array file `path`: the terminal of `open_file`.
    pub(crate) fn attach_file(path: &Path, timeout: Duration) -> Result<SharedArray<T>, OpenError> {
        let (region, shape) = Region::open_file(path, Self::shape(0), timeout)?;
        Ok(Self::from_region(region, shape))
    }

    /// An array of `len` zeros in an anonymous shared mapping, inherited by children across
    /// `fork` (the mapping is `MAP_SHARED`, so parent and children see one array). The same
    /// as `SharedArray::options().anonymous(len)`.
    ///
    /// On Linux the memory is a `memfd` sealed against shrinking and growing: no process can
    /// truncate it under a reader.
    ///
    /// # Errors
    /// [`CreateError::TooLarge`] if the size overflows, [`CreateError::OutOfSpace`] if the
    /// memory cannot be reserved, [`CreateError::Io`] for other OS failures.
    ///
    /// A memfd has no size limit of its own, so the size is first checked against the memory
    /// and swap the system has available (`MemAvailable + SwapFree`): a region larger than
    /// that is `OutOfSpace` at once, before anything is allocated, instead of being filled
    /// until the out-of-memory killer ends the process. Named and file regions on a `tmpfs`
    /// get the same check.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::<u64>::new(1000)?;
    /// assert_eq!(arr.len(), 1000);
    /// assert!(arr.iter().all(|x| x == 0));
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn new(len: usize) -> Result<SharedArray<T>, CreateError> {
        Self::options().anonymous(len)
    }

    /// An anonymous shared array holding a copy of `values`; see [`new`](Self::new). The
    /// same as `SharedArray::options().anonymous_from_slice(values)`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    ///
    /// ```
    /// let arr = shmarray::SharedArray::from_slice(&[1i32, 2, 3])?;
    /// assert_eq!(arr.to_vec(), [1, 2, 3]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn from_slice(values: &[T]) -> Result<SharedArray<T>, CreateError> {
        Self::options().anonymous_from_slice(values)
    }

    /// Creates the named POSIX shared memory array `name` (`/dev/shm/NAME` on Linux) of
    /// `len` zeros, for unrelated processes to [`open`](Self::open). The name may start with
    /// `/`; it is created with mode 0600, never over an existing object or through a
    /// symbolic link, and its memory is reserved now, so a full `/dev/shm` is an error here
    /// rather than a `SIGBUS` later. It lives until [`unlink`](Self::unlink)ed. The same as
    /// `SharedArray::options().create(name, len)`; [`options`](Self::options) sets another
    /// mode, or removal when the array is dropped.
    ///
    /// # Errors
    /// [`CreateError::InvalidName`], [`CreateError::AlreadyExists`] (the existing object is
    /// not touched), [`CreateError::OutOfSpace`] (nothing is left behind),
    /// [`CreateError::TooLarge`], [`CreateError::Io`].
    ///
    /// ```
    /// use shmarray::SharedArray;
    /// use std::sync::atomic::Ordering::Relaxed;
    /// # let name = format!("shmarray-doc-create-{}", std::process::id());
    /// let arr = SharedArray::<u32>::create(&name, 8)?;
    /// let other = SharedArray::<u32>::open(&name)?;  // e.g. in another process
    /// other.fetch_add(3, 1, Relaxed);
    /// assert_eq!(arr.load(3, Relaxed), 1);
    /// SharedArray::<u32>::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(name: &str, len: usize) -> Result<SharedArray<T>, CreateError> {
        Self::options().create(name, len)
    }

    /// Creates the named array `name` holding a copy of `values`; see
    /// [`create`](Self::create). Openers see the values, never zeros: the region is
    /// published only once they are written. The same as
    /// `SharedArray::options().create_from_slice(name, values)`.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    ///
    /// ```
    /// use shmarray::SharedArray;
    /// # let name = format!("shmarray-doc-create-from-{}", std::process::id());
    /// let _arr = SharedArray::create_from_slice(&name, &[2.0f64, 4.0])?;
    /// assert_eq!(SharedArray::<f64>::open(&name)?.to_vec(), [2.0, 4.0]);
    /// SharedArray::<f64>::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_from_slice(name: &str, values: &[T]) -> Result<SharedArray<T>, CreateError> {
        Self::options().create_from_slice(name, values)
    }

    /// Opens the named array `name` made by [`create`](Self::create), in this or any other
    /// process, waiting up to [`DEFAULT_OPEN_TIMEOUT`] (1 s) for its creator to finish. The
    /// same as `SharedArray::options().open(name)`.
    ///
    /// # Errors
    /// [`OpenError::NotFound`], [`OpenError::InvalidName`], [`OpenError::WrongType`] if it
    /// holds another element type, [`OpenError::NotReady`] if its creator did not finish in
    /// time, and the other [`OpenError`]s for a region that is not a valid array.
    ///
    /// ```
    /// use shmarray::{OpenError, SharedArray};
    /// # let name = format!("shmarray-doc-open-{}", std::process::id());
    /// let _arr = SharedArray::<i64>::create(&name, 2)?;
    /// let err = SharedArray::<u64>::open(&name).unwrap_err();
    /// assert!(matches!(err, OpenError::WrongType { .. }));
    /// assert_eq!(
    ///     err.to_string(),
    ///     format!("region {name:?} (/dev/shm/{name}) holds i64 elements (type code 'q'), not u64 ('Q')")
    /// );
    /// assert_eq!(SharedArray::<i64>::open(&name)?.len(), 2);
    /// SharedArray::<i64>::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(name: &str) -> Result<SharedArray<T>, OpenError> {
        Self::options().open(name)
    }

    /// As [`open`](Self::open), waiting at most `timeout` for the creator. The same as
    /// `SharedArray::options().open_timeout(timeout).open(name)`.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    ///
    /// ```
    /// use std::time::Duration;
    /// let err = shmarray::SharedArray::<u8>::open_timeout("shmarray-doc-none", Duration::ZERO);
    /// assert!(err.is_err());
    /// ```
    pub fn open_timeout(name: &str, timeout: Duration) -> Result<SharedArray<T>, OpenError> {
        Self::options().open_timeout(timeout).open(name)
    }

    /// Opens the named array `name`, or creates it with `len` zeros if there is none,
    /// race-free between processes. The same as
    /// `SharedArray::options().open_or_create(name, len)`, which documents it.
    ///
    /// # Errors
    /// As [`ArrayOptions::open_or_create`](crate::ArrayOptions::open_or_create).
    ///
    /// ```
    /// # let name = format!("shmarray-doc-ooc-{}", std::process::id());
    /// let arr = shmarray::SharedArray::<u8>::open_or_create(&name, 3)?;
    /// assert!(arr.created());
    /// shmarray::SharedArray::<u8>::unlink(&name)?;
    /// # Ok::<(), shmarray::OpenError>(())
    /// ```
    pub fn open_or_create(name: &str, len: usize) -> Result<SharedArray<T>, OpenError> {
        Self::options().open_or_create(name, len)
    }

    /// Removes the name `name`. Processes that have the array open keep it until they drop
    /// it; the memory is freed after the last one does. The element type is not checked.
    ///
    /// # Errors
    /// [`OpenError::NotFound`], [`OpenError::InvalidName`], [`OpenError::Io`].
    ///
    /// ```
    /// # let name = format!("shmarray-doc-unlink-{}", std::process::id());
    /// shmarray::SharedArray::<u8>::create(&name, 1)?;
    /// shmarray::SharedArray::<u8>::unlink(&name)?;
    /// assert!(shmarray::SharedArray::<u8>::open(&name).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlink(name: &str) -> Result<(), OpenError> {
        backing::unlink_shm(name)
    }

    /// Creates an array of `len` zeros in the regular file `path` (mode 0600, never over an
    /// existing file or through a symbolic link). The file outlives the process; remove it
    /// with `std::fs::remove_file`, or make it with
    /// `SharedArray::options().unlink_on_drop(true).create_file(path, len)`.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("shmarray-doc-{}", std::process::id()));
    /// let arr = shmarray::SharedArray::<u16>::create_file(&path, 4)?;
    /// arr.store(0, 7, std::sync::atomic::Ordering::Relaxed);
    /// assert_eq!(shmarray::SharedArray::<u16>::open_file(&path)?.get(0), Some(7));
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_file(path: impl AsRef<Path>, len: usize) -> Result<SharedArray<T>, CreateError> {
        Self::options().create_file(path, len)
    }

    /// Opens an array file made by [`create_file`](Self::create_file); see
    /// [`open`](Self::open). A symbolic link at `path` is refused. The same as
    /// `SharedArray::options().open_file(path)`.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    ///
    /// ```
    /// let err = shmarray::SharedArray::<u8>::open_file("/nonexistent/shmarray").unwrap_err();
    /// assert!(matches!(err, shmarray::OpenError::NotFound { .. }));
    /// ```
    pub fn open_file(path: impl AsRef<Path>) -> Result<SharedArray<T>, OpenError> {
        Self::options().open_file(path)
    }

    /// As [`open_file`](Self::open_file), waiting at most `timeout` for the creator.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    ///
    /// ```
    /// use std::time::Duration;
    /// assert!(shmarray::SharedArray::<u8>::open_file_timeout("/nonexistent", Duration::ZERO).is_err());
    /// ```
    pub fn open_file_timeout(
        path: impl AsRef<Path>,
        timeout: Duration,
    ) -> Result<SharedArray<T>, OpenError> {
        Self::options().open_timeout(timeout).open_file(path)
    }

    /// Opens the array file `path`, or creates it with `len` zeros, race-free between
    /// processes: `SharedArray::options().open_or_create_file(path, len)`.
    ///
    /// # Errors
    /// As [`ArrayOptions::open_or_create`](crate::ArrayOptions::open_or_create).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("shmarray-doc-oocf-{}", std::process::id()));
    /// let arr = shmarray::SharedArray::<u8>::open_or_create_file(&path, 3)?;
    /// assert!(arr.created());
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_or_create_file(
        path: impl AsRef<Path>,
        len: usize,
    ) -> Result<SharedArray<T>, OpenError> {
        Self::options().open_or_create_file(path, len)
    }
}

impl<T: Element> SharedArray<T> {
    /// Where the array's memory lives; [`name`](Self::name) and [`path`](Self::path) are
    /// shorthands.
    ///
    /// ```
    /// use shmarray::{Origin, SharedArray};
    /// assert_eq!(SharedArray::<u8>::new(1)?.origin(), &Origin::Anonymous);
    /// assert_eq!(SharedArray::<u8>::new_heap(1)?.origin(), &Origin::Heap);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn origin(&self) -> &Origin {
        self._storage.origin()
    }

    /// The shared memory name, for an array made or opened by name (as given, with or
    /// without its leading `/`); `None` otherwise.
    ///
    /// ```
    /// # let name = format!("shmarray-doc-name-{}", std::process::id());
    /// let arr = shmarray::SharedArray::<u8>::options().unlink_on_drop(true).create(&name, 1)?;
    /// assert_eq!(arr.name(), Some(name.as_str()));
    /// assert_eq!(arr.path(), None);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.origin().name()
    }

    /// The file's path, for an array made or opened in a regular file; `None` otherwise.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("shmarray-doc-path-{}", std::process::id()));
    /// let arr = shmarray::SharedArray::<u8>::options().unlink_on_drop(true).create_file(&path, 1)?;
    /// assert_eq!(arr.path(), Some(path.as_path()));
    /// assert_eq!(arr.name(), None);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn path(&self) -> Option<&Path> {
        self.origin().path()
    }

    /// True if this handle made the region (every anonymous or heap array; for a named or
    /// file region, the one handle that created it rather than opened it, as
    /// [`open_or_create`](crate::ArrayOptions::open_or_create) reports).
    ///
    /// ```
    /// # let name = format!("shmarray-doc-created-{}", std::process::id());
    /// let made = shmarray::SharedArray::<u8>::options().unlink_on_drop(true).create(&name, 1)?;
    /// let opened = shmarray::SharedArray::<u8>::open(&name)?;
    /// assert!(made.created() && !opened.created());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn created(&self) -> bool {
        self._storage.created()
    }
}

impl<T: Element> fmt::Debug for SharedArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedArray")
            .field("type_code", &T::TYPE_CODE)
            .field("len", &self.len)
            .field("origin", self.origin())
            .field("created", &self.created())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "index out of bounds: the len is 3 but the index is 3")]
    fn out_of_bounds_panics_like_a_slice() {
        let arr = SharedArray::<u8>::new_heap(3).unwrap();
        arr.fetch_add(3, 1, Ordering::Relaxed);
    }

    #[test]
    fn too_large_is_an_error_not_a_panic() {
        assert!(matches!(
            SharedArray::<u64>::new(usize::MAX / 4),
            Err(CreateError::TooLarge { .. })
        ));
    }

    #[test]
    fn mapped_and_heap_arrays_agree() {
        let values = [1.5f32, -2.0, 0.0];
        let mapped = SharedArray::from_slice(&values).unwrap();
        let heap = SharedArray::from_slice_heap(&values).unwrap();
        for arr in [&mapped, &heap] {
            arr.fetch_add(1, 1.0, Ordering::Relaxed);
            arr.fetch_max(2, 9.0, Ordering::Relaxed);
        }
        assert_eq!(mapped.to_vec(), heap.to_vec());
        assert_eq!(mapped.to_vec(), [1.5, -1.0, 9.0]);
    }
}
