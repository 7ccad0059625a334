//! One enum arm per element type, so that a Python object can hold any of the twelve, and
//! the macros that run one generic body for whichever type an object holds.

use crate::convert::PyElement;
use shmarray::{ArcArrayGuard, LockError, SharedArray, StripedArray, TypeCode};
use std::sync::Arc;
use std::time::Duration;

/// Runs `$body` with `$T` standing for the element type of the type code `$code`.
macro_rules! with_type {
    ($code:expr, $T:ident => $body:expr, _ => $other:expr) => {
        match $code {
            shmarray::TypeCode::I8 => {
                type $T = i8;
                $body
            }
            shmarray::TypeCode::U8 => {
                type $T = u8;
                $body
            }
            shmarray::TypeCode::I16 => {
                type $T = i16;
                $body
            }
            shmarray::TypeCode::U16 => {
                type $T = u16;
                $body
            }
            shmarray::TypeCode::I32 => {
                type $T = i32;
                $body
            }
            shmarray::TypeCode::U32 => {
                type $T = u32;
                $body
            }
            shmarray::TypeCode::Isize => {
                type $T = isize;
                $body
            }
            shmarray::TypeCode::Usize => {
                type $T = usize;
                $body
            }
            shmarray::TypeCode::I64 => {
                type $T = i64;
                $body
            }
            shmarray::TypeCode::U64 => {
                type $T = u64;
                $body
            }
            shmarray::TypeCode::F32 => {
                type $T = f32;
                $body
            }
            shmarray::TypeCode::F64 => {
                type $T = f64;
                $body
            }
            #[allow(unreachable_patterns)]
            _ => $other,
        }
    };
}

/// Runs `$body` with `$x` bound to the typed value inside `$any`, a value of the enum `$E`
/// (one arm per element type, as made by `any_enums!`).
macro_rules! with_variant {
    ($E:ident, $any:expr, $x:ident => $body:expr) => {
        match $any {
            $crate::any::$E::I8($x) => $body,
            $crate::any::$E::U8($x) => $body,
            $crate::any::$E::I16($x) => $body,
            $crate::any::$E::U16($x) => $body,
            $crate::any::$E::I32($x) => $body,
            $crate::any::$E::U32($x) => $body,
            $crate::any::$E::Isize($x) => $body,
            $crate::any::$E::Usize($x) => $body,
            $crate::any::$E::I64($x) => $body,
            $crate::any::$E::U64($x) => $body,
            $crate::any::$E::F32($x) => $body,
            $crate::any::$E::F64($x) => $body,
        }
    };
}

/// Runs `$body` with `$a` bound to the typed `Arc<SharedArray<_>>` inside the `AnyArray`
/// `$any`.
macro_rules! with_array {
    ($any:expr, $a:ident => $body:expr) => {
        $crate::any::with_variant!(AnyArray, $any, $a => $body)
    };
}

/// As `with_array!` for the integer types; `$float` for the float types.
macro_rules! with_int_array {
    ($any:expr, $a:ident => $body:expr, float => $float:expr) => {
        match $any {
            $crate::any::AnyArray::F32(_) | $crate::any::AnyArray::F64(_) => $float,
            #[allow(unreachable_patterns)]
            $crate::any::AnyArray::I8($a) => $body,
            $crate::any::AnyArray::U8($a) => $body,
            $crate::any::AnyArray::I16($a) => $body,
            $crate::any::AnyArray::U16($a) => $body,
            $crate::any::AnyArray::I32($a) => $body,
            $crate::any::AnyArray::U32($a) => $body,
            $crate::any::AnyArray::Isize($a) => $body,
            $crate::any::AnyArray::Usize($a) => $body,
            $crate::any::AnyArray::I64($a) => $body,
            $crate::any::AnyArray::U64($a) => $body,
        }
    };
}

/// Runs `$body` with `$g` bound to the typed `ArcArrayGuard<_>` inside the `AnyGuard` `$any`.
macro_rules! with_guard {
    ($any:expr, $g:ident => $body:expr) => {
        $crate::any::with_variant!(AnyGuard, $any, $g => $body)
    };
}

/// Runs `$body` with `$s` bound to the typed `StripedArray<_>` inside the `AnyStriped` `$any`.
macro_rules! with_striped {
    ($any:expr, $s:ident => $body:expr) => {
        $crate::any::with_variant!(AnyStriped, $any, $s => $body)
    };
}

pub(crate) use {with_array, with_int_array, with_striped, with_type, with_variant};

macro_rules! any_enums {
    ($($v:ident($t:ty)),* $(,)?) => {
        /// A shared array of any element type.
        pub enum AnyArray { $($v(Arc<SharedArray<$t>>)),* }

        /// The lock of an [`AnyArray`], held.
        pub enum AnyGuard { $($v(ArcArrayGuard<$t>)),* }

        /// A striped array of any element type.
        pub enum AnyStriped { $($v(StripedArray<$t>)),* }

        /// An element type that has an arm in [`AnyArray`].
        pub trait Wrap: PyElement {
            /// The array in its arm.
            fn wrap(array: Arc<SharedArray<Self>>) -> AnyArray;
            /// The guard in its arm.
            fn wrap_guard(guard: ArcArrayGuard<Self>) -> AnyGuard;
            /// The striped array in its arm.
            fn wrap_striped(array: StripedArray<Self>) -> AnyStriped;
        }

        $(impl Wrap for $t {
            fn wrap(array: Arc<SharedArray<$t>>) -> AnyArray { AnyArray::$v(array) }
            fn wrap_guard(guard: ArcArrayGuard<$t>) -> AnyGuard { AnyGuard::$v(guard) }
            fn wrap_striped(array: StripedArray<$t>) -> AnyStriped { AnyStriped::$v(array) }
        })*
    };
}

any_enums!(
    I8(i8),
    U8(u8),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    Isize(isize),
    Usize(usize),
    I64(i64),
    U64(u64),
    F32(f32),
    F64(f64),
);

/// How long a lock acquisition may wait.
#[derive(Clone, Copy, Debug)]
pub enum Wait {
    No,
    Forever,
    For(Duration),
}

impl AnyArray {
    /// The element type.
    pub fn type_code(&self) -> TypeCode {
        with_array!(self, a => a.type_code())
    }

    /// The number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        with_array!(self, a => a.len())
    }

    /// Takes the lock, waiting as `wait` says. `repair`: whether or not a holder's death is
    /// unrepaired (the guard says); otherwise such a death is `LockError::OwnerDied`.
    pub fn lock(&self, wait: Wait, repair: bool) -> Result<AnyGuard, LockError> {
        with_array!(self, a => match (wait, repair) {
            (Wait::No, false) => a.try_lock_arc(),
            (Wait::Forever, false) => a.lock_arc(),
            (Wait::For(d), false) => a.lock_arc_timeout(d),
            (Wait::No, true) => a.try_lock_for_repair_arc(),
            (Wait::Forever, true) => a.lock_for_repair_arc(),
            (Wait::For(d), true) => a.lock_for_repair_arc_timeout(d),
        }
        .map(Wrap::wrap_guard))
    }
}

impl AnyGuard {
    /// See [`ArcArrayGuard::owner_died`].
    pub fn owner_died(&self) -> bool {
        with_guard!(self, g => g.owner_died())
    }

    /// See [`ArcArrayGuard::make_consistent`].
    pub fn make_consistent(&mut self) {
        with_guard!(self, g => g.make_consistent())
    }
}
