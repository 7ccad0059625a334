//! Which region a command names: a shared memory name, or `--file PATH`.

use crate::Failure;
use shmarray::{Element, RegionInfo, SharedArray};
use std::fmt;
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
    pub fn region(self) -> Region {
        match (self.name, self.file) {
            (_, Some(path)) => Region::File(path),
            (Some(name), None) => Region::Name(name),
            // clap requires one of the two.
            (None, None) => Region::Name(String::new()),
        }
    }
}

/// A region, by name or by path.
#[derive(Debug, Clone)]
pub enum Region {
    /// A POSIX shared memory name.
    Name(String),
    /// A region file.
    File(PathBuf),
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Region::Name(name) => f.write_str(name),
            Region::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl Region {
    /// The region's header and live state.
    pub fn inspect(&self) -> Result<RegionInfo, Failure> {
        match self {
            Region::Name(name) => shmarray::inspect(name),
            Region::File(path) => shmarray::inspect_file(path),
        }
        .map_err(|e| self.failure(e))
    }

    /// Opens the region as a dense array of `T`.
    pub fn open<T: Element>(&self) -> Result<SharedArray<T>, Failure> {
        match self {
            Region::Name(name) => SharedArray::<T>::open(name),
            Region::File(path) => SharedArray::<T>::open_file(path),
        }
        .map_err(|e| self.failure(e))
    }

    /// A failure concerning this region.
    pub fn failure(&self, err: impl fmt::Display) -> Failure {
        Failure::new(self, err)
    }
}
