//! Property test: random sequences of operations on a `SharedArray` (heap and mapped) give
//! the same results, and leave the same contents, as the same operations on a `Vec` model.

mod model_ops;

use model_ops::{run, Model, Op};
use proptest::prelude::*;

fn op<T: Model + Arbitrary + Clone + std::fmt::Debug + 'static>(
    len: usize,
) -> impl Strategy<Value = Op<T>> {
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

const LEN: usize = 4;

macro_rules! model_test {
    ($($name:ident: $t:ty;)*) => {$(
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn $name(
                initial in proptest::collection::vec(any::<$t>(), LEN),
                ops in proptest::collection::vec(op::<$t>(LEN), 1..40),
            ) {
                run(&initial, &ops);
            }
        }
    )*};
}

model_test! {
    u64_matches_the_model: u64;
    i8_matches_the_model_with_wrapping: i8;
    i32_matches_the_model: i32;
    u16_matches_the_model: u16;
    f64_matches_the_model_bit_for_bit: f64;
}
