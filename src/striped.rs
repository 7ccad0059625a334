//! [`StripedArray`]: counters many processes add to at once, one stripe per CPU, summed on
//! read.

use crate::cpu;
use crate::element::{Element, TypeCode};
use crate::error::CreateError;
use crate::heap::AlignedCells;
use crate::layout::{stripe_cells, stripe_stride, MAX_STRIPES};
use crate::origin::Origin;
use crate::storage::Storage;
use crate::sync::Ordering;
use core::fmt;
use core::ptr::NonNull;

#[cfg(not(loom))]
use crate::region::Region;

/// A fixed-length array of counters shared between processes, built for many writers: each
/// element has one cell per *stripe*, a process adds to the stripe of the CPU it runs on,
/// and reads sum the stripes.
///
/// Two processes incrementing one [`SharedArray`](crate::SharedArray) element fight over
/// one cache line, and on many processors that makes two processes slower than one. Here
/// writers on different CPUs write different cache lines, so P writers scale like P
/// separate counters. The price: [`sum`](Self::sum) reads every stripe (`stripes` loads),
/// the memory is `len × stripes` cells, and there is no per-element compare-exchange, load
/// or store: only [`add`](Self::add)/[`sub`](Self::sub), sums and
/// [`take`](Self::take) (read and reset).
///
/// ```
/// use shmarray::StripedArray;
///
/// let hits = StripedArray::<u64>::new(3)?;        // shared with children after fork()
/// hits.add(1, 5);                                  // one atomic add, on this CPU's stripe
/// hits.add(1, 2);
/// assert_eq!(hits.sum(1), 7);
/// assert_eq!(hits.take_all(), [0, 7, 0]);          // read and reset, losing no add
/// assert_eq!(hits.sums(), [0, 0, 0]);
/// # Ok::<(), shmarray::CreateError>(())
/// ```
///
/// # Layout
/// Stripe-major: stripe `s` holds all `len` elements contiguously, and every stripe block
/// starts on its own 128-byte boundary, so a process adding on one CPU touches only its own
/// cache lines, and [`sums`](Self::sums) reads `stripes` contiguous blocks. The region
/// header records the layout and the stripe count, so every opener agrees on them, and
/// opening a striped region as a [`SharedArray`](crate::SharedArray) (or a dense one as a
/// `StripedArray`) is [`OpenError::WrongLayout`](crate::OpenError::WrongLayout).
///
/// # Stripes
/// An add goes to stripe `cpu & (stripes - 1)`, where `cpu` is the CPU the calling thread
/// runs on (`sched_getcpu`, answered by glibc from the kernel's `rseq` area without a system
/// call). A thread that migrates between reading its CPU and adding is still counted
/// exactly: the add is atomic on whichever stripe it hits; it only shares a line briefly.
/// The default stripe count gives every CPU this process may run on (`sched_getaffinity`)
/// a stripe of its own: the highest such CPU number plus one, rounded up to a power of two,
/// **at most 64** (a process allowed CPUs {0, 2} gets 4 stripes, not 2); set another with
/// [`options`](Self::options)`.stripes(n)` (a power of two up to 1024). CPUs whose numbers
/// are equal modulo the stripe count share a stripe.
///
/// # What a sum is
/// Not a linearizable snapshot (as Java's `LongAdder::sum` is not): the stripes are read
/// one after another while adds go on. A [`sum`](Self::sum) (or [`sums`](Self::sums))
/// counts every add that finished before it began, and no add that began after it ended;
/// adds concurrent with it may or may not be counted, each one wholly or not at all. Once
/// writers have stopped (joined, exited, or acknowledged through some synchronisation),
/// the sum is exact. [`take`](Self::take) returns the sum and resets the element by swapping
/// each stripe with zero, so every add lands in exactly one take or in what remains:
/// nothing is lost or counted twice.
///
/// # Orderings
/// Every operation is `Relaxed`: an add is one `fetch_add(delta, Relaxed)` on its stripe's
/// cell, a sum `Relaxed` loads, a take `Relaxed` swaps. The counts are exact (atomic
/// read-modify-writes of each cell are totally ordered), but an add publishes nothing else:
/// do not use a count to signal that other data is ready.
///
/// # Arithmetic
/// Integers wrap on overflow, as `fetch_add` does, and so does the sum of the stripes (the
/// wrapped sum of the stripes is the wrapped sum of the adds). Floats add by a
/// compare-exchange loop on the stripe's cell, and a sum adds the stripes in stripe order,
/// so float rounding depends on which stripes the adds landed on.
pub struct StripedArray<T: Element> {
    /// Stripe 0, element 0.
    base: NonNull<T::Atomic>,
    len: usize,
    /// `stripes - 1`; `stripes` is a power of two.
    mask: usize,
    /// Bytes from the start of one stripe to the next: at least `len` cells. In bytes, not
    /// cells, so that an add scales the stripe number by one multiply and no shift.
    stride: usize,
    /// How an add finds the calling thread's CPU.
    cpu: cpu::CpuSource,
    storage: Storage<AlignedCells<T>>,
}

// SAFETY: every access to the cells goes through atomics, made for use from any thread;
// the storage is freed only by drop, which needs ownership.
unsafe impl<T: Element> Send for StripedArray<T> {}
// SAFETY: as above: `&StripedArray` gives only atomic access.
unsafe impl<T: Element> Sync for StripedArray<T> {}

/// Checks a stripe count asked for a region at `origin`: a power of two from 1 to
/// [`MAX_STRIPES`].
pub(crate) fn check_stripes(
    stripes: usize,
    origin: impl FnOnce() -> Origin,
) -> Result<usize, CreateError> {
    if stripes.is_power_of_two() && stripes <= MAX_STRIPES {
        Ok(stripes)
    } else {
        Err(CreateError::InvalidStripes {
            region: origin(),
            stripes,
        })
    }
}

impl<T: Element> StripedArray<T> {
    /// An array of `len` zeros with `stripes` stripes in this process's heap: not shared
    /// with other processes, but running the same code as a shared one (what the crate's
    /// loom models and property tests use). `stripes` has been checked.
    pub(crate) fn heap(len: usize, stripes: usize) -> Result<StripedArray<T>, CreateError> {
        let too_large = || CreateError::TooLarge {
            region: Origin::Heap,
            len,
            elem_size: core::mem::size_of::<T>(),
        };
        let count = stripe_cells(len, core::mem::size_of::<T::Atomic>())
            .and_then(|stride| stride.checked_mul(stripes).map(|count| (stride, count)));
        let (stride, count) = count.ok_or_else(too_large)?;
        let cells = AlignedCells::zeros(count, too_large)?;
        Ok(StripedArray {
            base: cells.ptr,
            len,
            mask: stripes - 1,
            stride: stride * core::mem::size_of::<T::Atomic>(),
            cpu: cpu::CpuSource::find(),
            storage: Storage::Heap(cells),
        })
    }

    /// An array over a mapped region whose header (already validated or written) describes
    /// `len` elements in `stripes` stripes.
    #[cfg(not(loom))]
    pub(crate) fn from_region(region: Region, len: usize, stripes: usize) -> StripedArray<T> {
        let stride = stripe_stride(len, core::mem::size_of::<T::Atomic>())
            .expect("the header's size was checked against the file");
        StripedArray {
            base: NonNull::new(region.cells_ptr().cast::<T::Atomic>())
                .expect("a mapping is never at address zero"),
            len,
            mask: stripes - 1,
            stride,
            cpu: cpu::CpuSource::find(),
            storage: Storage::Mapped(region),
        }
    }

    /// An array of `len` zeros in this process's heap, with the default number of stripes:
    /// not shared with other processes, but running the same code as a shared one.
    ///
    /// # Errors
    /// [`CreateError::TooLarge`] if `len × stripes` cells overflow (or exceed `isize::MAX`
    /// bytes), [`CreateError::OutOfSpace`] if the allocator cannot give them; never a panic
    /// or an allocation abort.
    ///
    /// ```
    /// use shmarray::{CreateError, StripedArray};
    /// assert!(matches!(
    ///     StripedArray::<u64>::new_heap(usize::MAX / 2),
    ///     Err(CreateError::TooLarge { .. })
    /// ));
    /// let arr = shmarray::StripedArray::<i32>::new_heap(3)?;
    /// arr.sub(0, 4);
    /// assert_eq!(arr.sums(), [-4, 0, 0]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn new_heap(len: usize) -> Result<StripedArray<T>, CreateError> {
        Self::heap(len, cpu::default_stripes())
    }

    /// The number of elements.
    ///
    /// ```
    /// assert_eq!(shmarray::StripedArray::<u8>::new_heap(7)?.len(), 7);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if the array has no elements.
    ///
    /// ```
    /// assert!(shmarray::StripedArray::<u8>::new_heap(0)?.is_empty());
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of stripes: a power of two, as recorded in the region header.
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<u64>::options().stripes(4).heap(2)?;
    /// assert_eq!(arr.stripes(), 4);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn stripes(&self) -> usize {
        self.mask + 1
    }

    /// The element type's Python type code, as recorded in the region header.
    ///
    /// ```
    /// use shmarray::{StripedArray, TypeCode};
    /// assert_eq!(StripedArray::<f64>::new_heap(1)?.type_code(), TypeCode::F64);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    pub fn type_code(&self) -> TypeCode {
        T::TYPE_CODE
    }

    /// Where the array lives: the heap, an anonymous mapping, a shared memory name or a
    /// file, as [`SharedArray::origin`](crate::SharedArray::origin).
    ///
    /// ```
    /// use shmarray::{Origin, StripedArray};
    /// assert_eq!(StripedArray::<u8>::new(1)?.origin(), &Origin::Anonymous);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn origin(&self) -> &Origin {
        self.storage.origin()
    }

    /// The shared memory name, for an array made or opened by name; `None` otherwise.
    ///
    /// ```
    /// # let name = format!("shmarray-doc-striped-name-{}", std::process::id());
    /// let arr = shmarray::StripedArray::<u8>::options().unlink_on_drop(true).create(&name, 1)?;
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
    /// # let path = std::env::temp_dir().join(format!("shmarray-doc-striped-path-{}", std::process::id()));
    /// let arr = shmarray::StripedArray::<u8>::options().unlink_on_drop(true).create_file(&path, 1)?;
    /// assert_eq!(arr.path(), Some(path.as_path()));
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn path(&self) -> Option<&std::path::Path> {
        self.origin().path()
    }

    /// True if this handle made the region (every anonymous or heap array; for a named or
    /// file region, the one handle that created it rather than opened it).
    ///
    /// ```
    /// assert!(shmarray::StripedArray::<u8>::new_heap(1)?.created());
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn created(&self) -> bool {
        self.storage.created()
    }

    /// `self`, if it has `len` elements: what `open_or_create` asks of the array it opens.
    #[cfg(not(loom))]
    pub(crate) fn expect_len(self, len: usize) -> Result<StripedArray<T>, crate::OpenError> {
        if self.len == len {
            return Ok(self);
        }
        Err(crate::OpenError::WrongLength {
            region: self.origin().clone(),
            expected: len,
            found: self.len,
        })
    }

    /// Stripe `s` as a slice of `len` cells.
    #[inline(always)]
    fn stripe(&self, s: usize) -> &[T::Atomic] {
        debug_assert!(s <= self.mask);
        // SAFETY: stripe `s <= mask` starts `s × stride` bytes after `base`, and the storage
        // holds `(mask + 1) × stride` bytes of initialised cells (heap: `heap` allocated them; mapped:
        // the header's size was checked against the file by `Region::attach`, or sized so by
        // `Region::init`), alive as long as `self`. `len` cells fit in `stride` bytes. Atomics may be shared by
        // reference.
        unsafe {
            core::slice::from_raw_parts(self.base.as_ptr().byte_add(s * self.stride), self.len)
        }
    }

    #[inline(always)]
    #[track_caller]
    fn check(&self, index: usize) {
        if index >= self.len {
            crate::array::index_out_of_bounds(index, self.len)
        }
    }

    /// The calling thread's cell of element `index` (checked by the caller).
    #[inline(always)]
    fn my_cell(&self, index: usize) -> &T::Atomic {
        // The element's cell in stripe 0 first: it does not wait for the CPU number, so
        // only `& mask`, `* stride` and one add lie between that load and the atomic add.
        let cell = self.base.as_ptr().wrapping_add(index);
        let s = self.cpu.current() & self.mask;
        // SAFETY: `s <= mask` and `index < len` (checked by the caller): within stripe `s`,
        // as in `stripe`.
        unsafe { &*cell.byte_add(s * self.stride) }
    }

    /// Adds `delta` to element `index`: one `fetch_add(delta, Relaxed)` on the calling CPU's
    /// stripe (a compare-exchange loop for floats). Integers wrap on overflow.
    ///
    /// `Relaxed`: the add is never lost, but it orders nothing else; see the type's docs.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<u8>::new_heap(1)?;
    /// arr.add(0, 200);
    /// arr.add(0, 100);
    /// assert_eq!(arr.sum(0), 44); // 300 wrapped
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn add(&self, index: usize, delta: T) {
        self.check(index);
        T::fetch_add(self.my_cell(index), delta, Ordering::Relaxed);
    }

    /// Subtracts `delta` from element `index`, as [`add`](Self::add) adds (`Relaxed`,
    /// wrapping).
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<f64>::new_heap(1)?;
    /// arr.add(0, 1.0);
    /// arr.sub(0, 0.25);
    /// assert_eq!(arr.sum(0), 0.75);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn sub(&self, index: usize, delta: T) {
        self.check(index);
        T::fetch_sub(self.my_cell(index), delta, Ordering::Relaxed);
    }

    /// The sum of element `index` over all stripes (`Relaxed` loads). Counts every add that
    /// finished before the call began and none that began after it returned; see the type's
    /// docs.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<i64>::new_heap(2)?;
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| (0..1000).for_each(|_| arr.add(1, 1)));
    ///     }
    /// });
    /// assert_eq!(arr.sum(1), 4000); // the writers were joined: exact
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn sum(&self, index: usize) -> T {
        self.check(index);
        (0..self.stripes()).fold(T::default(), |acc, s| {
            // Relaxed: a count, not a signal (see the type's docs).
            T::plus(acc, T::load(&self.stripe(s)[index], Ordering::Relaxed))
        })
    }

    /// The sums of all elements, as [`sum`](Self::sum) each, in one pass over the stripes.
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<u32>::new_heap(3)?;
    /// arr.add(2, 9);
    /// assert_eq!(arr.sums(), [0, 0, 9]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn sums(&self) -> Vec<T> {
        let mut out = vec![T::default(); self.len];
        self.sums_into(&mut out);
        out
    }

    /// Writes the sums of all elements into `out`, as [`sums`](Self::sums), without
    /// allocating.
    ///
    /// # Panics
    /// If `out.len() != len`, as `copy_from_slice` does.
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<u16>::new_heap(2)?;
    /// arr.add(0, 3);
    /// let mut out = [0; 2];
    /// arr.sums_into(&mut out);
    /// assert_eq!(out, [3, 0]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[track_caller]
    pub fn sums_into(&self, out: &mut [T]) {
        self.fold_stripes(out, |cell| T::load(cell, Ordering::Relaxed));
    }

    /// Returns the sum of element `index` and resets it to zero, by swapping each stripe's
    /// cell with zero (`Relaxed`). An add racing with it lands either in this take or in
    /// what a later take or sum sees: never lost, never counted twice.
    ///
    /// # Panics
    /// If `index >= len`.
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<u64>::new_heap(2)?;
    /// arr.add(0, 5);
    /// assert_eq!(arr.take(0), 5);
    /// assert_eq!(arr.take(0), 0);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn take(&self, index: usize) -> T {
        self.check(index);
        (0..self.stripes()).fold(T::default(), |acc, s| {
            // Relaxed: the swap's atomicity alone keeps every add in exactly one take.
            T::plus(
                acc,
                T::swap(&self.stripe(s)[index], T::default(), Ordering::Relaxed),
            )
        })
    }

    /// Takes every element, as [`take`](Self::take) each, in one pass over the stripes.
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<i8>::new_heap(2)?;
    /// arr.add(1, -3);
    /// assert_eq!(arr.take_all(), [0, -3]);
    /// assert_eq!(arr.sums(), [0, 0]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn take_all(&self) -> Vec<T> {
        let mut out = vec![T::default(); self.len];
        // Relaxed: as in `take`.
        self.fold_stripes(&mut out, |cell| {
            T::swap(cell, T::default(), Ordering::Relaxed)
        });
        out
    }

    /// `out[i]` = the sum over stripes of `read(cell i of the stripe)`, in stripe order.
    ///
    /// Stripe-major, as the cells lie: for each chunk of [`FOLD_CHUNK`] elements, the
    /// stripes are walked in groups of up to 4, each stripe of a group as one
    /// contiguous run, and the group's cells are added to the chunk of `out` in one pass
    /// (the first group's pass writes it). So `out` is read and written once per group, not
    /// once per stripe, and stays in L1 however long the array. Every cell is read exactly
    /// once (a take swaps each cell once; a sum's bounds hold as in any order). The sum of
    /// an element is `((0 + s0) + s1) + ...`, the order [`sum`](Self::sum) adds in, so the
    /// two agree for floats too. No allocation.
    #[inline]
    #[track_caller]
    fn fold_stripes(&self, out: &mut [T], read: impl Fn(&T::Atomic) -> T) {
        if out.len() != self.len {
            length_mismatch(out.len(), self.len);
        }
        let stripes = self.stripes();
        for (c, chunk) in out.chunks_mut(FOLD_CHUNK).enumerate() {
            let span = c * FOLD_CHUNK..c * FOLD_CHUNK + chunk.len();
            let cells = |s| &self.stripe(s)[span.clone()];
            // `(0 + read(a)) + read(b) + ...`: stripe order, as `sum` adds.
            let fold = |acc, cells: &[&T::Atomic]| {
                cells.iter().fold(acc, |acc, cell| T::plus(acc, read(cell)))
            };
            // The stripe count is a power of two: 1, 2, or a multiple of 4.
            match stripes {
                1 => {
                    for (o, a) in chunk.iter_mut().zip(cells(0)) {
                        *o = fold(T::default(), &[a]);
                    }
                }
                2 => {
                    for ((o, a), b) in chunk.iter_mut().zip(cells(0)).zip(cells(1)) {
                        *o = fold(T::default(), &[a, b]);
                    }
                }
                _ => {
                    for first in (0..stripes).step_by(4) {
                        let quads = (chunk.iter_mut().zip(cells(first)))
                            .zip(cells(first + 1))
                            .zip(cells(first + 2))
                            .zip(cells(first + 3));
                        for ((((o, a), b), c), d) in quads {
                            let acc = if first == 0 { T::default() } else { *o };
                            *o = fold(acc, &[a, b, c, d]);
                        }
                    }
                }
            }
        }
    }
}

/// Elements [`StripedArray::fold_stripes`] sums across all stripes before it moves on:
/// 4 KiB of `u64`s, so the chunk of the output stays in L1 while every stripe is added to it.
const FOLD_CHUNK: usize = 512;

#[cold]
#[inline(never)]
#[track_caller]
fn length_mismatch(found: usize, len: usize) -> ! {
    panic!("sums_into: the buffer holds {found} elements but the array {len}")
}

impl<T: Element> fmt::Debug for StripedArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripedArray")
            .field("type_code", &T::TYPE_CODE)
            .field("len", &self.len)
            .field("stripes", &self.stripes())
            .field("origin", self.origin())
            .field("created", &self.created())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::element::CellOps;

    #[test]
    #[should_panic(expected = "index out of bounds: the len is 3 but the index is 3")]
    fn out_of_bounds_panics_like_a_slice() {
        StripedArray::<u8>::heap(3, 2).unwrap().add(3, 1);
    }

    #[test]
    #[should_panic(expected = "sums_into: the buffer holds 2 elements but the array 3")]
    fn sums_into_a_buffer_of_another_length_panics() {
        StripedArray::<u8>::heap(3, 2)
            .unwrap()
            .sums_into(&mut [0; 2]);
    }

    #[test]
    fn stripe_counts_are_checked() {
        for bad in [0, 3, 6, 2048] {
            assert!(matches!(
                check_stripes(bad, || Origin::Heap),
                Err(CreateError::InvalidStripes { stripes, .. }) if stripes == bad
            ));
        }
        assert_eq!(check_stripes(1, || Origin::Heap).unwrap(), 1);
        assert_eq!(check_stripes(1024, || Origin::Heap).unwrap(), 1024);
    }

    #[test]
    fn every_stripe_is_summed_and_taken() {
        let arr = StripedArray::<i32>::heap(5, 4).unwrap();
        // Put a different amount in each stripe of element 3, by hand.
        for s in 0..4 {
            i32::fetch_add(&arr.stripe(s)[3], 10 + s as i32, Ordering::Relaxed);
        }
        arr.add(3, 100);
        assert_eq!(arr.sum(3), 146);
        assert_eq!(arr.sums(), [0, 0, 0, 146, 0]);
        assert_eq!(arr.take(3), 146);
        assert_eq!(arr.sums(), [0; 5]);
        for s in 0..4 {
            assert_eq!(i32::load(&arr.stripe(s)[3], Ordering::Relaxed), 0);
        }
    }

    #[test]
    fn sums_and_takes_span_chunks_and_stripes() {
        // Longer than two chunks and not a multiple of one, with a different value in
        // every cell, so a cell read twice, skipped or put in the wrong place shows.
        // Every stripe count that takes its own path: 1, 2, one group of 4, two groups.
        let len = 2 * FOLD_CHUNK + 3;
        let value = |s: usize, i: usize| (i * 100 + s + 1) as u32;
        for stripes in [1, 2, 4, 8] {
            let arr = StripedArray::<u32>::heap(len, stripes).unwrap();
            for s in 0..stripes {
                for (i, cell) in arr.stripe(s).iter().enumerate() {
                    u32::fetch_add(cell, value(s, i), Ordering::Relaxed);
                }
            }
            let expected: Vec<u32> = (0..len)
                .map(|i| (0..stripes).map(|s| value(s, i)).sum())
                .collect();
            assert_eq!(arr.sums(), expected, "{stripes} stripes");
            let mut out = vec![7; len];
            arr.sums_into(&mut out);
            assert_eq!(out, expected, "{stripes} stripes");
            assert_eq!(arr.take_all(), expected, "{stripes} stripes");
            assert_eq!(arr.sums(), vec![0; len], "{stripes} stripes");
        }
    }

    /// Heap arrays refuse impossible sizes as dense ones do: an error, never a panic or an
    /// allocation abort. Too large to describe (over `isize::MAX` bytes, or `len × stripes`
    /// overflowing) is `TooLarge`; describable but more than the allocator gives is
    /// `OutOfSpace`.
    #[test]
    fn huge_heap_arrays_are_errors_not_aborts() {
        let elem_size = core::mem::size_of::<u64>();
        for (len, stripes) in [
            (usize::MAX, 1),
            (usize::MAX / 2, 1),
            (usize::MAX / 2, 2),
            (isize::MAX as usize / 8 + 1, 1),
            (isize::MAX as usize / 16 + 1, 2),
            (usize::MAX / 1024, 1024),
        ] {
            let err = StripedArray::<u64>::heap(len, stripes).expect_err("an impossible size");
            assert!(
                matches!(err, CreateError::TooLarge { len: l, elem_size: e, .. }
                    if l == len && e == elem_size),
                "len {len}, {stripes} stripes: {err:?}"
            );
        }
        // 2^62 bytes: a valid layout that no allocator gives.
        let err = StripedArray::<u64>::heap(1 << 58, 2).expect_err("4 EiB");
        assert!(
            matches!(err, CreateError::OutOfSpace { bytes, .. } if bytes == 1 << 62),
            "{err:?}"
        );
    }

    /// Mapped arrays whose `len × stripes × size` overflows are `TooLarge`, never a panic.
    #[test]
    fn mapped_sizes_that_overflow_are_too_large() {
        let path =
            std::env::temp_dir().join(format!("shmarray-striped-too-large-{}", std::process::id()));
        for (len, stripes) in [
            (usize::MAX, 1),
            (usize::MAX / 8, 2),
            (usize::MAX / 1024, 1024),
            (isize::MAX as usize / 16 + 1, 2),
        ] {
            let options = StripedArray::<u64>::options().stripes(stripes);
            for result in [options.anonymous(len), options.create_file(&path, len)] {
                let err = result.expect_err("an impossible size");
                assert!(
                    matches!(err, CreateError::TooLarge { len: l, .. } if l == len),
                    "len {len}, {stripes} stripes: {err:?}"
                );
            }
            assert!(!path.exists(), "a refused create_file left a file");
        }
    }

    #[test]
    fn stripes_start_on_128_byte_boundaries() {
        let arr = StripedArray::<u16>::heap(70, 8).unwrap();
        for s in 0..8 {
            let addr = arr.stripe(s).as_ptr() as usize;
            assert_eq!(addr % 128, 0, "stripe {s}");
        }
        assert_eq!(arr.stride, 128 * 2);
    }
}
