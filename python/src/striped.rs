//! The `StripedArray` class: the crate's `StripedArray`, counters many processes add to at
//! once (one stripe per CPU, summed on read).

use crate::any::{with_striped, with_type, AnyStriped, Wrap};
use crate::convert::{self, PyElement, Region};
use crate::{errors, named};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use shmarray::StripedArray as Striped;

/// Counters in shared memory built for many writers: `add` goes to the calling CPU's stripe,
/// `sum`/`sums` add the stripes up, `take` reads and resets.
#[pyclass(module = "shmarray", name = "StripedArray", frozen)]
pub struct StripedArray {
    array: AnyStriped,
    region: Region,
}

fn create<T: Wrap>(py: Python<'_>, len: usize, region: &Region) -> PyResult<AnyStriped> {
    py.allow_threads(|| match region.name() {
        Some(name) => Striped::<T>::create(name, len),
        None => Striped::<T>::new(len),
    })
    .map(T::wrap_striped)
    .map_err(errors::create_error)
}

fn open<T: Wrap>(py: Python<'_>, name: &str) -> PyResult<AnyStriped> {
    py.allow_threads(|| Striped::<T>::open(name))
        .map(T::wrap_striped)
        .map_err(errors::open_error)
}

impl StripedArray {
    fn len(&self) -> usize {
        with_striped!(&self.array, a => a.len())
    }

    fn position(&self, index: isize) -> PyResult<usize> {
        convert::position(index, self.len(), &self.region)
    }
}

#[pymethods]
impl StripedArray {
    #[new]
    #[pyo3(signature = (typecode, size, *, name = None))]
    fn new(
        py: Python<'_>,
        typecode: &Bound<'_, PyAny>,
        size: isize,
        name: Option<String>,
    ) -> PyResult<StripedArray> {
        let region = Region::new(name);
        let code = convert::type_code(typecode, &region)?;
        let len = usize::try_from(size)
            .map_err(|_| PyValueError::new_err(format!("{region}: negative size {size}")))?;
        let array = with_type!(code, T => create::<T>(py, len, &region)?,
            _ => return Err(PyValueError::new_err(format!("{region}: unsupported type {code}"))));
        Ok(StripedArray { array, region })
    }

    /// Attaches to the existing striped array `name`.
    #[staticmethod]
    #[pyo3(signature = (name, typecode = None))]
    fn open(
        py: Python<'_>,
        name: String,
        typecode: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<StripedArray> {
        let region = Region::new(Some(name.clone()));
        let (code, opened) = match typecode {
            Some(t) => (convert::type_code(t, &region)?, None),
            None => named::probe(py, &name, || {
                Striped::<u8>::open(&name).map(u8::wrap_striped)
            })?,
        };
        let array = match opened {
            Some(array) => array,
            None => with_type!(code, T => open::<T>(py, &name)?,
                _ => return Err(PyValueError::new_err(format!("{region}: unsupported type {code}")))),
        };
        Ok(StripedArray { array, region })
    }

    /// The type code, as in the `array` module.
    #[getter]
    fn typecode(&self) -> String {
        with_striped!(&self.array, a => a.type_code().as_char().to_string())
    }

    /// The shared memory name, `None` for an anonymous array.
    #[getter]
    fn name(&self) -> Option<String> {
        self.region.name().map(str::to_owned)
    }

    /// The number of stripes each element is spread over.
    #[getter]
    fn stripes(&self) -> usize {
        with_striped!(&self.array, a => a.stripes())
    }

    fn __len__(&self) -> usize {
        self.len()
    }

    fn __repr__(&self) -> String {
        let code = self.typecode();
        match self.region.name() {
            Some(name) => format!(
                "shmarray.StripedArray('{code}', {}, name='{name}')",
                self.len()
            ),
            None => format!("shmarray.StripedArray('{code}', {})", self.len()),
        }
    }

    /// Adds `value` to element `index` (on this CPU's stripe; integers wrap).
    fn add(&self, index: isize, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let i = self.position(index)?;
        with_striped!(&self.array, a => {
            a.add(i, PyElement::from_py(value, &self.region)?);
            Ok(())
        })
    }

    /// Subtracts `value` from element `index`.
    fn sub(&self, index: isize, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let i = self.position(index)?;
        with_striped!(&self.array, a => {
            a.sub(i, PyElement::from_py(value, &self.region)?);
            Ok(())
        })
    }

    /// The sum of element `index` over the stripes: exact once the writers have stopped.
    fn sum(&self, py: Python<'_>, index: isize) -> PyResult<PyObject> {
        let i = self.position(index)?;
        Ok(with_striped!(&self.array, a => a.sum(i).to_py(py)))
    }

    /// The sums of every element, as a list.
    fn sums(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let items: Vec<PyObject> = with_striped!(&self.array, a =>
            py.allow_threads(|| a.sums()).into_iter().map(|v| v.to_py(py)).collect());
        Ok(PyList::new(py, items)?.unbind())
    }

    /// Returns the sum of element `index` and resets it to zero, losing no concurrent add.
    fn take(&self, py: Python<'_>, index: isize) -> PyResult<PyObject> {
        let i = self.position(index)?;
        Ok(with_striped!(&self.array, a => a.take(i).to_py(py)))
    }

    /// Takes every element, as a list.
    fn take_all(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let items: Vec<PyObject> = with_striped!(&self.array, a =>
            py.allow_threads(|| a.take_all()).into_iter().map(|v| v.to_py(py)).collect());
        Ok(PyList::new(py, items)?.unbind())
    }

    /// Removes the array's shared memory name.
    fn unlink(&self, py: Python<'_>) -> PyResult<()> {
        named::unlink(py, &self.region)
    }

    /// A named array pickles as its name and type code, and reopens by name.
    fn __reduce__(&self, py: Python<'_>) -> PyResult<(PyObject, (String, String))> {
        let code = with_striped!(&self.array, a => a.type_code());
        named::reduce(py, &self.region, code, self.len(), "_reopen_striped")
    }
}
