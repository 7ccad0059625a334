//! [`Storage`]: where an array's memory lives, for every array kind: this process's heap or
//! a mapped region. Kept to free the memory (and, for a region, its file descriptor) and to
//! say where it is; every access to the cells goes through the pointers the array keeps.

use crate::origin::Origin;
#[cfg(not(loom))]
use crate::region::Region;

/// The memory of an array whose heap storage is `H` (its own kind's: cells and a lock, or
/// cells alone). Under loom only the heap exists.
pub(crate) enum Storage<H> {
    Heap(#[allow(dead_code)] H),
    #[cfg(not(loom))]
    Mapped(Region),
}

impl<H> Storage<H> {
    /// Where the memory lives: [`Origin::Heap`], or the region's origin.
    pub(crate) fn origin(&self) -> &Origin {
        match self {
            Storage::Heap(_) => &Origin::Heap,
            #[cfg(not(loom))]
            Storage::Mapped(region) => region.origin(),
        }
    }

    /// True if this handle made the memory (always, for the heap).
    pub(crate) fn created(&self) -> bool {
        match self {
            Storage::Heap(_) => true,
            #[cfg(not(loom))]
            Storage::Mapped(region) => region.created(),
        }
    }
}
