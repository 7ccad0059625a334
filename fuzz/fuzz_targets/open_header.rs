//! Arbitrary bytes as a region file: `open_file` must return `Ok` or a typed error, never
//! panic and never read out of bounds; an accepted region must be readable end to end. The
//! lock of an accepted region is not taken: see `src/header.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shmarray_fuzz::header::open_header(data);
});
