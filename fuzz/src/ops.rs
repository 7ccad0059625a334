//! The `ops_model` target: arbitrary operation sequences on a heap array
//! ([`SharedArray::new_heap`], then filled by `store`s) and on a mapped one
//! ([`SharedArray::from_slice`], a sealed memfd), each against a `Vec` model.
//!
//! The input is decoded with `arbitrary`'s derive into a [`Case`]: an element type (every
//! type the crate supports), a length of 0 to 8, initial values and up to 256 operations.
//! The lock-free operations, `get` (out of range too), a locked set-and-add, snapshots and
//! `to_vec` are the property test's (`tests/model_ops`, shared with it, so both check one
//! model). On top of those, [`FuzzOp::Guarded`] holds one guard over a run of guard
//! operations, and checks what a held lock must refuse from its own thread: `lock`,
//! `try_lock` and `lock_timeout` say `Deadlock`, and `snapshot` says
//! `SnapshotError::Deadlock` rather than waiting for itself. And [`FuzzOp::Striped`] runs a
//! sequence of `StripedArray` operations on arrays of the case's length against the
//! per-stripe model (`tests/model_ops/striped.rs`, the property test's too).
//!
//! Any difference from the model, or between the two arrays, panics: a crash.

use arbitrary::{Arbitrary, Unstructured};
use shmarray::{LockError, SharedArray, SnapshotError};
use std::collections::BTreeSet;
// `AcqRel` is used by `int_model!`'s expansion below.
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::time::Duration;

#[macro_use]
#[path = "../../tests/model_ops/mod.rs"]
mod model_ops;
use model_ops::striped::{run_striped, StripedOp};
use model_ops::{step, Model, Op};

// The property test's model covers u64, i8, i32, u16 and f64; the fuzzer covers every
// element type, with the model's own definitions for integers.
int_model!(u8, i16, u32, i64, isize, usize);

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

/// Longest array a case makes.
pub const MAX_LEN: usize = 8;
/// Most operations a case runs.
pub const MAX_OPS: usize = 256;

/// One operation as decoded. Indices are bytes, reduced modulo the array's length (and,
/// for `Get`, modulo the length plus two, so that some fall out of range).
#[derive(Arbitrary, Debug, Clone)]
pub enum FuzzOp<T> {
    Load(u8),
    Store(u8, T),
    Swap(u8, T),
    Cas(u8, bool, T, T),
    FetchAdd(u8, T),
    FetchSub(u8, T),
    FetchMax(u8, T),
    FetchMin(u8, T),
    Update(u8, T),
    Bits(u8, u8, T),
    Get(u8),
    Locked(u8, T, u8, T),
    Snapshot,
    ToVec,
    /// One guard held over all of these.
    Guarded(Vec<GuardOp<T>>),
    /// A `StripedArray` of the case's length, with 1, 2 or 4 stripes (the `u8` modulo 3
    /// as a power of two), heap and mapped, running these against the per-stripe model.
    Striped(u8, Vec<StripedFuzzOp<T>>),
}

/// An operation on the `StripedArray` of [`FuzzOp::Striped`].
#[derive(Arbitrary, Debug, Clone)]
pub enum StripedFuzzOp<T> {
    Add(u8, T),
    Sub(u8, T),
    Sum(u8),
    Sums,
    SumsInto,
    Take(u8),
    TakeAll,
    /// Move the thread to another CPU it may run on, so adds land on another stripe.
    MoveTo(u8),
}

/// An operation made while holding the guard of [`FuzzOp::Guarded`].
#[derive(Arbitrary, Debug, Clone)]
pub enum GuardOp<T> {
    Get(u8),
    Set(u8, T),
    Add(u8, T),
    /// `copy_from_slice` of these values, repeated to the array's length.
    CopyFrom(Vec<T>),
    /// `guard.to_vec()`, `guard.iter()` and the lock-free `to_vec()`, all against the model.
    Read,
    /// `lock()` from the holding thread: `Deadlock`.
    Relock,
    /// `try_lock()` from the holding thread: `Deadlock`.
    TryLock,
    /// `lock_timeout(0)` from the holding thread: `Deadlock`.
    LockTimeout,
    /// `snapshot()` from the holding thread: `SnapshotError::Deadlock`.
    Snapshot,
}

/// A decoded input for one element type.
#[derive(Arbitrary, Debug)]
pub struct Input<T> {
    pub len: u8,
    pub initial: Vec<T>,
    pub ops: Vec<FuzzOp<T>>,
}

/// A decoded input: the element type, then the rest.
#[derive(Arbitrary, Debug)]
pub enum Case {
    U64(Input<u64>),
    I8(Input<i8>),
    F64(Input<f64>),
    U16(Input<u16>),
    I32(Input<i32>),
    U8(Input<u8>),
    I16(Input<i16>),
    U32(Input<u32>),
    I64(Input<i64>),
    Isize(Input<isize>),
    Usize(Input<usize>),
    F32(Input<f32>),
}

/// An operation with its indices resolved against the array's length.
#[derive(Debug, Clone)]
enum Action<T> {
    Model(Op<T>),
    Guarded(Vec<Resolved<T>>),
    Striped(usize, Vec<StripedOp<T>>),
}

#[derive(Debug, Clone)]
enum Resolved<T> {
    Get(usize),
    Set(usize, T),
    Add(usize, T),
    CopyFrom(Vec<T>),
    Read,
    Relock,
    TryLock,
    LockTimeout,
    Snapshot,
}

impl<T: Model> FuzzOp<T> {
    /// The action on an array of `len` elements; `None` for an indexed operation on an
    /// empty array.
    fn resolve(&self, len: usize) -> Option<Action<T>> {
        let at = |i: u8| (len > 0).then(|| usize::from(i) % len);
        Some(Action::Model(match *self {
            FuzzOp::Load(i) => Op::Load(at(i)?),
            FuzzOp::Store(i, v) => Op::Store(at(i)?, v),
            FuzzOp::Swap(i, v) => Op::Swap(at(i)?, v),
            FuzzOp::Cas(i, hit, c, n) => Op::Cas(at(i)?, hit, c, n),
            FuzzOp::FetchAdd(i, v) => Op::FetchAdd(at(i)?, v),
            FuzzOp::FetchSub(i, v) => Op::FetchSub(at(i)?, v),
            FuzzOp::FetchMax(i, v) => Op::FetchMax(at(i)?, v),
            FuzzOp::FetchMin(i, v) => Op::FetchMin(at(i)?, v),
            FuzzOp::Update(i, v) => Op::Update(at(i)?, v),
            FuzzOp::Bits(o, i, v) => Op::Bits(o, at(i)?, v),
            FuzzOp::Get(i) => Op::Get(usize::from(i) % (len + 2)),
            FuzzOp::Locked(a, x, b, y) => Op::Locked(at(a)?, x, at(b)?, y),
            FuzzOp::Snapshot => Op::Snapshot,
            FuzzOp::ToVec => Op::ToVec,
            FuzzOp::Guarded(ref ops) => {
                return Some(Action::Guarded(
                    ops.iter().filter_map(|op| op.resolve(len)).collect(),
                ))
            }
            FuzzOp::Striped(stripes, ref ops) => {
                return Some(Action::Striped(
                    1 << (stripes % 3),
                    ops.iter().filter_map(|op| op.resolve(len)).collect(),
                ))
            }
        }))
    }

    /// The name of this operation's kind (for the seed tests' coverage check).
    pub fn kind(&self) -> &'static str {
        match self {
            FuzzOp::Load(_) => "Load",
            FuzzOp::Store(..) => "Store",
            FuzzOp::Swap(..) => "Swap",
            FuzzOp::Cas(..) => "Cas",
            FuzzOp::FetchAdd(..) => "FetchAdd",
            FuzzOp::FetchSub(..) => "FetchSub",
            FuzzOp::FetchMax(..) => "FetchMax",
            FuzzOp::FetchMin(..) => "FetchMin",
            FuzzOp::Update(..) => "Update",
            FuzzOp::Bits(..) => "Bits",
            FuzzOp::Get(_) => "Get",
            FuzzOp::Locked(..) => "Locked",
            FuzzOp::Snapshot => "Snapshot",
            FuzzOp::ToVec => "ToVec",
            FuzzOp::Guarded(_) => "Guarded",
            FuzzOp::Striped(..) => "Striped",
        }
    }
}

impl<T: Model> StripedFuzzOp<T> {
    fn resolve(&self, len: usize) -> Option<StripedOp<T>> {
        let at = |i: u8| (len > 0).then(|| usize::from(i) % len);
        Some(match *self {
            StripedFuzzOp::Add(i, v) => StripedOp::Add(at(i)?, v),
            StripedFuzzOp::Sub(i, v) => StripedOp::Sub(at(i)?, v),
            StripedFuzzOp::Sum(i) => StripedOp::Sum(at(i)?),
            StripedFuzzOp::Sums => StripedOp::Sums,
            StripedFuzzOp::SumsInto => StripedOp::SumsInto,
            StripedFuzzOp::Take(i) => StripedOp::Take(at(i)?),
            StripedFuzzOp::TakeAll => StripedOp::TakeAll,
            StripedFuzzOp::MoveTo(n) => StripedOp::MoveTo(usize::from(n)),
        })
    }

    /// The name of this operation's kind (for the seed tests' coverage check).
    pub fn kind(&self) -> &'static str {
        match self {
            StripedFuzzOp::Add(..) => "striped.Add",
            StripedFuzzOp::Sub(..) => "striped.Sub",
            StripedFuzzOp::Sum(_) => "striped.Sum",
            StripedFuzzOp::Sums => "striped.Sums",
            StripedFuzzOp::SumsInto => "striped.SumsInto",
            StripedFuzzOp::Take(_) => "striped.Take",
            StripedFuzzOp::TakeAll => "striped.TakeAll",
            StripedFuzzOp::MoveTo(_) => "striped.MoveTo",
        }
    }
}

impl<T: Model> GuardOp<T> {
    fn resolve(&self, len: usize) -> Option<Resolved<T>> {
        let at = |i: u8| (len > 0).then(|| usize::from(i) % len);
        Some(match self {
            GuardOp::Get(i) => Resolved::Get(at(*i)?),
            GuardOp::Set(i, v) => Resolved::Set(at(*i)?, *v),
            GuardOp::Add(i, v) => Resolved::Add(at(*i)?, *v),
            GuardOp::CopyFrom(values) if values.is_empty() && len > 0 => return None,
            GuardOp::CopyFrom(values) => {
                Resolved::CopyFrom(values.iter().copied().cycle().take(len).collect())
            }
            GuardOp::Read => Resolved::Read,
            GuardOp::Relock => Resolved::Relock,
            GuardOp::TryLock => Resolved::TryLock,
            GuardOp::LockTimeout => Resolved::LockTimeout,
            GuardOp::Snapshot => Resolved::Snapshot,
        })
    }

    /// The name of this operation's kind (for the seed tests' coverage check).
    pub fn kind(&self) -> &'static str {
        match self {
            GuardOp::Get(_) => "guard.Get",
            GuardOp::Set(..) => "guard.Set",
            GuardOp::Add(..) => "guard.Add",
            GuardOp::CopyFrom(_) => "guard.CopyFrom",
            GuardOp::Read => "guard.Read",
            GuardOp::Relock => "guard.Relock",
            GuardOp::TryLock => "guard.TryLock",
            GuardOp::LockTimeout => "guard.LockTimeout",
            GuardOp::Snapshot => "guard.Snapshot",
        }
    }
}

impl Case {
    /// Decodes `data`; `None` if it is too short to say even the element type.
    pub fn decode(data: &[u8]) -> Option<Case> {
        Case::arbitrary_take_rest(Unstructured::new(data)).ok()
    }

    /// The element type's variant name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Case::U64(_) => "u64",
            Case::I8(_) => "i8",
            Case::F64(_) => "f64",
            Case::U16(_) => "u16",
            Case::I32(_) => "i32",
            Case::U8(_) => "u8",
            Case::I16(_) => "i16",
            Case::U32(_) => "u32",
            Case::I64(_) => "i64",
            Case::Isize(_) => "isize",
            Case::Usize(_) => "usize",
            Case::F32(_) => "f32",
        }
    }

    /// The kinds of operation this case runs (those that apply to its length).
    pub fn kinds(&self) -> BTreeSet<&'static str> {
        fn of<T: Model>(input: &Input<T>) -> BTreeSet<&'static str> {
            let len = usize::from(input.len) % (MAX_LEN + 1);
            let mut kinds = BTreeSet::new();
            for op in input.ops.iter().take(MAX_OPS) {
                if op.resolve(len).is_none() {
                    continue;
                }
                kinds.insert(op.kind());
                if let FuzzOp::Guarded(ops) = op {
                    for g in ops.iter().filter(|g| g.resolve(len).is_some()) {
                        kinds.insert(g.kind());
                    }
                }
                if let FuzzOp::Striped(_, ops) = op {
                    for s in ops.iter().filter(|s| s.resolve(len).is_some()) {
                        kinds.insert(s.kind());
                    }
                }
            }
            kinds
        }
        match self {
            Case::U64(i) => of(i),
            Case::I8(i) => of(i),
            Case::F64(i) => of(i),
            Case::U16(i) => of(i),
            Case::I32(i) => of(i),
            Case::U8(i) => of(i),
            Case::I16(i) => of(i),
            Case::U32(i) => of(i),
            Case::I64(i) => of(i),
            Case::Isize(i) => of(i),
            Case::Usize(i) => of(i),
            Case::F32(i) => of(i),
        }
    }

    /// Runs the case; panics on any difference from the model.
    pub fn run(&self) {
        match self {
            Case::U64(i) => run(i),
            Case::I8(i) => run(i),
            Case::F64(i) => run(i),
            Case::U16(i) => run(i),
            Case::I32(i) => run(i),
            Case::U8(i) => run(i),
            Case::I16(i) => run(i),
            Case::U32(i) => run(i),
            Case::I64(i) => run(i),
            Case::Isize(i) => run(i),
            Case::Usize(i) => run(i),
            Case::F32(i) => run(i),
        }
    }
}

/// Every operation kind, for the seed tests' coverage check.
pub const ALL_KINDS: [&str; 33] = [
    "Load",
    "Store",
    "Swap",
    "Cas",
    "FetchAdd",
    "FetchSub",
    "FetchMax",
    "FetchMin",
    "Update",
    "Bits",
    "Get",
    "Locked",
    "Snapshot",
    "ToVec",
    "Guarded",
    "guard.Get",
    "guard.Set",
    "guard.Add",
    "guard.CopyFrom",
    "guard.Read",
    "guard.Relock",
    "guard.TryLock",
    "guard.LockTimeout",
    "guard.Snapshot",
    "Striped",
    "striped.Add",
    "striped.Sub",
    "striped.Sum",
    "striped.Sums",
    "striped.SumsInto",
    "striped.Take",
    "striped.TakeAll",
    "striped.MoveTo",
];

/// The target: decode and run. Inputs too short to decode are skipped.
pub fn ops_model(data: &[u8]) {
    if let Some(case) = Case::decode(data) {
        case.run();
    }
}

fn run<T: Model>(input: &Input<T>) {
    let len = usize::from(input.len) % (MAX_LEN + 1);
    let initial: Vec<T> = (0..len)
        .map(|i| input.initial.get(i).copied().unwrap_or_default())
        .collect();
    let actions: Vec<Action<T>> = input
        .ops
        .iter()
        .take(MAX_OPS)
        .filter_map(|op| op.resolve(len))
        .collect();

    let heap = SharedArray::<T>::new_heap(len).expect("new_heap");
    for (i, &v) in initial.iter().enumerate() {
        heap.store(i, v, Relaxed);
    }
    let mapped = SharedArray::from_slice(&initial).expect("from_slice");
    for arr in [&heap, &mapped] {
        assert_eq!(arr.len(), len);
        let mut model = initial.clone();
        for action in &actions {
            match action {
                Action::Model(op) => step(arr, &mut model, op),
                Action::Guarded(ops) => guarded(arr, &mut model, ops),
                // Separate arrays: run once, below, not once per dense array.
                Action::Striped(..) => {}
            }
        }
        let all = arr.to_vec();
        assert!(agree(&all, &model), "end: array {all:?}, model {model:?}");
    }
    let (h, m) = (heap.to_vec(), mapped.to_vec());
    assert!(agree(&h, &m), "heap {h:?} and mapped {m:?} arrays differ");
    for action in &actions {
        if let Action::Striped(stripes, ops) = action {
            run_striped(len, *stripes, ops);
        }
    }
}

/// Element-wise agreement, any two NaNs agreeing (see `Model::same`).
fn agree<T: Model>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| T::same(x, y))
}

/// Runs `ops` under one guard, against the model.
fn guarded<T: Model>(arr: &SharedArray<T>, model: &mut [T], ops: &[Resolved<T>]) {
    // As `step` does: where model and array both hold a NaN, the model adopts the array's
    // bits (Rust leaves the payload of an arithmetic NaN unspecified).
    for (j, m) in model.iter_mut().enumerate() {
        let actual = arr.load(j, Relaxed);
        if m.is_nan() && actual.is_nan() {
            *m = actual;
        }
    }
    let check = |got: T, want: T, what: &str| {
        assert!(T::same(got, want), "{what}: array {got:?}, model {want:?}");
    };
    let guard = arr.lock().expect("an uncontended lock");
    assert!(!guard.owner_died());
    assert_eq!(guard.len(), arr.len());
    for op in ops {
        match op {
            Resolved::Get(i) => check(guard.get(*i), model[*i], "guard.get"),
            Resolved::Set(i, v) => {
                guard.set(*i, *v);
                model[*i] = *v;
            }
            Resolved::Add(i, v) => {
                check(guard.add(*i, *v), model[*i], "guard.add");
                model[*i] = T::add(model[*i], *v);
            }
            Resolved::CopyFrom(values) => {
                guard.copy_from_slice(values);
                model.copy_from_slice(values);
            }
            Resolved::Read => {
                let (locked, iterated) = (guard.to_vec(), guard.iter().collect::<Vec<_>>());
                let lock_free = arr.to_vec();
                for got in [&locked, &iterated, &lock_free] {
                    assert!(
                        agree(got, model),
                        "under the guard: {got:?}, model {model:?}"
                    );
                }
            }
            Resolved::Relock => assert!(
                matches!(arr.lock(), Err(LockError::Deadlock)),
                "lock() by the holder"
            ),
            Resolved::TryLock => assert!(
                matches!(arr.try_lock(), Err(LockError::Deadlock)),
                "try_lock() by the holder"
            ),
            Resolved::LockTimeout => assert!(
                matches!(arr.lock_timeout(Duration::ZERO), Err(LockError::Deadlock)),
                "lock_timeout() by the holder"
            ),
            Resolved::Snapshot => assert!(
                matches!(arr.snapshot(), Err(SnapshotError::Deadlock)),
                "snapshot() by the holder"
            ),
        }
    }
    drop(guard);
    // Released: a snapshot sees every write made under the guard.
    let snap = arr.snapshot().expect("snapshot after the guard");
    assert!(agree(&snap, model), "snapshot {snap:?}, model {model:?}");
    // The lock is free again, for this thread too.
    drop(arr.try_lock().expect("try_lock after the guard"));
}
