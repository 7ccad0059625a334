//! Arbitrary operation sequences, the lock and snapshots included, on heap and mapped arrays
//! against a `Vec` model: the same model as the property test (`tests/model_ops`).
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/model_ops/mod.rs"]
mod model_ops;
use model_ops::{run, Model, Op};

const LEN: usize = 4;

fn op<'a, T: Model + Arbitrary<'a>>(u: &mut Unstructured<'a>) -> Result<Op<T>> {
    let i = |u: &mut Unstructured<'a>| u.int_in_range(0..=LEN - 1);
    Ok(match u.int_in_range(0..=13u8)? {
        0 => Op::Load(i(u)?),
        1 => Op::Store(i(u)?, u.arbitrary()?),
        2 => Op::Swap(i(u)?, u.arbitrary()?),
        3 => Op::Cas(i(u)?, u.arbitrary()?, u.arbitrary()?, u.arbitrary()?),
        4 => Op::FetchAdd(i(u)?, u.arbitrary()?),
        5 => Op::FetchSub(i(u)?, u.arbitrary()?),
        6 => Op::FetchMax(i(u)?, u.arbitrary()?),
        7 => Op::FetchMin(i(u)?, u.arbitrary()?),
        8 => Op::Update(i(u)?, u.arbitrary()?),
        9 => Op::Bits(u.arbitrary()?, i(u)?, u.arbitrary()?),
        10 => Op::Get(u.int_in_range(0..=LEN + 1)?),
        11 => Op::Locked(i(u)?, u.arbitrary()?, i(u)?, u.arbitrary()?),
        12 => Op::Snapshot,
        _ => Op::ToVec,
    })
}

fn case<'a, T: Model + Arbitrary<'a>>(u: &mut Unstructured<'a>) -> Result<()> {
    let initial: Vec<T> = (0..LEN).map(|_| u.arbitrary()).collect::<Result<_>>()?;
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < 64 {
        ops.push(op::<T>(u)?);
    }
    run(&initial, &ops);
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = match u.int_in_range(0..=4u8) {
        Ok(0) => case::<u64>(&mut u),
        Ok(1) => case::<i8>(&mut u),
        Ok(2) => case::<i32>(&mut u),
        Ok(3) => case::<u16>(&mut u),
        Ok(_) => case::<f64>(&mut u),
        Err(_) => Ok(()),
    };
});
