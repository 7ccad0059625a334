//! Which region a command names (`NAME` or `--file PATH`), and opening it.

use crate::Failure;
use shmarray::{Element, Layout, Origin, RegionInfo, SharedArray, StripedArray};
use std::path::PathBuf;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};

/// `NAME` or `--file PATH`, exactly one.
#[derive(clap::Args, Debug)]
pub struct Target {
    /// The region's name in /dev/shm (with or without its leading '/').
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    name: Option<String>,
    /// A region file (made with `create_file`) instead of a named region.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
}

impl Target {
    /// The region named.
    pub fn origin(self) -> Origin {
        match (self.name, self.file) {
            (_, Some(path)) => Origin::File(path),
            (Some(name), None) => Origin::Named(name),
            // clap requires one of the two.
            (None, None) => Origin::Named(String::new()),
        }
    }
}

/// The region's header and live state.
pub fn inspect(origin: &Origin) -> Result<RegionInfo, Failure> {
    match (origin.name(), origin.path()) {
        (Some(name), _) => shmarray::inspect(name),
        (None, Some(path)) => shmarray::inspect_file(path),
        (None, None) => return Err(Failure::about(origin, "not a region a name can reach")),
    }
    .map_err(|e| Failure::error(&e))
}

/// Opens the region as a dense array of `T`.
fn open<T: Element>(origin: &Origin) -> Result<SharedArray<T>, Failure> {
    match (origin.name(), origin.path()) {
        (Some(name), _) => SharedArray::<T>::open(name),
        (None, Some(path)) => SharedArray::<T>::open_file(path),
        (None, None) => return Err(Failure::about(origin, "not a region a name can reach")),
    }
    .map_err(|e| Failure::error(&e))
}

/// A region opened as its own layout: what the value commands read and write.
pub enum Opened<T: Element> {
    /// A [`SharedArray`]: one cell per element.
    Dense(SharedArray<T>),
    /// A [`StripedArray`]: elements are sums of stripes.
    Striped(StripedArray<T>),
}

/// Opens the region as an array of `T` in `layout`.
pub fn open_as<T: Element>(origin: &Origin, layout: Layout) -> Result<Opened<T>, Failure> {
    if layout == Layout::Dense {
        return open::<T>(origin).map(Opened::Dense);
    }
    if layout != Layout::Striped {
        return Err(Failure::about(
            origin,
            format!("{layout} arrays are not known to this tool"),
        ));
    }
    match (origin.name(), origin.path()) {
        (Some(name), _) => StripedArray::<T>::open(name),
        (None, Some(path)) => StripedArray::<T>::open_file(path),
        (None, None) => return Err(Failure::about(origin, "not a region a name can reach")),
    }
    .map(Opened::Striped)
    .map_err(|e| Failure::error(&e))
}

/// How long `dump` and `watch` wait for a consistent snapshot behind a lock holder.
pub const SNAPSHOT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl<T: Element> Opened<T> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            Opened::Dense(a) => a.len(),
            Opened::Striped(a) => a.len(),
        }
    }

    /// Every value: a consistent snapshot of a dense array; the sums of a striped one (each
    /// counting every add that finished before it began). A snapshot waits at most
    /// [`SNAPSHOT_WAIT`] for a lock holder to finish its write, so a stopped or hung holder
    /// cannot hang the tool.
    pub fn values(&self, origin: &Origin) -> Result<Vec<T>, Failure> {
        match self {
            Opened::Dense(a) => a
                .snapshot_timeout(SNAPSHOT_WAIT)
                .map_err(|e| Failure::about(origin, e)),
            Opened::Striped(a) => Ok(a.sums()),
        }
    }

    /// Element `index` (checked by the caller).
    pub fn get(&self, index: usize) -> T {
        match self {
            // Acquire: pairs with a Release store of a writer the reader may rely on.
            Opened::Dense(a) => a.load(index, Acquire),
            Opened::Striped(a) => a.sum(index),
        }
    }

    /// Adds `delta` to element `index` (checked by the caller).
    pub fn add(&self, index: usize, delta: T) {
        match self {
            // AcqRel: an ordinary read-modify-write, ordered as `get` and `set` order theirs.
            Opened::Dense(a) => drop(a.fetch_add(index, delta, AcqRel)),
            Opened::Striped(a) => a.add(index, delta),
        }
    }

    /// Stores `value` into element `index` (checked by the caller); a striped array has no
    /// single cell to store into.
    pub fn set(&self, origin: &Origin, index: usize, value: T) -> Result<(), Failure> {
        match self {
            // Release: what this process did before is visible to an Acquire reader of it.
            Opened::Dense(a) => {
                a.store(index, value, Release);
                Ok(())
            }
            Opened::Striped(_) => Err(Failure::about(
                origin,
                "a striped array's elements are sums of stripes and cannot be set; use add",
            )),
        }
    }
}
