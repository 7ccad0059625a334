//! [`ArrayOptions`]: the builder behind every [`SharedArray`] constructor, and the settings
//! any array kind's builder shares ([`RegionOptions`]: permission bits, unlink on drop, open
//! timeout).

use crate::array::{SharedArray, DEFAULT_OPEN_TIMEOUT};
use crate::element::Element;
use crate::error::{CreateError, OpenError};
use core::marker::PhantomData;
use std::path::Path;
use std::time::{Duration, Instant};

/// The settings every array kind's builder shares: how a region is created, opened and
/// cleaned up, whatever its payload layout.
#[derive(Clone, Debug)]
pub(crate) struct RegionOptions {
    /// Permission bits of a created name or file.
    pub(crate) mode: u32,
    /// Whether the handle that created a name or file removes it when dropped.
    pub(crate) unlink_on_drop: bool,
    /// How long opening waits for the name to appear and its creator to finish.
    pub(crate) open_timeout: Duration,
}

impl Default for RegionOptions {
    fn default() -> RegionOptions {
        RegionOptions {
            mode: 0o600,
            unlink_on_drop: false,
            open_timeout: DEFAULT_OPEN_TIMEOUT,
        }
    }
}

impl RegionOptions {
    /// Opens an existing region or creates it, race-free against other processes doing the
    /// same: creation is `O_CREAT | O_EXCL`, so exactly one caller creates; every other one
    /// finds the name taken and opens it, waiting (within the open timeout) for the creator
    /// to publish. If the name disappears between the two (removed by its owner), creating is
    /// tried again, until the open timeout runs out.
    ///
    /// `open` is given the time left of the open timeout.
    pub(crate) fn open_or_create<A>(
        &self,
        mut create: impl FnMut() -> Result<A, CreateError>,
        mut open: impl FnMut(Duration) -> Result<A, OpenError>,
    ) -> Result<A, OpenError> {
        let start = Instant::now();
        loop {
            match create() {
                Ok(made) => return Ok(made),
                Err(CreateError::AlreadyExists { .. }) => {}
                Err(e) => return Err(OpenError::Create(e)),
            }
            let left = self.open_timeout.saturating_sub(start.elapsed());
            match open(left) {
                Err(OpenError::NotFound { .. }) if !left.is_zero() => continue,
                other => return other,
            }
        }
    }
}

/// Options for making or opening a [`SharedArray`]: permission bits, removal on drop, and
/// how long to wait for a region's creator. Made by [`SharedArray::options`]; every
/// constructor of `SharedArray` is a shorthand for one of its terminal methods with the
/// default settings.
///
/// | setting | default | applies to |
/// |---|---|---|
/// | [`mode`](Self::mode) | `0o600` | named and file regions this handle creates |
/// | [`unlink_on_drop`](Self::unlink_on_drop) | `false` | named and file regions this handle creates |
/// | [`open_timeout`](Self::open_timeout) | [`DEFAULT_OPEN_TIMEOUT`] (1 s) | opening, and `open_or_create` when it opens |
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
    region: RegionOptions,
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
            region: RegionOptions::default(),
            _type: PhantomData,
        }
    }
}

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
    /// publish the header (default [`DEFAULT_OPEN_TIMEOUT`], 1 s). A region that is clearly
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
        SharedArray::make_anonymous(len, None)
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
        SharedArray::make_anonymous(values.len(), Some(values))
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
        SharedArray::make_named(name, len, None, &self.region)
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
        SharedArray::make_named(name, values.len(), Some(values), &self.region)
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
        SharedArray::make_file(path.as_ref(), len, &self.region)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::Origin;

    #[test]
    fn open_or_create_reports_a_create_failure_as_create() {
        let err = RegionOptions::default()
            .open_or_create::<()>(
                || {
                    Err(CreateError::TooLarge {
                        region: Origin::Anonymous,
                        len: 1,
                        elem_size: 1,
                    })
                },
                |_| panic!("open must not be tried after a failure other than AlreadyExists"),
            )
            .unwrap_err();
        assert!(matches!(
            err,
            OpenError::Create(CreateError::TooLarge { .. })
        ));
    }

    #[test]
    fn open_or_create_retries_when_the_name_vanishes_between_create_and_open() {
        let mut creates = 0;
        let made = RegionOptions::default().open_or_create(
            || {
                creates += 1;
                if creates < 3 {
                    Err(CreateError::AlreadyExists {
                        region: Origin::Anonymous,
                        source: std::io::Error::from_raw_os_error(libc::EEXIST),
                    })
                } else {
                    Ok("created")
                }
            },
            |_| {
                Err(OpenError::NotFound {
                    region: Origin::Anonymous,
                    source: std::io::Error::from_raw_os_error(libc::ENOENT),
                })
            },
        );
        assert_eq!(made.unwrap(), "created");
        assert_eq!(creates, 3);
    }
}
