//! Property test: random sequences of operations applied to a `SharedArray` and to a `Vec`
//! model give the same return values and leave the same contents.
//!
//! Every case runs on four arrays, each against its own model: heap storage made by
//! `new_heap` (then filled by stores) and by `from_slice_heap`, and mapped memfd storage made
//! by `new` (then filled) and by `from_slice`. The operations:
//! - those of `tests/model_ops` ([`Op`]), which the `ops_model` fuzz target shares, so that
//!   both check one model: `load`, `store`, `swap`, `compare_exchange`, `fetch_add`/`sub`/
//!   `max`/`min`, `fetch_update`, `fetch_and`/`or`/`xor`/`nand` (integers), `get` out of
//!   range too, a locked set-and-add, `snapshot`, `to_vec`;
//! - on top of those ([`Step`]): `compare_exchange_weak` (retried while it fails
//!   spuriously), `fetch_update` with arithmetic, a run of guard operations under one guard
//!   taken by `lock`, `try_lock` or `lock_timeout` (`get`, `set`, `add`, `iter`, `to_vec`,
//!   `copy_from_slice`, and the refusals a held lock owes its own thread), `snapshot_into`
//!   with a right or wrong length, and `iter` backwards.
//!
//! Integers wrap (`i8` above all), as the model's `wrapping_add` does; floats add as plain
//! `+`, take `f64::max`/`min`, and compare by bit pattern, except that any two NaNs agree
//! (Rust leaves an arithmetic NaN's payload unspecified; see `model_ops::step`).

#[macro_use]
mod model_ops;

use model_ops::{check, check_all, step, Model, Op};
use proptest::collection::vec;
use proptest::prelude::*;
use shmarray::{LockError, SharedArray, SnapshotError};
// `AcqRel` and `Relaxed` are also used by `int_model!`'s expansion below.
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::time::Duration;

// `model_ops` models u64, i8, i32, u16 and f64; this test adds a signed 64-bit integer and
// the other float width.
int_model!(i64);

impl Model for f32 {
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
        f32::is_nan(self)
    }
    fn bits(_: &SharedArray<Self>, _: u8, _: usize, _: Self) -> Option<(Self, Self)> {
        None
    }
}

/// Longest array a case uses; lengths run from 1.
const MAX_LEN: usize = 6;
/// Cases per element type.
const CASES: u32 = 256;

/// One operation of a case.
#[derive(Clone, Debug)]
enum Step<T> {
    /// An operation of the shared model.
    Shared(Op<T>),
    /// `compare_exchange_weak`; `true`: expect the current value (so it succeeds, after
    /// any spurious failures), else the `T`.
    CasWeak(usize, bool, T, T),
    /// `fetch_update` adding `T` (the closure may run more than once).
    UpdateAdd(usize, T),
    /// Guard operations under one guard, taken by `lock` (0), `try_lock` (1) or
    /// `lock_timeout` (2).
    Guarded(u8, Vec<GuardOp<T>>),
    /// `snapshot_into` a buffer of this length.
    SnapshotInto(usize),
    /// `iter().rev()`.
    IterRev,
}

/// One operation through a held guard.
#[derive(Clone, Debug)]
enum GuardOp<T> {
    Get(usize),
    Set(usize, T),
    Add(usize, T),
    Iter,
    ToVec,
    CopyFrom(Vec<T>),
    /// What the held lock must refuse this thread: `lock`, `try_lock`, `lock_timeout` and
    /// a snapshot that would have to wait for it.
    Relock,
}

trait Value: Model + Arbitrary + Clone + std::fmt::Debug + 'static {}
impl<T: Model + Arbitrary + Clone + std::fmt::Debug + 'static> Value for T {}

fn shared_op<T: Value>(len: usize) -> impl Strategy<Value = Op<T>> {
    let i = 0..len;
    let v = any::<T>;
    prop_oneof![
        i.clone().prop_map(Op::Load),
        (i.clone(), v()).prop_map(|(i, v)| Op::Store(i, v)),
        (i.clone(), v()).prop_map(|(i, v)| Op::Swap(i, v)),
        (i.clone(), any::<bool>(), v(), v()).prop_map(|(i, h, c, n)| Op::Cas(i, h, c, n)),
        (i.clone(), v()).prop_map(|(i, v)| Op::FetchAdd(i, v)),
        (i.clone(), v()).prop_map(|(i, v)| Op::FetchSub(i, v)),
        (i.clone(), v()).prop_map(|(i, v)| Op::FetchMax(i, v)),
        (i.clone(), v()).prop_map(|(i, v)| Op::FetchMin(i, v)),
        (i.clone(), v()).prop_map(|(i, v)| Op::Update(i, v)),
        (any::<u8>(), i.clone(), v()).prop_map(|(o, i, v)| Op::Bits(o, i, v)),
        (0..len + 2).prop_map(Op::Get),
        (i.clone(), v(), i, v()).prop_map(|(a, x, b, y)| Op::Locked(a, x, b, y)),
        Just(Op::Snapshot),
        Just(Op::ToVec),
    ]
}

fn guard_op<T: Value>(len: usize) -> impl Strategy<Value = GuardOp<T>> {
    let i = 0..len;
    let v = any::<T>;
    prop_oneof![
        i.clone().prop_map(GuardOp::Get),
        (i.clone(), v()).prop_map(|(i, v)| GuardOp::Set(i, v)),
        (i, v()).prop_map(|(i, v)| GuardOp::Add(i, v)),
        Just(GuardOp::Iter),
        Just(GuardOp::ToVec),
        vec(v(), len).prop_map(GuardOp::CopyFrom),
        Just(GuardOp::Relock),
    ]
}

fn any_step<T: Value>(len: usize) -> impl Strategy<Value = Step<T>> {
    let i = 0..len;
    let v = any::<T>;
    prop_oneof![
        14 => shared_op(len).prop_map(Step::Shared),
        1 => (i.clone(), any::<bool>(), v(), v()).prop_map(|(i, h, c, n)| Step::CasWeak(i, h, c, n)),
        1 => (i, v()).prop_map(|(i, v)| Step::UpdateAdd(i, v)),
        1 => (0..3u8, vec(guard_op(len), 0..8)).prop_map(|(how, ops)| Step::Guarded(how, ops)),
        1 => prop_oneof![Just(len), 0..len + 3].prop_map(Step::SnapshotInto),
        1 => Just(Step::IterRev),
    ]
}

/// Initial contents of 1 to [`MAX_LEN`] elements, and up to 48 steps on them.
fn case<T: Value>() -> impl Strategy<Value = (Vec<T>, Vec<Step<T>>)> {
    (1..=MAX_LEN).prop_flat_map(|len| (vec(any::<T>(), len), vec(any_step::<T>(len), 1..48)))
}

/// Where both hold a NaN, the model takes the array's exact bits, as `model_ops::step`
/// does: an arithmetic NaN's payload is unspecified, and a NaN against a number still fails.
fn adopt_nans<T: Model>(arr: &SharedArray<T>, model: &mut [T]) {
    for (i, m) in model.iter_mut().enumerate() {
        let actual = arr.load(i, Relaxed);
        if m.is_nan() && actual.is_nan() {
            *m = actual;
        }
    }
}

/// Applies `s` to `arr` and to `model`; panics on the first difference.
fn apply<T: Model>(arr: &SharedArray<T>, model: &mut [T], s: &Step<T>) {
    let Step::Shared(op) = s else {
        adopt_nans(arr, model);
        return apply_extra(arr, model, s);
    };
    step(arr, model, op);
}

fn apply_extra<T: Model>(arr: &SharedArray<T>, model: &mut [T], s: &Step<T>) {
    match s {
        Step::Shared(_) => unreachable!("handled by `apply`"),
        &Step::CasWeak(i, hit, c, n) => {
            let current = if hit { model[i] } else { c };
            let succeeds = T::same_bits(current, model[i]);
            let mut spurious = 0;
            let got = loop {
                match arr.compare_exchange_weak(i, current, n, AcqRel, Acquire) {
                    Err(now) if succeeds && T::same_bits(now, current) && spurious < 1_000 => {
                        spurious += 1;
                    }
                    result => break result,
                }
            };
            match got {
                Ok(old) if succeeds => {
                    check(old, model[i], "compare_exchange_weak");
                    model[i] = n;
                }
                Err(now) if !succeeds => check(now, model[i], "compare_exchange_weak"),
                _ => panic!(
                    "compare_exchange_weak({current:?} -> {n:?}): array gave {got:?}, model \
                     holds {:?}",
                    model[i]
                ),
            }
        }
        &Step::UpdateAdd(i, v) => {
            let got = arr.fetch_update(i, AcqRel, Acquire, |x| Some(T::add(x, v)));
            match got {
                Ok(old) => check(old, model[i], "fetch_update"),
                Err(_) => panic!("fetch_update with a closure that never declines: {got:?}"),
            }
            model[i] = T::add(model[i], v);
        }
        Step::Guarded(how, ops) => {
            let guard = match how {
                0 => arr.lock(),
                1 => arr.try_lock(),
                _ => arr.lock_timeout(Duration::from_secs(10)),
            }
            .expect("an uncontended, healthy lock");
            assert!(std::ptr::eq(guard.array(), arr));
            assert_eq!((guard.len(), guard.is_empty()), (model.len(), false));
            assert!(!guard.owner_died());
            for op in ops {
                match op {
                    &GuardOp::Get(i) => check(guard.get(i), model[i], "guard.get"),
                    &GuardOp::Set(i, v) => {
                        guard.set(i, v);
                        model[i] = v;
                    }
                    &GuardOp::Add(i, v) => {
                        check(guard.add(i, v), model[i], "guard.add");
                        model[i] = T::add(model[i], v);
                    }
                    GuardOp::Iter => {
                        check_all(&guard.iter().collect::<Vec<_>>(), model, "guard.iter")
                    }
                    GuardOp::ToVec => check_all(&guard.to_vec(), model, "guard.to_vec"),
                    GuardOp::CopyFrom(values) => {
                        guard.copy_from_slice(values);
                        model.copy_from_slice(values);
                    }
                    GuardOp::Relock => {
                        assert!(matches!(arr.lock(), Err(LockError::Deadlock)));
                        assert!(matches!(arr.try_lock(), Err(LockError::Deadlock)));
                        let timed = arr.lock_timeout(Duration::from_millis(1));
                        assert!(matches!(timed, Err(LockError::Deadlock)), "{timed:?}");
                        let snap = arr.snapshot();
                        assert!(matches!(snap, Err(SnapshotError::Deadlock)), "{snap:?}");
                    }
                }
                // Guard operations can make NaNs too.
                adopt_nans(arr, model);
            }
        }
        &Step::SnapshotInto(n) => {
            let mut out = vec![T::default(); n];
            match arr.snapshot_into(&mut out) {
                Ok(()) if n == model.len() => check_all(&out, model, "snapshot_into"),
                Err(SnapshotError::LengthMismatch { expected, found }) if n != model.len() => {
                    assert_eq!((expected, found), (model.len(), n))
                }
                other => panic!("snapshot_into a buffer of {n}: {other:?}"),
            }
        }
        Step::IterRev => {
            let it = arr.iter();
            assert_eq!(it.len(), model.len());
            let backwards: Vec<T> = it.rev().collect();
            let mut want = model.to_vec();
            want.reverse();
            check_all(&backwards, &want, "iter().rev()");
        }
    }
}

/// Runs a case on the four kinds of array, each against its own model.
fn run<T: Model>(initial: &[T], steps: &[Step<T>]) {
    let filled = |arr: SharedArray<T>| {
        for (i, &v) in initial.iter().enumerate() {
            arr.store(i, v, Relaxed);
        }
        arr
    };
    let arrays = [
        filled(SharedArray::new_heap(initial.len()).unwrap()),
        SharedArray::from_slice_heap(initial).unwrap(),
        filled(SharedArray::new(initial.len()).unwrap()),
        SharedArray::from_slice(initial).unwrap(),
    ];
    for arr in &arrays {
        let mut model = initial.to_vec();
        for s in steps {
            apply(arr, &mut model, s);
        }
        adopt_nans(arr, &mut model);
        check_all(&arr.to_vec(), &model, &format!("final contents of {arr:?}"));
        check_all(&arr.snapshot().unwrap(), &model, "final snapshot");
    }
}

macro_rules! model_test {
    ($($name:ident: $t:ty;)*) => {$(
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(CASES))]
            #[test]
            fn $name((initial, steps) in case::<$t>()) {
                run(&initial, &steps);
            }
        }
    )*};
}

model_test! {
    u64_matches_the_model: u64;
    i8_matches_the_model_with_wrapping: i8;
    i32_matches_the_model: i32;
    u16_matches_the_model: u16;
    i64_matches_the_model: i64;
    f64_matches_the_model_bit_for_bit: f64;
    f32_matches_the_model_bit_for_bit: f32;
}
