//! Removing named regions whose users are all gone.
//!
//! Every array made or opened by name or path holds a shared `flock` on the region for as
//! long as it lives (`backing.rs`), and the kernel drops it when the process ends, however it
//! ends. So taking the lock exclusively, without waiting, succeeds only when no live process
//! has the region open: then, and only then, it is removed. No process IDs are involved.

use crate::backing;
use crate::error::OpenError;
use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Removes the named region `name` if no live process has it open, and says whether it did.
///
/// For cleaning up after crashed programs: a region whose creator and users all died stays
/// in `/dev/shm` until removed. A region that any live process (this one included) has
/// open is left alone, and so is one being created right now.
///
/// # Errors
/// [`OpenError::NotFound`] if there is no such region, [`OpenError::InvalidName`],
/// [`OpenError::Io`].
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
    let file = backing::open_shm_unmarked(name)?;
    if !lock_if_unused(&file)? {
        return Ok(false);
    }
    // The exclusive lock keeps openers out (they wait for a shared one, then see the link
    // count drop to zero and report NotFound). Check the name still leads to the object we
    // locked before removing it: it may have been removed and created anew meanwhile.
    if !same_file(&file, &backing::shm_path(name)?)? {
        return Ok(false);
    }
    backing::unlink_shm(name)?;
    Ok(true)
}

/// As [`remove_stale`], for a region file made by
/// [`SharedArray::create_file`](crate::SharedArray::create_file).
///
/// # Errors
/// [`OpenError::NotFound`] if there is no such file, [`OpenError::Io`].
///
/// ```
/// # let path = std::env::temp_dir().join(format!("shmarray-doc-stale-{}", std::process::id()));
/// shmarray::SharedArray::<u8>::create_file(&path, 1)?; // dropped at once: stale
/// assert!(shmarray::remove_stale_file(&path)?);
/// assert!(!path.exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn remove_stale_file(path: impl AsRef<Path>) -> Result<bool, OpenError> {
    let path = path.as_ref();
    let file = backing::open_file_unmarked(path)?;
    if !lock_if_unused(&file)? || !same_file(&file, path)? {
        return Ok(false);
    }
    std::fs::remove_file(path).map_err(|e| OpenError::from_io("unlink", e))?;
    Ok(true)
}

/// Takes the exclusive lock without waiting: `true` if nobody holds the shared one.
fn lock_if_unused(file: &File) -> Result<bool, OpenError> {
    match backing::flock(file, libc::LOCK_EX | libc::LOCK_NB) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(OpenError::from_io("flock", e)),
    }
}

/// True if `path` (not followed if a link) is the file `file` has open.
fn same_file(file: &File, path: &Path) -> Result<bool, OpenError> {
    let open = file
        .metadata()
        .map_err(|e| OpenError::from_io("fstat", e))?;
    match std::fs::symlink_metadata(path) {
        Ok(now) => Ok(open.dev() == now.dev() && open.ino() == now.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(OpenError::from_io("stat", e)),
    }
}
