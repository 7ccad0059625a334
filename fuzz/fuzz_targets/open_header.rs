//! Arbitrary bytes as a region file: `open_file` must return `Ok` or a typed error, never
//! panic and never read out of bounds; an accepted region must be readable end to end.
//!
//! The first byte picks the element type asked for; the rest is the file. The lock is not
//! taken on an accepted region: the pthread mutex inside a header is outside what `open`
//! validates (the crate trusts the lock word of a region whose header checks out).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmarray::{Element, SharedArray};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| std::env::temp_dir().join(format!("shmarray-fuzz-{}", std::process::id())))
}

fn open_as<T: Element>() {
    if let Ok(arr) = SharedArray::<T>::open_file_timeout(path(), Duration::ZERO) {
        let all = arr.to_vec();
        assert_eq!(all.len(), arr.len());
        assert_eq!(arr.type_code(), T::TYPE_CODE);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    std::fs::write(path(), file).expect("write the region file");
    match pick % 12 {
        0 => open_as::<i8>(),
        1 => open_as::<u8>(),
        2 => open_as::<i16>(),
        3 => open_as::<u16>(),
        4 => open_as::<i32>(),
        5 => open_as::<u32>(),
        6 => open_as::<i64>(),
        7 => open_as::<u64>(),
        8 => open_as::<isize>(),
        9 => open_as::<usize>(),
        10 => open_as::<f32>(),
        _ => open_as::<f64>(),
    }
});
