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

use crate::backing::{self, InUse};
use crate::error::{CreateError, OpenError};
use crate::header::{Header, Shape, HEADER_SIZE};
use crate::origin::Origin;
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

/// A live `MAP_SHARED` mapping of a region.
pub(crate) struct Region {
    map: MmapRaw,
    data_offset: usize,
    /// Kept open for its shared "in use" `flock` (named and file regions; see `backing.rs`).
    file: File,
    /// Where the region lives, for `name()`, `path()`, `Debug` and messages.
    origin: Origin,
    /// True if this handle created the region (rather than opening it).
    created: bool,
    /// Remove the name or file when dropped (set only on a handle that created it).
    unlink_on_drop: bool,
    /// The process that made this handle: a child that inherited it through `fork` does not
    /// remove the name when it drops its copy.
    pid: u32,
}

impl Region {
    /// Creates the file of a region of `shape` at `origin` (a memfd for
    /// [`Origin::Anonymous`]; a name or file with permission bits `mode`), maps it and
    /// writes the header; on failure nothing is left behind. What every array kind's
    /// constructors call. The region is not yet ready: the caller fills the cells and then
    /// calls [`publish`](Self::publish).
    pub(crate) fn create(origin: Origin, shape: Shape, mode: u32) -> Result<Region, CreateError> {
        let size = shape.region_size().ok_or_else(|| CreateError::TooLarge {
            region: origin.clone(),
            len: shape.len,
            elem_size: shape.elem_size,
        })?;
        let file = match &origin {
            Origin::Named(name) => backing::create_shm(name, size, mode)?,
            Origin::File(path) => backing::create_file(path, size, mode)?,
            Origin::Anonymous | Origin::Heap => backing::anonymous(size)?,
        };
        Region::init(file, shape, size, origin.clone()).inspect_err(|_| match &origin {
            Origin::Named(name) => drop(backing::unlink_shm(name)),
            Origin::File(path) => drop(std::fs::remove_file(path)),
            Origin::Anonymous | Origin::Heap => {}
        })
    }

    /// Publishes a region made by [`create`](Self::create) once its cells are written
    /// (the creator's last store), and from then on removes its name or file when dropped
    /// if `unlink_on_drop` (not before: a failed creation removes it itself).
    pub(crate) fn publish(&mut self, unlink_on_drop: bool) {
        self.header().publish();
        self.unlink_on_drop = unlink_on_drop && self.created;
    }

    /// Opens the named region `name` and checks its header: what every array kind's `open`
    /// calls. See [`attach`](Self::attach).
    pub(crate) fn open_named(
        name: &str,
        expected: Shape,
        timeout: Duration,
    ) -> Result<(Region, Shape), OpenError> {
        let file = backing::open_shm(name)?;
        Region::attach(file, expected, timeout, Origin::Named(name.to_owned()))
    }

    /// Opens the region file `path` and checks its header: what every array kind's
    /// `open_file` calls. See [`attach`](Self::attach).
    pub(crate) fn open_file(
        path: &Path,
        expected: Shape,
        timeout: Duration,
    ) -> Result<(Region, Shape), OpenError> {
        let file = backing::open_file(path)?;
        Region::attach(file, expected, timeout, Origin::File(path.to_owned()))
    }

    /// Maps `file`, which holds `size` (`shape.region_size()`) zero bytes, and writes the
    /// header.
    fn init(file: File, shape: Shape, size: usize, origin: Origin) -> Result<Region, CreateError> {
        let map = MmapOptions::new()
            .len(size)
            .map_raw(&file)
            .map_err(|e| CreateError::from_io(&origin, "mmap", size, e))?;
        // SAFETY:
        // - the mapping is `size >= HEADER_SIZE` bytes, page aligned, and zero-filled (the
        //   file was just created and sized by `backing.rs`);
        // - no other process uses the header before `publish`: openers read only `magic` and
        //   `state` until `state` is READY.
        unsafe { Header::init_at(map.as_mut_ptr().cast::<Header>(), shape) }.map_err(|e| {
            CreateError::Io {
                region: origin.clone(),
                op: "pthread_mutex_init",
                source: e,
            }
        })?;
        Ok(Region {
            map,
            data_offset: crate::header::DATA_OFFSET,
            file,
            origin,
            created: true,
            unlink_on_drop: false,
            pid: std::process::id(),
        })
    }

    /// Maps an existing region file and checks its header against `expected` (whose `len`,
    /// `stripes` and `flags` are ignored), waiting at most `timeout` in all for its "in use"
    /// lock and for its creator to finish. Returns the region and the shape its header
    /// describes.
    ///
    /// # A stale lock is reclaimed
    /// If nobody else has the region open (its `flock` can be had exclusively) and it is
    /// ready, its lock is re-initialised before anyone uses it ([`Control::reclaim`]): a lock
    /// word left by a thread that no longer exists, in a file copied while locked or one
    /// that outlived a reboot, would otherwise make every `lock` wait forever. A write that
    /// was open is recorded as a death. A region that is not ready yet is never touched. An
    /// empty one is waited for (its creator may be about to take its shared lock); a sized
    /// one has no creator left (creators lock before they size) and is refused at once as
    /// [`OpenError::Abandoned`] rather than after the whole timeout.
    ///
    /// [`Control::reclaim`]: crate::control::Control::reclaim
    fn attach(
        file: File,
        expected: Shape,
        timeout: Duration,
        origin: Origin,
    ) -> Result<(Region, Shape), OpenError> {
        let start = Instant::now();
        // No deadline that far away: wait as long as it takes (a year is "forever" here).
        let deadline = start
            .checked_add(timeout)
            .unwrap_or_else(|| start + Duration::from_secs(365 * 86_400));
        if backing::mark_in_use_opened(&file, deadline, &origin)? == InUse::Sole {
            let reclaimed = Self::reclaim_if_ready(&file, expected, &origin);
            // Shared again before any error is reported or the region is handed out: from
            // here on this opener is one user among others.
            backing::share(&file, deadline, &origin)?;
            reclaimed?;
        }
        let size = wait_for_header(&file, deadline, &origin)?;
        let map = Self::map(&file, size, &origin)?;
        // SAFETY: the mapping holds at least HEADER_SIZE bytes (checked by
        // `wait_for_header`), is page aligned, and every bit pattern is a valid `Header` for
        // the purpose it is put to here: `validate` only makes atomic loads of the fixed
        // fields.
        let header = unsafe { &*map.as_ptr().cast::<Header>() };
        // One budget for every wait: what the lock and size waits used is not granted again.
        let left = deadline.saturating_duration_since(Instant::now());
        let (shape, data_offset) = header
            .validate(expected, size, left, &origin)
            .map_err(|e| match e {
                // Report the whole wait, not only its last part.
                OpenError::NotReady { region, .. } => OpenError::NotReady {
                    region,
                    waited: start.elapsed(),
                },
                other => other,
            })?;
        Ok((
            Region {
                map,
                data_offset,
                file,
                origin,
                created: false,
                unlink_on_drop: false,
                pid: std::process::id(),
            },
            shape,
        ))
    }

    /// As the region's only user (its `flock` held exclusively): maps and validates it
    /// without waiting and, if it is ready, reclaims its lock. An empty file is left alone, to
    /// be waited for as one user among others (its creator may not have taken its lock yet);
    /// a sized one that is not ready is [`OpenError::Abandoned`] at once.
    fn reclaim_if_ready(file: &File, expected: Shape, origin: &Origin) -> Result<(), OpenError> {
        let size = file
            .metadata()
            .map_err(|e| OpenError::from_io(origin, "fstat", e))?
            .len();
        if size < HEADER_SIZE as u64 {
            return Ok(());
        }
        let map = Self::map(file, size, origin)?;
        // SAFETY: as in `attach`: at least HEADER_SIZE bytes, page aligned, atomic loads only
        // until the reclaim below, which has its own SAFETY argument.
        let header = unsafe { &*map.as_ptr().cast::<Header>() };
        let shape = match header.validate(expected, size, Duration::ZERO, origin) {
            Ok((shape, _)) => shape,
            // A creator takes its shared lock before it sizes the file, and this process
            // holds the lock exclusively: a sized file that is not ready has no creator left.
            Err(OpenError::NotReady { .. }) => {
                return Err(OpenError::Abandoned {
                    region: origin.clone(),
                })
            }
            Err(e) => return Err(e),
        };
        // SAFETY: this process holds the region's `flock` exclusively, so no other process
        // has it open, and no array of this process maps it (each would hold its own shared
        // `flock` on its own open file description): nobody uses the control block.
        unsafe { header.control().reclaim(shape.seqlock()) }
            .map_err(|e| OpenError::from_io(origin, "pthread_mutex_init", e))
    }

    /// Maps `size` bytes of `file`.
    fn map(file: &File, size: u64, origin: &Origin) -> Result<MmapRaw, OpenError> {
        let map_len = usize::try_from(size).map_err(|_| OpenError::BadLayout {
            region: origin.clone(),
            reason: "file larger than the address space",
        })?;
        MmapOptions::new()
            .len(map_len)
            .map_raw(file)
            .map_err(|e| OpenError::from_io(origin, "mmap", e))
    }

    /// Where the region lives.
    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }

    /// True if this handle created the region.
    pub(crate) fn created(&self) -> bool {
        self.created
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
    pub(crate) fn map(file: &File, origin: &Origin) -> Result<HeaderView, OpenError> {
        let size = file
            .metadata()
            .map_err(|e| OpenError::from_io(origin, "fstat", e))?
            .len();
        if size < HEADER_SIZE as u64 {
            return Err(OpenError::TooShort {
                region: origin.clone(),
                size,
                needed: HEADER_SIZE as u64,
            });
        }
        let map = MmapOptions::new()
            .len(HEADER_SIZE)
            .map_raw_read_only(file)
            .map_err(|e| OpenError::from_io(origin, "mmap", e))?;
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

/// The file's size, once it can hold a header. A creator sizes its file in one step just
/// after creating it, so an opener may briefly see it empty: that is waited out (bounded by
/// `timeout`) like an unpublished header, and only then reported as too short. A file that
/// is neither empty nor long enough for a header was not made by a creator: it is refused at
/// once.
fn wait_for_header(file: &File, deadline: Instant, origin: &Origin) -> Result<u64, OpenError> {
    loop {
        let size = file
            .metadata()
            .map_err(|e| OpenError::from_io(origin, "fstat", e))?
            .len();
        if size >= HEADER_SIZE as u64 {
            return Ok(size);
        }
        if size > 0 || Instant::now() >= deadline {
            return Err(OpenError::TooShort {
                region: origin.clone(),
                size,
                needed: HEADER_SIZE as u64,
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        if self.unlink_on_drop && self.pid == std::process::id() {
            remove_if_still_ours(&self.file, &self.origin);
        }
    }
}

/// Removes the name or file of a region this handle created, if it still leads to the
/// region's file (somebody may have removed it and created another meanwhile). Errors are
/// ignored: there is nobody to report them to in `drop`, and a name already gone is the
/// wanted outcome.
fn remove_if_still_ours(file: &File, origin: &Origin) {
    use std::os::unix::fs::MetadataExt;
    let path = match origin {
        Origin::Named(name) => match crate::backing::shm_path(name) {
            Ok(path) => path,
            Err(_) => return,
        },
        Origin::File(path) => path.clone(),
        Origin::Anonymous | Origin::Heap => return,
    };
    let (Ok(open), Ok(now)) = (file.metadata(), std::fs::symlink_metadata(&path)) else {
        return;
    };
    if open.dev() != now.dev() || open.ino() != now.ino() {
        return;
    }
    let _ = match origin {
        Origin::Named(name) => crate::backing::unlink_shm(name).map_err(drop),
        _ => std::fs::remove_file(&path).map_err(drop),
    };
}
