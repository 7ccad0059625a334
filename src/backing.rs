//! Where a region's memory comes from: an anonymous sealed memfd, a named POSIX shared
//! memory object, or a regular file. This module only makes and opens file descriptors; the
//! mapping and the header are `region.rs`'s.
//!
//! # Who is using a named region
//! Every array made or opened by name or path holds a shared `flock` on its descriptor for as
//! long as it lives (the descriptor is kept by `Region`). The kernel drops the lock when the
//! process dies, however it dies. So a process that gets the lock *exclusively* (without
//! waiting) knows no live process has the region open: that is how
//! [`remove_stale`](crate::remove_stale) tells a stale segment from a live one, with no
//! process IDs involved, and how an opener knows it may reclaim a stale lock (`region.rs`).
//! Nobody ever waits for this lock in a blocking call: openers retry without blocking
//! until their timeout, so a process that holds it exclusively cannot hang them.

use crate::error::{CreateError, InvalidName, OpenError};
use crate::origin::Origin;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
#[cfg(target_os = "linux")]
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Longest name `shm_open` accepts on Linux (`NAME_MAX`), not counting the leading slash.
const NAME_MAX: usize = 255;

/// Checks a POSIX shared memory name and returns it in the form `shm_open` wants: one
/// leading `/`, then 1 to 255 bytes with no `/` and no NUL, not `.` or `..`. A name given
/// without the leading slash gets one.
pub(crate) fn shm_name(name: &str) -> Result<CString, InvalidName> {
    let bad = |reason| InvalidName {
        name: name.to_owned(),
        reason,
    };
    let bare = name.strip_prefix('/').unwrap_or(name);
    if bare.is_empty() {
        return Err(bad("empty"));
    }
    if bare.len() > NAME_MAX {
        return Err(bad("longer than 255 bytes"));
    }
    if bare.contains('/') {
        return Err(bad("contains '/' after the first character"));
    }
    if bare == "." || bare == ".." {
        return Err(bad("'.' and '..' are not names"));
    }
    CString::new(format!("/{bare}")).map_err(|_| bad("contains a NUL byte"))
}

/// Reserves `size` bytes of backing store for `file` so that a full filesystem is an error
/// now, not a `SIGBUS` on first touch later. A memory-backed file (memfd, `/dev/shm`, tmpfs)
/// larger than the memory the system can give is refused before anything is allocated
/// (`memory.rs`): filling it would end in the out-of-memory killer, not in an error.
fn reserve(file: &File, size: usize, origin: &Origin) -> Result<(), CreateError> {
    if let Some(source) = crate::memory::refuse_if_unavailable(file, size) {
        return Err(CreateError::OutOfSpace {
            region: origin.clone(),
            bytes: size,
            source,
        });
    }
    file.set_len(size as u64)
        .map_err(|e| CreateError::from_io(origin, "ftruncate", size, e))?;
    if size == 0 {
        return Ok(());
    }
    let len = libc::off_t::try_from(size).map_err(|_| CreateError::TooLarge {
        region: origin.clone(),
        len: size,
        elem_size: 1,
    })?;
    // SAFETY: `file` is an open descriptor we own; posix_fallocate touches only its file.
    let code = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
    match code {
        0 => Ok(()),
        // Filesystems without fallocate: the space is not reserved, but the region is usable.
        libc::EOPNOTSUPP | libc::EINVAL => Ok(()),
        other => Err(CreateError::from_io(
            origin,
            "posix_fallocate",
            size,
            io::Error::from_raw_os_error(other),
        )),
    }
}

/// Gives a freshly created region file its permission bits (with `fchmod`, so the umask
/// does not narrow them) and takes its shared "in use" lock.
fn prepare_created(
    file: &File,
    size: usize,
    mode: u32,
    origin: &Origin,
) -> Result<(), CreateError> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))
        .map_err(|e| CreateError::from_io(origin, "fchmod", size, e))?;
    flock(file, libc::LOCK_SH).map_err(|e| CreateError::from_io(origin, "flock", size, e))
}

/// How an opener holds a region's "in use" `flock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InUse {
    /// Shared, as every user holds it for as long as it has the region open.
    Shared,
    /// Exclusive: nobody else has the region open (`region.rs` may reclaim its lock, then
    /// calls [`share`]).
    Sole,
}

/// Takes the "in use" lock on an opened region file: exclusively if nobody else has it
/// open, else shared, never blocking past `deadline` (a remover or a reclaiming opener holds
/// it exclusively for a moment; a process that holds it so for longer is waited out only
/// until the deadline). Then checks that the file was not removed meanwhile.
pub(crate) fn mark_in_use_opened(
    file: &File,
    deadline: Instant,
    origin: &Origin,
) -> Result<InUse, OpenError> {
    if try_flock(file, libc::LOCK_EX, origin)? {
        check_not_removed(file, origin)?;
        return Ok(InUse::Sole);
    }
    share(file, deadline, origin)?;
    Ok(InUse::Shared)
}

/// Takes (or turns an exclusive lock into) the shared "in use" lock, retrying without
/// blocking until `deadline`, then checks that the file was not removed meanwhile.
pub(crate) fn share(file: &File, deadline: Instant, origin: &Origin) -> Result<(), OpenError> {
    let start = Instant::now();
    while !try_flock(file, libc::LOCK_SH, origin)? {
        if Instant::now() >= deadline {
            return Err(OpenError::Busy {
                region: origin.clone(),
                waited: start.elapsed(),
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    check_not_removed(file, origin)
}

/// `flock(file, op | LOCK_NB)`: `Ok(false)` if another holder is in the way.
fn try_flock(file: &File, op: libc::c_int, origin: &Origin) -> Result<bool, OpenError> {
    match flock(file, op | libc::LOCK_NB) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(OpenError::from_io(origin, "flock", e)),
    }
}

/// A remover takes the lock exclusively, then unlinks: an opener that gets its lock after
/// that finds a file with no name left.
fn check_not_removed(file: &File, origin: &Origin) -> Result<(), OpenError> {
    let meta = file
        .metadata()
        .map_err(|e| OpenError::from_io(origin, "fstat", e))?;
    if std::os::unix::fs::MetadataExt::nlink(&meta) == 0 {
        return Err(OpenError::NotFound {
            region: origin.clone(),
            source: io::Error::from(io::ErrorKind::NotFound),
        });
    }
    Ok(())
}

/// `flock(2)` on `file`.
pub(crate) fn flock(file: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: `file` is an open descriptor; flock has no memory-safety preconditions.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// An anonymous region of `size` bytes, shared with children across `fork` and sealed
/// against shrinking and growing so nobody can truncate it under a reader.
#[cfg(target_os = "linux")]
pub(crate) fn anonymous(size: usize) -> Result<File, CreateError> {
    use nix::fcntl::{fcntl, FcntlArg, SealFlag};
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    let flags = MemFdCreateFlag::MFD_CLOEXEC | MemFdCreateFlag::MFD_ALLOW_SEALING;
    let origin = &Origin::Anonymous;
    let fd: OwnedFd = memfd_create(c"shmarray", flags)
        .map_err(|e| CreateError::from_io(origin, "memfd_create", size, e.into()))?;
    let file = File::from(fd);
    reserve(&file, size, origin)?;
    let seals = SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_SEAL;
    fcntl(file.as_raw_fd(), FcntlArg::F_ADD_SEALS(seals))
        .map_err(|e| CreateError::from_io(origin, "fcntl(F_ADD_SEALS)", size, e.into()))?;
    Ok(file)
}

/// Elsewhere: a POSIX shared memory object unlinked as soon as it is made (unsealed).
#[cfg(not(target_os = "linux"))]
pub(crate) fn anonymous(size: usize) -> Result<File, CreateError> {
    use crate::sync::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    loop {
        let name = format!(
            "shmarray-anon-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        match create_shm(&name, size, 0o600) {
            Ok(file) => {
                let _ = unlink_shm(&name);
                return Ok(file);
            }
            Err(CreateError::AlreadyExists { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Creates the named shared memory object `name` of `size` bytes with permission bits
/// `mode`, failing if it exists. On failure after creation the object is removed again:
/// nothing is left behind.
pub(crate) fn create_shm(name: &str, size: usize, mode: u32) -> Result<File, CreateError> {
    use nix::fcntl::OFlag;
    use nix::sys::mman::{shm_open, shm_unlink};
    use nix::sys::stat::Mode;
    let cname = shm_name(name).map_err(CreateError::InvalidName)?;
    let origin = &Origin::Named(name.to_owned());
    let flags =
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = shm_open(cname.as_c_str(), flags, Mode::S_IRUSR | Mode::S_IWUSR)
        .map_err(|e| CreateError::from_io(origin, "shm_open", size, e.into()))?;
    let file = File::from(fd);
    if let Err(e) =
        prepare_created(&file, size, mode, origin).and_then(|()| reserve(&file, size, origin))
    {
        let _ = shm_unlink(cname.as_c_str());
        return Err(e);
    }
    Ok(file)
}

/// Opens the named shared memory object `name` for reading and writing, not yet marked in
/// use: `Region::attach` takes the lock with [`mark_in_use_opened`] (`stale.rs` never does:
/// it must not count itself as a user).
pub(crate) fn open_shm(name: &str) -> Result<File, OpenError> {
    open_shm_with(name, nix::fcntl::OFlag::O_RDWR)
}

/// Opens the named shared memory object `name` for reading only, not marked in use (for
/// `inspect.rs`, which needs no more than read permission).
pub(crate) fn open_shm_read_only(name: &str) -> Result<File, OpenError> {
    open_shm_with(name, nix::fcntl::OFlag::O_RDONLY)
}

fn open_shm_with(name: &str, access: nix::fcntl::OFlag) -> Result<File, OpenError> {
    use nix::fcntl::OFlag;
    use nix::sys::mman::shm_open;
    use nix::sys::stat::Mode;
    let cname = shm_name(name).map_err(OpenError::InvalidName)?;
    let flags = access | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = shm_open(cname.as_c_str(), flags, Mode::empty())
        .map_err(|e| OpenError::from_io(&Origin::Named(name.to_owned()), "shm_open", e.into()))?;
    Ok(File::from(fd))
}

/// Where the named object `name` appears in the filesystem (`/dev/shm` on Linux, where
/// glibc's `shm_open` keeps them).
pub(crate) fn shm_path(name: &str) -> Result<std::path::PathBuf, OpenError> {
    let cname = shm_name(name).map_err(OpenError::InvalidName)?;
    let bare = &cname.to_str().expect("shm_name came from a &str")[1..];
    Ok(Path::new("/dev/shm").join(bare))
}

/// Removes the named shared memory object `name`.
pub(crate) fn unlink_shm(name: &str) -> Result<(), OpenError> {
    let cname = shm_name(name).map_err(OpenError::InvalidName)?;
    nix::sys::mman::shm_unlink(cname.as_c_str())
        .map_err(|e| OpenError::from_io(&Origin::Named(name.to_owned()), "shm_unlink", e.into()))
}

/// Creates the regular file `path` of `size` bytes with permission bits `mode`, failing if
/// anything (a symbolic link included) is at the path already. On failure after creation
/// the file is removed again.
pub(crate) fn create_file(path: &Path, size: usize, mode: u32) -> Result<File, CreateError> {
    let origin = &Origin::File(path.to_owned());
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| CreateError::from_io(origin, "open", size, e))?;
    if let Err(e) =
        prepare_created(&file, size, mode, origin).and_then(|()| reserve(&file, size, origin))
    {
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(file)
}

/// Opens the regular file `path` for reading and writing, refusing a symbolic link, not yet
/// marked in use (see [`open_shm`]).
pub(crate) fn open_file(path: &Path) -> Result<File, OpenError> {
    open_file_with(path, true)
}

/// Opens the regular file `path` for reading only, not marked in use (for `inspect.rs`).
pub(crate) fn open_file_read_only(path: &Path) -> Result<File, OpenError> {
    open_file_with(path, false)
}

fn open_file_with(path: &Path, write: bool) -> Result<File, OpenError> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| OpenError::from_io(&Origin::File(path.to_owned()), "open", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shm_names_are_checked() {
        assert_eq!(shm_name("a").unwrap().as_bytes(), b"/a");
        assert_eq!(shm_name("/a").unwrap().as_bytes(), b"/a");
        for bad in ["", "/", "a/b", "/a/b", ".", "..", "a\0b"] {
            assert!(shm_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(shm_name(&"x".repeat(255)).is_ok());
        assert_eq!(
            shm_name(&"x".repeat(256)).unwrap_err().reason,
            "longer than 255 bytes"
        );
    }
}
