//! [`StripedOptions`]: the builder behind every [`StripedArray`] constructor, and the
//! constructors themselves.

use crate::cpu;
use crate::element::Element;
use crate::error::CreateError;
use crate::origin::Origin;
use crate::striped::{check_stripes, StripedArray};
use core::marker::PhantomData;

#[cfg(not(loom))]
use crate::{
    backing, error::OpenError, header::Shape, layout::Layout, region::Region,
    region_options::RegionOptions,
};
#[cfg(not(loom))]
use std::{path::Path, time::Duration};

/// Options for making or opening a [`StripedArray`]: how many stripes, and the settings
/// every array kind shares with [`ArrayOptions`](crate::ArrayOptions) (permission bits,
/// removal on drop, how long to wait for a region's creator). Made by
/// [`StripedArray::options`]; every constructor of `StripedArray` is a shorthand for one of
/// its terminal methods with the default settings.
///
/// | setting | default | applies to |
/// |---|---|---|
/// | [`stripes`](Self::stripes) | the highest CPU number this process may run on, plus one, rounded up to a power of two, at most 64 | creating (an opener uses the region's) |
/// | [`mode`](Self::mode) | `0o600` | named and file regions this handle creates |
/// | [`unlink_on_drop`](Self::unlink_on_drop) | `false` | named and file regions this handle creates |
/// | [`open_timeout`](Self::open_timeout) | [`DEFAULT_OPEN_TIMEOUT`](crate::DEFAULT_OPEN_TIMEOUT) (1 s) | opening, and `open_or_create` when it opens |
///
/// ```
/// use shmarray::StripedArray;
/// let counters = StripedArray::<u64>::options().stripes(8).anonymous(100)?;
/// assert_eq!((counters.len(), counters.stripes()), (100, 8));
/// # Ok::<(), shmarray::CreateError>(())
/// ```
#[derive(Clone, Debug)]
pub struct StripedOptions<T: Element> {
    stripes: Option<usize>,
    #[cfg(not(loom))]
    region: RegionOptions,
    _element: PhantomData<fn() -> T>,
}

impl<T: Element> StripedArray<T> {
    /// The builder for a striped array with non-default settings.
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<i64>::options().stripes(2).heap(3)?;
    /// assert_eq!(arr.stripes(), 2);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn options() -> StripedOptions<T> {
        StripedOptions {
            stripes: None,
            #[cfg(not(loom))]
            region: RegionOptions::default(),
            _element: PhantomData,
        }
    }
}

impl<T: Element> StripedOptions<T> {
    /// The number of stripes of an array this builder creates: a power of two from 1 to
    /// 1024 (checked by the terminal method, which returns
    /// [`CreateError::InvalidStripes`] otherwise). More stripes than CPUs wastes memory;
    /// fewer makes CPUs share stripes (CPU `c` adds to stripe `c % stripes`).
    ///
    /// ```
    /// use shmarray::{CreateError, StripedArray};
    /// assert_eq!(StripedArray::<u8>::options().stripes(16).heap(1)?.stripes(), 16);
    /// assert!(matches!(
    ///     StripedArray::<u8>::options().stripes(3).heap(1),
    ///     Err(CreateError::InvalidStripes { stripes: 3, .. })
    /// ));
    /// # Ok::<(), CreateError>(())
    /// ```
    pub fn stripes(mut self, stripes: usize) -> Self {
        self.stripes = Some(stripes);
        self
    }

    fn stripe_count(&self, origin: impl FnOnce() -> Origin) -> Result<usize, CreateError> {
        self.stripes
            .map_or(Ok(cpu::default_stripes()), |n| check_stripes(n, origin))
    }

    /// An array of `len` zeros in this process's heap: not shared with other processes, but
    /// running the same code as a shared one (what the crate's loom models use).
    ///
    /// # Errors
    /// [`CreateError::InvalidStripes`], or [`CreateError::TooLarge`] if `len × stripes`
    /// cells overflow.
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<u32>::options().stripes(1).heap(2)?;
    /// arr.add(1, 3);
    /// assert_eq!(arr.sums(), [0, 3]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn heap(&self, len: usize) -> Result<StripedArray<T>, CreateError> {
        StripedArray::heap(len, self.stripe_count(|| Origin::Heap)?)
    }
}

#[cfg(not(loom))]
impl<T: Element> StripedOptions<T> {
    /// The permission bits of a named region or file this handle creates (default
    /// `0o600`), as [`ArrayOptions::mode`](crate::ArrayOptions::mode).
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// # let path = std::env::temp_dir().join(format!("shmarray-doc-striped-mode-{}", std::process::id()));
    /// let arr = shmarray::StripedArray::<u8>::options()
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

    /// Whether dropping the array removes the name or file it created (default `false`), as
    /// [`ArrayOptions::unlink_on_drop`](crate::ArrayOptions::unlink_on_drop).
    ///
    /// ```
    /// # let name = format!("shmarray-doc-striped-unlink-on-drop-{}", std::process::id());
    /// let arr = shmarray::StripedArray::<u8>::options().unlink_on_drop(true).create(&name, 1)?;
    /// drop(arr);
    /// assert!(shmarray::StripedArray::<u8>::open(&name).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlink_on_drop(mut self, unlink: bool) -> Self {
        self.region.unlink_on_drop = unlink;
        self
    }

    /// How long opening waits for a region's creator to finish initialising it (default
    /// [`DEFAULT_OPEN_TIMEOUT`](crate::DEFAULT_OPEN_TIMEOUT), 1 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let err = shmarray::StripedArray::<u64>::options()
    ///     .open_timeout(Duration::from_millis(10))
    ///     .open("shmarray-doc-striped-absent");
    /// assert!(err.is_err());
    /// ```
    pub fn open_timeout(mut self, timeout: Duration) -> Self {
        self.region.open_timeout = timeout;
        self
    }

    fn make(&self, origin: Origin, len: usize) -> Result<StripedArray<T>, CreateError> {
        let stripes = self.stripe_count(|| origin.clone())?;
        let shape = Shape::of::<T>(Layout::Striped, len, stripes);
        let mut region = Region::create(origin, shape, self.region.mode)?;
        // Zero bytes are zero cells of every element type: nothing to fill in.
        region.publish(self.region.unlink_on_drop);
        Ok(StripedArray::from_region(region, len, stripes))
    }

    fn expected() -> Shape {
        Shape::of::<T>(Layout::Striped, 0, 1)
    }

    fn attach_named(name: &str, timeout: Duration) -> Result<StripedArray<T>, OpenError> {
        let (region, shape) = Region::open_named(name, Self::expected(), timeout)?;
        Ok(StripedArray::from_region(region, shape.len, shape.stripes))
    }

    fn attach_file(path: &Path, timeout: Duration) -> Result<StripedArray<T>, OpenError> {
        let (region, shape) = Region::open_file(path, Self::expected(), timeout)?;
        Ok(StripedArray::from_region(region, shape.len, shape.stripes))
    }

    /// An array of `len` zeros in an anonymous shared mapping (a sealed memfd on Linux),
    /// inherited by children across `fork`.
    ///
    /// # Errors
    /// [`CreateError::InvalidStripes`], [`CreateError::TooLarge`], or the OS's refusal.
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<u64>::options().stripes(2).anonymous(1)?;
    /// assert_eq!(arr.stripes(), 2);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn anonymous(&self, len: usize) -> Result<StripedArray<T>, CreateError> {
        self.make(Origin::Anonymous, len)
    }

    /// Creates the named POSIX shared memory array `name` of `len` zeros, as
    /// [`SharedArray::create`](crate::SharedArray::create) does (mode 0600, never over an
    /// existing object).
    ///
    /// # Errors
    /// As [`SharedArray::create`](crate::SharedArray::create), and
    /// [`CreateError::InvalidStripes`].
    ///
    /// ```
    /// # let name = format!("shmarray-doc-striped-opt-create-{}", std::process::id());
    /// let arr = shmarray::StripedArray::<u64>::options().stripes(4).create(&name, 2)?;
    /// assert_eq!(shmarray::StripedArray::<u64>::open(&name)?.stripes(), 4);
    /// shmarray::StripedArray::<u64>::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(&self, name: &str, len: usize) -> Result<StripedArray<T>, CreateError> {
        self.make(Origin::Named(name.to_owned()), len)
    }

    /// Creates an array of `len` zeros in the regular file `path`, as
    /// [`SharedArray::create_file`](crate::SharedArray::create_file) does.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("striped-opt-doc-{}", std::process::id()));
    /// let arr = shmarray::StripedArray::<i32>::options().stripes(2).create_file(&path, 3)?;
    /// assert_eq!(arr.stripes(), 2);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_file(
        &self,
        path: impl AsRef<Path>,
        len: usize,
    ) -> Result<StripedArray<T>, CreateError> {
        self.make(Origin::File(path.as_ref().to_owned()), len)
    }

    /// Opens the named striped array `name`, waiting up to the open timeout for its creator.
    /// The stripe count is the region's, whatever [`stripes`](Self::stripes) says.
    ///
    /// # Errors
    /// As [`SharedArray::open`](crate::SharedArray::open); [`OpenError::WrongLayout`] if
    /// `name` holds a [`SharedArray`](crate::SharedArray).
    ///
    /// ```
    /// # let name = format!("shmarray-doc-striped-opt-open-{}", std::process::id());
    /// let _made = shmarray::StripedArray::<u8>::create(&name, 1)?;
    /// let arr = shmarray::StripedArray::<u8>::options().stripes(1024).open(&name)?;
    /// assert_eq!(arr.stripes(), _made.stripes());
    /// shmarray::StripedArray::<u8>::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(&self, name: &str) -> Result<StripedArray<T>, OpenError> {
        Self::attach_named(name, self.region.open_timeout)
    }

    /// Opens the named striped array `name`, or creates it with `len` zeros if there is
    /// none, race-free between processes, as
    /// [`ArrayOptions::open_or_create`](crate::ArrayOptions::open_or_create) does.
    ///
    /// # Errors
    /// As [`ArrayOptions::open_or_create`](crate::ArrayOptions::open_or_create), and
    /// [`OpenError::WrongLayout`] if `name` holds a [`SharedArray`](crate::SharedArray).
    ///
    /// ```
    /// # let name = format!("shmarray-doc-striped-ooc-{}", std::process::id());
    /// let opts = shmarray::StripedArray::<u64>::options().unlink_on_drop(true);
    /// let first = opts.open_or_create(&name, 4)?;
    /// let second = opts.open_or_create(&name, 4)?;
    /// assert!(first.created() && !second.created());
    /// # Ok::<(), shmarray::OpenError>(())
    /// ```
    pub fn open_or_create(&self, name: &str, len: usize) -> Result<StripedArray<T>, OpenError> {
        self.region.open_or_create(
            || self.create(name, len),
            |left| Self::attach_named(name, left).and_then(|a| a.expect_len(len)),
        )
    }

    /// Opens the striped array file `path`, as [`open`](Self::open).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("striped-opt-open-doc-{}", std::process::id()));
    /// let _made = shmarray::StripedArray::<u8>::create_file(&path, 4)?;
    /// assert_eq!(shmarray::StripedArray::<u8>::options().open_file(&path)?.len(), 4);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_file(&self, path: impl AsRef<Path>) -> Result<StripedArray<T>, OpenError> {
        Self::attach_file(path.as_ref(), self.region.open_timeout)
    }

    /// Opens the striped array file `path`, or creates it with `len` zeros if there is
    /// none, as [`open_or_create`](Self::open_or_create) does by name.
    ///
    /// # Errors
    /// As [`open_or_create`](Self::open_or_create).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("striped-ooc-doc-{}", std::process::id()));
    /// let opts = shmarray::StripedArray::<u64>::options().unlink_on_drop(true);
    /// let arr = opts.open_or_create_file(&path, 2)?;
    /// assert_eq!(arr.path(), Some(path.as_path()));
    /// # Ok::<(), shmarray::OpenError>(())
    /// ```
    pub fn open_or_create_file(
        &self,
        path: impl AsRef<Path>,
        len: usize,
    ) -> Result<StripedArray<T>, OpenError> {
        let path = path.as_ref();
        self.region.open_or_create(
            || self.create_file(path, len),
            |left| Self::attach_file(path, left).and_then(|a| a.expect_len(len)),
        )
    }
}

#[cfg(not(loom))]
impl<T: Element> StripedArray<T> {
    /// An array of `len` zeros in an anonymous shared mapping, inherited by children across
    /// `fork`, with the default number of stripes. The same as
    /// `StripedArray::options().anonymous(len)`.
    ///
    /// # Errors
    /// As [`StripedOptions::anonymous`].
    ///
    /// ```
    /// let arr = shmarray::StripedArray::<u64>::new(2)?;
    /// arr.add(0, 1);
    /// assert_eq!(arr.sums(), [1, 0]);
    /// # Ok::<(), shmarray::CreateError>(())
    /// ```
    pub fn new(len: usize) -> Result<StripedArray<T>, CreateError> {
        Self::options().anonymous(len)
    }

    /// Creates the named striped array `name` of `len` zeros with the default number of
    /// stripes, for unrelated processes to [`open`](Self::open). It lives until
    /// [`unlink`](Self::unlink)ed. The same as `StripedArray::options().create(name, len)`.
    ///
    /// # Errors
    /// As [`StripedOptions::create`].
    ///
    /// ```
    /// use shmarray::StripedArray;
    /// # let name = format!("shmarray-doc-striped-create-{}", std::process::id());
    /// let made = StripedArray::<u64>::create(&name, 2)?;
    /// made.add(1, 4);
    /// assert_eq!(StripedArray::<u64>::open(&name)?.sum(1), 4);
    /// StripedArray::<u64>::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(name: &str, len: usize) -> Result<StripedArray<T>, CreateError> {
        Self::options().create(name, len)
    }

    /// Opens the named striped array `name`, waiting up to
    /// [`DEFAULT_OPEN_TIMEOUT`](crate::DEFAULT_OPEN_TIMEOUT) for its creator. The same as
    /// `StripedArray::options().open(name)`.
    ///
    /// # Errors
    /// As [`StripedOptions::open`].
    ///
    /// ```
    /// use shmarray::{OpenError, SharedArray, StripedArray};
    /// # let name = format!("shmarray-doc-striped-open-{}", std::process::id());
    /// let _dense = SharedArray::<u64>::create(&name, 2)?;
    /// assert!(matches!(StripedArray::<u64>::open(&name), Err(OpenError::WrongLayout { .. })));
    /// SharedArray::<u64>::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(name: &str) -> Result<StripedArray<T>, OpenError> {
        Self::options().open(name)
    }

    /// Removes the name `name`, as [`SharedArray::unlink`](crate::SharedArray::unlink).
    ///
    /// # Errors
    /// [`OpenError::NotFound`], [`OpenError::InvalidName`], or the OS's refusal.
    ///
    /// ```
    /// # let name = format!("shmarray-doc-striped-unlink-{}", std::process::id());
    /// let _arr = shmarray::StripedArray::<u8>::create(&name, 1)?;
    /// shmarray::StripedArray::<u8>::unlink(&name)?;
    /// assert!(shmarray::StripedArray::<u8>::open(&name).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlink(name: &str) -> Result<(), OpenError> {
        backing::unlink_shm(name)
    }

    /// Creates a striped array of `len` zeros in the regular file `path`, with the default
    /// number of stripes. The same as `StripedArray::options().create_file(path, len)`.
    ///
    /// # Errors
    /// As [`StripedOptions::create_file`].
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("striped-doc-{}", std::process::id()));
    /// let arr = shmarray::StripedArray::<f64>::create_file(&path, 1)?;
    /// arr.add(0, 0.5);
    /// assert_eq!(shmarray::StripedArray::<f64>::open_file(&path)?.sum(0), 0.5);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_file(path: impl AsRef<Path>, len: usize) -> Result<StripedArray<T>, CreateError> {
        Self::options().create_file(path, len)
    }

    /// Opens the striped array file `path`. The same as
    /// `StripedArray::options().open_file(path)`.
    ///
    /// # Errors
    /// As [`StripedOptions::open_file`].
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("striped-open-doc-{}", std::process::id()));
    /// let _made = shmarray::StripedArray::<u16>::create_file(&path, 5)?;
    /// assert_eq!(shmarray::StripedArray::<u16>::open_file(&path)?.len(), 5);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_file(path: impl AsRef<Path>) -> Result<StripedArray<T>, OpenError> {
        Self::options().open_file(path)
    }
}
