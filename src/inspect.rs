//! Reading a region's header and live state without knowing its element type, and without
//! changing anything: what the `shmarray` command-line tool shows.
//!
//! The file is opened read-only and only its header is mapped, read-only. Every field, the
//! lock word, the owner-died flag and the seqlock counter are read with atomic loads. Whether
//! any process has the region open is the non-blocking `flock` probe of
//! [`remove_stale`](crate::remove_stale) (`stale.rs`), made only once the file has proved to
//! be a region of this crate; when nobody has it open, the probe holds the exclusive lock
//! for the two system calls it takes to let go again, during which an opener waits.

use crate::backing;
use crate::element::TypeCode;
use crate::error::OpenError;
use crate::header::FLAG_SEQLOCK;
use crate::layout::Layout;
use crate::origin::Origin;
use crate::raw_lock::Peeked;
use crate::region::HeaderView;
use crate::stale;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The state of a region's lock, as read without taking it.
///
/// ```
/// use shmarray::{inspect, LockState, SharedArray};
/// # let name = format!("shmarray-doc-lockstate-{}", std::process::id());
/// let arr = SharedArray::<u64>::create(&name, 2)?;
/// assert_eq!(inspect(&name)?.lock, LockState::Free);
/// let guard = arr.lock().unwrap();
/// assert!(matches!(inspect(&name)?.lock, LockState::Held { .. }));
/// drop(guard);
/// # SharedArray::<u64>::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockState {
    /// Nobody holds the lock and no death is unrepaired.
    Free,
    /// A thread holds the lock.
    Held {
        /// The holder's kernel thread ID, numbered in its own PID namespace, where the
        /// platform's lock records it (glibc's does). For a single-threaded process it is
        /// the process ID.
        holder: Option<u32>,
    },
    /// A holder died holding the lock, and no one has declared the data consistent since
    /// ([`ArrayGuard::make_consistent`](crate::ArrayGuard::make_consistent)): the next
    /// locker is told, and snapshots refuse the data.
    OwnerDied {
        /// Someone holds the lock right now (to repair, perhaps).
        held: bool,
    },
    /// This platform's mutex layout is not known to the crate, so the lock word cannot be
    /// read.
    Unknown,
}

/// What a region's header says, and its live state, as read by [`inspect`] or
/// [`inspect_file`].
///
/// The live fields ([`in_use`](Self::in_use), [`lock`](Self::lock), [`seq`](Self::seq)) are
/// each what they were at some instant during the call, not one snapshot together, and may
/// have changed by the time they are read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegionInfo {
    /// The shared memory name, without its leading `/` (`None` for a file region).
    pub name: Option<String>,
    /// Where the region is in the filesystem (under `/dev/shm` for a named region).
    pub path: PathBuf,
    /// How the cells are arranged.
    pub layout: Layout,
    /// The element type.
    pub type_code: TypeCode,
    /// The number of elements.
    pub len: usize,
    /// Stripes per element (1 for a dense array).
    pub stripes: u32,
    /// The file's size in bytes, header included.
    pub bytes: u64,
    /// Whether locked writes go through the seqlock (snapshots are consistent).
    pub seqlock: bool,
    /// The header's layout version.
    pub version: u32,
    /// The file's permission bits (`0o600` by default).
    pub mode: u32,
    /// The file owner's user ID.
    pub uid: u32,
    /// The file's group ID.
    pub gid: u32,
    /// Whether any live process has the region open.
    pub in_use: bool,
    /// The lock's state.
    pub lock: LockState,
    /// The seqlock counter: odd while a locked write is open, or was left open by a writer
    /// that died.
    pub seq: u64,
}

impl RegionInfo {
    /// True if a locked write is open now (or was left open by a writer that died): the
    /// seqlock counter is odd.
    ///
    /// ```
    /// # let name = format!("shmarray-doc-writeopen-{}", std::process::id());
    /// let arr = shmarray::SharedArray::<u64>::create(&name, 2)?;
    /// assert!(!shmarray::inspect(&name)?.write_open());
    /// # shmarray::SharedArray::<u64>::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_open(&self) -> bool {
        self.seq & 1 == 1
    }
}

/// Reads the header and live state of the named region `name`, without knowing its element
/// type. Changes nothing and never waits: a region whose creator has not finished is an
/// error at once. Needs only read permission.
///
/// # Errors
/// As [`SharedArray::open`](crate::SharedArray::open): [`OpenError::NotFound`],
/// [`OpenError::InvalidName`]; [`OpenError::BadMagic`] or [`OpenError::TooShort`] for a file
/// that is not a region of this crate; [`OpenError::NotReady`] for one still being created;
/// the header checks' errors; [`OpenError::Io`] for a symbolic link, something other than
/// a regular file, or another OS failure.
///
/// ```
/// use shmarray::{inspect, Layout, LockState, SharedArray, TypeCode};
/// # let name = format!("shmarray-doc-inspect-{}", std::process::id());
/// let arr = SharedArray::<i32>::create(&name, 10)?;
/// let info = inspect(&name)?;
/// assert_eq!(info.name.as_deref(), Some(name.as_str()));
/// assert_eq!((info.type_code, info.len, info.layout), (TypeCode::I32, 10, Layout::Dense));
/// assert!(info.in_use); // `arr` has it open
/// assert_eq!(info.lock, LockState::Free);
/// drop(arr);
/// assert!(!inspect(&name)?.in_use);
/// # SharedArray::<i32>::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn inspect(name: &str) -> Result<RegionInfo, OpenError> {
    let path = backing::shm_path(name)?;
    let origin = Origin::Named(name.to_owned());
    stale::refuse_special_file(&path, &origin)?;
    let file = backing::open_shm_read_only(name)?;
    let bare = name.strip_prefix('/').unwrap_or(name);
    read(&file, Some(bare.to_owned()), path, &origin)
}

/// As [`inspect`], for a region file made by
/// [`SharedArray::create_file`](crate::SharedArray::create_file). A symbolic link is not
/// followed.
///
/// # Errors
/// As [`inspect`].
///
/// ```
/// # let path = std::env::temp_dir().join(format!("shmarray-doc-inspect-file-{}", std::process::id()));
/// let _arr = shmarray::SharedArray::<f64>::create_file(&path, 3)?;
/// let info = shmarray::inspect_file(&path)?;
/// assert_eq!((info.name, info.len, info.mode), (None, 3, 0o600));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn inspect_file(path: impl AsRef<Path>) -> Result<RegionInfo, OpenError> {
    let path = path.as_ref();
    let origin = Origin::File(path.to_owned());
    stale::refuse_special_file(path, &origin)?;
    let file = backing::open_file_read_only(path)?;
    read(&file, None, path.to_owned(), &origin)
}

fn read(
    file: &File,
    name: Option<String>,
    path: PathBuf,
    origin: &Origin,
) -> Result<RegionInfo, OpenError> {
    let meta = stale::fstat(file, origin)?;
    if !meta.file_type().is_file() {
        return Err(stale::not_a_regular_file(origin));
    }
    let view = HeaderView::map(file, origin)?;
    let header = view.header();
    let (shape, version) = header.describe(meta.len(), origin)?;
    // Only now, the file being a region of this crate, is its flock probed: another
    // program's file is never locked.
    let in_use = stale::in_use(file, origin)?;
    let peek = header.control().peek();
    let lock = match (peek.lock, peek.death_recorded) {
        (None, _) => LockState::Unknown,
        (Some(Peeked::OwnerDied), _) => LockState::OwnerDied { held: false },
        (Some(Peeked::Held { .. }), true) => LockState::OwnerDied { held: true },
        (Some(Peeked::Free), true) => LockState::OwnerDied { held: false },
        (Some(Peeked::Held { tid }), false) => LockState::Held { holder: tid },
        (Some(Peeked::Free), false) => LockState::Free,
    };
    Ok(RegionInfo {
        name,
        path,
        layout: shape.layout,
        type_code: shape.type_code,
        len: shape.len,
        // At most MAX_STRIPES: `describe` checked.
        stripes: shape.stripes as u32,
        bytes: meta.len(),
        seqlock: shape.flags & FLAG_SEQLOCK != 0,
        version,
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        in_use,
        lock,
        seq: peek.seq,
    })
}
