//! The fuzz targets of `shmarray`, as a library: `fuzz_targets/` holds only the
//! `fuzz_target!` entry points, and `tests/seeds.rs` runs the same code over the committed
//! seed corpus (and regenerates it).
//!
//! - [`header`]: arbitrary bytes as a region file, opened as a type picked by the first
//!   byte. `Ok` or a typed error, never a panic, never an out-of-bounds read.
//! - [`ops`]: arbitrary operation sequences, the lock and snapshots included, on a heap
//!   array and a mapped array, each against a `Vec` model.

pub mod header;
pub mod ops;
