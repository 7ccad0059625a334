//! Element types: which numbers an array can hold and the atomic cell each one lives in.
//!
//! Every element type is stored in the native atomic of its own width (`i32` in `AtomicI32`,
//! `u64` in `AtomicU64`, ...). Floats are stored as their bit pattern in `AtomicU32` or
//! `AtomicU64`; their arithmetic read-modify-writes are compare-exchange loops.
//!
//! The cell operations live on the sealed [`CellOps`] trait, written over a `&Atomic` that is
//! handed in, so that they run unchanged on mmap cells, on heap cells and under loom.

use crate::sync::{
    AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicIsize, AtomicU16, AtomicU32, AtomicU64,
    AtomicU8, AtomicUsize, Ordering,
};
use core::fmt;

/// The type of an array's elements, as recorded in a region's header.
///
/// The codes are those of Python's `array` module and `multiprocessing.Array`, so that a
/// user coming from `Array('q', 10)` finds the same letter here. The sizes are those of
/// 64-bit Linux (`l`/`L` are 8 bytes, as C's `long`).
///
/// ```
/// use shmarray::{Element, TypeCode};
/// assert_eq!(<i64 as Element>::TYPE_CODE, TypeCode::I64);
/// assert_eq!(TypeCode::I64.as_char(), 'q');
/// assert_eq!(TypeCode::from_char('d'), Some(TypeCode::F64));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TypeCode {
    /// `b`: `i8`
    I8,
    /// `B`: `u8`
    U8,
    /// `h`: `i16`
    I16,
    /// `H`: `u16`
    U16,
    /// `i`: `i32`
    I32,
    /// `I`: `u32`
    U32,
    /// `l`: `isize`
    Isize,
    /// `L`: `usize`
    Usize,
    /// `q`: `i64`
    I64,
    /// `Q`: `u64`
    U64,
    /// `f`: `f32`
    F32,
    /// `d`: `f64`
    F64,
}

impl TypeCode {
    const ALL: [(TypeCode, char); 12] = [
        (TypeCode::I8, 'b'),
        (TypeCode::U8, 'B'),
        (TypeCode::I16, 'h'),
        (TypeCode::U16, 'H'),
        (TypeCode::I32, 'i'),
        (TypeCode::U32, 'I'),
        (TypeCode::Isize, 'l'),
        (TypeCode::Usize, 'L'),
        (TypeCode::I64, 'q'),
        (TypeCode::U64, 'Q'),
        (TypeCode::F32, 'f'),
        (TypeCode::F64, 'd'),
    ];

    /// The Python type code letter.
    ///
    /// ```
    /// assert_eq!(shmarray::TypeCode::U8.as_char(), 'B');
    /// ```
    pub fn as_char(self) -> char {
        match Self::ALL.iter().find(|(code, _)| *code == self) {
            Some((_, c)) => *c,
            None => unreachable!("every TypeCode is listed in TypeCode::ALL"),
        }
    }

    /// The type code for a Python type code letter, or `None` for a letter this crate does
    /// not store (such as `u` or `c`).
    ///
    /// ```
    /// assert_eq!(shmarray::TypeCode::from_char('i'), Some(shmarray::TypeCode::I32));
    /// assert_eq!(shmarray::TypeCode::from_char('u'), None);
    /// ```
    pub fn from_char(c: char) -> Option<TypeCode> {
        Self::ALL
            .iter()
            .find(|(_, l)| *l == c)
            .map(|(code, _)| *code)
    }

    /// The size in bytes of one element of this type.
    ///
    /// ```
    /// assert_eq!(shmarray::TypeCode::I16.size(), 2);
    /// ```
    pub fn size(self) -> usize {
        match self {
            TypeCode::I8 | TypeCode::U8 => 1,
            TypeCode::I16 | TypeCode::U16 => 2,
            TypeCode::I32 | TypeCode::U32 | TypeCode::F32 => 4,
            TypeCode::I64 | TypeCode::U64 | TypeCode::F64 => 8,
            TypeCode::Isize | TypeCode::Usize => core::mem::size_of::<usize>(),
        }
    }
}

impl TypeCode {
    /// The alignment of one element's atomic cell, as a region header records it.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn align(self) -> usize {
        use core::mem::align_of;
        match self {
            TypeCode::I8 | TypeCode::U8 => align_of::<AtomicU8>(),
            TypeCode::I16 | TypeCode::U16 => align_of::<AtomicU16>(),
            TypeCode::I32 | TypeCode::U32 | TypeCode::F32 => align_of::<AtomicU32>(),
            TypeCode::I64 | TypeCode::U64 | TypeCode::F64 => align_of::<AtomicU64>(),
            TypeCode::Isize | TypeCode::Usize => align_of::<AtomicUsize>(),
        }
    }
}

impl fmt::Display for TypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}'", self.as_char())
    }
}

/// A number type that a [`SharedArray`](crate::SharedArray) can hold.
///
/// Implemented for `i8`, `u8`, `i16`, `u16`, `i32`, `u32`, `i64`, `u64`, `isize`, `usize`,
/// `f32` and `f64`. The trait is sealed: the cell layout of each type is part of the region
/// format, so no other type can be added from outside the crate.
///
/// ```
/// use shmarray::{Element, TypeCode};
/// fn code_of<T: Element>() -> char { T::TYPE_CODE.as_char() }
/// assert_eq!(code_of::<f64>(), 'd');
/// ```
pub trait Element:
    CellOps + Copy + PartialEq + PartialOrd + fmt::Debug + Default + Send + Sync + 'static
{
    /// The Python type code recorded in the region header.
    const TYPE_CODE: TypeCode;
}

/// An integer element type: adds the bitwise read-modify-writes of `std::sync::atomic`.
///
/// ```
/// use std::sync::atomic::Ordering;
/// let arr = shmarray::SharedArray::<u8>::from_slice(&[0b1100]).unwrap();
/// assert_eq!(arr.fetch_and(0, 0b0110, Ordering::Relaxed), 0b1100);
/// assert_eq!(arr.load(0, Ordering::Relaxed), 0b0100);
/// ```
pub trait Integer: Element + IntegerOps {}

pub(crate) use sealed::{CellOps, IntegerOps};

mod sealed {
    use crate::sync::Ordering;

    /// The atomic operations of one element type over a cell handed in by reference.
    ///
    /// This trait is public only to name it in bounds; it lives in a private module, so
    /// nothing outside the crate can implement or call it.
    pub trait CellOps: Sized {
        /// The atomic cell the element is stored in.
        type Atomic: Send + Sync;
        /// A fresh cell holding `v` (heap storage and loom).
        fn new_cell(v: Self) -> Self::Atomic;
        fn load(cell: &Self::Atomic, order: Ordering) -> Self;
        fn store(cell: &Self::Atomic, v: Self, order: Ordering);
        fn swap(cell: &Self::Atomic, v: Self, order: Ordering) -> Self;
        fn compare_exchange(
            cell: &Self::Atomic,
            current: Self,
            new: Self,
            success: Ordering,
            failure: Ordering,
        ) -> Result<Self, Self>;
        fn compare_exchange_weak(
            cell: &Self::Atomic,
            current: Self,
            new: Self,
            success: Ordering,
            failure: Ordering,
        ) -> Result<Self, Self>;
        fn fetch_add(cell: &Self::Atomic, v: Self, order: Ordering) -> Self;
        fn fetch_sub(cell: &Self::Atomic, v: Self, order: Ordering) -> Self;
        fn fetch_max(cell: &Self::Atomic, v: Self, order: Ordering) -> Self;
        fn fetch_min(cell: &Self::Atomic, v: Self, order: Ordering) -> Self;
        /// `a + b` on values, as `fetch_add` adds: wrapping for integers, IEEE for floats
        /// (what a striped array's sum adds its stripes with).
        fn plus(a: Self, b: Self) -> Self;
    }

    /// Bitwise read-modify-writes, integers only.
    pub trait IntegerOps: CellOps {
        fn fetch_and(cell: &Self::Atomic, v: Self, order: Ordering) -> Self;
        fn fetch_or(cell: &Self::Atomic, v: Self, order: Ordering) -> Self;
        fn fetch_xor(cell: &Self::Atomic, v: Self, order: Ordering) -> Self;
        fn fetch_nand(cell: &Self::Atomic, v: Self, order: Ordering) -> Self;
    }
}

macro_rules! integer_element {
    ($($t:ty => $atomic:ident, $code:ident;)*) => {$(
        impl CellOps for $t {
            type Atomic = $atomic;
            #[inline]
            fn new_cell(v: Self) -> $atomic { $atomic::new(v) }
            #[inline(always)]
            fn load(cell: &$atomic, order: Ordering) -> Self { cell.load(order) }
            #[inline(always)]
            fn store(cell: &$atomic, v: Self, order: Ordering) { cell.store(v, order) }
            #[inline(always)]
            fn swap(cell: &$atomic, v: Self, order: Ordering) -> Self { cell.swap(v, order) }
            #[inline(always)]
            fn compare_exchange(
                cell: &$atomic, current: Self, new: Self, success: Ordering, failure: Ordering,
            ) -> Result<Self, Self> {
                cell.compare_exchange(current, new, success, failure)
            }
            #[inline(always)]
            fn compare_exchange_weak(
                cell: &$atomic, current: Self, new: Self, success: Ordering, failure: Ordering,
            ) -> Result<Self, Self> {
                cell.compare_exchange_weak(current, new, success, failure)
            }
            #[inline(always)]
            fn fetch_add(cell: &$atomic, v: Self, order: Ordering) -> Self { cell.fetch_add(v, order) }
            #[inline(always)]
            fn fetch_sub(cell: &$atomic, v: Self, order: Ordering) -> Self { cell.fetch_sub(v, order) }
            #[inline(always)]
            fn fetch_max(cell: &$atomic, v: Self, order: Ordering) -> Self { cell.fetch_max(v, order) }
            #[inline(always)]
            fn fetch_min(cell: &$atomic, v: Self, order: Ordering) -> Self { cell.fetch_min(v, order) }
            #[inline(always)]
            fn plus(a: Self, b: Self) -> Self { a.wrapping_add(b) }
        }
        impl IntegerOps for $t {
            #[inline(always)]
            fn fetch_and(cell: &$atomic, v: Self, order: Ordering) -> Self { cell.fetch_and(v, order) }
            #[inline(always)]
            fn fetch_or(cell: &$atomic, v: Self, order: Ordering) -> Self { cell.fetch_or(v, order) }
            #[inline(always)]
            fn fetch_xor(cell: &$atomic, v: Self, order: Ordering) -> Self { cell.fetch_xor(v, order) }
            #[inline(always)]
            fn fetch_nand(cell: &$atomic, v: Self, order: Ordering) -> Self { cell.fetch_nand(v, order) }
        }
        impl Element for $t { const TYPE_CODE: TypeCode = TypeCode::$code; }
        impl Integer for $t {}
    )*};
}

integer_element! {
    i8 => AtomicI8, I8;
    u8 => AtomicU8, U8;
    i16 => AtomicI16, I16;
    u16 => AtomicU16, U16;
    i32 => AtomicI32, I32;
    u32 => AtomicU32, U32;
    i64 => AtomicI64, I64;
    u64 => AtomicU64, U64;
    isize => AtomicIsize, Isize;
    usize => AtomicUsize, Usize;
}

/// The failure ordering std's `fetch_update` derives from a success ordering: the strongest
/// one a failed compare-exchange may take.
#[inline(always)]
pub(crate) fn failure_ordering(success: Ordering) -> Ordering {
    match success {
        Ordering::Release | Ordering::Relaxed => Ordering::Relaxed,
        Ordering::Acquire | Ordering::AcqRel => Ordering::Acquire,
        _ => Ordering::SeqCst,
    }
}

macro_rules! float_element {
    ($($t:ty => $atomic:ident, $code:ident;)*) => {$(
        impl CellOps for $t {
            type Atomic = $atomic;
            #[inline]
            fn new_cell(v: Self) -> $atomic { $atomic::new(v.to_bits()) }
            #[inline(always)]
            fn load(cell: &$atomic, order: Ordering) -> Self { <$t>::from_bits(cell.load(order)) }
            #[inline(always)]
            fn store(cell: &$atomic, v: Self, order: Ordering) { cell.store(v.to_bits(), order) }
            #[inline(always)]
            fn swap(cell: &$atomic, v: Self, order: Ordering) -> Self {
                <$t>::from_bits(cell.swap(v.to_bits(), order))
            }
            #[inline(always)]
            fn compare_exchange(
                cell: &$atomic, current: Self, new: Self, success: Ordering, failure: Ordering,
            ) -> Result<Self, Self> {
                cell.compare_exchange(current.to_bits(), new.to_bits(), success, failure)
                    .map(<$t>::from_bits)
                    .map_err(<$t>::from_bits)
            }
            #[inline(always)]
            fn compare_exchange_weak(
                cell: &$atomic, current: Self, new: Self, success: Ordering, failure: Ordering,
            ) -> Result<Self, Self> {
                cell.compare_exchange_weak(current.to_bits(), new.to_bits(), success, failure)
                    .map(<$t>::from_bits)
                    .map_err(<$t>::from_bits)
            }
            #[inline]
            fn fetch_add(cell: &$atomic, v: Self, order: Ordering) -> Self {
                float_rmw(cell, order, |x: $t| x + v)
            }
            #[inline]
            fn fetch_sub(cell: &$atomic, v: Self, order: Ordering) -> Self {
                float_rmw(cell, order, |x: $t| x - v)
            }
            #[inline]
            fn fetch_max(cell: &$atomic, v: Self, order: Ordering) -> Self {
                float_rmw(cell, order, |x: $t| x.max(v))
            }
            #[inline]
            fn fetch_min(cell: &$atomic, v: Self, order: Ordering) -> Self {
                float_rmw(cell, order, |x: $t| x.min(v))
            }
            #[inline(always)]
            fn plus(a: Self, b: Self) -> Self { a + b }
        }
        impl Element for $t { const TYPE_CODE: TypeCode = TypeCode::$code; }
    )*};
}

float_element! {
    f32 => AtomicU32, F32;
    f64 => AtomicU64, F64;
}

/// A float read-modify-write as a compare-exchange loop over the bit pattern: `f(old)` is
/// stored only if the cell still holds exactly the bits `old` was read from.
#[inline]
fn float_rmw<T: CellOps + Copy>(cell: &T::Atomic, order: Ordering, f: impl Fn(T) -> T) -> T {
    // Relaxed: the first read is only a guess; the compare-exchange below re-reads with the
    // caller's ordering and is what the operation synchronises through.
    let mut old = T::load(cell, Ordering::Relaxed);
    loop {
        match T::compare_exchange_weak(cell, old, f(old), order, failure_ordering(order)) {
            Ok(prev) => return prev,
            Err(actual) => old = actual,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn type_codes_round_trip_and_sizes_match_rust() {
        for (code, c) in TypeCode::ALL {
            assert_eq!(code.as_char(), c);
            assert_eq!(TypeCode::from_char(c), Some(code));
        }
        assert_eq!(TypeCode::F32.size(), core::mem::size_of::<f32>());
        assert_eq!(TypeCode::Isize.size(), core::mem::size_of::<isize>());
    }

    #[test]
    fn type_code_sizes_and_alignments_are_the_cells() {
        fn check<T: Element>() {
            let code = T::TYPE_CODE;
            assert_eq!(code.size(), core::mem::size_of::<T::Atomic>(), "{code}");
            assert_eq!(code.align(), core::mem::align_of::<T::Atomic>(), "{code}");
        }
        check::<i8>();
        check::<u8>();
        check::<i16>();
        check::<u16>();
        check::<i32>();
        check::<u32>();
        check::<isize>();
        check::<usize>();
        check::<i64>();
        check::<u64>();
        check::<f32>();
        check::<f64>();
    }

    #[test]
    fn float_cas_compares_bits() {
        let cell = f64::new_cell(0.0);
        // -0.0 == 0.0 as numbers, but the cell holds +0.0's bits: the exchange must fail.
        assert_eq!(
            f64::compare_exchange(&cell, -0.0, 1.0, Ordering::SeqCst, Ordering::SeqCst),
            Err(0.0)
        );
        assert_eq!(f64::fetch_add(&cell, 2.5, Ordering::SeqCst), 0.0);
        assert_eq!(f64::fetch_max(&cell, 1.0, Ordering::SeqCst), 2.5);
        assert_eq!(f64::fetch_min(&cell, -1.0, Ordering::SeqCst), 2.5);
        assert_eq!(f64::load(&cell, Ordering::SeqCst), -1.0);
    }
}
