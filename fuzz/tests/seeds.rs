//! The committed seed corpus (`corpus/<target>/`): how it is made, and checks that it still
//! means what it should, so that a change of the region layout or of the input decoding
//! cannot silently turn the seeds into noise.
//!
//! Regenerate with `SHMARRAY_WRITE_SEEDS=1 cargo test --manifest-path fuzz/Cargo.toml`
//! (`.ci/fuzz.sh` runs these tests, without the variable, before fuzzing).
//!
//! - `open_header`: region files made by the crate itself (`create_file`), some valid and
//!   some with one field broken, each prefixed with the byte that picks the element type
//!   asked for. A seed is named `<what>.<outcome>`, and opening it must give that outcome
//!   (`Opened` or the `OpenError` variant): each starts the fuzzer at another check.
//! - `ops_model`: one case per element type (u64, i8, f64, u16), written by an encoder of
//!   `arbitrary`'s format, that runs every kind of operation (the model's, and every guard
//!   operation under a held lock) on interesting values (extremes, NaN, -0.0, ...). Random
//!   bytes would not do: `arbitrary` ends a sequence at each "more?" byte with even odds.

use shmarray::{Element, SharedArray, StripedArray};
use shmarray_fuzz::header::{
    checksum, offset, open_header, Outcome, FORGE_CHECKSUM, FORGE_MAGIC, FORGE_READY,
    FORGE_VERSION, TYPES,
};
use shmarray_fuzz::ops::{Case, ALL_KINDS};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

fn writing() -> bool {
    std::env::var_os("SHMARRAY_WRITE_SEEDS").is_some()
}

/// The committed seeds of `target`, by file name.
fn committed(target: &str) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(corpus(target))
        .unwrap_or_else(|e| panic!("corpus/{target}: {e}"))
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Replaces the committed seeds of `target` with `seeds`.
fn write(target: &str, seeds: &BTreeMap<String, Vec<u8>>) {
    let dir = corpus(target);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// open_header

/// The control block's reserved half.
const RESERVED: std::ops::Range<usize> = 256..384;

/// The bytes of a region file of `values`, made by the crate.
fn region<T: Element>(values: &[T]) -> Vec<u8> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    struct Remove(PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let path = Remove(std::env::temp_dir().join(format!(
        "shmarray-fuzz-seed-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )));
    let arr = SharedArray::<T>::create_file(&path.0, values.len()).unwrap();
    for (i, &v) in values.iter().enumerate() {
        arr.store(i, v, Relaxed);
    }
    drop(arr);
    let mut bytes = std::fs::read(&path.0).unwrap();
    // The control block's reserved half is zero as the crate creates it; zeroed here too so
    // that a seed never depends on it. Nothing reads those bytes.
    bytes[RESERVED].fill(0);
    bytes
}

/// The bytes of a striped `u64` region file of `len` zeros in `stripes` stripes, made by
/// the crate (zeros: which stripe an add lands on depends on the CPU, and a seed must be
/// the same on every run).
fn striped_region(len: usize, stripes: usize) -> Vec<u8> {
    let path = std::env::temp_dir().join(format!(
        "shmarray-fuzz-striped-seed-{}-{len}-{stripes}",
        std::process::id()
    ));
    let arr = StripedArray::<u64>::options()
        .stripes(stripes)
        .create_file(&path, len)
        .unwrap();
    drop(arr);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

/// The byte that picks element type `name`.
fn pick(name: &str) -> u8 {
    TYPES.iter().position(|&t| t == name).unwrap() as u8
}

/// A seed: the type byte, the forge flags, and the file after `edit`.
fn seed(ty: &str, flags: u8, mut file: Vec<u8>, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    edit(&mut file);
    let mut bytes = vec![pick(ty), flags];
    bytes.extend(file);
    bytes
}

/// Every forge flag: the harness seals whatever the file's fields say.
const SEAL: u8 = FORGE_MAGIC | FORGE_VERSION | FORGE_READY | FORGE_CHECKSUM;

/// An edit that writes `b` at offset `at`.
fn put(at: usize, b: &'static [u8]) -> impl FnOnce(&mut Vec<u8>) {
    move |f| f[at..at + b.len()].copy_from_slice(b)
}

fn header_seeds() -> BTreeMap<String, Vec<u8>> {
    use offset::*;
    [
        (
            "u64-len4.Opened",
            seed("u64", 0, region(&[1u64, 2, 3, 4]), |_| {}),
        ),
        (
            "i8-len3.Opened",
            seed("i8", 0, region(&[-1i8, 0, 1]), |_| {}),
        ),
        (
            "f64-empty.Opened",
            seed("f64", 0, region::<f64>(&[]), |_| {}),
        ),
        (
            "f32-len5.Opened",
            seed("f32", 0, region(&[0.5f32; 5]), |_| {}),
        ),
        (
            "u16-region-asked-as-i32.WrongType",
            seed("i32", 0, region(&[7u16, 8]), |_| {}),
        ),
        (
            "u32-len2-cells-cut.TooShort",
            seed("u32", 0, region(&[1u32, 2]), |f| f.truncate(f.len() - 3)),
        ),
        (
            "u64-file-shorter-than-header.TooShort",
            seed("u64", 0, region(&[1u64]), |f| f.truncate(100)),
        ),
        (
            "u8-zeros-never-published.Abandoned",
            seed("u8", 0, vec![0; 384], |_| {}),
        ),
        (
            "i64-len-changed.BadChecksum",
            seed("i64", 0, region(&[5i64]), put(LEN, &[2])),
        ),
        (
            "usize-version-1.UnsupportedVersion",
            seed("usize", 0, region(&[5usize]), put(VERSION, &[1])),
        ),
        (
            "isize-magic-changed.BadMagic",
            seed("isize", 0, region(&[5isize]), put(MAGIC, b"SHMARRAX")),
        ),
        (
            "i16-state-garbage.BadState",
            seed("i16", 0, region(&[5i16]), put(STATE, b"GRBG")),
        ),
        // Forged, sealed headers: what a hostile writer can make, checksum and all.
        (
            "u64-sealed-zeros.WrongType",
            seed("u64", SEAL, vec![0; 400], |_| {}),
        ),
        (
            "u64-sealed-len-beyond-file.TooShort",
            seed("u64", SEAL, region(&[1u64, 2]), put(LEN, &[3])),
        ),
        (
            "i32-sealed-len-overflows.BadLayout",
            seed("i32", SEAL, region(&[1i32]), put(LEN, &[0xff; 8])),
        ),
        (
            "u16-sealed-cells-inside-header.BadLayout",
            seed("u16", SEAL, region(&[1u16]), put(DATA_OFFSET, &[64])),
        ),
        (
            "f64-sealed-elem-size-4.BadLayout",
            seed("f64", SEAL, region(&[1.0f64]), put(ELEM_SIZE, &[4])),
        ),
        (
            "u8-sealed-header-size-0.BadLayout",
            seed("u8", SEAL, region(&[1u8]), put(HEADER_SIZE, &[0, 0])),
        ),
        (
            "i8-sealed-type-code-garbage.WrongType",
            seed(
                "i8",
                SEAL,
                region(&[1i8]),
                put(TYPE_CODE, b"\xff\xfe\xfd\xfc"),
            ),
        ),
        (
            "u64-striped-region.WrongLayout",
            seed("u64", 0, striped_region(3, 4), |_| {}),
        ),
        (
            "u64-sealed-striped-layout.WrongLayout",
            seed("u64", SEAL, region(&[1u64, 2]), put(LAYOUT, &[1])),
        ),
        (
            "i64-sealed-layout-garbage.WrongLayout",
            seed(
                "i64",
                SEAL,
                region(&[1i64]),
                put(LAYOUT, b"\xff\x00\x00\x01"),
            ),
        ),
        (
            "u32-sealed-dense-two-stripes.BadLayout",
            seed("u32", SEAL, region(&[1u32]), put(STRIPES, &[2])),
        ),
        (
            "u8-sealed-unknown-flag.BadLayout",
            seed("u8", SEAL, region(&[1u8]), put(FLAGS, &[3])),
        ),
        (
            "u16-sealed-seqlock-flag-cleared.Opened",
            seed("u16", SEAL, region(&[1u16]), put(FLAGS, &[0])),
        ),
        (
            "u32-sealed-zero-len-empty-cells.Opened",
            seed("u32", SEAL, region(&[1u32, 2]), put(LEN, &[0])),
        ),
    ]
    .into_iter()
    .map(|(name, bytes)| (name.to_owned(), bytes))
    .collect()
}

/// The harness's checksum is the crate's: a region's stored checksum, recomputed, is the
/// same, and a sealed edit passes the check (so the forged seeds reach the checks behind it).
#[test]
fn the_forged_checksum_is_the_formats() {
    let file = region(&[1u64, 2, 3]);
    let stored = u64::from_le_bytes(file[offset::CHECKSUM..][..8].try_into().unwrap());
    assert_eq!(checksum(&file), Some(stored));
    assert_eq!(checksum(&file[..50]), None);
}

/// Removes the harness's region file when the test ends, passing or failing.
struct RemoveRegionFile;

impl Drop for RemoveRegionFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(shmarray_fuzz::header::region_path());
    }
}

#[test]
fn open_header_seeds_give_the_outcome_their_names_say() {
    let _cleanup = RemoveRegionFile;
    let generated = header_seeds();
    if writing() {
        write("open_header", &generated);
    }
    let seeds = committed("open_header");
    assert_eq!(
        seeds.keys().collect::<Vec<_>>(),
        generated.keys().collect::<Vec<_>>(),
        "corpus/open_header differs from the generator: regenerate (see the file's docs)"
    );
    for (name, bytes) in &seeds {
        let want = name.rsplit('.').next().unwrap();
        let got = open_header(bytes).expect("a seed is not empty");
        assert_eq!(got.word(), want, "seed {name}: {got:?}");
        assert_eq!(
            bytes, &generated[name],
            "seed {name} is stale: regenerate (see the file's docs)"
        );
    }
    // The valid seeds open with the lengths they were made with.
    assert_eq!(
        open_header(&seeds["u64-len4.Opened"]),
        Some(Outcome::Opened(4))
    );
    assert_eq!(
        open_header(&seeds["f64-empty.Opened"]),
        Some(Outcome::Opened(0))
    );
}

// ---------------------------------------------------------------------------------------------
// ops_model

/// Builds inputs the way `arbitrary` 1.x decodes them: integers little-endian, floats by
/// their bits, a `bool` from the low bit of a byte, an enum variant from a `u32` scaled to
/// the number of variants, each element of a `Vec` preceded by a "more" `bool`, and the
/// fields of a struct or variant in order. (If a new `arbitrary` decoded otherwise, the test
/// below would say so: it checks what each seed decodes to.)
#[derive(Default)]
struct Encoder(Vec<u8>);

impl Encoder {
    /// Variant `index` of an enum of `count` variants, in declaration order.
    fn variant(&mut self, index: u32, count: u32) -> &mut Self {
        let x = (u64::from(index) << 32).div_ceil(u64::from(count));
        self.0.extend((x as u32).to_le_bytes());
        self
    }
    fn byte(&mut self, b: u8) -> &mut Self {
        self.0.push(b);
        self
    }
    fn more(&mut self, more: bool) -> &mut Self {
        self.byte(u8::from(more))
    }
    fn value<T: Le>(&mut self, v: T) -> &mut Self {
        v.put(&mut self.0);
        self
    }
    fn values<T: Le>(&mut self, vs: &[T]) -> &mut Self {
        for &v in vs {
            self.more(true).value(v);
        }
        self.more(false)
    }
}

/// Element types' bytes as `arbitrary` reads them.
trait Le: Element {
    fn put(self, out: &mut Vec<u8>);
    /// Values worth starting from: zero, one, the extremes, and for floats the oddities.
    fn interesting() -> Vec<Self>;
}

macro_rules! le_int {
    ($($t:ty),*) => {$(
        impl Le for $t {
            fn put(self, out: &mut Vec<u8>) {
                out.extend(self.to_le_bytes());
            }
            fn interesting() -> Vec<Self> {
                vec![0, 1, <$t>::MAX, <$t>::MIN, 0x55 as $t, <$t>::MAX / 2 + 1]
            }
        }
    )*};
}
le_int!(u64, i8, u16);

impl Le for f64 {
    fn put(self, out: &mut Vec<u8>) {
        out.extend(self.to_bits().to_le_bytes());
    }
    fn interesting() -> Vec<Self> {
        vec![
            -0.0,
            1.5,
            f64::NAN,
            f64::INFINITY,
            f64::MIN_POSITIVE / 4.0,
            -1e300,
        ]
    }
}

/// A case of `T` (variant `type_index` of `Case`) that runs every kind of operation once
/// or more, on an array of 4 elements, with values from `T::interesting()`.
fn ops_seed<T: Le>(type_index: u32) -> Vec<u8> {
    const FUZZ_OPS: u32 = 16; // variants of FuzzOp, in declaration order
    const STRIPED_OPS: u32 = 8; // variants of StripedFuzzOp
    const GUARD_OPS: u32 = 9; // variants of GuardOp
    let v = T::interesting();
    let val = |i: usize| v[i % v.len()];
    let mut e = Encoder::default();
    e.variant(type_index, 12)
        .byte(4)
        .values(&[val(0), val(1), val(2), val(3)]);
    let op = |e: &mut Encoder, index: u32| {
        e.more(true).variant(index, FUZZ_OPS);
    };
    op(&mut e, 1); // Store
    e.byte(0).value(val(4));
    op(&mut e, 0); // Load
    e.byte(0);
    op(&mut e, 2); // Swap
    e.byte(1).value(val(5));
    op(&mut e, 3); // Cas, expecting the current value: succeeds
    e.byte(1).more(true).value(val(0)).value(val(2));
    op(&mut e, 3); // Cas, expecting something else
    e.byte(2).more(false).value(val(3)).value(val(1));
    op(&mut e, 4); // FetchAdd
    e.byte(0).value(val(2));
    op(&mut e, 5); // FetchSub
    e.byte(3).value(val(1));
    op(&mut e, 6); // FetchMax
    e.byte(1).value(val(2));
    op(&mut e, 7); // FetchMin
    e.byte(2).value(val(3));
    op(&mut e, 8); // Update
    e.byte(3).value(val(5));
    for bits in 0..4 {
        op(&mut e, 9); // Bits: and, or, xor, nand
        e.byte(bits).byte(bits).value(val(4));
    }
    op(&mut e, 10); // Get, in range
    e.byte(2);
    op(&mut e, 10); // Get, out of range (5 modulo 4 + 2)
    e.byte(5);
    op(&mut e, 11); // Locked: set one, add to another
    e.byte(0).value(val(1)).byte(1).value(val(2));
    op(&mut e, 12); // Snapshot
    op(&mut e, 13); // ToVec
    op(&mut e, 14); // Guarded
    let guard_op = |e: &mut Encoder, index: u32| {
        e.more(true).variant(index, GUARD_OPS);
    };
    guard_op(&mut e, 0); // Get
    e.byte(0);
    guard_op(&mut e, 1); // Set
    e.byte(1).value(val(3));
    guard_op(&mut e, 2); // Add
    e.byte(2).value(val(2));
    guard_op(&mut e, 4); // Read
    for refusal in 5..9 {
        guard_op(&mut e, refusal); // Relock, TryLock, LockTimeout, Snapshot
    }
    guard_op(&mut e, 3); // CopyFrom, repeated to the length
    e.values(&[val(5), val(4), val(1)]);
    guard_op(&mut e, 4); // Read
    e.more(false);
    op(&mut e, 12); // Snapshot: sees the guard's writes
    op(&mut e, 13); // ToVec
    op(&mut e, 15); // Striped, 2 stripes (1 modulo 3)
    e.byte(1);
    let striped_op = |e: &mut Encoder, index: u32| {
        e.more(true).variant(index, STRIPED_OPS);
    };
    striped_op(&mut e, 0); // Add, on the first CPU's stripe
    e.byte(0).value(val(1));
    striped_op(&mut e, 7); // MoveTo the next CPU (if there is one): another stripe
    e.byte(1);
    striped_op(&mut e, 0); // Add
    e.byte(0).value(val(2));
    striped_op(&mut e, 1); // Sub
    e.byte(1).value(val(3));
    striped_op(&mut e, 2); // Sum
    e.byte(0);
    striped_op(&mut e, 3); // Sums
    striped_op(&mut e, 4); // SumsInto
    striped_op(&mut e, 5); // Take
    e.byte(0);
    striped_op(&mut e, 0); // Add again
    e.byte(2).value(val(4));
    striped_op(&mut e, 6); // TakeAll
    e.more(false);
    e.more(false);
    e.0
}

fn ops_seeds() -> BTreeMap<String, Vec<u8>> {
    [
        ("u64-all-kinds", ops_seed::<u64>(0)),
        ("i8-all-kinds", ops_seed::<i8>(1)),
        ("f64-all-kinds", ops_seed::<f64>(2)),
        ("u16-all-kinds", ops_seed::<u16>(3)),
    ]
    .into_iter()
    .map(|(name, bytes)| (name.to_owned(), bytes))
    .collect()
}

#[test]
fn ops_model_seeds_run_every_kind_of_operation() {
    let generated = ops_seeds();
    if writing() {
        write("ops_model", &generated);
    }
    let seeds = committed("ops_model");
    assert_eq!(
        seeds.keys().collect::<Vec<_>>(),
        generated.keys().collect::<Vec<_>>(),
        "corpus/ops_model differs from the generator: regenerate (see the file's docs)"
    );
    for (name, bytes) in &seeds {
        assert_eq!(
            bytes, &generated[name],
            "seed {name} is stale: regenerate (see the file's docs)"
        );
        let case = Case::decode(bytes).expect("a seed decodes");
        assert_eq!(
            format!("{}-all-kinds", case.type_name()),
            *name,
            "seed {name} decodes to another type"
        );
        let kinds = case.kinds();
        let missing: Vec<_> = ALL_KINDS.iter().filter(|k| !kinds.contains(*k)).collect();
        assert!(missing.is_empty(), "seed {name} does not run {missing:?}");
        case.run();
    }
}
