//! Property test: the guard's bulk operations (`update_each`, `update_range`, `fill`,
//! `copy_to_slice`, `copy_from_slice`) and its element read-modify-writes (`sub`, `swap`,
//! `fetch_max`, `fetch_min`, `compare_exchange`, and for integers `fetch_and`/`or`/`xor`/
//! `nand`) against a `Vec` model (`tests/model_ops`).
//!
//! Each case runs random runs of guard operations, each run under one guard, on a heap array
//! and a mapped (memfd) array, with the seqlock and without it, each against its own model;
//! after every run the snapshot must equal the model. Values and return values compare as
//! `model_ops::Model::same` says: integers exactly (wrapping), floats by bit pattern, any
//! two NaNs alike.

#[macro_use]
mod model_ops;

use model_ops::{check, check_all, Model};
use proptest::collection::vec;
use proptest::prelude::*;
use shmarray::{ArrayGuard, SharedArray};
use std::sync::atomic::Ordering::Relaxed;

/// The guard's bitwise operations, on the types that have them.
trait GuardBits: Model {
    /// Bitwise op `op` through the guard, and what the model says the element becomes;
    /// `None` for floats.
    fn guard_bits(g: &ArrayGuard<'_, Self>, op: u8, i: usize, v: Self) -> Option<(Self, Self)>;
}

macro_rules! guard_bits_int {
    ($($t:ty),*) => {$(
        impl GuardBits for $t {
            fn guard_bits(g: &ArrayGuard<'_, Self>, op: u8, i: usize, v: Self) -> Option<(Self, Self)> {
                let old = g.get(i);
                Some(match op % 4 {
                    0 => (g.fetch_and(i, v), old & v),
                    1 => (g.fetch_or(i, v), old | v),
                    2 => (g.fetch_xor(i, v), old ^ v),
                    _ => (g.fetch_nand(i, v), !(old & v)),
                })
            }
        }
    )*};
}
guard_bits_int!(u64, i8, i32, u16);

impl GuardBits for f64 {
    fn guard_bits(_: &ArrayGuard<'_, Self>, _: u8, _: usize, _: Self) -> Option<(Self, Self)> {
        None
    }
}

/// One operation through a held guard.
#[derive(Clone, Debug)]
enum Op<T> {
    /// `update_each(|x| x + v)`.
    UpdateEachAdd(T),
    /// `update_each` with a closure that counts its calls and records the order it saw.
    UpdateEachOrder,
    /// `update_range(a..b, |x| x - v)`, `a <= b <= len`.
    UpdateRangeSub(usize, usize, T),
    /// `update_range(a..=b, |_| v)`, `a <= b < len`.
    UpdateRangeInclusiveSet(usize, usize, T),
    Fill(T),
    CopyTo,
    CopyFrom(Vec<T>),
    Sub(usize, T),
    Swap(usize, T),
    FetchMax(usize, T),
    FetchMin(usize, T),
    /// `true`: expect the current value (so it succeeds), else the first `T`.
    Cas(usize, bool, T, T),
    Bits(u8, usize, T),
}

trait Value: GuardBits + Arbitrary + Clone + std::fmt::Debug + 'static {}
impl<T: GuardBits + Arbitrary + Clone + std::fmt::Debug + 'static> Value for T {}

fn op<T: Value>(len: usize) -> impl Strategy<Value = Op<T>> {
    let i = 0..len;
    let v = any::<T>;
    let span = (0..=len).prop_flat_map(move |b| (0..=b, Just(b)));
    let span_inclusive = (0..len).prop_flat_map(move |b| (0..=b, Just(b)));
    prop_oneof![
        v().prop_map(Op::UpdateEachAdd),
        Just(Op::UpdateEachOrder),
        (span, v()).prop_map(|((a, b), v)| Op::UpdateRangeSub(a, b, v)),
        (span_inclusive, v()).prop_map(|((a, b), v)| Op::UpdateRangeInclusiveSet(a, b, v)),
        v().prop_map(Op::Fill),
        Just(Op::CopyTo),
        vec(v(), len).prop_map(Op::CopyFrom),
        (i.clone(), v()).prop_map(|(i, v)| Op::Sub(i, v)),
        (i.clone(), v()).prop_map(|(i, v)| Op::Swap(i, v)),
        (i.clone(), v()).prop_map(|(i, v)| Op::FetchMax(i, v)),
        (i.clone(), v()).prop_map(|(i, v)| Op::FetchMin(i, v)),
        (i.clone(), any::<bool>(), v(), v()).prop_map(|(i, h, c, n)| Op::Cas(i, h, c, n)),
        (any::<u8>(), i, v()).prop_map(|(o, i, v)| Op::Bits(o, i, v)),
    ]
}

/// Initial contents of 1 to 40 elements (long enough for the walks to unroll), and up to 12
/// runs of up to 6 guard operations each.
fn case<T: Value>() -> impl Strategy<Value = (Vec<T>, Vec<Vec<Op<T>>>)> {
    (1..=40usize).prop_flat_map(|len| (vec(any::<T>(), len), vec(vec(op::<T>(len), 0..6), 1..12)))
}

/// Where both hold a NaN, the model takes the array's bits (an arithmetic NaN's payload is
/// unspecified; a NaN against a number still fails).
fn adopt_nans<T: Model>(g: &ArrayGuard<'_, T>, model: &mut [T]) {
    for (i, m) in model.iter_mut().enumerate() {
        let actual = g.get(i);
        if m.is_nan() && actual.is_nan() {
            *m = actual;
        }
    }
}

fn apply<T: Value>(g: &ArrayGuard<'_, T>, model: &mut [T], op: &Op<T>) {
    match *op {
        Op::UpdateEachAdd(v) => {
            g.update_each(|x| T::add(x, v));
            model.iter_mut().for_each(|m| *m = T::add(*m, v));
        }
        Op::UpdateEachOrder => {
            // The closure sees every element once, in index order, and its results land
            // where they belong: it swaps in the next element's value.
            let mut seen = Vec::new();
            g.update_each(|x| {
                seen.push(x);
                x
            });
            check_all(&seen, model, "update_each's arguments, in order");
            let mut k = 0;
            g.update_each(|_| {
                k += 1;
                model[k % model.len()]
            });
            let rotated: Vec<T> = (0..model.len())
                .map(|i| model[(i + 1) % model.len()])
                .collect();
            model.copy_from_slice(&rotated);
        }
        Op::UpdateRangeSub(a, b, v) => {
            g.update_range(a..b, |x| T::sub(x, v));
            model[a..b].iter_mut().for_each(|m| *m = T::sub(*m, v));
        }
        Op::UpdateRangeInclusiveSet(a, b, v) => {
            g.update_range(a..=b, |_| v);
            model[a..=b].iter_mut().for_each(|m| *m = v);
        }
        Op::Fill(v) => {
            g.fill(v);
            model.iter_mut().for_each(|m| *m = v);
        }
        Op::CopyTo => {
            let mut out = vec![T::default(); model.len()];
            g.copy_to_slice(&mut out);
            check_all(&out, model, "copy_to_slice");
        }
        Op::CopyFrom(ref values) => {
            g.copy_from_slice(values);
            model.copy_from_slice(values);
        }
        Op::Sub(i, v) => {
            check(g.sub(i, v), model[i], "guard.sub");
            model[i] = T::sub(model[i], v);
        }
        Op::Swap(i, v) => {
            check(g.swap(i, v), model[i], "guard.swap");
            model[i] = v;
        }
        Op::FetchMax(i, v) => {
            check(g.fetch_max(i, v), model[i], "guard.fetch_max");
            model[i] = T::max(model[i], v);
        }
        Op::FetchMin(i, v) => {
            check(g.fetch_min(i, v), model[i], "guard.fetch_min");
            model[i] = T::min(model[i], v);
        }
        Op::Cas(i, hit, c, n) => {
            let current = if hit { model[i] } else { c };
            let got = g.compare_exchange(i, current, n);
            if T::same_bits(current, model[i]) {
                match got {
                    Ok(old) => check(old, model[i], "guard.compare_exchange"),
                    Err(_) => panic!("guard.compare_exchange({current:?}) failed: {got:?}"),
                }
                model[i] = n;
            } else {
                match got {
                    Err(now) => check(now, model[i], "guard.compare_exchange"),
                    Ok(_) => panic!("guard.compare_exchange({current:?}) stored: {got:?}"),
                }
            }
        }
        Op::Bits(o, i, v) => {
            if let Some((got, want)) = T::guard_bits(g, o, i, v) {
                check(got, model[i], "guard bitwise op");
                model[i] = want;
            }
        }
    }
    adopt_nans(g, model);
}

fn run<T: Value>(initial: &[T], runs: &[Vec<Op<T>>]) {
    let without_seqlock = SharedArray::options().seqlock(false);
    let arrays = [
        SharedArray::from_slice_heap(initial).unwrap(),
        SharedArray::from_slice(initial).unwrap(),
        without_seqlock.heap_from_slice(initial).unwrap(),
        without_seqlock.anonymous_from_slice(initial).unwrap(),
    ];
    for arr in &arrays {
        let mut model = initial.to_vec();
        for ops in runs {
            {
                let guard = arr.lock().expect("an uncontended, healthy lock");
                for op in ops {
                    apply(&guard, &mut model, op);
                }
            }
            check_all(&arr.snapshot().unwrap(), &model, "snapshot after the guard");
        }
        let last: Vec<T> = (0..model.len()).map(|i| arr.load(i, Relaxed)).collect();
        check_all(&last, &model, "final contents");
    }
}

macro_rules! guard_model_test {
    ($($name:ident: $t:ty;)*) => {$(
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]
            #[test]
            fn $name((initial, runs) in case::<$t>()) {
                run(&initial, &runs);
            }
        }
    )*};
}

guard_model_test! {
    u64_guard_ops_match_the_model: u64;
    i8_guard_ops_match_the_model_with_wrapping: i8;
    i32_guard_ops_match_the_model: i32;
    u16_guard_ops_match_the_model: u16;
    f64_guard_ops_match_the_model_bit_for_bit: f64;
}

#[test]
#[should_panic(expected = "range end 4 out of range for an array of length 3")]
fn update_range_past_the_end_panics() {
    let arr = SharedArray::<u32>::new(3).unwrap();
    arr.lock().unwrap().update_range(1..4, |v| v + 1);
}

#[test]
#[should_panic(expected = "range starts at 2 but ends at 1")]
fn decreasing_update_range_panics() {
    let arr = SharedArray::<u32>::new(3).unwrap();
    #[allow(clippy::reversed_empty_ranges)]
    arr.lock().unwrap().update_range(2..1, |v| v + 1);
}

#[test]
#[should_panic(expected = "destination slice length (2) does not match array length (3)")]
fn copy_to_a_short_slice_panics() {
    let arr = SharedArray::<u32>::new(3).unwrap();
    arr.lock().unwrap().copy_to_slice(&mut [0; 2]);
}

#[test]
fn a_panicking_range_check_changes_nothing() {
    let arr = SharedArray::from_slice(&[1u8, 2, 3]).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        arr.lock().unwrap().update_range(0..4, |_| 0)
    }));
    assert!(r.is_err());
    assert_eq!(arr.to_vec(), [1, 2, 3]);
}
