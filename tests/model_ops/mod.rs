//! The model behind the property test (`tests/model.rs`) and the `ops_model` fuzz target
//! (`fuzz/`): operations on a `SharedArray` and on a `Vec`, which must agree.
#![allow(dead_code)]

pub mod striped;

use shmarray::{Element, SharedArray};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, SeqCst};

/// What the model says an element type does.
pub trait Model: Element {
    fn add(a: Self, b: Self) -> Self;
    fn sub(a: Self, b: Self) -> Self;
    fn max(a: Self, b: Self) -> Self;
    fn min(a: Self, b: Self) -> Self;
    /// Identity as the cells see it: bit patterns for floats.
    fn same_bits(a: Self, b: Self) -> bool;
    /// Agreement between array and model: as `same_bits`, but any two float NaNs agree
    /// (Rust leaves the payload of an arithmetic NaN unspecified).
    fn same(a: Self, b: Self) -> bool {
        Self::same_bits(a, b) || (a.is_nan() && b.is_nan())
    }
    /// True for a float NaN.
    fn is_nan(self) -> bool;
    /// The bitwise operation `op` on the array (integers) and on the model; `None` for
    /// floats, which have none.
    fn bits(arr: &SharedArray<Self>, op: u8, i: usize, v: Self) -> Option<(Self, Self)>;
}

macro_rules! int_model {
    ($($t:ty),*) => {$(
        impl Model for $t {
            fn add(a: Self, b: Self) -> Self { a.wrapping_add(b) }
            fn sub(a: Self, b: Self) -> Self { a.wrapping_sub(b) }
            fn max(a: Self, b: Self) -> Self { Ord::max(a, b) }
            fn min(a: Self, b: Self) -> Self { Ord::min(a, b) }
            fn same_bits(a: Self, b: Self) -> bool { a == b }
            fn is_nan(self) -> bool { false }
            fn bits(arr: &SharedArray<Self>, op: u8, i: usize, v: Self) -> Option<(Self, Self)> {
                let old = arr.load(i, Relaxed);
                Some(match op % 4 {
                    0 => (arr.fetch_and(i, v, AcqRel), old & v),
                    1 => (arr.fetch_or(i, v, AcqRel), old | v),
                    2 => (arr.fetch_xor(i, v, AcqRel), old ^ v),
                    _ => (arr.fetch_nand(i, v, AcqRel), !(old & v)),
                })
            }
        }
    )*};
}
int_model!(u64, i8, i32, u16);

impl Model for f64 {
    fn add(a: Self, b: Self) -> Self {
        a + b
    }
    fn sub(a: Self, b: Self) -> Self {
        a - b
    }
    fn max(a: Self, b: Self) -> Self {
        a.max(b)
    }
    fn min(a: Self, b: Self) -> Self {
        a.min(b)
    }
    fn same_bits(a: Self, b: Self) -> bool {
        a.to_bits() == b.to_bits()
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn bits(_: &SharedArray<Self>, _: u8, _: usize, _: Self) -> Option<(Self, Self)> {
        None
    }
}

/// Panics unless `got` and `want` agree as [`Model::same`] says.
pub fn check<T: Model>(got: T, want: T, what: &str) {
    assert!(
        T::same(got, want),
        "{what}: array gave {got:?}, model {want:?}"
    );
}

/// Panics unless `got` and `want` have the same length and agree element by element.
pub fn check_all<T: Model>(got: &[T], want: &[T], what: &str) {
    assert!(
        got.len() == want.len() && got.iter().zip(want).all(|(&a, &b)| T::same(a, b)),
        "{what}: array gave {got:?}, model {want:?}"
    );
}

#[derive(Clone, Debug)]
pub enum Op<T> {
    Load(usize),
    Store(usize, T),
    Swap(usize, T),
    /// Compare-exchange; `true`: expect the current value (so it succeeds), else `T`.
    Cas(usize, bool, T, T),
    FetchAdd(usize, T),
    FetchSub(usize, T),
    FetchMax(usize, T),
    FetchMin(usize, T),
    /// `fetch_update` that replaces the value with `T` unless it already is `T`.
    Update(usize, T),
    Bits(u8, usize, T),
    /// `get` with any index, out of range included.
    Get(usize),
    /// Under one guard: set element, add to another.
    Locked(usize, T, usize, T),
    Snapshot,
    ToVec,
}

/// Applies `op` to `arr` and to `model`; panics on the first difference.
pub fn step<T: Model>(arr: &SharedArray<T>, model: &mut [T], op: &Op<T>) {
    let same_all =
        |a: &[T], b: &[T]| a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| T::same(x, y));
    let check = |got: T, want: T, what: &str| {
        assert!(
            T::same(got, want),
            "{what}: array gave {got:?}, model {want:?}"
        );
    };
    // Rust leaves the sign and payload of a NaN produced by arithmetic unspecified, and
    // two compiled copies of the same `x + v` may differ in them: where both the model and
    // the array hold a NaN, the model adopts the array's exact bits (a NaN where the other
    // holds a number still fails below).
    for (j, m) in model.iter_mut().enumerate() {
        let actual = arr.load(j, Relaxed);
        if m.is_nan() && actual.is_nan() {
            *m = actual;
        }
    }
    match *op {
        Op::Load(i) => check(arr.load(i, Acquire), model[i], "load"),
        Op::Store(i, v) => {
            arr.store(i, v, SeqCst);
            model[i] = v;
        }
        Op::Swap(i, v) => {
            check(arr.swap(i, v, AcqRel), model[i], "swap");
            model[i] = v;
        }
        Op::Cas(i, hit, c, n) => {
            let current = if hit { model[i] } else { c };
            let got = arr.compare_exchange(i, current, n, AcqRel, Acquire);
            let want = if T::same_bits(current, model[i]) {
                let old = model[i];
                model[i] = n;
                Ok(old)
            } else {
                Err(model[i])
            };
            match (got, want) {
                (Ok(g), Ok(w)) | (Err(g), Err(w)) => check(g, w, "compare_exchange"),
                _ => panic!("compare_exchange: array gave {got:?}, model {want:?}"),
            }
        }
        Op::FetchAdd(i, v) => {
            check(arr.fetch_add(i, v, Relaxed), model[i], "fetch_add");
            model[i] = T::add(model[i], v);
        }
        Op::FetchSub(i, v) => {
            check(arr.fetch_sub(i, v, Relaxed), model[i], "fetch_sub");
            model[i] = T::sub(model[i], v);
        }
        Op::FetchMax(i, v) => {
            check(arr.fetch_max(i, v, Relaxed), model[i], "fetch_max");
            model[i] = T::max(model[i], v);
        }
        Op::FetchMin(i, v) => {
            check(arr.fetch_min(i, v, Relaxed), model[i], "fetch_min");
            model[i] = T::min(model[i], v);
        }
        Op::Update(i, v) => {
            let got = arr.fetch_update(i, AcqRel, Acquire, |x| (!T::same(x, v)).then_some(v));
            let old = model[i];
            let changes = !T::same(old, v);
            match got {
                Ok(g) if changes => check(g, old, "fetch_update"),
                Err(g) if !changes => check(g, old, "fetch_update"),
                _ => panic!("fetch_update: array gave {got:?}, model {old:?} -> {v:?}"),
            }
            model[i] = v;
        }
        Op::Bits(o, i, v) => {
            if let Some((got, want)) = T::bits(arr, o, i, v) {
                check(got, model[i], "bitwise op");
                model[i] = want;
            }
        }
        Op::Get(i) => match (arr.get(i), model.get(i)) {
            (Some(g), Some(&w)) => check(g, w, "get"),
            (None, None) => {}
            (g, w) => panic!("get({i}): array gave {g:?}, model {w:?}"),
        },
        Op::Locked(a, x, b, y) => {
            let guard = arr.lock().expect("uncontended lock");
            guard.set(a, x);
            model[a] = x;
            check(guard.add(b, y), model[b], "guard.add");
            model[b] = T::add(model[b], y);
            assert!(same_all(&guard.to_vec(), model), "guard.to_vec");
        }
        Op::Snapshot => {
            let snap = arr.snapshot().expect("snapshot");
            assert!(
                same_all(&snap, model),
                "snapshot {snap:?} != model {model:?}"
            );
        }
        Op::ToVec => {
            let all = arr.to_vec();
            assert!(same_all(&all, model), "to_vec {all:?} != model {model:?}");
        }
    }
}

/// Runs `ops` on a heap array and a mapped array, each against its own model.
pub fn run<T: Model>(initial: &[T], ops: &[Op<T>]) {
    let heap = SharedArray::from_slice_heap(initial).unwrap();
    let mapped = SharedArray::from_slice(initial).unwrap();
    for arr in [&heap, &mapped] {
        let mut model = initial.to_vec();
        for op in ops {
            step(arr, &mut model, op);
        }
        assert!(arr.iter().zip(&model).all(|(a, &m)| T::same(a, m)));
    }
}
