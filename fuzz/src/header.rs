//! The `open_header` target: arbitrary bytes written to a region file, then opened.
//!
//! The first byte picks the element type asked for (one of [`TYPES`]); the second says
//! which header fields to forge ([`FORGE_MAGIC`], ...); the rest is the file. Opening must
//! give `Ok` or a typed [`OpenError`]: a panic, or a read outside the file (a `SIGBUS`, a
//! `SIGSEGV`, or an AddressSanitizer report), is a crash. An accepted region is read end
//! to end (`to_vec`, `iter`, `get` at both ends and past the end), and an error is
//! formatted, since `Display` also interprets fields of the file.
//!
//! The file is also opened as a [`StripedArray`] of the same type, whose checks (stripe
//! count, the size of every stripe) must hold as well; the outcome recorded is the dense
//! open's.
//!
//! Why forge: the header's checksum stops accidents, not attackers. A hostile process that
//! can write the region computes the checksum as easily as the crate does, so every check
//! after it (sizes, offsets, alignment, length against the file) must hold on its own. A
//! fuzzer cannot find a 64-bit checksum by mutation; with [`FORGE_CHECKSUM`] the harness
//! seals whatever fields the input holds, as an attacker would, and the checks behind the
//! checksum are reached. Likewise the magic number, version and "ready" state.
//!
//! Not exercised: the lock. A region's pthread mutex is bytes of the file like any other,
//! and `open` does not (cannot) validate them: a process that can write the region can
//! corrupt the lock as it can corrupt the data, and what `pthread_mutex_lock` does with a
//! garbage mutex is outside what the crate promises. So an accepted region is never locked
//! here, nor snapshotted (whose fallback takes the lock).
//!
//! The file is written once per input to one path per process, in the temporary
//! directory (`.ci/fuzz.sh` points `TMPDIR` at a scratch directory it removes afterwards).
//! Every array is dropped before the next input rewrites the file, so no mapping ever
//! outlives the bytes it was validated against.

use shmarray::{Element, OpenError, SharedArray, StripedArray};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// The element types, in the order the first byte (modulo their number) picks them.
pub const TYPES: [&str; 12] = [
    "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "isize", "usize", "f32", "f64",
];

/// What opening gave: the array's length, or the name of the `OpenError` variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Opened, with this many elements.
    Opened(usize),
    /// Refused with this `OpenError` variant (`"TooShort"`, `"BadMagic"`, ...).
    Refused(String),
}

impl Outcome {
    /// The word seed file names end in: `Opened` or the error variant.
    pub fn word(&self) -> &str {
        match self {
            Outcome::Opened(_) => "Opened",
            Outcome::Refused(variant) => variant,
        }
    }
}

/// This process's region file.
pub fn region_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| std::env::temp_dir().join(format!("shmarray-fuzz-{}", std::process::id())))
}

/// Forge flag: write the magic number `b"SHMARRAY"`.
pub const FORGE_MAGIC: u8 = 1;
/// Forge flag: write the layout version this build reads.
pub const FORGE_VERSION: u8 = 2;
/// Forge flag: write the "ready" state.
pub const FORGE_READY: u8 = 4;
/// Forge flag: write the checksum of the fixed fields as they are (after the flags above).
pub const FORGE_CHECKSUM: u8 = 8;

/// Byte offsets of the header's fixed fields (the crate's `src/header.rs` documents the
/// layout, which is part of the file format).
pub mod offset {
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 8;
    pub const STATE: usize = 12;
    pub const TYPE_CODE: usize = 16;
    pub const ELEM_SIZE: usize = 20;
    pub const ELEM_ALIGN: usize = 24;
    pub const HEADER_SIZE: usize = 28;
    pub const LEN: usize = 32;
    pub const DATA_OFFSET: usize = 40;
    pub const CHECKSUM: usize = 48;
    pub const LAYOUT: usize = 56;
    pub const STRIPES: usize = 60;
    pub const FLAGS: usize = 64;
}

/// The layout version this build reads, which [`FORGE_VERSION`] writes.
pub const LAYOUT_VERSION: u32 = 3;

/// The target: `data[0]` picks the type, `data[1]` the fields to forge, `data[2..]` is the
/// file. `None` for inputs shorter than two bytes.
pub fn open_header(data: &[u8]) -> Option<Outcome> {
    let [pick, flags, file @ ..] = data else {
        return None;
    };
    let mut file = file.to_vec();
    forge(&mut file, *flags);
    std::fs::write(region_path(), &file).expect("write the region file");
    Some(match usize::from(*pick) % TYPES.len() {
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
    })
}

fn open_as<T: Element>() -> Outcome {
    // The same file as a striped array: the outcome is the dense open's (the seeds' names
    // say it), but an accepted striped region is read end to end too.
    if let Ok(arr) = StripedArray::<T>::options()
        .open_timeout(Duration::ZERO)
        .open_file(region_path())
    {
        assert!(arr.stripes().is_power_of_two());
        assert_eq!(arr.sums().len(), arr.len());
        assert_eq!(arr.take_all().len(), arr.len());
        if let Some(last) = arr.len().checked_sub(1) {
            arr.add(last, T::default());
            let _ = arr.sum(last);
        }
    }
    match SharedArray::<T>::open_file_timeout(region_path(), Duration::ZERO) {
        Ok(arr) => {
            assert_eq!(arr.type_code(), T::TYPE_CODE);
            let all = arr.to_vec();
            assert_eq!(all.len(), arr.len());
            assert_eq!(arr.iter().count(), arr.len());
            if let Some(last) = arr.len().checked_sub(1) {
                assert!(arr.get(0).is_some() && arr.get(last).is_some());
            }
            assert!(arr.get(arr.len()).is_none());
            Outcome::Opened(arr.len())
        }
        Err(e) => Outcome::Refused(variant(&e)),
    }
}

/// The variant's name, from its `Debug` form; also formats the error (`Display` reads the
/// file's fields too, for example the type code of `WrongType`).
fn variant(e: &OpenError) -> String {
    assert!(!e.to_string().is_empty());
    let _ = std::error::Error::source(e);
    format!("{e:?}")
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

/// Applies the forge `flags` to the header at the start of `file`, as far as it holds each
/// field.
pub fn forge(file: &mut [u8], flags: u8) {
    let mut put = |at: usize, bytes: &[u8]| {
        if let Some(field) = file.get_mut(at..at + bytes.len()) {
            field.copy_from_slice(bytes);
        }
    };
    if flags & FORGE_MAGIC != 0 {
        put(offset::MAGIC, b"SHMARRAY");
    }
    if flags & FORGE_VERSION != 0 {
        put(offset::VERSION, &LAYOUT_VERSION.to_le_bytes());
    }
    if flags & FORGE_READY != 0 {
        put(offset::STATE, b"REDY");
    }
    if flags & FORGE_CHECKSUM != 0 {
        if let Some(sum) = checksum(file) {
            file[offset::CHECKSUM..offset::CHECKSUM + 8].copy_from_slice(&sum.to_le_bytes());
        }
    }
}

/// The format's checksum of the header at the start of `file`: FNV-1a 64 over every fixed
/// field but `state`, each widened to a little-endian u64. `None` if `file` is too short.
pub fn checksum(file: &[u8]) -> Option<u64> {
    let u32_at = |at: usize| {
        Some(u64::from(u32::from_le_bytes(
            file.get(at..at + 4)?.try_into().ok()?,
        )))
    };
    let u64_at = |at: usize| Some(u64::from_le_bytes(file.get(at..at + 8)?.try_into().ok()?));
    let fields = [
        u64_at(offset::MAGIC)?,
        u32_at(offset::VERSION)?,
        u32_at(offset::TYPE_CODE)?,
        u32_at(offset::ELEM_SIZE)?,
        u32_at(offset::ELEM_ALIGN)?,
        u32_at(offset::HEADER_SIZE)?,
        u64_at(offset::LEN)?,
        u64_at(offset::DATA_OFFSET)?,
        u32_at(offset::LAYOUT)?,
        u32_at(offset::STRIPES)?,
        u32_at(offset::FLAGS)?,
    ];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in fields.iter().flat_map(|f| f.to_le_bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Some(h)
}
