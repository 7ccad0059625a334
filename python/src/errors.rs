//! The crate's errors as the Python exceptions a Python user already catches, each message
//! naming the region.

use crate::any::LockFail;
use crate::convert::Region;
use pyo3::create_exception;
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyMemoryError, PyOSError, PyRuntimeError,
    PyTimeoutError, PyTypeError, PyValueError,
};
use pyo3::PyErr;
use shmarray::{CreateError, OpenError, SnapshotError};
use std::io;

create_exception!(
    shmarray,
    OwnerDiedError,
    PyRuntimeError,
    "A process died holding the array's lock; the data may be half-written. Repair it under \
     `with a.lock_for_repair() as g:` and call `g.make_consistent()`."
);

fn os_error(context: String, e: &io::Error) -> PyErr {
    match e.raw_os_error() {
        Some(errno) => PyOSError::new_err((errno, context)),
        None => PyOSError::new_err(context),
    }
}

/// A failed creation of `region`.
pub fn create_error(region: &Region, e: CreateError) -> PyErr {
    let msg = format!("{region}: {e}");
    match &e {
        CreateError::AlreadyExists(_) => PyFileExistsError::new_err(msg),
        CreateError::InvalidName(_) => PyValueError::new_err(msg),
        CreateError::TooLarge { .. } | CreateError::OutOfSpace { .. } => {
            PyMemoryError::new_err(msg)
        }
        CreateError::Io { source, .. } => os_error(msg, source),
        _ => PyOSError::new_err(msg),
    }
}

/// A failed open of the region `name`.
pub fn open_error(name: &str, e: OpenError) -> PyErr {
    let msg = format!("shared array '{name}': {e}");
    match &e {
        OpenError::NotFound(_) => PyFileNotFoundError::new_err(msg),
        OpenError::InvalidName(_) => PyValueError::new_err(msg),
        OpenError::WrongType { .. } | OpenError::WrongLayout { .. } => PyTypeError::new_err(msg),
        OpenError::NotReady { .. } => PyTimeoutError::new_err(msg),
        OpenError::Io { source, .. } => os_error(msg, source),
        // A region that is not a valid array: corrupt, foreign or from another version.
        _ => PyValueError::new_err(msg),
    }
}

/// The error for a lock taken while a holder's death is unrepaired.
pub fn owner_died(region: &Region) -> PyErr {
    OwnerDiedError::new_err(format!(
        "{region}: a process died holding its lock and the data has not been repaired; \
         use `with a.lock_for_repair() as g:` and `g.make_consistent()`"
    ))
}

/// A failed lock acquisition of `region`.
pub fn lock_error(region: &Region, e: LockFail) -> PyErr {
    match e {
        LockFail::Deadlock => PyRuntimeError::new_err(format!(
            "{region}: this thread holds the lock through another Array object of the same region"
        )),
        LockFail::Os(e) => os_error(format!("{region}: locking failed: {e}"), &e),
        LockFail::WouldBlock | LockFail::TimedOut => {
            PyTimeoutError::new_err(format!("{region}: the lock is held by someone else"))
        }
    }
}

/// A failed snapshot of `region`.
pub fn snapshot_error(region: &Region, e: SnapshotError) -> PyErr {
    match &e {
        SnapshotError::OwnerDied => owner_died(region),
        SnapshotError::Os(source) => os_error(format!("{region}: {e}"), source),
        _ => PyRuntimeError::new_err(format!("{region}: {e}")),
    }
}
