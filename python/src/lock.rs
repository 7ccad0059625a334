//! The context managers of `get_lock()` and `lock_for_repair()`.

use crate::any::Wait;
use crate::array::Shared;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// The array's cross-process lock, reentrant on the thread that holds it (as the `RLock`
/// of `multiprocessing.Array`): `with a.get_lock(): ...`. A recorded death of a holder
/// raises `OwnerDiedError`.
#[pyclass(module = "shmarray", frozen)]
pub struct Lock {
    pub shared: Arc<Shared>,
}

fn wait_for(block: bool, timeout: Option<f64>) -> PyResult<Wait> {
    match (block, timeout) {
        (false, _) => Ok(Wait::No),
        (true, None) => Ok(Wait::Forever),
        (true, Some(t)) if t < 0.0 => Ok(Wait::Forever),
        (true, Some(t)) => Duration::try_from_secs_f64(t)
            .map(Wait::For)
            .map_err(|_| PyValueError::new_err(format!("timeout {t} is not a duration"))),
    }
}

#[pymethods]
impl Lock {
    /// Takes the lock (again, if this thread holds it). Returns False if `block` is false
    /// and it is held elsewhere, or `timeout` seconds ran out.
    #[pyo3(signature = (block = true, timeout = None))]
    fn acquire(&self, py: Python<'_>, block: bool, timeout: Option<f64>) -> PyResult<bool> {
        let s = &self.shared;
        s.held
            .enter(py, &s.array, &s.region, false, wait_for(block, timeout)?)
    }

    /// Leaves the lock once; the last release on this thread unlocks it.
    fn release(&self) -> PyResult<()> {
        self.shared.held.exit(&self.shared.region)
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<bool> {
        self.acquire(py, true, None)
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.release()?;
        Ok(false)
    }
}

/// The lock taken whether or not a holder died: `with a.lock_for_repair() as g:`, check or
/// repair the data, then `g.make_consistent()`.
#[pyclass(module = "shmarray", frozen)]
pub struct RepairLock {
    pub shared: Arc<Shared>,
}

#[pymethods]
impl RepairLock {
    fn __enter__<'p>(slf: PyRef<'p, Self>, py: Python<'p>) -> PyResult<PyRef<'p, Self>> {
        let s = &slf.shared;
        s.held.enter(py, &s.array, &s.region, true, Wait::Forever)?;
        Ok(slf)
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.shared.held.exit(&self.shared.region)?;
        Ok(false)
    }

    /// True if a holder died and nobody has declared the data consistent since.
    #[getter]
    fn owner_died(&self) -> PyResult<bool> {
        self.shared.held.owner_died(&self.shared.region)
    }

    /// Declares the data consistent: once the lock is released, `get_lock()` and
    /// `snapshot()` work again.
    fn make_consistent(&self) -> PyResult<()> {
        self.shared.held.make_consistent(&self.shared.region)
    }
}
