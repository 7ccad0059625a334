//! Which region a command names (`NAME` or `--file PATH`), and opening it.

use crate::Failure;
use shmarray::{Element, Origin, RegionInfo, SharedArray};
use std::path::PathBuf;

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
pub fn open<T: Element>(origin: &Origin) -> Result<SharedArray<T>, Failure> {
    match (origin.name(), origin.path()) {
        (Some(name), _) => SharedArray::<T>::open(name),
        (None, Some(path)) => SharedArray::<T>::open_file(path),
        (None, None) => return Err(Failure::about(origin, "not a region a name can reach")),
    }
    .map_err(|e| Failure::error(&e))
}
