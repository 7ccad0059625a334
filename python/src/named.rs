//! What both array classes do with a region's name: find its element type, remove the name,
//! pickle as the name.

use crate::convert::Region;
use crate::errors;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use shmarray::{OpenError, SharedArray, TypeCode};

/// The element type of the region `name`, from its header: `open_u8` (an open as `u8`)
/// either succeeds, and its array is returned, or reports the type the region holds.
pub fn probe<A: Send>(
    py: Python<'_>,
    name: &str,
    open_u8: impl FnOnce() -> Result<A, OpenError> + Send,
) -> PyResult<(TypeCode, Option<A>)> {
    match py.allow_threads(open_u8) {
        Ok(a) => Ok((TypeCode::U8, Some(a))),
        Err(OpenError::WrongType { found, .. }) => char::from_u32(found)
            .and_then(TypeCode::from_char)
            .map(|code| (code, None))
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "{}: unknown type code {found:#x}",
                    Region::new(Some(name.to_owned()))
                ))
            }),
        Err(e) => Err(errors::open_error(e)),
    }
}

/// Removes the region's name (the memory lives while anyone has it open).
pub fn unlink(py: Python<'_>, region: &Region) -> PyResult<()> {
    match region.name() {
        Some(name) => py
            .allow_threads(|| SharedArray::<u8>::unlink(name))
            .map_err(errors::open_error),
        None => Err(PyValueError::new_err(
            "an anonymous region has no name to unlink",
        )),
    }
}

/// `__reduce__`: a named region pickles as `shmarray.<reopen>(name, typecode)`; an
/// anonymous one cannot be pickled, and says to pass `name=`.
pub fn reduce(
    py: Python<'_>,
    region: &Region,
    code: TypeCode,
    len: usize,
    reopen: &str,
) -> PyResult<(PyObject, (String, String))> {
    match region.name() {
        Some(name) => {
            let reopen = py.import("shmarray")?.getattr(reopen)?.unbind();
            Ok((reopen, (name.to_owned(), code.as_char().to_string())))
        }
        None => {
            let pickling_error = py.import("pickle")?.getattr("PicklingError")?;
            Err(PyErr::from_value(pickling_error.call1((format!(
                "an anonymous shared array ('{}', {len} elements) cannot be pickled: it is shared \
                 only with children started by fork. Create it with name=... to pass it to \
                 spawn or forkserver children, or through a Pool",
                code.as_char(),
            ),))?))
        }
    }
}
