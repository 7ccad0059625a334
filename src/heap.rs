//! Heap storage: a control block and cells in this process's own memory.
//!
//! It runs the very same cell, lock and seqlock code as a mapped region, which is what lets
//! loom (whose atomics cannot live in an mmap region), miri and proptest exercise the
//! product's code. It is also useful on its own for code and tests that take a
//! [`SharedArray`](crate::SharedArray) but need no second process.

use crate::control::Control;
use crate::element::Element;
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
    pub(crate) fn new(values: impl Iterator<Item = T>) -> std::io::Result<HeapStorage<T>> {
        let cells: Box<[T::Atomic]> = values.map(T::new_cell).collect();
        let mut control = Box::<Control>::new_uninit();
        // SAFETY: the allocation is valid for a `Control`, aligned, and not shared yet.
        unsafe { Control::init_at(control.as_mut_ptr()) }?;
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
