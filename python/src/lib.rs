//! The `shmarray` Python extension: the crate's [`SharedArray`](shmarray::SharedArray) as a
//! drop-in for `multiprocessing.Array`.
//!
//! Every operation is the crate's own; this crate only converts between Python objects and
//! element values, keeps the per-object lock state Python's reentrant `get_lock()` needs, and
//! maps the crate's errors to Python's exceptions.
//!
//! | file | what |
//! |---|---|
//! | `any.rs` | [`any::AnyArray`] / [`any::AnyGuard`]: one enum arm per element type, and the dispatch macros |
//! | `convert.rs` | element values to and from Python objects, type codes, region descriptions |
//! | `errors.rs` | the crate's errors as Python exceptions; `OwnerDiedError` |
//! | `held.rs` | the lock as held by one Python object: reentrant per thread, released on the same thread |
//! | `array.rs` | the `Array` class |
//! | `lock.rs` | `get_lock()`'s and `lock_for_repair()`'s context managers |
//! | `named.rs` | what both classes do with a name: probe the type, unlink, pickle |
//! | `striped.rs` | the `StripedArray` class |
//! | `numpy.rs` | `to_numpy()`: one copy into a fresh `numpy.ndarray`, without the GIL |

#![deny(unsafe_op_in_unsafe_fn)]

mod any;
mod array;
mod convert;
mod errors;
mod held;
mod lock;
mod named;
mod numpy;
mod striped;

use pyo3::prelude::*;

/// Removes the name of the shared array `name`; processes that have it open keep it until
/// they drop it.
#[pyfunction]
fn unlink(py: Python<'_>, name: &str) -> PyResult<()> {
    py.allow_threads(|| shmarray::SharedArray::<u8>::unlink(name))
        .map_err(errors::open_error)
}

#[pymodule]
fn _shmarray(m: &Bound<'_, PyModule>) -> PyResult<()> {
    held::init_pid_cache()?;
    m.add_class::<array::Array>()?;
    m.add_class::<array::ArrayIter>()?;
    m.add_class::<lock::Lock>()?;
    m.add_class::<lock::RepairLock>()?;
    m.add_class::<striped::StripedArray>()?;
    m.add(
        "OwnerDiedError",
        m.py().get_type::<errors::OwnerDiedError>(),
    )?;
    m.add_function(wrap_pyfunction!(unlink, m)?)?;
    Ok(())
}
