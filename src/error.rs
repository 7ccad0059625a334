//! Error types, one per operation: creating, opening, locking, snapshotting.

use crate::element::TypeCode;
use crate::origin::Origin;
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
/// Every variant but [`InvalidName`](CreateError::InvalidName) (which carries the name)
/// names the region it is about, and its `Display` says so; an OS error is the
/// [`source`](std::error::Error::source), not repeated in the message.
///
/// ```
/// use shmarray::{CreateError, SharedArray};
/// let err = SharedArray::<u64>::new(usize::MAX).unwrap_err();
/// assert!(matches!(err, CreateError::TooLarge { .. }));
/// assert_eq!(
///     err.to_string(),
///     format!("anonymous region of {} elements of 8 bytes is larger than the address space", usize::MAX)
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum CreateError {
    /// `len` elements of `elem_size` bytes, plus the header, overflow or exceed `isize::MAX`.
    TooLarge {
        /// The region.
        region: Origin,
        /// Elements asked for.
        len: usize,
        /// Bytes per element.
        elem_size: usize,
    },
    /// The name is not a valid POSIX shared memory name.
    InvalidName(InvalidName),
    /// A segment or file of that name exists already; it was not touched.
    AlreadyExists {
        /// The region.
        region: Origin,
        /// The OS error (`EEXIST`).
        source: io::Error,
    },
    /// The filesystem (for named arrays, `/dev/shm`) has no room for the region. Nothing was
    /// left behind.
    OutOfSpace {
        /// The region.
        region: Origin,
        /// Bytes the region needed.
        bytes: usize,
        /// The OS error (`ENOSPC`).
        source: io::Error,
    },
    /// Another OS call failed.
    Io {
        /// The region.
        region: Origin,
        /// The call that failed.
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// A [`StripedArray`](crate::StripedArray) was asked for a stripe count that is not a
    /// power of two from 1 to 1024.
    InvalidStripes {
        /// The region.
        region: Origin,
        /// The count asked for.
        stripes: usize,
    },
}

impl fmt::Display for CreateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreateError::TooLarge {
                region,
                len,
                elem_size,
            } => write!(
                f,
                "{region} of {len} elements of {elem_size} bytes is larger than the address space"
            ),
            CreateError::InvalidName(e) => e.fmt(f),
            CreateError::AlreadyExists { region, .. } => write!(f, "{region} already exists"),
            CreateError::OutOfSpace { region, bytes, .. } => {
                write!(f, "no space for {region} of {bytes} bytes")
            }
            CreateError::Io { region, op, .. } => write!(f, "creating {region}: {op} failed"),
            CreateError::InvalidStripes { region, stripes } => write!(
                f,
                "{region} with {stripes} stripes: the count must be a power of two from 1 to 1024"
            ),
        }
    }
}

impl std::error::Error for CreateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CreateError::AlreadyExists { source, .. }
            | CreateError::OutOfSpace { source, .. }
            | CreateError::Io { source, .. } => Some(source),
            CreateError::InvalidName(_)
            | CreateError::TooLarge { .. }
            | CreateError::InvalidStripes { .. } => None,
        }
    }
}

impl CreateError {
    /// The region the error is about (`None` for an invalid name, which
    /// [`InvalidName`] carries as given).
    ///
    /// ```
    /// # let name = format!("shmarray-doc-create-region-{}", std::process::id());
    /// let _first = shmarray::SharedArray::<u8>::options().unlink_on_drop(true).create(&name, 1)?;
    /// let err = shmarray::SharedArray::<u8>::create(&name, 1).unwrap_err();
    /// assert_eq!(err.region().and_then(|r| r.name()), Some(name.as_str()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn region(&self) -> Option<&Origin> {
        match self {
            CreateError::TooLarge { region, .. }
            | CreateError::AlreadyExists { region, .. }
            | CreateError::OutOfSpace { region, .. }
            | CreateError::Io { region, .. }
            | CreateError::InvalidStripes { region, .. } => Some(region),
            CreateError::InvalidName(_) => None,
        }
    }

    /// Classifies an OS error from a creating call.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn from_io(
        region: &Origin,
        op: &'static str,
        bytes: usize,
        source: io::Error,
    ) -> CreateError {
        let region = region.clone();
        match source.raw_os_error() {
            Some(libc::EEXIST) => CreateError::AlreadyExists { region, source },
            Some(libc::ENOSPC) | Some(libc::EFBIG) | Some(libc::ENOMEM) => {
                CreateError::OutOfSpace {
                    region,
                    bytes,
                    source,
                }
            }
            _ => CreateError::Io { region, op, source },
        }
    }
}

/// The Rust name of an element type, which messages give before the Python type code.
fn rust_name(code: TypeCode) -> &'static str {
    match code {
        TypeCode::I8 => "i8",
        TypeCode::U8 => "u8",
        TypeCode::I16 => "i16",
        TypeCode::U16 => "u16",
        TypeCode::I32 => "i32",
        TypeCode::U32 => "u32",
        TypeCode::I64 => "i64",
        TypeCode::U64 => "u64",
        TypeCode::Isize => "isize",
        TypeCode::Usize => "usize",
        TypeCode::F32 => "f32",
        TypeCode::F64 => "f64",
    }
}

/// Why an existing region could not be opened.
///
/// Every check is made before any cell is handed out, so a region written by a hostile or
/// broken process gives one of these, never a panic, an out-of-bounds read or a `SIGBUS`.
/// Every variant but [`InvalidName`](OpenError::InvalidName) names the region in its
/// `Display`; an OS error is the [`source`](std::error::Error::source), not repeated in the
/// message.
///
/// ```
/// use shmarray::{OpenError, SharedArray};
/// let err = SharedArray::<u64>::open("shmarray-doc-no-such-name").unwrap_err();
/// assert!(matches!(err, OpenError::NotFound { .. }));
/// assert_eq!(
///     err.to_string(),
///     r#"no region named "shmarray-doc-no-such-name" (/dev/shm/shmarray-doc-no-such-name)"#
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// No segment or file of that name.
    NotFound {
        /// The region.
        region: Origin,
        /// The OS error (`ENOENT`).
        source: io::Error,
    },
    /// The name is not a valid POSIX shared memory name.
    InvalidName(InvalidName),
    /// The file is shorter than its header, or than the cells its header describes. (An
    /// empty file is waited on for the open timeout first: a creator sizes its file just
    /// after creating it.)
    TooShort {
        /// The region.
        region: Origin,
        /// Bytes the file has.
        size: u64,
        /// Bytes it would need.
        needed: u64,
    },
    /// The file does not start with this crate's magic number: it is not an array region.
    BadMagic {
        /// The region.
        region: Origin,
        /// The first eight bytes, little-endian.
        found: u64,
    },
    /// The region was written by a build with another layout version.
    UnsupportedVersion {
        /// The region.
        region: Origin,
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// The header's fixed fields do not match their checksum: corrupted or forged.
    BadChecksum {
        /// The region.
        region: Origin,
        /// Checksum stored in the header.
        stored: u64,
        /// Checksum of the fields as read.
        computed: u64,
    },
    /// The region holds another element type than the one asked for.
    WrongType {
        /// The region.
        region: Origin,
        /// The caller's element type.
        expected: TypeCode,
        /// The type code word stored in the header (a Python type code letter if valid).
        found: u32,
    },
    /// The region holds the other kind of array: a
    /// [`StripedArray`](crate::Layout::Striped) region opened as a
    /// [`SharedArray`](crate::SharedArray), or a dense one opened as striped.
    WrongLayout {
        /// The region.
        region: Origin,
        /// The layout of the caller's array kind.
        expected: crate::Layout,
        /// The layout word stored in the header ([`Layout::code`](crate::Layout::code) if
        /// valid).
        found: u32,
    },
    /// [`open_or_create`](crate::ArrayOptions::open_or_create) found the region with another
    /// number of elements than it was asked to create.
    WrongLength {
        /// The region.
        region: Origin,
        /// The length asked for.
        expected: usize,
        /// The region's length.
        found: usize,
    },
    /// The header is self-consistent but describes a layout this build cannot use.
    BadLayout {
        /// The region.
        region: Origin,
        /// What does not fit.
        reason: &'static str,
    },
    /// The header's state word holds neither "initialising" nor "ready".
    BadState {
        /// The region.
        region: Origin,
        /// The word found.
        found: u32,
    },
    /// The creator had not finished initialising when the timeout ran out (or died before it
    /// did).
    NotReady {
        /// The region.
        region: Origin,
        /// How long `open` waited.
        waited: Duration,
    },
    /// Another process held the region's "in use" `flock` exclusively for the whole open
    /// timeout. Removers ([`remove_stale`](crate::remove_stale)) and an opener reclaiming a
    /// stale lock hold it so only for a moment; a process that keeps it is not following
    /// this crate's protocol.
    Busy {
        /// The region.
        region: Origin,
        /// How long `open` waited.
        waited: Duration,
    },
    /// The region was never made ready and nobody else has it open: its creator died before
    /// finishing (a creator holds the region's "in use" lock from before it sizes the file),
    /// or the file was never a region. Refused at once, without waiting for the open
    /// timeout: nothing can make it ready any more.
    Abandoned {
        /// The region.
        region: Origin,
    },
    /// [`open_or_create`](crate::ArrayOptions::open_or_create) found no region and could not
    /// create one. `Display` and `source` are those of the [`CreateError`].
    Create(CreateError),
    /// Another OS call failed.
    Io {
        /// The region.
        region: Origin,
        /// The call that failed.
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::NotFound { region, .. } => region.fmt_missing(f),
            OpenError::InvalidName(e) => e.fmt(f),
            OpenError::TooShort {
                region,
                size,
                needed,
            } => write!(
                f,
                "{region} is {size} bytes, shorter than the {needed} bytes it must hold"
            ),
            OpenError::BadMagic { region, found } => {
                write!(f, "{region} is not a shmarray region (magic {found:#018x})")
            }
            OpenError::UnsupportedVersion {
                region,
                found,
                supported,
            } => write!(
                f,
                "{region} has layout version {found}, this build reads version {supported}"
            ),
            OpenError::BadChecksum {
                region,
                stored,
                computed,
            } => write!(
                f,
                "{region} has a corrupt header (checksum {stored:#x}, fields give {computed:#x})"
            ),
            OpenError::WrongType {
                region,
                expected,
                found,
            } => {
                let want = rust_name(*expected);
                let want_code = expected.as_char();
                match char::from_u32(*found).and_then(TypeCode::from_char) {
                    Some(code) => write!(
                        f,
                        "{region} holds {} elements (type code '{}'), not {want} ('{want_code}')",
                        rust_name(code),
                        code.as_char()
                    ),
                    None => write!(
                        f,
                        "{region} holds an unknown type code {found:#x}, not {want} ('{want_code}')"
                    ),
                }
            }
            OpenError::WrongLayout {
                region,
                expected,
                found,
            } => match crate::Layout::from_code(*found) {
                Some(layout) => write!(f, "{region} holds a {layout} array, not a {expected} one"),
                None => write!(
                    f,
                    "{region} holds an unknown layout {found:#x}, not {expected}"
                ),
            },
            OpenError::WrongLength {
                region,
                expected,
                found,
            } => write!(f, "{region} holds {found} elements, not {expected}"),
            OpenError::BadLayout { region, reason } => {
                write!(f, "{region} has an unusable layout: {reason}")
            }
            OpenError::BadState { region, found } => {
                write!(f, "{region} has an unknown state word {found:#x}")
            }
            OpenError::NotReady { region, waited } => write!(
                f,
                "{region} still initialising after {waited:?} (its creator may have died)"
            ),
            OpenError::Busy { region, waited } => write!(
                f,
                "{region} held exclusively by another process for {waited:?}"
            ),
            OpenError::Abandoned { region } => write!(
                f,
                "{region} was never made ready and nobody has it open: its creator died first"
            ),
            OpenError::Create(e) => e.fmt(f),
            OpenError::Io { region, op, .. } => write!(f, "opening {region}: {op} failed"),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenError::NotFound { source, .. } | OpenError::Io { source, .. } => Some(source),
            OpenError::Create(e) => e.source(),
            _ => None,
        }
    }
}

impl OpenError {
    /// The region the error is about (`None` for an invalid name, which [`InvalidName`]
    /// carries as given).
    ///
    /// ```
    /// use std::path::Path;
    /// let err = shmarray::SharedArray::<u8>::open_file("/nonexistent/counts").unwrap_err();
    /// assert_eq!(err.region().and_then(|r| r.path()), Some(Path::new("/nonexistent/counts")));
    /// assert_eq!(err.to_string(), r#"no region file "/nonexistent/counts""#);
    /// ```
    pub fn region(&self) -> Option<&Origin> {
        match self {
            OpenError::NotFound { region, .. }
            | OpenError::TooShort { region, .. }
            | OpenError::BadMagic { region, .. }
            | OpenError::UnsupportedVersion { region, .. }
            | OpenError::BadChecksum { region, .. }
            | OpenError::WrongType { region, .. }
            | OpenError::WrongLayout { region, .. }
            | OpenError::WrongLength { region, .. }
            | OpenError::BadLayout { region, .. }
            | OpenError::BadState { region, .. }
            | OpenError::NotReady { region, .. }
            | OpenError::Abandoned { region }
            | OpenError::Busy { region, .. }
            | OpenError::Io { region, .. } => Some(region),
            OpenError::Create(e) => e.region(),
            OpenError::InvalidName(_) => None,
        }
    }

    /// Classifies an OS error from an opening call.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn from_io(region: &Origin, op: &'static str, source: io::Error) -> OpenError {
        let region = region.clone();
        match source.kind() {
            io::ErrorKind::NotFound => OpenError::NotFound { region, source },
            _ => OpenError::Io { region, op, source },
        }
    }
}

/// Why the array's lock was not acquired.
///
/// `'static`, so `?` carries it out of any function returning `Box<dyn Error>`. A holder's
/// death is never silently skipped: [`lock`](crate::SharedArray::lock) and its relatives
/// report [`OwnerDied`](LockError::OwnerDied) (without keeping the lock) until somebody
/// locks with [`lock_for_repair`](crate::SharedArray::lock_for_repair) and calls
/// [`make_consistent`](crate::ArrayGuard::make_consistent).
///
/// ```
/// use shmarray::{LockError, SharedArray};
/// let arr = SharedArray::<u8>::new(1)?;
/// let _held = arr.lock()?;
/// std::thread::scope(|s| {
///     s.spawn(|| assert!(matches!(arr.try_lock(), Err(LockError::WouldBlock))));
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum LockError {
    /// A holder died holding the lock (or panicked with a guard alive) and nobody has
    /// declared the data consistent since. The lock is not held: take it with
    /// [`lock_for_repair`](crate::SharedArray::lock_for_repair), check or repair the data and
    /// call [`ArrayGuard::make_consistent`](crate::ArrayGuard::make_consistent).
    OwnerDied,
    /// [`try_lock`](crate::SharedArray::try_lock): another thread or process holds the lock.
    WouldBlock,
    /// [`lock_timeout`](crate::SharedArray::lock_timeout): the time ran out.
    TimedOut,
    /// This thread already holds the lock.
    Deadlock,
    /// The OS refused the lock (for example a lock word another process corrupted).
    Os(io::Error),
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::OwnerDied => f.write_str(
                "a lock holder died mid-write and the data has not been repaired (lock_for_repair, then make_consistent)",
            ),
            LockError::WouldBlock => f.write_str("the lock is held"),
            LockError::TimedOut => f.write_str("timed out waiting for the lock"),
            LockError::Deadlock => f.write_str("this thread already holds the lock"),
            LockError::Os(_) => f.write_str("the OS refused the lock"),
        }
    }
}

impl std::error::Error for LockError {
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
    /// The calling thread holds the array's lock (its open write keeps the snapshot off the
    /// optimistic path, and the fallback cannot take the lock); read through the guard
    /// instead.
    Deadlock,
    /// [`snapshot_timeout`](crate::SharedArray::snapshot_timeout): the fallback did not get
    /// the lock in time.
    TimedOut,
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
            SnapshotError::TimedOut => f.write_str("timed out waiting for the lock's holder"),
            SnapshotError::Os(_) => f.write_str("the OS refused the snapshot's lock"),
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
