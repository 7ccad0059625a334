//! `to_numpy()`: a consistent copy straight into a fresh `numpy.ndarray`, without the GIL.

use crate::any::with_array;
use crate::array::Shared;
use crate::errors;
use pyo3::exceptions::{PyModuleNotFoundError, PyTypeError};
use pyo3::prelude::*;

/// The array's elements as a new `numpy.ndarray` of the type code's dtype.
pub fn to_numpy(py: Python<'_>, shared: &Shared) -> PyResult<PyObject> {
    let numpy = py.import("numpy").map_err(|_| {
        PyModuleNotFoundError::new_err(format!(
            "{}: to_numpy() needs numpy (pip install numpy); snapshot() returns a list without it",
            shared.region
        ))
    })?;
    with_array!(&shared.array, a => {
        let len = a.len();
        let code = a.type_code();
        let out = numpy.call_method1("empty", (len, code.as_char().to_string()))?;
        let itemsize: usize = out.getattr("itemsize")?.extract()?;
        let contiguous: bool = out.getattr("flags")?.getattr("c_contiguous")?.extract()?;
        if itemsize != code.size() || !contiguous {
            return Err(PyTypeError::new_err(format!(
                "{}: numpy's dtype '{}' is {itemsize} bytes, the elements {}",
                shared.region, code.as_char(), code.size()
            )));
        }
        let address: usize = out
            .getattr("__array_interface__")?
            .get_item("data")?
            .get_item(0)?
            .extract()?;
        let held = shared.held.held_by_me();
        let copied = py.allow_threads(|| {
            let dest = if len == 0 {
                &mut [][..]
            } else {
                // SAFETY:
                // - `out` is a C-contiguous array of `len` elements of `code.size()` bytes
                //   (checked above), the size of the element type; numpy allocates it aligned
                //   for its dtype, which is this type's alignment.
                // - it was made by `numpy.empty` just now and nobody else has a reference to
                //   it, so nothing reads or writes its buffer while this slice lives; `out`
                //   (a strong reference) keeps the buffer alive until after this closure.
                // - every bit pattern is a valid value of the element type.
                unsafe { std::slice::from_raw_parts_mut(address as *mut _, len) }
            };
            if held {
                // This thread holds the lock: read through it, as the guard's `to_vec` does.
                for (d, v) in dest.iter_mut().zip(a.iter()) {
                    *d = v;
                }
                Ok(())
            } else {
                a.snapshot_into(dest)
            }
        });
        copied.map_err(|e| errors::snapshot_error(&shared.region, e))?;
        Ok(out.unbind())
    })
}
