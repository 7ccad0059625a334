//! The `Array` class: `multiprocessing.Array`'s interface over the crate's `SharedArray`.

use crate::any::{with_array, with_int_array, with_type, AnyArray, Wait, Wrap};
use crate::convert::{self, PyElement, Region};
use crate::errors;
use crate::held::HeldSlot;
use crate::lock::{Lock, RepairLock};
use crate::named;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyList, PySlice, PyTuple};
use shmarray::SharedArray;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

/// What every handle on one Python array (the array, its lock objects, its iterators) shares.
pub struct Shared {
    pub array: AnyArray,
    pub region: Region,
    pub held: HeldSlot,
}

impl Shared {
    /// Runs `f` with this thread holding the lock: entered again if it holds it already,
    /// else taken (waiting without the GIL) and released afterwards.
    pub fn locked<R>(&self, py: Python<'_>, f: impl FnOnce() -> R) -> PyResult<R> {
        self.held
            .enter(py, &self.array, &self.region, false, Wait::Forever)?;
        let result = f();
        self.held.exit(&self.region)?;
        Ok(result)
    }
}

/// A fixed-length array of numbers in shared memory; see the package documentation.
#[pyclass(module = "shmarray", name = "Array", frozen, sequence)]
pub struct Array {
    pub shared: Arc<Shared>,
}

fn create<T: Wrap>(py: Python<'_>, init: &Bound<'_, PyAny>, region: &Region) -> PyResult<AnyArray> {
    let made = if init.is_instance_of::<PyInt>() {
        let len: isize = init.extract()?;
        let len = usize::try_from(len)
            .map_err(|_| PyValueError::new_err(format!("{region}: negative size {len}")))?;
        py.allow_threads(|| match region.name() {
            Some(name) => SharedArray::<T>::create(name, len),
            None => SharedArray::<T>::new(len),
        })
    } else {
        let values = convert::values::<T>(init, region)?;
        py.allow_threads(|| match region.name() {
            Some(name) => SharedArray::<T>::create_from_slice(name, &values),
            None => SharedArray::<T>::from_slice(&values),
        })
    };
    made.map(|a| T::wrap(Arc::new(a)))
        .map_err(errors::create_error)
}

fn open<T: Wrap>(py: Python<'_>, name: &str) -> PyResult<AnyArray> {
    py.allow_threads(|| SharedArray::<T>::open(name))
        .map(|a| T::wrap(Arc::new(a)))
        .map_err(errors::open_error)
}

impl Array {
    fn from_parts(array: AnyArray, region: Region) -> Array {
        Array {
            shared: Arc::new(Shared {
                array,
                region,
                held: HeldSlot::default(),
            }),
        }
    }

    fn region(&self) -> &Region {
        &self.shared.region
    }

    #[inline]
    fn position(&self, index: isize) -> PyResult<usize> {
        convert::position(index, self.shared.array.len(), self.region())
    }

    /// The position an integer key selects, or `TypeError`/`IndexError`.
    fn key_position(&self, key: &Bound<'_, PyAny>) -> PyResult<usize> {
        let index: isize = key.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "{} indices must be integers or slices, not {}",
                self.region(),
                convert::type_name(key)
            ))
        })?;
        self.position(index)
    }

    /// The positions a slice selects.
    fn positions(&self, slice: &Bound<'_, PySlice>) -> PyResult<impl Iterator<Item = usize>> {
        let len = self.shared.array.len();
        let ind = slice.indices(len as isize)?;
        let (start, step) = (ind.start, ind.step);
        Ok((0..ind.slicelength).map(move |k| (start + k as isize * step) as usize))
    }

    fn no_bit_ops(&self, op: &str) -> PyErr {
        PyTypeError::new_err(format!(
            "{op} needs integer elements; {} holds {}",
            self.region(),
            self.shared.array.type_code()
        ))
    }
}

macro_rules! rmw {
    ($self:ident, $py:ident, $index:ident, $value:ident, $op:ident) => {{
        let i = $self.position($index)?;
        let region = &$self.shared.region;
        with_array!(&$self.shared.array, a => {
            let v = PyElement::from_py($value, region)?;
            Ok(a.$op(i, v, SeqCst).to_py($py))
        })
    }};
}

macro_rules! int_rmw {
    ($self:ident, $py:ident, $index:ident, $value:ident, $op:ident) => {{
        let i = $self.position($index)?;
        let region = &$self.shared.region;
        with_int_array!(&$self.shared.array, a => {
            let v = PyElement::from_py($value, region)?;
            Ok(a.$op(i, v, SeqCst).to_py($py))
        }, float => Err($self.no_bit_ops(stringify!($op))))
    }};
}

#[pymethods]
impl Array {
    #[new]
    #[pyo3(signature = (typecode_or_type, size_or_initializer, *, name = None, lock = true))]
    fn new(
        py: Python<'_>,
        typecode_or_type: &Bound<'_, PyAny>,
        size_or_initializer: &Bound<'_, PyAny>,
        name: Option<String>,
        lock: bool,
    ) -> PyResult<Array> {
        // `lock` is accepted for compatibility: the lock is always there, and the lock-free
        // operations always work.
        let _ = lock;
        let region = Region::new(name);
        let code = convert::type_code(typecode_or_type, &region)?;
        let array = with_type!(code, T => create::<T>(py, size_or_initializer, &region)?,
            _ => return Err(PyValueError::new_err(format!("{region}: unsupported type {code}"))));
        Ok(Array::from_parts(array, region))
    }

    /// Attaches to the existing shared array `name`.
    #[staticmethod]
    #[pyo3(signature = (name, typecode = None))]
    fn open(py: Python<'_>, name: String, typecode: Option<&Bound<'_, PyAny>>) -> PyResult<Array> {
        let region = Region::new(Some(name.clone()));
        let (code, opened) = match typecode {
            Some(t) => (convert::type_code(t, &region)?, None),
            None => named::probe(py, &name, || {
                SharedArray::<u8>::open(&name).map(|a| u8::wrap(Arc::new(a)))
            })?,
        };
        let array = match opened {
            Some(array) => array,
            None => with_type!(code, T => open::<T>(py, &name)?,
                _ => return Err(PyValueError::new_err(format!("{region}: unsupported type {code}")))),
        };
        Ok(Array::from_parts(array, region))
    }

    /// The type code, as in the `array` module.
    #[getter]
    fn typecode(&self) -> String {
        self.shared.array.type_code().as_char().to_string()
    }

    /// The shared memory name, `None` for an anonymous array.
    #[getter]
    fn name(&self) -> Option<String> {
        self.region().name().map(str::to_owned)
    }

    fn __len__(&self) -> usize {
        self.shared.array.len()
    }

    fn __repr__(&self) -> String {
        let code = self.shared.array.type_code().as_char();
        match self.region().name() {
            Some(name) => format!(
                "shmarray.Array('{code}', {}, name='{name}')",
                self.shared.array.len()
            ),
            None => format!("shmarray.Array('{code}', {})", self.shared.array.len()),
        }
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<PyObject> {
        if let Ok(slice) = key.downcast::<PySlice>() {
            let positions = self.positions(slice)?;
            let items: Vec<PyObject> = with_array!(&self.shared.array, a =>
                positions.map(|i| a.load(i, SeqCst).to_py(py)).collect());
            return Ok(PyList::new(py, items)?.into_any().unbind());
        }
        let i = self.key_position(key)?;
        Ok(with_array!(&self.shared.array, a => a.load(i, SeqCst).to_py(py)))
    }

    fn __setitem__(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let region = &self.shared.region;
        if let Ok(slice) = key.downcast::<PySlice>() {
            let positions: Vec<usize> = self.positions(slice)?.collect();
            return with_array!(&self.shared.array, a => {
                let values = convert::values(value, region)?;
                if values.len() != positions.len() {
                    return Err(PyValueError::new_err(format!(
                        "{region}: cannot assign {} values to a slice of {} elements",
                        values.len(),
                        positions.len()
                    )));
                }
                // One locked write: all of it or none of it is in any snapshot.
                self.shared.locked(py, || {
                    for (&i, v) in positions.iter().zip(values) {
                        a.store(i, v, SeqCst);
                    }
                })
            });
        }
        let i = self.key_position(key)?;
        with_array!(&self.shared.array, a => {
            a.store(i, PyElement::from_py(value, region)?, SeqCst);
            Ok(())
        })
    }

    fn __iter__(&self) -> ArrayIter {
        ArrayIter {
            shared: Arc::clone(&self.shared),
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Adds `value` to element `index` atomically; returns the previous value.
    fn fetch_add(
        &self,
        py: Python<'_>,
        index: isize,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<PyObject> {
        rmw!(self, py, index, value, fetch_add)
    }

    /// Subtracts `value` from element `index` atomically; returns the previous value.
    fn fetch_sub(
        &self,
        py: Python<'_>,
        index: isize,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<PyObject> {
        rmw!(self, py, index, value, fetch_sub)
    }

    /// Stores `value` into element `index` atomically; returns the previous value.
    fn swap(&self, py: Python<'_>, index: isize, value: &Bound<'_, PyAny>) -> PyResult<PyObject> {
        rmw!(self, py, index, value, swap)
    }

    /// Stores the larger of element `index` and `value`; returns the previous value.
    fn fetch_max(
        &self,
        py: Python<'_>,
        index: isize,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<PyObject> {
        rmw!(self, py, index, value, fetch_max)
    }

    /// Stores the smaller of element `index` and `value`; returns the previous value.
    fn fetch_min(
        &self,
        py: Python<'_>,
        index: isize,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<PyObject> {
        rmw!(self, py, index, value, fetch_min)
    }

    /// Bitwise and, atomically; returns the previous value. Integer arrays only.
    fn fetch_and(
        &self,
        py: Python<'_>,
        index: isize,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<PyObject> {
        int_rmw!(self, py, index, value, fetch_and)
    }

    /// Bitwise or, atomically; returns the previous value. Integer arrays only.
    fn fetch_or(
        &self,
        py: Python<'_>,
        index: isize,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<PyObject> {
        int_rmw!(self, py, index, value, fetch_or)
    }

    /// Bitwise xor, atomically; returns the previous value. Integer arrays only.
    fn fetch_xor(
        &self,
        py: Python<'_>,
        index: isize,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<PyObject> {
        int_rmw!(self, py, index, value, fetch_xor)
    }

    /// Bitwise nand, atomically; returns the previous value. Integer arrays only.
    fn fetch_nand(
        &self,
        py: Python<'_>,
        index: isize,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<PyObject> {
        int_rmw!(self, py, index, value, fetch_nand)
    }

    /// Stores `new` into element `index` if it holds `expected`: `(True, expected)` if it
    /// did, `(False, actual)` if not. Floats compare by bit pattern.
    fn compare_exchange(
        &self,
        py: Python<'_>,
        index: isize,
        expected: &Bound<'_, PyAny>,
        new: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyTuple>> {
        let i = self.position(index)?;
        let region = &self.shared.region;
        let (ok, value) = with_array!(&self.shared.array, a => {
            let current = PyElement::from_py(expected, region)?;
            let new = PyElement::from_py(new, region)?;
            match a.compare_exchange(i, current, new, SeqCst, SeqCst) {
                Ok(v) => (true, v.to_py(py)),
                Err(v) => (false, v.to_py(py)),
            }
        });
        Ok(PyTuple::new(
            py,
            [ok.into_pyobject(py)?.to_owned().into_any().unbind(), value],
        )?
        .unbind())
    }

    /// A consistent copy as a list: all or nothing of every locked write. Inside
    /// `get_lock()` it reads through the held lock.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let region = &self.shared.region;
        let items: Vec<PyObject> = with_array!(&self.shared.array, a => {
            let values = if self.shared.held.held_by_me() {
                // This thread holds the lock (its guard is in `held` until this thread
                // releases it), so nobody else who locks can write: a plain read of the
                // cells is what the guard's `to_vec` does.
                py.allow_threads(|| a.to_vec())
            } else {
                // Without the GIL: the snapshot may wait for the lock, whose holder may be
                // another thread of this process that needs the GIL to finish.
                py.allow_threads(|| a.snapshot())
                    .map_err(|e| errors::snapshot_error(region, e))?
            };
            values.into_iter().map(|v| v.to_py(py)).collect()
        });
        Ok(PyList::new(py, items)?.unbind())
    }

    /// A consistent copy as a `numpy.ndarray` of the matching dtype (needs numpy).
    fn to_numpy(&self, py: Python<'_>) -> PyResult<PyObject> {
        crate::numpy::to_numpy(py, &self.shared)
    }

    /// The array's cross-process lock, as a reentrant context manager.
    fn get_lock(&self) -> Lock {
        Lock {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The lock, taken even if a holder died: `with a.lock_for_repair() as g:` repair, then
    /// `g.make_consistent()`.
    fn lock_for_repair(&self) -> RepairLock {
        RepairLock {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Removes the array's shared memory name (the memory lives while anyone has it open).
    fn unlink(&self, py: Python<'_>) -> PyResult<()> {
        named::unlink(py, self.region())
    }

    /// A named array pickles as its name and type code, and reopens by name.
    fn __reduce__(&self, py: Python<'_>) -> PyResult<(PyObject, (String, String))> {
        let array = &self.shared.array;
        named::reduce(py, self.region(), array.type_code(), array.len(), "_reopen")
    }
}

/// Iterates an array element by element (each element atomic; `snapshot()` is the
/// consistent copy).
#[pyclass(module = "shmarray", frozen)]
pub struct ArrayIter {
    shared: Arc<Shared>,
    next: std::sync::atomic::AtomicUsize,
}

#[pymethods]
impl ArrayIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> Option<PyObject> {
        let i = self.next.fetch_add(1, SeqCst);
        if i >= self.shared.array.len() {
            self.next.store(self.shared.array.len(), SeqCst);
            return None;
        }
        Some(with_array!(&self.shared.array, a => a.load(i, SeqCst).to_py(py)))
    }
}
