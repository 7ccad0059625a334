//! Removing named regions whose users are all gone.
//!
//! Every array made or opened by name or path holds a shared `flock` on the region for as
//! long as it lives (`backing.rs`), and the kernel drops it when the process ends, however it
//! ends. So taking the lock exclusively, without waiting, succeeds only when no live process
//! has the region open: then, and only then, it may be removed. No process IDs are involved.
//!
//! What is never removed, and why, is in the documentation of [`remove_stale`]. While the
//! exclusive lock is held no opener can start using the region: openers retry for their
//! shared lock (within their open timeout), then see that the file has no name any more and
//! report
//! [`OpenError::NotFound`]. Just before removing, the name is checked to still lead to the
//! file that was locked (it may have been removed and created anew meanwhile).

use crate::backing;
use crate::error::OpenError;
use crate::header::{HEADER_SIZE, MAGIC};
use crate::origin::Origin;
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

/// Removes the named region `name` if no live process has it open, and says whether it did.
///
/// For cleaning up after crashed programs: a region whose creator and users all died stays
/// in `/dev/shm` until removed. It is removed only if no live process holds the shared
/// `flock` that every array made or opened by name keeps on its region for as long as it
/// lives; the kernel drops that lock when a process ends, however it ends, so no process
/// IDs are involved.
///
/// # What is never removed
/// - A region that any live process has open, this one included: `Ok(false)`.
/// - A region being created right now: `Ok(false)`. A creator makes the object empty
///   (`O_CREAT | O_EXCL`), takes its shared lock, and only then gives it its size. So an
///   empty object may belong to a creator between those two steps and is left alone. Once
///   the object has a size, its creator took the shared lock before sizing it, and our
///   holding the lock exclusively means that creator has let go, or died.
/// - Anything that is not a region of this crate: something other than a regular file, a
///   symbolic link, a file shorter than a header, or one that does not start with the
///   crate's magic number is refused with an error and left as it is. `/dev/shm` holds
///   other programs' segments, which do not take this crate's lock: their not being locked
///   means nothing. This includes a region whose creator died before writing its header (it
///   is all zeros): nothing tells it from another program's zero-filled segment, so it is
///   refused with [`OpenError::BadMagic`] `{ found: 0 }`; remove it with
///   [`SharedArray::unlink`](crate::SharedArray::unlink) once you know it is yours.
///
/// # Errors
/// [`OpenError::NotFound`] if there is no such region, [`OpenError::InvalidName`];
/// [`OpenError::BadMagic`] or [`OpenError::TooShort`] if the object is not a region of this
/// crate (it is not removed); [`OpenError::Io`] for a symbolic link (`ELOOP`), something
/// other than a regular file, or another OS failure.
///
/// ```
/// use shmarray::{remove_stale, SharedArray};
/// # let name = format!("shmarray-doc-stale-{}", std::process::id());
/// let arr = SharedArray::<u64>::create(&name, 4)?;
/// assert!(!remove_stale(&name)?); // in use: kept
/// drop(arr);
/// assert!(remove_stale(&name)?); // nobody has it open: removed
/// assert!(SharedArray::<u64>::open(&name).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn remove_stale(name: &str) -> Result<bool, OpenError> {
    let path = backing::shm_path(name)?;
    let origin = &Origin::Named(name.to_owned());
    refuse_special_file(&path, origin)?;
    let file = backing::open_shm(name)?;
    remove_if_stale(&file, &path, origin, || backing::unlink_shm(name))
}

/// As [`remove_stale`], for a region file made by
/// [`SharedArray::create_file`](crate::SharedArray::create_file).
///
/// A symbolic link at `path` is not followed (and not removed): it is an error.
///
/// # Errors
/// [`OpenError::NotFound`] if there is no such file; [`OpenError::BadMagic`] or
/// [`OpenError::TooShort`] if it is not a region of this crate (it is not removed);
/// [`OpenError::Io`] for a symbolic link (`ELOOP`), something other than a regular file, or
/// another OS failure.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("shmarray-doc-stale-{}", std::process::id()));
/// shmarray::SharedArray::<u8>::create_file(&path, 1)?; // dropped at once: stale
/// assert!(shmarray::remove_stale_file(&path)?);
/// assert!(!path.exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A file that is not a region is refused, and kept:
///
/// ```
/// use shmarray::{remove_stale_file, OpenError};
/// # let path = std::env::temp_dir().join(format!("shmarray-doc-not-region-{}", std::process::id()));
/// std::fs::write(&path, [7u8; 4096])?;
/// assert!(matches!(remove_stale_file(&path), Err(OpenError::BadMagic { .. })));
/// assert!(path.exists());
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn remove_stale_file(path: impl AsRef<Path>) -> Result<bool, OpenError> {
    let path = path.as_ref();
    let origin = &Origin::File(path.to_owned());
    refuse_special_file(path, origin)?;
    let file = backing::open_file(path)?;
    remove_if_stale(&file, path, origin, || {
        std::fs::remove_file(path).map_err(|e| OpenError::from_io(origin, "unlink", e))
    })
}

/// The common part: lock, check what was locked, remove.
fn remove_if_stale(
    file: &File,
    path: &Path,
    origin: &Origin,
    remove: impl FnOnce() -> Result<(), OpenError>,
) -> Result<bool, OpenError> {
    let meta = fstat(file, origin)?;
    if !meta.file_type().is_file() {
        return Err(not_a_regular_file(origin));
    }
    if !lock_if_unused(file, origin)? {
        return Ok(false);
    }
    // The size is read with the lock held: see the module documentation.
    let size = fstat(file, origin)?.len();
    if size == 0 {
        return Ok(false);
    }
    check_magic(file, size, origin)?;
    if !same_file(file, path, origin)? {
        return Ok(false);
    }
    remove()?;
    // `file`, and with it the exclusive lock, is released by the caller after this returns:
    // openers that were waiting for it now find the file unlinked.
    Ok(true)
}

/// Refuses, before opening anything, a path that holds something other than a regular file
/// or a symbolic link (opening a device or a FIFO can have effects of its own). A symbolic
/// link is left to the opener, which refuses it with `ELOOP`; a missing file to the opener,
/// which reports it as not found.
pub(crate) fn refuse_special_file(path: &Path, origin: &Origin) -> Result<(), OpenError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() || meta.file_type().is_symlink() => Ok(()),
        Ok(_) => Err(not_a_regular_file(origin)),
        Err(_) => Ok(()),
    }
}

pub(crate) fn not_a_regular_file(origin: &Origin) -> OpenError {
    OpenError::Io {
        region: origin.clone(),
        op: "open",
        source: io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"),
    }
}

pub(crate) fn fstat(file: &File, origin: &Origin) -> Result<std::fs::Metadata, OpenError> {
    file.metadata()
        .map_err(|e| OpenError::from_io(origin, "fstat", e))
}

/// Checks that `file` (of `size` bytes) starts with this crate's magic number. Read with
/// `pread`, not through a mapping: nothing here can fault on a file that shrinks meanwhile.
fn check_magic(file: &File, size: u64, origin: &Origin) -> Result<(), OpenError> {
    if size < HEADER_SIZE as u64 {
        return Err(OpenError::TooShort {
            region: origin.clone(),
            size,
            needed: HEADER_SIZE as u64,
        });
    }
    let mut magic = [0u8; 8];
    file.read_exact_at(&mut magic, 0)
        .map_err(|e| OpenError::from_io(origin, "pread", e))?;
    let found = u64::from_le_bytes(magic);
    if found != MAGIC {
        return Err(OpenError::BadMagic {
            region: origin.clone(),
            found,
        });
    }
    Ok(())
}

/// Whether any live process has `file` open as a region: the same probe as removal, with
/// the exclusive lock let go again at once when it was had. Never waits.
pub(crate) fn in_use(file: &File, origin: &Origin) -> Result<bool, OpenError> {
    if !lock_if_unused(file, origin)? {
        return Ok(true);
    }
    backing::flock(file, libc::LOCK_UN).map_err(|e| OpenError::from_io(origin, "flock", e))?;
    Ok(false)
}

/// Takes the exclusive lock without waiting: `true` if nobody holds the shared one.
fn lock_if_unused(file: &File, origin: &Origin) -> Result<bool, OpenError> {
    match backing::flock(file, libc::LOCK_EX | libc::LOCK_NB) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(OpenError::from_io(origin, "flock", e)),
    }
}

/// True if `path` (not followed if a link) is the file `file` has open.
fn same_file(file: &File, path: &Path, origin: &Origin) -> Result<bool, OpenError> {
    let open = fstat(file, origin)?;
    match std::fs::symlink_metadata(path) {
        Ok(now) => Ok(open.dev() == now.dev() && open.ino() == now.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(OpenError::from_io(origin, "stat", e)),
    }
}
