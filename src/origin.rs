//! [`Origin`]: where a region lives (anonymous memory, a shared memory name, a file), kept by
//! every array and named by every error about a region.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where an array's memory lives: what [`SharedArray::name`](crate::SharedArray::name) and
/// [`SharedArray::path`](crate::SharedArray::path) report, and what every
/// [`CreateError`](crate::CreateError) and [`OpenError`](crate::OpenError) names.
///
/// Its `Display` is the phrase errors use: `region "orders" (/dev/shm/orders)`,
/// `region file "/var/lib/app/counts"`, `anonymous region`, `heap array`.
///
/// ```
/// use shmarray::Origin;
/// let origin = Origin::Named("orders".into());
/// assert_eq!(origin.to_string(), r#"region "orders" (/dev/shm/orders)"#);
/// assert_eq!(origin.name(), Some("orders"));
/// assert_eq!(Origin::Anonymous.name(), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// Process-private memory ([`new_heap`](crate::SharedArray::new_heap)).
    Heap,
    /// An anonymous shared mapping, inherited across `fork`
    /// ([`new`](crate::SharedArray::new)).
    Anonymous,
    /// A POSIX shared memory object, by the name given (with or without its leading `/`).
    Named(String),
    /// A regular file.
    File(PathBuf),
}

impl Origin {
    /// The shared memory name, for a named region.
    ///
    /// ```
    /// assert_eq!(shmarray::Origin::Named("/x".into()).name(), Some("/x"));
    /// ```
    pub fn name(&self) -> Option<&str> {
        match self {
            Origin::Named(name) => Some(name),
            _ => None,
        }
    }

    /// The file's path, for a region in a regular file.
    ///
    /// ```
    /// use std::path::Path;
    /// let origin = shmarray::Origin::File("/tmp/counts".into());
    /// assert_eq!(origin.path(), Some(Path::new("/tmp/counts")));
    /// ```
    pub fn path(&self) -> Option<&Path> {
        match self {
            Origin::File(path) => Some(path),
            _ => None,
        }
    }

    /// Where a named region shows in the filesystem (glibc keeps them in `/dev/shm`). The
    /// name need not be valid: this is for messages only.
    fn shm_path(name: &str) -> PathBuf {
        Path::new("/dev/shm").join(name.strip_prefix('/').unwrap_or(name))
    }

    /// The phrase for "there is no such region": `no region named "x" (/dev/shm/x)`.
    pub(crate) fn fmt_missing(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Named(name) => write!(
                f,
                "no region named {name:?} ({})",
                Self::shm_path(name).display()
            ),
            Origin::File(path) => write!(f, "no region file {:?}", path.display().to_string()),
            other => write!(f, "no {other}"),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Heap => f.write_str("heap array"),
            Origin::Anonymous => f.write_str("anonymous region"),
            Origin::Named(name) => {
                write!(f, "region {name:?} ({})", Self::shm_path(name).display())
            }
            Origin::File(path) => write!(f, "region file {:?}", path.display().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_origin_reads_as_a_phrase() {
        assert_eq!(
            Origin::Named("/a".into()).to_string(),
            r#"region "/a" (/dev/shm/a)"#
        );
        assert_eq!(
            Origin::File("/t/f".into()).to_string(),
            r#"region file "/t/f""#
        );
        assert_eq!(Origin::Anonymous.to_string(), "anonymous region");
        struct Missing(Origin);
        impl fmt::Display for Missing {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_missing(f)
            }
        }
        assert_eq!(
            Missing(Origin::Named("x".into())).to_string(),
            r#"no region named "x" (/dev/shm/x)"#
        );
    }
}
