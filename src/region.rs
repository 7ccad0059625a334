//! A mapped region: a file descriptor from `backing.rs` mapped `MAP_SHARED`, with the header
//! of `header.rs` at its start and the cells after it.
//!
//! The mapping is a [`memmap2::MmapRaw`], which never hands out references into the memory it
//! maps: the only views this crate makes of a region are `&Header` (atomics and a pthread
//! mutex) and `&[Atomic*]` cells, never `&[u8]`, because another process may write any byte
//! at any time.
//!
//! # What another process can still do
//! A process with write access to a region's file can truncate it (named and file-backed
//! regions only; anonymous regions are sealed). Touching a page beyond the new end then
//! raises `SIGBUS` in every process that maps it. The checks in `attach` cover the file as it
//! is when it is opened; nothing in user space can defend against a later truncation short of
//! handling `SIGBUS`, which a library must not do on its users' behalf.

use crate::error::{CreateError, OpenError};
use crate::header::{Header, Shape, HEADER_SIZE};
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::time::Duration;

/// A live `MAP_SHARED` mapping of a region.
pub(crate) struct Region {
    map: MmapRaw,
    data_offset: usize,
    /// Kept open for its shared "in use" `flock` (named and file regions; see `backing.rs`).
    _file: File,
}

impl Region {
    /// Maps `file`, which holds `shape.region_size()` zero bytes, and writes the header.
    /// The region is not yet ready: the caller fills the cells and then calls `publish`.
    pub(crate) fn init(file: File, shape: Shape) -> Result<Region, CreateError> {
        let size = shape.region_size().ok_or(CreateError::TooLarge {
            len: shape.len,
            elem_size: shape.elem_size,
        })?;
        let map = MmapOptions::new()
            .len(size)
            .map_raw(&file)
            .map_err(|e| CreateError::from_io("mmap", size, e))?;
        // SAFETY:
        // - the mapping is `size >= HEADER_SIZE` bytes, page aligned, and zero-filled (the
        //   file was just created and sized by `backing.rs`);
        // - no other process uses the header before `publish`: openers read only `magic` and
        //   `state` until `state` is READY.
        unsafe { Header::init_at(map.as_mut_ptr().cast::<Header>(), shape) }.map_err(|e| {
            CreateError::Io {
                op: "pthread_mutex_init",
                source: e,
            }
        })?;
        Ok(Region {
            map,
            data_offset: crate::header::DATA_OFFSET,
            _file: file,
        })
    }

    /// Maps an existing region file and checks its header against `expected` (whose `len`,
    /// `stripes` and `flags` are ignored), waiting at most `timeout` for its creator to
    /// finish. Returns the region and the shape its header describes.
    pub(crate) fn attach(
        file: File,
        expected: Shape,
        timeout: Duration,
    ) -> Result<(Region, Shape), OpenError> {
        let start = std::time::Instant::now();
        let size = wait_for_header(&file, timeout)?;
        let map_len = usize::try_from(size).map_err(|_| OpenError::BadLayout {
            reason: "file larger than the address space",
        })?;
        let map = MmapOptions::new()
            .len(map_len)
            .map_raw(&file)
            .map_err(|e| OpenError::from_io("mmap", e))?;
        // SAFETY: the mapping holds at least HEADER_SIZE bytes (checked above), is page
        // aligned, and every bit pattern is a valid `Header` for the purpose it is put to
        // here: `validate` only makes atomic loads of the fixed fields.
        let header = unsafe { &*map.as_ptr().cast::<Header>() };
        // One budget for both waits: what the size wait used is not granted again.
        let left = timeout.saturating_sub(start.elapsed());
        let (shape, data_offset) = header.validate(expected, size, left)?;
        Ok((
            Region {
                map,
                data_offset,
                _file: file,
            },
            shape,
        ))
    }

    /// The header.
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: `init` or `attach` checked the mapping holds a header and initialised or
        // validated it; the mapping lives as long as `self`.
        unsafe { &*self.map.as_ptr().cast::<Header>() }
    }

    /// The first cell. The header guarantees the cells of its shape fit after it.
    pub(crate) fn cells_ptr(&self) -> *mut u8 {
        // SAFETY: `data_offset` is within the mapping: `init` sized it so, `attach` checked
        // that the file holds `data_offset + len * elem_size` bytes.
        unsafe { self.map.as_mut_ptr().add(self.data_offset) }
    }
}

/// A read-only mapping of a region's header alone, for inspection: no cell is mapped, and
/// nothing can be written through it.
pub(crate) struct HeaderView {
    map: MmapRaw,
}

impl HeaderView {
    /// Maps the header of `file`, which must be at least `HEADER_SIZE` bytes long now (it
    /// is not waited for).
    pub(crate) fn map(file: &File) -> Result<HeaderView, OpenError> {
        let size = file
            .metadata()
            .map_err(|e| OpenError::from_io("fstat", e))?
            .len();
        if size < HEADER_SIZE as u64 {
            return Err(OpenError::TooShort {
                size,
                needed: HEADER_SIZE as u64,
            });
        }
        let map = MmapOptions::new()
            .len(HEADER_SIZE)
            .map_raw_read_only(file)
            .map_err(|e| OpenError::from_io("mmap", e))?;
        Ok(HeaderView { map })
    }

    /// The header. Read it with atomic loads only (every method that does not lock or
    /// write); the mapping is read-only, so a write would fault.
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the mapping holds HEADER_SIZE bytes, is page aligned, and lives as long as
        // `self`; every bit pattern is a valid `Header` for atomic loads, which is all that
        // inspection makes of it.
        unsafe { &*self.map.as_ptr().cast::<Header>() }
    }
}

/// The file's size, once it can hold a header. A creator sizes its file just after creating
/// it, so an opener may briefly see it empty: that is waited out (bounded by `timeout`) like
/// an unpublished header, and only then reported as too short.
fn wait_for_header(file: &File, timeout: Duration) -> Result<u64, OpenError> {
    let start = std::time::Instant::now();
    loop {
        let size = file
            .metadata()
            .map_err(|e| OpenError::from_io("fstat", e))?
            .len();
        if size >= HEADER_SIZE as u64 {
            return Ok(size);
        }
        if start.elapsed() >= timeout {
            return Err(OpenError::TooShort {
                size,
                needed: HEADER_SIZE as u64,
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
