//! Heap storage: a control block and cells in this process's own memory.
//!
//! It runs the very same cell, lock and seqlock code as a mapped region, which is what lets
//! loom (whose atomics cannot live in an mmap region), miri and proptest exercise the
//! product's code. It is also useful on its own for code and tests that take a
//! [`SharedArray`](crate::SharedArray) but need no second process.

use crate::control::Control;
use crate::element::Element;
use crate::error::CreateError;
use crate::layout::STRIPE_ALIGN;
use crate::origin::Origin;
use core::ptr::NonNull;

/// Cells and a control block allocated with `Box`, freed on drop.
///
/// Both are held as raw pointers from `Box::into_raw`, never as `Box`es, because the array
/// keeps raw pointers into them: moving a `Box` would assert uniqueness and invalidate those
/// pointers under Stacked Borrows.
pub(crate) struct HeapStorage<T: Element> {
    pub(crate) control: NonNull<Control>,
    pub(crate) cells: NonNull<[T::Atomic]>,
}

impl<T: Element> HeapStorage<T> {
    /// Storage for the `len` cells `values` yields. An impossible `len` (more bytes than
    /// `isize::MAX`) is [`CreateError::TooLarge`] and an allocation the allocator refuses is
    /// [`CreateError::OutOfSpace`], both before any cell is written; neither panics nor aborts.
    pub(crate) fn new(
        len: usize,
        values: impl Iterator<Item = T>,
    ) -> Result<HeapStorage<T>, CreateError> {
        let elem_size = core::mem::size_of::<T::Atomic>();
        let too_large = || CreateError::TooLarge {
            region: Origin::Heap,
            len,
            elem_size,
        };
        let bytes = len.checked_mul(elem_size).ok_or_else(too_large)?;
        if bytes > isize::MAX as usize {
            return Err(too_large());
        }
        let mut cells = Vec::<T::Atomic>::new();
        cells
            .try_reserve_exact(len)
            .map_err(|e| CreateError::OutOfSpace {
                region: Origin::Heap,
                bytes,
                source: std::io::Error::new(std::io::ErrorKind::OutOfMemory, e),
            })?;
        cells.extend(values.take(len).map(T::new_cell));
        debug_assert_eq!(cells.len(), len);
        let cells: Box<[T::Atomic]> = cells.into_boxed_slice();
        let mut control = Box::<Control>::new_uninit();
        // SAFETY: the allocation is valid for a `Control`, aligned, and not shared yet.
        unsafe { Control::init_at(control.as_mut_ptr()) }.map_err(|source| CreateError::Io {
            region: Origin::Heap,
            op: "pthread_mutex_init",
            source,
        })?;
        // SAFETY: `init_at` succeeded, so every field is initialised.
        let control = unsafe { control.assume_init() };
        Ok(HeapStorage {
            control: NonNull::from(Box::leak(control)),
            cells: NonNull::from(Box::leak(cells)),
        })
    }
}

impl<T: Element> Drop for HeapStorage<T> {
    fn drop(&mut self) {
        // SAFETY: both pointers came from `Box::leak` in `new` and are freed only here. The
        // array that owns this storage is being dropped, so no guard (which borrows the
        // array) is alive, no thread holds the lock, and no reference into the cells remains.
        unsafe {
            self.control.as_ref().destroy();
            drop(Box::from_raw(self.control.as_ptr()));
            drop(Box::from_raw(self.cells.as_ptr()));
        }
    }
}

/// Cells alone, `count` of them, the first on a [`STRIPE_ALIGN`]-byte boundary: the heap
/// storage of a [`StripedArray`](crate::StripedArray), which has no lock. Each cell is
/// constructed (not zero-filled) so that loom registers its atomics.
pub(crate) struct AlignedCells<T: Element> {
    pub(crate) ptr: NonNull<T::Atomic>,
    count: usize,
}

impl<T: Element> AlignedCells<T> {
    fn layout(count: usize) -> Option<core::alloc::Layout> {
        let align = STRIPE_ALIGN.max(core::mem::align_of::<T::Atomic>());
        let size = count.checked_mul(core::mem::size_of::<T::Atomic>())?;
        core::alloc::Layout::from_size_align(size, align).ok()
    }

    /// `count` zero cells. If their size overflows or exceeds `isize::MAX` bytes, the error
    /// is `too_large()`; if the allocator refuses them, [`CreateError::OutOfSpace`]. Neither
    /// panics nor aborts.
    pub(crate) fn zeros(
        count: usize,
        too_large: impl Fn() -> CreateError,
    ) -> Result<AlignedCells<T>, CreateError> {
        let layout = Self::layout(count).ok_or_else(&too_large)?;
        let ptr = if layout.size() == 0 {
            // No allocation: any non-null, aligned address serves zero-sized storage.
            // (An alignment is never zero, so `too_large` is never called here.)
            NonNull::new(layout.align() as *mut T::Atomic).ok_or_else(too_large)?
        } else {
            // SAFETY: the layout has a non-zero size.
            let raw = unsafe { std::alloc::alloc(layout) }.cast::<T::Atomic>();
            NonNull::new(raw).ok_or_else(|| CreateError::OutOfSpace {
                region: Origin::Heap,
                bytes: layout.size(),
                source: std::io::Error::from(std::io::ErrorKind::OutOfMemory),
            })?
        };
        for k in 0..count {
            // SAFETY: `k < count` cells fit in the allocation, which nobody else sees yet.
            unsafe { ptr.as_ptr().add(k).write(T::new_cell(T::default())) };
        }
        Ok(AlignedCells { ptr, count })
    }
}

impl<T: Element> Drop for AlignedCells<T> {
    fn drop(&mut self) {
        let layout = Self::layout(self.count).expect("computed once already in `zeros`");
        // SAFETY: the cells were initialised in `zeros` and are dropped only here; the array
        // that owns this storage is being dropped, so no reference into them remains.
        unsafe {
            core::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.count).drop_in_place();
            if layout.size() != 0 {
                std::alloc::dealloc(self.ptr.as_ptr().cast(), layout);
            }
        }
    }
}
