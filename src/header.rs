//! The region header: what a region file holds before its cells, and how an opener checks it.
//!
//! ```text
//! offset  size  field
//!      0   128  fixed fields (below), cache-padded
//!    128   256  control block: robust mutex, owner-died flag, seqlock counter, holder;
//!                 then 128 reserved zero bytes (`control.rs`)
//!    384     …  cells at `data_offset` (a multiple of 128), in the `layout` (`layout.rs`):
//!                 dense: `len` × element size;
//!                 striped: `stripes` blocks of `len` cells, each rounded up to 128 bytes
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
//! | `checksum`    | u64  | FNV-1a of every other fixed field except `state`               |
//! | `layout`      | u32  | [`Layout::code`]: 0 dense, 1 striped                           |
//! | `stripes`     | u32  | stripe blocks: 1 for dense, a power of two up to 1024 striped  |
//! | `flags`       | u32  | bit 0: seqlock on (clear if made with `seqlock(false)`)        |
//!
//! The fields are at offsets 0, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 60, 64: version 2
//! appended `layout`, `stripes` and `flags` after the checksum, which covers them too.
//! Version 3 moved the seqlock counter into the control block's first cache line, beside
//! the mutex (`control.rs`), and added the holder word there; a version 2 region is refused
//! as [`OpenError::UnsupportedVersion`].
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
use crate::layout::{payload_size, Layout, MAX_STRIPES, STRIPE_ALIGN};
use crate::origin::Origin;
use crate::seqlock::Seqlock;
use crate::sync::{AtomicU32, AtomicU64, Ordering};
use crossbeam_utils::CachePadded;
use std::time::{Duration, Instant};

/// `b"SHMARRAY"` read as a little-endian u64.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"SHMARRAY");
/// The layout version this build reads and writes.
pub(crate) const LAYOUT_VERSION: u32 = 3;
/// `state` once the creator has finished: `b"REDY"` little-endian, so that a zeroed or random
/// word is unlikely to pass for it.
pub(crate) const STATE_READY: u32 = u32::from_le_bytes(*b"REDY");
/// `state` while initialising: what a freshly created (zero-filled) file holds.
const STATE_INITIALIZING: u32 = 0;
/// `flags` bit 0: writers under the lock bump the seqlock counter, so snapshots may read
/// optimistically.
pub(crate) const FLAG_SEQLOCK: u32 = 1;
/// Every flag this build knows; a region with another bit set is refused.
const KNOWN_FLAGS: u32 = FLAG_SEQLOCK;

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
    layout: AtomicU32,
    stripes: AtomicU32,
    flags: AtomicU32,
}

/// The header at the start of every mapped region.
#[repr(C)]
pub(crate) struct Header {
    fixed: CachePadded<Fixed>,
    control: Control,
}

/// Size of the header, and the offset of the first cell.
pub(crate) const HEADER_SIZE: usize = core::mem::size_of::<Header>();
/// Alignment of the cells' offset: that of a stripe block (two cache lines), for both layouts.
pub(crate) const DATA_ALIGN: usize = STRIPE_ALIGN;
pub(crate) const DATA_OFFSET: usize = HEADER_SIZE.next_multiple_of(DATA_ALIGN);

const _: () = {
    // The layout is part of the file format: a change here must bump LAYOUT_VERSION.
    #[cfg(target_arch = "x86_64")]
    assert!(HEADER_SIZE == 384 && DATA_OFFSET == 384);
    assert!(core::mem::size_of::<Fixed>() == 72);
    assert!(
        core::mem::align_of::<Header>() <= 4096,
        "mmap regions are page aligned"
    );
};

/// What a header describes: the numbers a creator writes, and an opener compares against
/// its own type (an opener takes `len`, `stripes` and `flags` from the header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) type_code: TypeCode,
    pub(crate) elem_size: usize,
    pub(crate) elem_align: usize,
    pub(crate) len: usize,
    pub(crate) layout: Layout,
    /// 1 for dense; a power of two in `1..=MAX_STRIPES` for striped.
    pub(crate) stripes: usize,
    pub(crate) flags: u32,
}

impl Shape {
    /// The shape of `len` elements of `T`'s cells in `layout` with `stripes` stripes.
    pub(crate) fn of<T: crate::Element>(layout: Layout, len: usize, stripes: usize) -> Shape {
        Shape {
            type_code: T::TYPE_CODE,
            elem_size: core::mem::size_of::<T::Atomic>(),
            elem_align: core::mem::align_of::<T::Atomic>(),
            len,
            layout,
            stripes,
            flags: FLAG_SEQLOCK,
        }
    }

    /// This shape with the seqlock flag set as `seqlock` says.
    pub(crate) fn with_seqlock(self, seqlock: Seqlock) -> Shape {
        let flags = match seqlock {
            Seqlock::On => self.flags | FLAG_SEQLOCK,
            Seqlock::Off => self.flags & !FLAG_SEQLOCK,
        };
        Shape { flags, ..self }
    }

    /// Whether locked writes in a region of this shape keep the seqlock counter.
    pub(crate) fn seqlock(&self) -> Seqlock {
        if self.flags & FLAG_SEQLOCK != 0 {
            Seqlock::On
        } else {
            Seqlock::Off
        }
    }

    /// Bytes a region of this shape needs, or `None` if that overflows or exceeds
    /// `isize::MAX` (the most any allocation or mapping may span).
    pub(crate) fn region_size(&self) -> Option<usize> {
        let payload = payload_size(self.layout, self.len, self.stripes, self.elem_size)?;
        let total = payload.checked_add(DATA_OFFSET)?;
        (total <= isize::MAX as usize).then_some(total)
    }
}

/// The fixed fields as plain numbers, `state` and `checksum` aside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fields {
    magic: u64,
    version: u32,
    type_code: u32,
    elem_size: u32,
    elem_align: u32,
    header_size: u32,
    len: u64,
    data_offset: u64,
    layout: u32,
    stripes: u32,
    flags: u32,
}

impl Fields {
    /// Checks what follows the layout and type: that this build can use the region as
    /// `expected` (an element type and layout; `len`, `stripes` and `flags` are taken from
    /// the header) and that a file of `file_size` bytes holds every cell. Returns the shape
    /// and the offset of the first cell.
    fn check_layout(
        &self,
        expected: Shape,
        file_size: u64,
        origin: &Origin,
    ) -> Result<(Shape, usize), OpenError> {
        let found = self;
        let bad = |reason| {
            Err(OpenError::BadLayout {
                region: origin.clone(),
                reason,
            })
        };
        if found.header_size as usize != HEADER_SIZE {
            return bad("header size differs from this build's");
        }
        if found.elem_size as usize != expected.elem_size
            || found.elem_align as usize != expected.elem_align
        {
            return bad("element size or alignment differs from this build's");
        }
        if found.data_offset < HEADER_SIZE as u64 || found.data_offset % DATA_ALIGN as u64 != 0 {
            return bad("cells overlap the header or are misaligned");
        }
        let stripes = found.stripes as usize;
        match expected.layout {
            Layout::Dense if stripes != 1 => return bad("a dense region has one stripe"),
            Layout::Striped if !stripes.is_power_of_two() || stripes > MAX_STRIPES => {
                return bad("stripe count is not a power of two up to 1024")
            }
            _ => {}
        }
        if found.flags & !KNOWN_FLAGS != 0 {
            return bad("flags this build does not know");
        }
        let overflow = || OpenError::BadLayout {
            region: origin.clone(),
            reason: "length overflows the address space",
        };
        let len = usize::try_from(found.len).map_err(|_| overflow())?;
        let shape = Shape {
            len,
            stripes,
            flags: found.flags,
            ..expected
        };
        let needed = payload_size(shape.layout, len, stripes, shape.elem_size)
            .and_then(|bytes| bytes.checked_add(found.data_offset as usize))
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or_else(overflow)? as u64;
        if file_size < needed {
            return Err(OpenError::TooShort {
                region: origin.clone(),
                size: file_size,
                needed,
            });
        }
        // Fits: `needed` is at most isize::MAX.
        Ok((shape, found.data_offset as usize))
    }
}

/// FNV-1a 64 over the fields in the order of the table above, each widened to a
/// little-endian u64.
fn checksum(f: &Fields) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let fields = [
        f.magic,
        u64::from(f.version),
        u64::from(f.type_code),
        u64::from(f.elem_size),
        u64::from(f.elem_align),
        u64::from(f.header_size),
        f.len,
        f.data_offset,
        u64::from(f.layout),
        u64::from(f.stripes),
        u64::from(f.flags),
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
        let fields = Fields {
            magic: MAGIC,
            version: LAYOUT_VERSION,
            type_code: shape.type_code.as_char() as u32,
            elem_size: shape.elem_size as u32,
            elem_align: shape.elem_align as u32,
            header_size: HEADER_SIZE as u32,
            len: shape.len as u64,
            data_offset: DATA_OFFSET as u64,
            layout: shape.layout.code(),
            // At most MAX_STRIPES: the constructors check.
            stripes: shape.stripes as u32,
            flags: shape.flags,
        };
        // SAFETY: zero bytes are valid atomics, so `this` may be viewed as a `&Header` for the
        // fixed fields (atomic stores only). The control block is initialised in place under
        // the contract of `Control::init_at`, which ours implies.
        unsafe {
            let fixed = &(*this).fixed;
            // Relaxed: published by the Release store in `publish`.
            fixed.magic.store(fields.magic, Ordering::Relaxed);
            fixed.version.store(fields.version, Ordering::Relaxed);
            fixed.type_code.store(fields.type_code, Ordering::Relaxed);
            fixed.elem_size.store(fields.elem_size, Ordering::Relaxed);
            fixed.elem_align.store(fields.elem_align, Ordering::Relaxed);
            fixed
                .header_size
                .store(fields.header_size, Ordering::Relaxed);
            fixed.len.store(fields.len, Ordering::Relaxed);
            fixed
                .data_offset
                .store(fields.data_offset, Ordering::Relaxed);
            fixed.layout.store(fields.layout, Ordering::Relaxed);
            fixed.stripes.store(fields.stripes, Ordering::Relaxed);
            fixed.flags.store(fields.flags, Ordering::Relaxed);
            fixed.checksum.store(checksum(&fields), Ordering::Relaxed);
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
    /// every field against what this build and the caller's element type and layout expect,
    /// and that a file of `file_size` bytes holds all the cells the header claims.
    ///
    /// Returns the shape the header describes (the caller's, with the header's `len`,
    /// `stripes` and `flags`) and the offset of the first cell.
    pub(crate) fn validate(
        &self,
        expected: Shape,
        file_size: u64,
        timeout: Duration,
        origin: &Origin,
    ) -> Result<(Shape, usize), OpenError> {
        self.wait_ready(timeout, origin)?;
        let found = self.read_fields(origin)?;
        if found.layout != expected.layout.code() {
            return Err(OpenError::WrongLayout {
                region: origin.clone(),
                expected: expected.layout,
                found: found.layout,
            });
        }
        if found.type_code != expected.type_code.as_char() as u32 {
            return Err(OpenError::WrongType {
                region: origin.clone(),
                expected: expected.type_code,
                found: found.type_code,
            });
        }
        found.check_layout(expected, file_size, origin)
    }

    /// What a published header describes, read without knowing its element type or layout
    /// and without waiting: a region whose creator has not finished is
    /// [`OpenError::NotReady`] at once. Every check of [`Header::validate`] is made, against
    /// the element type and layout the header names. Returns the shape and the version.
    pub(crate) fn describe(
        &self,
        file_size: u64,
        origin: &Origin,
    ) -> Result<(Shape, u32), OpenError> {
        self.wait_ready(Duration::ZERO, origin)?;
        let found = self.read_fields(origin)?;
        let bad = |reason| OpenError::BadLayout {
            region: origin.clone(),
            reason,
        };
        let layout = Layout::from_code(found.layout).ok_or(bad("unknown layout"))?;
        let type_code = char::from_u32(found.type_code)
            .and_then(TypeCode::from_char)
            .ok_or(bad("unknown element type code"))?;
        let named = Shape {
            type_code,
            elem_size: type_code.size(),
            elem_align: type_code.align(),
            len: 0,
            layout,
            stripes: 1,
            flags: FLAG_SEQLOCK,
        };
        let (shape, _) = found.check_layout(named, file_size, origin)?;
        Ok((shape, found.version))
    }

    /// Loads the fixed fields and checks the magic number, the version and the checksum.
    /// Call only once `wait_ready` succeeded.
    fn read_fields(&self, origin: &Origin) -> Result<Fields, OpenError> {
        let f = &*self.fixed;
        // Relaxed: ordered after the creator's stores by the Acquire load in `wait_ready`.
        let found = Fields {
            magic: f.magic.load(Ordering::Relaxed),
            version: f.version.load(Ordering::Relaxed),
            type_code: f.type_code.load(Ordering::Relaxed),
            elem_size: f.elem_size.load(Ordering::Relaxed),
            elem_align: f.elem_align.load(Ordering::Relaxed),
            header_size: f.header_size.load(Ordering::Relaxed),
            len: f.len.load(Ordering::Relaxed),
            data_offset: f.data_offset.load(Ordering::Relaxed),
            layout: f.layout.load(Ordering::Relaxed),
            stripes: f.stripes.load(Ordering::Relaxed),
            flags: f.flags.load(Ordering::Relaxed),
        };
        let stored = f.checksum.load(Ordering::Relaxed);
        if found.magic != MAGIC {
            return Err(OpenError::BadMagic {
                region: origin.clone(),
                found: found.magic,
            });
        }
        if found.version != LAYOUT_VERSION {
            return Err(OpenError::UnsupportedVersion {
                region: origin.clone(),
                found: found.version,
                supported: LAYOUT_VERSION,
            });
        }
        let computed = checksum(&found);
        if stored != computed {
            return Err(OpenError::BadChecksum {
                region: origin.clone(),
                stored,
                computed,
            });
        }
        Ok(found)
    }

    fn wait_ready(&self, timeout: Duration, origin: &Origin) -> Result<(), OpenError> {
        let start = Instant::now();
        let mut pause = Duration::from_micros(50);
        loop {
            // Relaxed: a wrong non-zero magic is refused at once; a right one is re-read
            // after the Acquire below.
            let magic = self.fixed.magic.load(Ordering::Relaxed);
            if magic != 0 && magic != MAGIC {
                return Err(OpenError::BadMagic {
                    region: origin.clone(),
                    found: magic,
                });
            }
            // Acquire: pairs with the Release store in `publish`.
            match self.fixed.state.load(Ordering::Acquire) {
                STATE_READY => return Ok(()),
                STATE_INITIALIZING => {}
                other => {
                    return Err(OpenError::BadState {
                        region: origin.clone(),
                        found: other,
                    })
                }
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(OpenError::NotReady {
                    region: origin.clone(),
                    waited,
                });
            }
            std::thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(len: usize) -> Shape {
        Shape::of::<u64>(Layout::Dense, len, 1)
    }

    #[test]
    fn region_size_is_checked() {
        assert_eq!(dense(0).region_size(), Some(DATA_OFFSET));
        assert_eq!(dense(10).region_size(), Some(DATA_OFFSET + 80));
        assert_eq!(dense(usize::MAX).region_size(), None);
        assert_eq!(dense(isize::MAX as usize / 8).region_size(), None);
        let striped = Shape::of::<u64>(Layout::Striped, 10, 4);
        assert_eq!(striped.region_size(), Some(DATA_OFFSET + 4 * 128));
    }

    #[test]
    fn checksum_sees_every_field() {
        let base = Fields {
            magic: MAGIC,
            version: 3,
            type_code: 'q' as u32,
            elem_size: 8,
            elem_align: 8,
            header_size: 384,
            len: 10,
            data_offset: 384,
            layout: 0,
            stripes: 1,
            flags: 1,
        };
        let edits: [fn(&mut Fields); 11] = [
            |f| f.magic ^= 1,
            |f| f.version = 1,
            |f| f.type_code = 'Q' as u32,
            |f| f.elem_size = 4,
            |f| f.elem_align = 4,
            |f| f.header_size = 448,
            |f| f.len = 11,
            |f| f.data_offset = 512,
            |f| f.layout = 1,
            |f| f.stripes = 2,
            |f| f.flags = 0,
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut changed = base;
            edit(&mut changed);
            assert_ne!(checksum(&base), checksum(&changed), "field {i}");
        }
    }
}
