//! Error types, one per operation: creating, opening, locking, snapshotting.

use crate::element::TypeCode;
use std::fmt;
use std::io;
use std::time::Duration;

/// A name or path that cannot name a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName {
    /// The name as given.
    pub name: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid shared memory name {:?}: {}",
            self.name, self.reason
        )
    }
}

impl std::error::Error for InvalidName {}

/// Why an array could not be created.
///
/// ```
/// use shmarray::{CreateError, SharedArray};
/// let err = SharedArray::<u64>::new(usize::MAX).unwrap_err();
/// assert!(matches!(err, CreateError::TooLarge { .. }));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum CreateError {
    /// `len` elements of `elem_size` bytes, plus the header, overflow or exceed `isize::MAX`.
    TooLarge {
        /// Elements asked for.
        len: usize,
        /// Bytes per element.
        elem_size: usize,
    },
    /// The name is not a valid POSIX shared memory name.
    InvalidName(InvalidName),
    /// A segment or file of that name exists already; it was not touched.
    AlreadyExists(io::Error),
    /// The filesystem (for named arrays, `/dev/shm`) has no room for the region. Nothing was
    /// left behind.
    OutOfSpace {
        /// Bytes the region needed.
        bytes: usize,
        /// The OS error (`ENOSPC`).
        source: io::Error,
    },
    /// Another OS call failed.
    Io {
        /// The call that failed.
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

impl fmt::Display for CreateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreateError::TooLarge { len, elem_size } => write!(
                f,
                "an array of {len} elements of {elem_size} bytes is larger than the address space"
            ),
            CreateError::InvalidName(e) => e.fmt(f),
            CreateError::AlreadyExists(e) => write!(f, "region already exists: {e}"),
            CreateError::OutOfSpace { bytes, source } => {
                write!(f, "no space for a region of {bytes} bytes: {source}")
            }
            CreateError::Io { op, source } => write!(f, "{op} failed: {source}"),
        }
    }
}

impl std::error::Error for CreateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CreateError::InvalidName(e) => Some(e),
            CreateError::AlreadyExists(e) => Some(e),
            CreateError::OutOfSpace { source, .. } | CreateError::Io { source, .. } => Some(source),
            CreateError::TooLarge { .. } => None,
        }
    }
}

impl CreateError {
    /// Classifies an OS error from a creating call.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn from_io(op: &'static str, bytes: usize, source: io::Error) -> CreateError {
        match source.raw_os_error() {
            Some(libc::EEXIST) => CreateError::AlreadyExists(source),
            Some(libc::ENOSPC) | Some(libc::EFBIG) | Some(libc::ENOMEM) => {
                CreateError::OutOfSpace { bytes, source }
            }
            _ => CreateError::Io { op, source },
        }
    }
}

/// Why an existing region could not be opened.
///
/// Every check is made before any cell is handed out, so a region written by a hostile or
/// broken process gives one of these, never a panic, an out-of-bounds read or a `SIGBUS`.
///
/// ```
/// use shmarray::{OpenError, SharedArray};
/// let err = SharedArray::<u64>::open("shmarray-doc-no-such-name").unwrap_err();
/// assert!(matches!(err, OpenError::NotFound(_)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// No segment or file of that name.
    NotFound(io::Error),
    /// The name is not a valid POSIX shared memory name.
    InvalidName(InvalidName),
    /// The file is shorter than its header (still, when the open timeout ran out: a creator
    /// sizes its file just after creating it), or than the cells its header describes.
    TooShort {
        /// Bytes the file has.
        size: u64,
        /// Bytes it would need.
        needed: u64,
    },
    /// The file does not start with this crate's magic number: it is not an array region.
    BadMagic {
        /// The first eight bytes, little-endian.
        found: u64,
    },
    /// The region was written by a build with another layout version.
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// The header's fixed fields do not match their checksum: corrupted or forged.
    BadChecksum {
        /// Checksum stored in the header.
        stored: u64,
        /// Checksum of the fields as read.
        computed: u64,
    },
    /// The region holds another element type than the one asked for.
    WrongType {
        /// The caller's element type.
        expected: TypeCode,
        /// The type code word stored in the header (a Python type code letter if valid).
        found: u32,
    },
    /// The region holds the other kind of array: a
    /// [`StripedArray`](crate::Layout::Striped) region opened as a
    /// [`SharedArray`](crate::SharedArray), or a dense one opened as striped.
    WrongLayout {
        /// The layout of the caller's array kind.
        expected: crate::Layout,
        /// The layout word stored in the header ([`Layout::code`](crate::Layout::code) if
        /// valid).
        found: u32,
    },
    /// The header is self-consistent but describes a layout this build cannot use.
    BadLayout {
        /// What does not fit.
        reason: &'static str,
    },
    /// The header's state word holds neither "initialising" nor "ready".
    BadState {
        /// The word found.
        found: u32,
    },
    /// The creator had not finished initialising when the timeout ran out (or died before it
    /// did).
    NotReady {
        /// How long `open` waited.
        waited: Duration,
    },
    /// Another OS call failed.
    Io {
        /// The call that failed.
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::NotFound(e) => write!(f, "no such region: {e}"),
            OpenError::InvalidName(e) => e.fmt(f),
            OpenError::TooShort { size, needed } => write!(
                f,
                "region file is {size} bytes, shorter than the {needed} bytes it must hold"
            ),
            OpenError::BadMagic { found } => {
                write!(f, "not a shmarray region (magic {found:#018x})")
            }
            OpenError::UnsupportedVersion { found, supported } => write!(
                f,
                "region layout version {found}, this build reads version {supported}"
            ),
            OpenError::BadChecksum { stored, computed } => write!(
                f,
                "region header is corrupt (checksum {stored:#x}, fields give {computed:#x})"
            ),
            OpenError::WrongType { expected, found } => {
                match char::from_u32(*found).and_then(TypeCode::from_char) {
                    Some(code) => write!(f, "region holds {code} elements, not {expected}"),
                    None => write!(
                        f,
                        "region holds unknown type code {found:#x}, not {expected}"
                    ),
                }
            }
            OpenError::WrongLayout { expected, found } => match crate::Layout::from_code(*found) {
                Some(layout) => write!(f, "region holds a {layout} array, not a {expected} one"),
                None => write!(f, "region holds unknown layout {found:#x}, not {expected}"),
            },
            OpenError::BadLayout { reason } => write!(f, "unusable region layout: {reason}"),
            OpenError::BadState { found } => {
                write!(f, "region header has an unknown state word {found:#x}")
            }
            OpenError::NotReady { waited } => write!(
                f,
                "region still initialising after {waited:?} (its creator may have died)"
            ),
            OpenError::Io { op, source } => write!(f, "{op} failed: {source}"),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenError::NotFound(e) | OpenError::Io { source: e, .. } => Some(e),
            OpenError::InvalidName(e) => Some(e),
            _ => None,
        }
    }
}

impl OpenError {
    /// Classifies an OS error from an opening call.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn from_io(op: &'static str, source: io::Error) -> OpenError {
        match source.kind() {
            io::ErrorKind::NotFound => OpenError::NotFound(source),
            _ => OpenError::Io { op, source },
        }
    }
}

/// Why the array's lock was not (cleanly) acquired.
///
/// The error borrows the array, because [`OwnerDied`](LockError::OwnerDied) carries the
/// guard: to pass it up as a `Box<dyn Error + 'static>`, handle `OwnerDied` first or map the
/// error (`.map_err(|e| e.to_string())`).
///
/// ```
/// use shmarray::{LockError, SharedArray};
/// let arr = SharedArray::<u8>::new(1)?;
/// let _held = arr.lock().unwrap();
/// std::thread::scope(|s| {
///     s.spawn(|| assert!(matches!(arr.try_lock(), Err(LockError::WouldBlock))));
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
pub enum LockError<'a, T: crate::Element> {
    /// A previous holder died holding the lock. The lock is now held by the caller, through
    /// the guard inside; see [`ArrayGuard::make_consistent`](crate::ArrayGuard::make_consistent).
    OwnerDied(crate::ArrayGuard<'a, T>),
    /// [`try_lock`](crate::SharedArray::try_lock): another thread or process holds the lock.
    WouldBlock,
    /// [`lock_timeout`](crate::SharedArray::lock_timeout): the time ran out.
    TimedOut,
    /// This thread already holds the lock.
    Deadlock,
    /// The OS refused the lock (for example a lock word another process corrupted).
    Os(io::Error),
}

impl<T: crate::Element> fmt::Debug for LockError<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::OwnerDied(g) => f.debug_tuple("OwnerDied").field(g).finish(),
            LockError::WouldBlock => f.write_str("WouldBlock"),
            LockError::TimedOut => f.write_str("TimedOut"),
            LockError::Deadlock => f.write_str("Deadlock"),
            LockError::Os(e) => f.debug_tuple("Os").field(e).finish(),
        }
    }
}

impl<T: crate::Element> fmt::Display for LockError<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::OwnerDied(_) => f.write_str(
                "the previous lock holder died holding the lock; the data may be inconsistent",
            ),
            LockError::WouldBlock => f.write_str("the lock is held"),
            LockError::TimedOut => f.write_str("timed out waiting for the lock"),
            LockError::Deadlock => f.write_str("this thread already holds the lock"),
            LockError::Os(e) => write!(f, "locking failed: {e}"),
        }
    }
}

impl<T: crate::Element> std::error::Error for LockError<'_, T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LockError::Os(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a consistent snapshot could not be taken.
///
/// ```
/// let arr = shmarray::SharedArray::<u8>::new(2)?;
/// let mut out = [0u8; 3];
/// assert!(matches!(
///     arr.snapshot_into(&mut out),
///     Err(shmarray::SnapshotError::LengthMismatch { .. })
/// ));
/// # Ok::<(), shmarray::CreateError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum SnapshotError {
    /// A lock holder died and nobody has repaired the data since: it may be half-written.
    /// Take the lock, repair, and call
    /// [`ArrayGuard::make_consistent`](crate::ArrayGuard::make_consistent).
    OwnerDied,
    /// [`snapshot_into`](crate::SharedArray::snapshot_into) was given a buffer of another
    /// length.
    LengthMismatch {
        /// The array's length.
        expected: usize,
        /// The buffer's length.
        found: usize,
    },
    /// The calling thread holds the array's lock, so the snapshot's fallback could not take
    /// it; read through the guard instead.
    Deadlock,
    /// The OS refused the lock.
    Os(io::Error),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::OwnerDied => {
                f.write_str("a lock holder died mid-write and the data has not been repaired")
            }
            SnapshotError::LengthMismatch { expected, found } => write!(
                f,
                "snapshot buffer holds {found} elements, the array {expected}"
            ),
            SnapshotError::Deadlock => {
                f.write_str("this thread holds the array's lock; read through its guard instead")
            }
            SnapshotError::Os(e) => write!(f, "snapshot lock failed: {e}"),
        }
    }
}

impl std::error::Error for SnapshotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SnapshotError::Os(e) => Some(e),
            _ => None,
        }
    }
}
