//! [`ArrayOptions`]: the builder behind every [`SharedArray`] constructor: the settings
//! every array kind shares (`region_options.rs`) and the one of its own, the seqlock. Under
//! loom only the heap terminals exist.

use crate::array::SharedArray;
use crate::element::Element;
use crate::error::CreateError;
#[cfg(not(loom))]
use crate::error::OpenError;
#[cfg(not(loom))]
use crate::region_options::RegionOptions;
use crate::seqlock::Seqlock;
use core::marker::PhantomData;
#[cfg(not(loom))]
use std::path::Path;
#[cfg(not(loom))]
use std::time::Duration;

/// Options for making or opening a [`SharedArray`]: permission bits, removal on drop, and
/// how long to wait for a region's creator. Made by [`SharedArray::options`]; every
/// constructor of `SharedArray` is a shorthand for one of its terminal methods with the
/// default settings.
///
/// | setting | default | applies to |
/// |---|---|---|
/// | [`mode`](Self::mode) | `0o600` | named and file regions this handle creates |
/// | [`unlink_on_drop`](Self::unlink_on_drop) | `false` | named and file regions this handle creates |
/// | [`open_timeout`](Self::open_timeout) | [`DEFAULT_OPEN_TIMEOUT`](crate::DEFAULT_OPEN_TIMEOUT) (1 s) | opening, and `open_or_create` when it opens |
/// | [`seqlock`](Self::seqlock) | `true` | every array this builder creates (an opener takes the creator's choice) |
///
/// ```
/// use shmarray::SharedArray;
/// use std::time::Duration;
/// # let name = format!("shmarray-doc-options-{}", std::process::id());
/// let counts = SharedArray::<u64>::options()
///     .mode(0o660)                    // shared with the group
///     .unlink_on_drop(true)           // like a temporary file
///     .open_timeout(Duration::from_secs(5))
///     .open_or_create(&name, 16)?;    // whoever comes first creates it
/// assert_eq!(counts.len(), 16);
/// assert_eq!(counts.name(), Some(name.as_str()));
/// drop(counts);                       // created here: the name is removed
/// assert!(SharedArray::<u64>::open(&name).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ArrayOptions<T: Element> {
    #[cfg(not(loom))]
    region: RegionOptions,
    seqlock: Seqlock,
    _type: PhantomData<fn() -> T>,
}

impl<T: Element> SharedArray<T> {
    /// The builder for every way of making or opening an array, with the default settings;
    /// see [`ArrayOptions`].
    ///
    /// ```
    /// let arr = shmarray::SharedArray::<i32>::options().anonymous(3)?;
    /// assert_eq!(arr.to_vec(), [0, 0, 0]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn options() -> ArrayOptions<T> {
        ArrayOptions {
            #[cfg(not(loom))]
            region: RegionOptions::default(),
            seqlock: Seqlock::On,
            _type: PhantomData,
        }
    }
}

impl<T: Element> ArrayOptions<T> {
    /// Whether locked writes keep the seqlock counter that lets
    /// [`snapshot`](SharedArray::snapshot) read without the lock (default `true`). The choice
    /// is recorded in the region's header when the array is created: every process that
    /// opens the region follows it, whatever its own builder says.
    ///
    /// With `false`, a guard touches only the lock and the data: nothing else is written
    /// when it is taken or dropped, which makes lock per operation as cheap as a bare robust
    /// mutex. What changes:
    /// - [`snapshot`](SharedArray::snapshot) and its variants take the lock (still consistent:
    ///   no locked write can be under way), so they wait for a holder and contend with
    ///   writers, as every reader does behind a plain mutex;
    /// - with no counter to show whether a write was open, every holder that dies holding
    ///   the lock counts as a death ([`LockError::OwnerDied`](crate::LockError::OwnerDied)),
    ///   including one that only read (a snapshot in another process, killed while it held
    ///   the lock); with the counter, such a reader's death is not one.
    ///
    /// Choose `false` when snapshots are rare and locked writes are many and short.
    ///
    /// ```
    /// let arr = shmarray::SharedArray::<u64>::options().seqlock(false).anonymous(2)?;
    /// assert!(!arr.has_seqlock());
    /// arr.lock()?.add(1, 5);
    /// assert_eq!(arr.snapshot()?, [0, 5]); // takes the lock
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seqlock(mut self, on: bool) -> Self {
        self.seqlock = if on { Seqlock::On } else { Seqlock::Off };
        self
    }

    /// An array of `len` zeros in this process's heap, with these settings (only
    /// [`seqlock`](Self::seqlock) applies): see [`SharedArray::new_heap`].
    ///
    /// # Errors
    /// As [`SharedArray::new_heap`].
    ///
    /// ```
    /// let arr = shmarray::SharedArray::<u8>::options().seqlock(false).heap(2)?;
    /// assert_eq!(arr.snapshot()?, [0, 0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn heap(&self, len: usize) -> Result<SharedArray<T>, CreateError> {
        SharedArray::heap_from(len, core::iter::repeat_n(T::default(), len), self.seqlock)
    }

    /// An array holding a copy of `values` in this process's heap, with these settings:
    /// see [`heap`](Self::heap).
    ///
    /// # Errors
    /// As [`SharedArray::new_heap`].
    ///
    /// ```
    /// let arr = shmarray::SharedArray::options().seqlock(false).heap_from_slice(&[3i8])?;
    /// assert_eq!(arr.to_vec(), [3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn heap_from_slice(&self, values: &[T]) -> Result<SharedArray<T>, CreateError> {
        SharedArray::heap_from(values.len(), values.iter().copied(), self.seqlock)
    }
}

#[cfg(not(loom))]
impl<T: Element> ArrayOptions<T> {
    /// The permission bits of a named region or file this handle creates (default `0o600`:
    /// the owner only). They are set with `fchmod` after creation, so the process's umask
    /// does not narrow them; only the low 12 bits are used. Opening does not change them.
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// # let path = std::env::temp_dir().join(format!("shmarray-doc-mode-{}", std::process::id()));
    /// let arr = shmarray::SharedArray::<u8>::options()
    ///     .mode(0o640)
    ///     .unlink_on_drop(true)
    ///     .create_file(&path, 1)?;
    /// assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o640);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mode(mut self, mode: u32) -> Self {
        self.region.mode = mode;
        self
    }

    /// Whether dropping the array removes the name or file it created (default `false`),
    /// as a temporary file would. Only the handle that created the region removes it, and
    /// only from the process that created it (not a child that inherited the handle through
    /// `fork`), and only if the name still leads to that region; handles that opened it never
    /// do. Processes that still have it open keep using it; the memory is freed after the last
    /// one lets go.
    ///
    /// ```
    /// # let name = format!("shmarray-doc-unlink-on-drop-{}", std::process::id());
    /// let arr = shmarray::SharedArray::<u8>::options().unlink_on_drop(true).create(&name, 1)?;
    /// let other = shmarray::SharedArray::<u8>::options().unlink_on_drop(true).open(&name)?;
    /// drop(other); // opened, not created: the name stays
    /// assert!(shmarray::SharedArray::<u8>::open(&name).is_ok());
    /// drop(arr);   // the creator: the name goes
    /// assert!(shmarray::SharedArray::<u8>::open(&name).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlink_on_drop(mut self, unlink: bool) -> Self {
        self.region.unlink_on_drop = unlink;
        self
    }

    /// How long opening waits, in all, for a region's file to be sized and its creator to
    /// publish the header (default [`DEFAULT_OPEN_TIMEOUT`](crate::DEFAULT_OPEN_TIMEOUT), 1 s). A region that is clearly
    /// not one being initialised (a wrong magic number, a file of the wrong size) is refused
    /// at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// let err = shmarray::SharedArray::<u8>::options()
    ///     .open_timeout(Duration::ZERO)
    ///     .open("shmarray-doc-none");
    /// assert!(err.is_err());
    /// ```
    pub fn open_timeout(mut self, timeout: Duration) -> Self {
        self.region.open_timeout = timeout;
        self
    }

    /// An array of `len` zeros in an anonymous shared mapping, shared with children across
    /// `fork`: see [`SharedArray::new`], which is this with the default settings (none of
    /// which applies to an anonymous region).
    ///
    /// # Errors
    /// As [`SharedArray::new`].
    ///
    /// ```
    /// let arr = shmarray::SharedArray::<u16>::options().anonymous(2)?;
    /// assert_eq!(arr.name(), None);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn anonymous(&self, len: usize) -> Result<SharedArray<T>, CreateError> {
        SharedArray::make_anonymous(len, None, self.seqlock)
    }

    /// An anonymous shared array holding a copy of `values`: see [`SharedArray::from_slice`].
    ///
    /// # Errors
    /// As [`SharedArray::new`].
    ///
    /// ```
    /// let arr = shmarray::SharedArray::options().anonymous_from_slice(&[1u8, 2])?;
    /// assert_eq!(arr.to_vec(), [1, 2]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn anonymous_from_slice(&self, values: &[T]) -> Result<SharedArray<T>, CreateError> {
        SharedArray::make_anonymous(values.len(), Some(values), self.seqlock)
    }

    /// Creates the named array `name` of `len` zeros: see [`SharedArray::create`].
    ///
    /// # Errors
    /// As [`SharedArray::create`].
    ///
    /// ```
    /// # let name = format!("shmarray-doc-opt-create-{}", std::process::id());
    /// let arr = shmarray::SharedArray::<u32>::options().unlink_on_drop(true).create(&name, 3)?;
    /// assert!(arr.created());
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn create(&self, name: &str, len: usize) -> Result<SharedArray<T>, CreateError> {
        SharedArray::make_named(name, len, None, &self.region, self.seqlock)
    }

    /// Creates the named array `name` holding a copy of `values`: see
    /// [`SharedArray::create_from_slice`].
    ///
    /// # Errors
    /// As [`SharedArray::create`].
    ///
    /// ```
    /// # let name = format!("shmarray-doc-opt-create-from-{}", std::process::id());
    /// let arr = shmarray::SharedArray::options()
    ///     .unlink_on_drop(true)
    ///     .create_from_slice(&name, &[5i64, 6])?;
    /// assert_eq!(shmarray::SharedArray::<i64>::open(&name)?.to_vec(), [5, 6]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_from_slice(
        &self,
        name: &str,
        values: &[T],
    ) -> Result<SharedArray<T>, CreateError> {
        SharedArray::make_named(name, values.len(), Some(values), &self.region, self.seqlock)
    }

    /// Opens the named array `name`, waiting up to the open timeout for it to appear ready:
    /// see [`SharedArray::open`].
    ///
    /// # Errors
    /// As [`SharedArray::open`].
    ///
    /// ```
    /// let err = shmarray::SharedArray::<u8>::options().open("shmarray-doc-missing").unwrap_err();
    /// assert!(matches!(err, shmarray::OpenError::NotFound { .. }));
    /// ```
    pub fn open(&self, name: &str) -> Result<SharedArray<T>, OpenError> {
        SharedArray::attach_named(name, self.region.open_timeout)
    }

    /// Opens the named array `name`, or creates it with `len` zeros if there is none.
    /// Race-free between processes: when several start at once exactly one creates the
    /// region ([`SharedArray::created`] says which) and the others open that same region,
    /// waiting within the open timeout for its creator to finish.
    ///
    /// # Errors
    /// [`OpenError::WrongType`] or [`OpenError::WrongLength`] if the existing region holds
    /// another element type or length; [`OpenError::Create`] if creating failed; the other
    /// [`OpenError`]s as [`SharedArray::open`].
    ///
    /// ```
    /// use shmarray::{OpenError, SharedArray};
    /// # let name = format!("shmarray-doc-open-or-create-{}", std::process::id());
    /// let opts = SharedArray::<u64>::options().unlink_on_drop(true);
    /// let first = opts.open_or_create(&name, 4)?;
    /// let second = opts.open_or_create(&name, 4)?;
    /// assert!(first.created() && !second.created());
    /// let err = opts.open_or_create(&name, 5).unwrap_err();
    /// assert!(matches!(err, OpenError::WrongLength { expected: 5, found: 4, .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_or_create(&self, name: &str, len: usize) -> Result<SharedArray<T>, OpenError> {
        self.region.open_or_create(
            || self.create(name, len),
            |left| SharedArray::attach_named(name, left).and_then(|a| a.expect_len(len)),
        )
    }

    /// Creates an array of `len` zeros in the regular file `path`: see
    /// [`SharedArray::create_file`].
    ///
    /// # Errors
    /// As [`SharedArray::create`].
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("shmarray-doc-opt-file-{}", std::process::id()));
    /// let arr = shmarray::SharedArray::<f32>::options().unlink_on_drop(true).create_file(&path, 2)?;
    /// assert_eq!(arr.path(), Some(path.as_path()));
    /// drop(arr);
    /// assert!(!path.exists());
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn create_file(
        &self,
        path: impl AsRef<Path>,
        len: usize,
    ) -> Result<SharedArray<T>, CreateError> {
        SharedArray::make_file(path.as_ref(), len, &self.region, self.seqlock)
    }

    /// Opens the array file `path`: see [`SharedArray::open_file`].
    ///
    /// # Errors
    /// As [`SharedArray::open`].
    ///
    /// ```
    /// let err = shmarray::SharedArray::<u8>::options().open_file("/nonexistent/a").unwrap_err();
    /// assert!(matches!(err, shmarray::OpenError::NotFound { .. }));
    /// ```
    pub fn open_file(&self, path: impl AsRef<Path>) -> Result<SharedArray<T>, OpenError> {
        SharedArray::attach_file(path.as_ref(), self.region.open_timeout)
    }

    /// Opens the array file `path`, or creates it with `len` zeros: as
    /// [`open_or_create`](Self::open_or_create), for a regular file.
    ///
    /// # Errors
    /// As [`open_or_create`](Self::open_or_create).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("shmarray-doc-opt-ooc-{}", std::process::id()));
    /// let opts = shmarray::SharedArray::<u8>::options().unlink_on_drop(true);
    /// let a = opts.open_or_create_file(&path, 2)?;
    /// let b = opts.open_or_create_file(&path, 2)?;
    /// assert!(a.created() && !b.created());
    /// # Ok::<(), shmarray::OpenError>(())
    /// ```
    pub fn open_or_create_file(
        &self,
        path: impl AsRef<Path>,
        len: usize,
    ) -> Result<SharedArray<T>, OpenError> {
        let path = path.as_ref();
        self.region.open_or_create(
            || self.create_file(path, len),
            |left| SharedArray::attach_file(path, left).and_then(|a| a.expect_len(len)),
        )
    }
}

#[cfg(not(loom))]
impl<T: Element> SharedArray<T> {
    /// `self` if it has `len` elements, else [`OpenError::WrongLength`].
    fn expect_len(self, len: usize) -> Result<SharedArray<T>, OpenError> {
        if self.len() == len {
            return Ok(self);
        }
        Err(OpenError::WrongLength {
            region: self.origin().clone(),
            expected: len,
            found: self.len(),
        })
    }
}
