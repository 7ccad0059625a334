//! The crate's errors as the Python exceptions a Python user already catches. The crate's
//! messages name the region; the OS's reason follows where there is one.

use crate::convert::Region;
use pyo3::create_exception;
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyMemoryError, PyOSError, PyRuntimeError,
    PyTimeoutError, PyTypeError, PyValueError,
};
use pyo3::PyErr;
use shmarray::{CreateError, LockError, OpenError, SnapshotError};
use std::error::Error;
use std::io;

create_exception!(
    shmarray,
    OwnerDiedError,
    PyRuntimeError,
    "A process died holding the array's lock; the data may be half-written. Repair it under \
     `with a.lock_for_repair() as g:` and call `g.make_consistent()`."
);

/// `OSError` with the errno of `source`, the message followed by the OS's reason.
fn os_error(message: impl std::fmt::Display, source: &io::Error) -> PyErr {
    let message = format!("{message}: {source}");
    match source.raw_os_error() {
        Some(errno) => PyOSError::new_err((errno, message)),
        None => PyOSError::new_err(message),
    }
}

/// The message of `e` followed by its source's, if any.
fn with_source(e: &dyn Error) -> String {
    match e.source() {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

/// A failed creation.
pub fn create_error(e: CreateError) -> PyErr {
    match &e {
        CreateError::AlreadyExists { .. } => PyFileExistsError::new_err(e.to_string()),
        CreateError::InvalidName(_) => PyValueError::new_err(e.to_string()),
        CreateError::TooLarge { .. } | CreateError::OutOfSpace { .. } => {
            PyMemoryError::new_err(with_source(&e))
        }
        CreateError::Io { source, .. } => os_error(&e, source),
        _ => PyOSError::new_err(with_source(&e)),
    }
}

/// A failed open.
pub fn open_error(e: OpenError) -> PyErr {
    match &e {
        OpenError::NotFound { .. } => PyFileNotFoundError::new_err(e.to_string()),
        OpenError::InvalidName(_) => PyValueError::new_err(e.to_string()),
        OpenError::WrongType { .. } | OpenError::WrongLayout { .. } => {
            PyTypeError::new_err(e.to_string())
        }
        OpenError::NotReady { .. } => PyTimeoutError::new_err(e.to_string()),
        OpenError::Io { source, .. } => os_error(&e, source),
        // A region that is not a valid array: corrupt, foreign or from another version.
        _ => PyValueError::new_err(with_source(&e)),
    }
}

/// The error for a lock or snapshot refused while a holder's death is unrepaired.
pub fn owner_died(region: &Region) -> PyErr {
    OwnerDiedError::new_err(format!(
        "{region}: a process died holding its lock and the data has not been repaired; \
         use `with a.lock_for_repair() as g:` and `g.make_consistent()`"
    ))
}

/// The error for locking (or snapshotting) through one `Array` object while this thread
/// holds the region's lock through another.
fn held_elsewhere(region: &Region) -> PyErr {
    PyRuntimeError::new_err(format!(
        "{region}: this thread holds the lock through another Array object of the same \
         region; use that object"
    ))
}

/// A failed lock acquisition.
pub fn lock_error(region: &Region, e: LockError) -> PyErr {
    match &e {
        LockError::OwnerDied => owner_died(region),
        LockError::Deadlock => held_elsewhere(region),
        LockError::Os(source) => os_error(format!("{region}: {e}"), source),
        _ => PyTimeoutError::new_err(format!("{region}: {e}")),
    }
}

/// A failed snapshot.
pub fn snapshot_error(region: &Region, e: SnapshotError) -> PyErr {
    match &e {
        SnapshotError::OwnerDied => owner_died(region),
        SnapshotError::Deadlock => held_elsewhere(region),
        SnapshotError::Os(source) => os_error(format!("{region}: {e}"), source),
        _ => PyRuntimeError::new_err(format!("{region}: {e}")),
    }
}
