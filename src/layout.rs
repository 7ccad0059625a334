//! The two payload layouts a region can hold after its header, and their sizes.
//!
//! One region format (header, control block, backing) carries either payload:
//!
//! - **dense** ([`SharedArray`](crate::SharedArray)): `len` cells, one after another;
//! - **striped** (`StripedArray`): `stripes` blocks of `len` cells
//!   each, stripe-major, every block starting on a [`STRIPE_ALIGN`]-byte boundary so that
//!   two stripes never share a cache line (nor the pair of lines adjacent-line prefetch
//!   fetches together).
//!
//! The header records which one (`layout`) and how many stripes (`stripes`, 1 for dense),
//! so every opener agrees, and opening one kind as the other is
//! [`OpenError::WrongLayout`](crate::OpenError::WrongLayout).

use core::fmt;

/// How the cells after a region's header are arranged.
///
/// ```
/// use shmarray::Layout;
/// assert_eq!(Layout::Striped.to_string(), "striped");
/// assert_ne!(Layout::Dense, Layout::Striped);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layout {
    /// One cell per element: [`SharedArray`](crate::SharedArray).
    Dense,
    /// One cell per element per stripe: `StripedArray`.
    Striped,
}

impl Layout {
    /// The word the region header stores for this layout.
    ///
    /// ```
    /// assert_eq!(shmarray::Layout::Dense.code(), 0);
    /// assert_eq!(shmarray::Layout::Striped.code(), 1);
    /// ```
    pub const fn code(self) -> u32 {
        match self {
            Layout::Dense => 0,
            Layout::Striped => 1,
        }
    }

    /// The layout a header word names, or `None` for a word no layout uses.
    ///
    /// ```
    /// use shmarray::Layout;
    /// assert_eq!(Layout::from_code(1), Some(Layout::Striped));
    /// assert_eq!(Layout::from_code(7), None);
    /// ```
    pub const fn from_code(code: u32) -> Option<Layout> {
        match code {
            0 => Some(Layout::Dense),
            1 => Some(Layout::Striped),
            _ => None,
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Dense => "dense",
            Layout::Striped => "striped",
        })
    }
}

/// Alignment of every stripe block: two cache lines.
pub(crate) const STRIPE_ALIGN: usize = 128;

/// The most stripes a region may have. Bounds the memory a hostile header can make an
/// opener believe in, and what `StripedArray`'s builder accepts.
pub(crate) const MAX_STRIPES: usize = 1024;

/// Cells from the start of one stripe block to the next: `len` rounded up to a whole
/// number of [`STRIPE_ALIGN`]-byte blocks (for the element sizes, 1 to 8 bytes, all of which
/// divide 128). `None` on overflow.
pub(crate) fn stripe_cells(len: usize, elem_size: usize) -> Option<usize> {
    let per_block = (STRIPE_ALIGN / elem_size.max(1)).max(1);
    len.checked_next_multiple_of(per_block)
}

/// Bytes from the start of one stripe block to the next. `None` on overflow.
pub(crate) fn stripe_stride(len: usize, elem_size: usize) -> Option<usize> {
    stripe_cells(len, elem_size)?.checked_mul(elem_size)
}

/// Bytes of the cells of `len` elements in `layout` with `stripes` stripes, or `None` if
/// that overflows.
pub(crate) fn payload_size(
    layout: Layout,
    len: usize,
    stripes: usize,
    elem_size: usize,
) -> Option<usize> {
    match layout {
        Layout::Dense => len.checked_mul(elem_size),
        Layout::Striped => stripe_stride(len, elem_size)?.checked_mul(stripes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for layout in [Layout::Dense, Layout::Striped] {
            assert_eq!(Layout::from_code(layout.code()), Some(layout));
        }
        assert_eq!(Layout::from_code(2), None);
    }

    #[test]
    fn stripes_start_on_their_own_lines() {
        assert_eq!(stripe_stride(0, 8), Some(0));
        assert_eq!(stripe_stride(1, 8), Some(128));
        assert_eq!(stripe_stride(16, 8), Some(128));
        assert_eq!(stripe_stride(17, 8), Some(256));
        assert_eq!(stripe_cells(17, 8), Some(32));
        assert_eq!(stripe_cells(3, 1), Some(128));
        assert_eq!(payload_size(Layout::Striped, 17, 4, 8), Some(1024));
        assert_eq!(payload_size(Layout::Dense, 17, 1, 8), Some(136));
        assert_eq!(payload_size(Layout::Striped, usize::MAX / 8, 2, 8), None);
    }
}
