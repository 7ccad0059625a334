//! Element values to and from Python objects; type codes; how a region is named in messages.

use pyo3::exceptions::{PyIndexError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;
use shmarray::{Element, Origin, TypeCode};
use std::fmt;

/// The region an array lives in, as the crate names it in messages (`anonymous region`,
/// `region "name" (/dev/shm/name)`).
#[derive(Clone, Debug)]
pub struct Region(pub Origin);

impl Region {
    /// The region of a named (`Some`) or anonymous (`None`) array.
    pub fn new(name: Option<String>) -> Region {
        Region(name.map_or(Origin::Anonymous, Origin::Named))
    }

    /// The shared memory name, `None` for an anonymous array.
    pub fn name(&self) -> Option<&str> {
        self.0.name()
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `index` (negative counts from the end) as a position in `len` elements, or `IndexError`.
#[inline]
pub fn position(index: isize, len: usize, region: &Region) -> PyResult<usize> {
    let pos = if index < 0 {
        index.checked_add_unsigned(len)
    } else {
        Some(index)
    };
    match pos.and_then(|p| usize::try_from(p).ok()) {
        Some(p) if p < len => Ok(p),
        _ => Err(PyIndexError::new_err(format!(
            "index {index} out of range for {region} of length {len}"
        ))),
    }
}

/// Every type code, in the order `array` lists them.
pub const CODES: &str = "'b' 'B' 'h' 'H' 'i' 'I' 'l' 'L' 'q' 'Q' 'f' 'd'";

/// The type code of `typecode_or_type`: a one-letter string as in `array`, or a `ctypes` type
/// (whose `_type_` is that letter), as `multiprocessing.Array` accepts.
pub fn type_code(obj: &Bound<'_, PyAny>, region: &Region) -> PyResult<TypeCode> {
    let letter = if let Ok(s) = obj.downcast::<PyString>() {
        s.to_cow()?.into_owned()
    } else if let Ok(t) = obj.getattr("_type_").and_then(|t| t.extract::<String>()) {
        t
    } else {
        return Err(PyTypeError::new_err(format!(
            "{region}: typecode_or_type must be a type code ({CODES}) or a ctypes type, not {}",
            type_name(obj)
        )));
    };
    let mut chars = letter.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => TypeCode::from_char(c),
        _ => None,
    }
    .ok_or_else(|| {
        PyValueError::new_err(format!(
            "{region}: unknown type code '{letter}': shared arrays hold {CODES}"
        ))
    })
}

/// An element type as Python sees it.
pub trait PyElement: Element {
    /// The value of `obj` as an element of `region`: `TypeError` for a non-number (or a
    /// float given to an integer array), `OverflowError` for a value the type cannot hold.
    fn from_py(obj: &Bound<'_, PyAny>, region: &Region) -> PyResult<Self>;
    /// The element as a Python `int` or `float`.
    fn to_py(self, py: Python<'_>) -> PyObject;
}

/// The name of `obj`'s type, for messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

fn not_a_number(obj: &Bound<'_, PyAny>, region: &Region, code: TypeCode, what: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{region} holds {code} elements: expected {what}, got {}",
        type_name(obj)
    ))
}

fn overflow(obj: &Bound<'_, PyAny>, region: &Region, code: TypeCode) -> PyErr {
    let shown = obj.str().map(|s| s.to_string()).unwrap_or_default();
    PyOverflowError::new_err(format!(
        "value {shown} does not fit the {code} elements of {region}"
    ))
}

macro_rules! int_element {
    ($($t:ty => $via:ty),* $(,)?) => {$(
        impl PyElement for $t {
            #[inline]
            fn from_py(obj: &Bound<'_, PyAny>, region: &Region) -> PyResult<$t> {
                let code = <$t as Element>::TYPE_CODE;
                match obj.extract::<$via>() {
                    Ok(wide) => <$t>::try_from(wide).map_err(|_| overflow(obj, region, code)),
                    Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => {
                        Err(overflow(obj, region, code))
                    }
                    Err(_) => Err(not_a_number(obj, region, code, "an integer")),
                }
            }

            #[inline]
            fn to_py(self, py: Python<'_>) -> PyObject {
                match self.into_pyobject(py) {
                    Ok(int) => int.into_any().unbind(),
                    Err(never) => match never {},
                }
            }
        }
    )*};
}

int_element!(i8 => i64, i16 => i64, i32 => i64, i64 => i64, isize => i64,
             u8 => u64, u16 => u64, u32 => u64, u64 => u64, usize => u64);

macro_rules! float_element {
    ($($t:ty),*) => {$(
        impl PyElement for $t {
            #[inline]
            fn from_py(obj: &Bound<'_, PyAny>, region: &Region) -> PyResult<$t> {
                // As `array('f')`: a double rounded to the element's precision.
                obj.extract::<f64>()
                    .map(|v| v as $t)
                    .map_err(|_| not_a_number(obj, region, <$t as Element>::TYPE_CODE, "a number"))
            }

            #[inline]
            fn to_py(self, py: Python<'_>) -> PyObject {
                match f64::from(self).into_pyobject(py) {
                    Ok(float) => float.into_any().unbind(),
                    Err(never) => match never {},
                }
            }
        }
    )*};
}

float_element!(f32, f64);

/// The values of the iterable `obj`, converted for `region`.
pub fn values<T: PyElement>(obj: &Bound<'_, PyAny>, region: &Region) -> PyResult<Vec<T>> {
    let iter = obj.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "{region}: expected a size or an iterable of numbers, got {}",
            type_name(obj)
        ))
    })?;
    let mut out = Vec::with_capacity(obj.len().unwrap_or(0));
    for item in iter {
        out.push(T::from_py(&item?, region)?);
    }
    Ok(out)
}
