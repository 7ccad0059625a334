//! Arbitrary operation sequences, the lock, guards and snapshots included, on heap and
//! mapped arrays against a `Vec` model: see `src/ops.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| shmarray_fuzz::ops::ops_model(data));
