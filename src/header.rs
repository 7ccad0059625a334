//! The region header: what a region file holds before its cells, and how an opener checks it.
//!
//! ```text
//! offset  size  field
//!      0   128  fixed fields (below), cache-padded
//!    128   256  control block: robust mutex + owner-died flag | seqlock counter (`control.rs`)
//!    384     …  cells, `len` × element size, at `data_offset` (a multiple of 64)
//! ```
//!
//! | fixed field   | type | meaning                                                        |
//! |---------------|------|----------------------------------------------------------------|
//! | `magic`       | u64  | `b"SHMARRAY"` little-endian                                    |
//! | `version`     | u32  | layout version, [`LAYOUT_VERSION`]                             |
//! | `state`       | u32  | 0 while the creator initialises, [`STATE_READY`] once usable   |
//! | `type_code`   | u32  | the Python type code letter of the element type                |
//! | `elem_size`   | u32  | bytes per cell                                                 |
//! | `elem_align`  | u32  | alignment of a cell                                            |
//! | `header_size` | u32  | bytes of this header, so a differently built crate is refused  |
//! | `len`         | u64  | number of elements                                             |
//! | `data_offset` | u64  | where the cells start                                          |
//! | `checksum`    | u64  | FNV-1a of every fixed field above except `state`               |
//!
//! Every field is an atomic and is read with atomic loads: another process may be writing
//! the header while we read it (a creator still initialising, or a hostile writer), and a
//! plain read of memory under a concurrent write is undefined behaviour. The creator writes
//! all fields, then stores `state = READY` with Release; an opener's Acquire load of `state`
//! pairs with it.
//!
//! Nothing in the header is trusted: the opener checks the file is long enough for the header
//! before reading it, and long enough for the cells the header claims before handing any out.

use crate::control::Control;
use crate::element::TypeCode;
use crate::error::OpenError;
use crate::sync::{AtomicU32, AtomicU64, Ordering};
use crossbeam_utils::CachePadded;
use std::time::{Duration, Instant};

/// `b"SHMARRAY"` read as a little-endian u64.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"SHMARRAY");
/// The layout version this build reads and writes.
pub(crate) const LAYOUT_VERSION: u32 = 1;
/// `state` once the creator has finished: `b"REDY"` little-endian, so that a zeroed or random
/// word is unlikely to pass for it.
pub(crate) const STATE_READY: u32 = u32::from_le_bytes(*b"REDY");
/// `state` while initialising: what a freshly created (zero-filled) file holds.
const STATE_INITIALIZING: u32 = 0;

#[repr(C)]
struct Fixed {
    magic: AtomicU64,
    version: AtomicU32,
    state: AtomicU32,
    type_code: AtomicU32,
    elem_size: AtomicU32,
    elem_align: AtomicU32,
    header_size: AtomicU32,
    len: AtomicU64,
    data_offset: AtomicU64,
    checksum: AtomicU64,
}

/// The header at the start of every mapped region.
#[repr(C)]
pub(crate) struct Header {
    fixed: CachePadded<Fixed>,
    control: Control,
}

/// Size of the header, and the offset of the first cell.
pub(crate) const HEADER_SIZE: usize = core::mem::size_of::<Header>();
/// Alignment of the cells' offset: a cache line.
pub(crate) const DATA_ALIGN: usize = 64;
pub(crate) const DATA_OFFSET: usize = HEADER_SIZE.next_multiple_of(DATA_ALIGN);

const _: () = {
    // The layout is part of the file format: a change here must bump LAYOUT_VERSION.
    #[cfg(target_arch = "x86_64")]
    assert!(HEADER_SIZE == 384 && DATA_OFFSET == 384);
    assert!(
        core::mem::align_of::<Header>() <= 4096,
        "mmap regions are page aligned"
    );
};

/// What a header describes, as numbers an opener compares against its own type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) type_code: TypeCode,
    pub(crate) elem_size: usize,
    pub(crate) elem_align: usize,
    pub(crate) len: usize,
}

/// Bytes a region of `len` cells of `elem_size` bytes needs, or `None` if that overflows or
/// exceeds `isize::MAX` (the most any allocation or mapping may span).
pub(crate) fn region_size(len: usize, elem_size: usize) -> Option<usize> {
    let total = len.checked_mul(elem_size)?.checked_add(DATA_OFFSET)?;
    (total <= isize::MAX as usize).then_some(total)
}

#[allow(clippy::too_many_arguments)]
fn checksum(
    magic: u64,
    version: u32,
    type_code: u32,
    elem_size: u32,
    elem_align: u32,
    header_size: u32,
    len: u64,
    data_offset: u64,
) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let fields = [
        magic,
        u64::from(version),
        u64::from(type_code),
        u64::from(elem_size),
        u64::from(elem_align),
        u64::from(header_size),
        len,
        data_offset,
    ];
    for byte in fields.iter().flat_map(|f| f.to_le_bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Header {
    /// Writes every field but `state` and initialises the control block.
    ///
    /// # Safety
    /// - `this` points to at least `HEADER_SIZE` writable, zero-filled bytes, page aligned;
    /// - no other process uses the control block before [`Header::publish`]: openers only
    ///   read `magic` and `state` (atomically) until they see `STATE_READY`.
    pub(crate) unsafe fn init_at(this: *mut Header, shape: Shape) -> std::io::Result<()> {
        // SAFETY: zero bytes are valid atomics, so `this` may be viewed as a `&Header` for the
        // fixed fields (atomic stores only). The control block is initialised in place under
        // the contract of `Control::init_at`, which ours implies.
        unsafe {
            let fixed = &(*this).fixed;
            let code = shape.type_code.as_char() as u32;
            let (size, align) = (shape.elem_size as u32, shape.elem_align as u32);
            let (len, offset) = (shape.len as u64, DATA_OFFSET as u64);
            let header_size = HEADER_SIZE as u32;
            // Relaxed: published by the Release store in `publish`.
            fixed.magic.store(MAGIC, Ordering::Relaxed);
            fixed.version.store(LAYOUT_VERSION, Ordering::Relaxed);
            fixed.type_code.store(code, Ordering::Relaxed);
            fixed.elem_size.store(size, Ordering::Relaxed);
            fixed.elem_align.store(align, Ordering::Relaxed);
            fixed.header_size.store(header_size, Ordering::Relaxed);
            fixed.len.store(len, Ordering::Relaxed);
            fixed.data_offset.store(offset, Ordering::Relaxed);
            let sum = checksum(
                MAGIC,
                LAYOUT_VERSION,
                code,
                size,
                align,
                header_size,
                len,
                offset,
            );
            fixed.checksum.store(sum, Ordering::Relaxed);
            Control::init_at(core::ptr::addr_of_mut!((*this).control))
        }
    }

    /// Marks the region ready: the last store of its creator.
    pub(crate) fn publish(&self) {
        // Release: pairs with the Acquire load of `state` in `wait_ready`, making every field,
        // the control block and the initial cells visible to openers.
        self.fixed.state.store(STATE_READY, Ordering::Release);
    }

    /// The control block.
    pub(crate) fn control(&self) -> &Control {
        &self.control
    }

    /// Waits (bounded by `timeout`) until the creator has published the header, then checks
    /// every field against what this build and the caller's element type expect, and that a
    /// file of `file_size` bytes holds all the cells the header claims.
    ///
    /// Returns the number of elements and the offset of the first cell.
    pub(crate) fn validate(
        &self,
        expected: Shape,
        file_size: u64,
        timeout: Duration,
    ) -> Result<(usize, usize), OpenError> {
        self.wait_ready(timeout)?;
        let f = &*self.fixed;
        // Relaxed: ordered after the creator's stores by the Acquire load in `wait_ready`.
        let magic = f.magic.load(Ordering::Relaxed);
        let version = f.version.load(Ordering::Relaxed);
        let type_code = f.type_code.load(Ordering::Relaxed);
        let elem_size = f.elem_size.load(Ordering::Relaxed);
        let elem_align = f.elem_align.load(Ordering::Relaxed);
        let header_size = f.header_size.load(Ordering::Relaxed);
        let len = f.len.load(Ordering::Relaxed);
        let data_offset = f.data_offset.load(Ordering::Relaxed);
        let stored = f.checksum.load(Ordering::Relaxed);
        if magic != MAGIC {
            return Err(OpenError::BadMagic { found: magic });
        }
        if version != LAYOUT_VERSION {
            return Err(OpenError::UnsupportedVersion {
                found: version,
                supported: LAYOUT_VERSION,
            });
        }
        let computed = checksum(
            magic,
            version,
            type_code,
            elem_size,
            elem_align,
            header_size,
            len,
            data_offset,
        );
        if stored != computed {
            return Err(OpenError::BadChecksum { stored, computed });
        }
        if type_code != expected.type_code.as_char() as u32 {
            return Err(OpenError::WrongType {
                expected: expected.type_code,
                found: type_code,
            });
        }
        if header_size as usize != HEADER_SIZE {
            return Err(OpenError::BadLayout {
                reason: "header size differs from this build's",
            });
        }
        if elem_size as usize != expected.elem_size || elem_align as usize != expected.elem_align {
            return Err(OpenError::BadLayout {
                reason: "element size or alignment differs from this build's",
            });
        }
        if data_offset < HEADER_SIZE as u64 || data_offset % DATA_ALIGN as u64 != 0 {
            return Err(OpenError::BadLayout {
                reason: "cells overlap the header or are misaligned",
            });
        }
        let needed = len
            .checked_mul(u64::from(elem_size))
            .and_then(|bytes| bytes.checked_add(data_offset))
            .filter(|&n| n <= isize::MAX as u64)
            .ok_or(OpenError::BadLayout {
                reason: "length overflows the address space",
            })?;
        if file_size < needed {
            return Err(OpenError::TooShort {
                size: file_size,
                needed,
            });
        }
        // Both fit: `needed` is at most isize::MAX.
        Ok((len as usize, data_offset as usize))
    }

    fn wait_ready(&self, timeout: Duration) -> Result<(), OpenError> {
        let start = Instant::now();
        let mut pause = Duration::from_micros(50);
        loop {
            // Relaxed: a wrong non-zero magic is refused at once; a right one is re-read
            // after the Acquire below.
            let magic = self.fixed.magic.load(Ordering::Relaxed);
            if magic != 0 && magic != MAGIC {
                return Err(OpenError::BadMagic { found: magic });
            }
            // Acquire: pairs with the Release store in `publish`.
            match self.fixed.state.load(Ordering::Acquire) {
                STATE_READY => return Ok(()),
                STATE_INITIALIZING => {}
                other => return Err(OpenError::BadState { found: other }),
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(OpenError::NotReady { waited });
            }
            std::thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_size_is_checked() {
        assert_eq!(region_size(0, 8), Some(DATA_OFFSET));
        assert_eq!(region_size(10, 8), Some(DATA_OFFSET + 80));
        assert_eq!(region_size(usize::MAX, 8), None);
        assert_eq!(region_size(isize::MAX as usize / 8, 8), None);
    }

    #[test]
    fn checksum_sees_every_field() {
        let base = checksum(MAGIC, 1, 'q' as u32, 8, 8, 384, 10, 384);
        assert_ne!(base, checksum(MAGIC, 1, 'q' as u32, 8, 8, 384, 11, 384));
        assert_ne!(base, checksum(MAGIC, 1, 'Q' as u32, 8, 8, 384, 10, 384));
        assert_ne!(base, checksum(MAGIC, 1, 'q' as u32, 8, 8, 384, 10, 448));
        assert_ne!(base, checksum(MAGIC, 2, 'q' as u32, 8, 8, 384, 10, 384));
    }
}
