//! Property test: random sequences of `StripedArray` operations (`add`, `sub`, `sum`,
//! `sums`, `sums_into`, `take`, `take_all`, and moves of the thread to another CPU) applied
//! to the array and to a per-stripe model give the same results, on heap and on mapped
//! (memfd) storage, with 1, 2 and 4 stripes. The model (`tests/model_ops/striped.rs`) is
//! the one the `ops_model` fuzz target checks too.
//!
//! Integers wrap (`i8` above all); floats are compared bit for bit, which holds because the
//! model knows which stripe every add landed on (the thread is pinned) and sums the stripes
//! in the array's order.

#[macro_use]
mod model_ops;

use model_ops::striped::{run_striped, StripedOp};
use model_ops::Model;
use proptest::collection::vec;
use proptest::prelude::*;

/// Longest array a case uses; lengths run from 1.
const MAX_LEN: usize = 6;
/// Cases per element type.
const CASES: u32 = 96;

fn op<T: Model + Arbitrary>(len: usize) -> impl Strategy<Value = StripedOp<T>> {
    let i = 0..len;
    prop_oneof![
        4 => (i.clone(), any::<T>()).prop_map(|(i, v)| StripedOp::Add(i, v)),
        2 => (i.clone(), any::<T>()).prop_map(|(i, v)| StripedOp::Sub(i, v)),
        1 => i.clone().prop_map(StripedOp::Sum),
        1 => Just(StripedOp::Sums),
        1 => Just(StripedOp::SumsInto),
        1 => i.prop_map(StripedOp::Take),
        1 => Just(StripedOp::TakeAll),
        2 => any::<usize>().prop_map(StripedOp::MoveTo),
    ]
}

fn case<T: Model + Arbitrary>() -> impl Strategy<Value = (usize, usize, Vec<StripedOp<T>>)> {
    (1..=MAX_LEN, prop_oneof![Just(1), Just(2), Just(4)])
        .prop_flat_map(|(len, stripes)| (Just(len), Just(stripes), vec(op::<T>(len), 0..64)))
}

macro_rules! striped_model_test {
    ($($name:ident: $t:ty;)*) => {$(
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(CASES))]
            #[test]
            fn $name((len, stripes, ops) in case::<$t>()) {
                run_striped(len, stripes, &ops);
            }
        }
    )*};
}

striped_model_test! {
    u64_striped_matches_the_model: u64;
    i8_striped_matches_the_model_with_wrapping: i8;
    u16_striped_matches_the_model: u16;
    i32_striped_matches_the_model: i32;
    f64_striped_matches_the_model_bit_for_bit: f64;
}
