//! Every way `open` and `open_file` refuse a region, each asserting its specific error and
//! the numbers inside it; and the creation errors reachable without filling a filesystem
//! (`AlreadyExists`, `TooLarge`, `InvalidName`; the rest are in `environment.rs`).
//!
//! Hostile files are made by creating a valid region with `create_file`, dropping it, and
//! editing its header with `std::fs` at the offsets documented in `src/header.rs`. A header
//! that must get past the checksum is resealed with the format's FNV-1a, recomputed here.
//! Every error's `Display` text is checked to be non-empty and to name the key number.

mod common;

use common::{reexec, role, TempName, TempPath};
use shmarray::{CreateError, Layout, OpenError, SharedArray, StripedArray, TypeCode};
use std::fmt::Display;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

// Offsets of the header's fixed fields (`src/header.rs`).
const MAGIC: usize = 0;
const VERSION: usize = 8;
const STATE: usize = 12;
const TYPE_CODE: usize = 16;
const ELEM_SIZE: usize = 20;
const ELEM_ALIGN: usize = 24;
const HEADER_SIZE_FIELD: usize = 28;
const LEN: usize = 32;
const DATA_OFFSET: usize = 40;
const CHECKSUM: usize = 48;
const LAYOUT: usize = 56;
const STRIPES: usize = 60;
const FLAGS: usize = 64;
/// Bytes of the header, which is also where this build puts the first cell.
const HEADER_SIZE: u64 = 384;
/// How long opens of hostile regions wait for a creator (none is coming).
const SHORT: Duration = Duration::from_millis(50);

fn get_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn get_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

fn put_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(bytes: &mut [u8], at: usize, v: u64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// The format's checksum of a header: FNV-1a 64 over every fixed field but `state`, each
/// widened to a little-endian u64.
fn checksum_of(bytes: &[u8]) -> u64 {
    let fields = [
        get_u64(bytes, MAGIC),
        u64::from(get_u32(bytes, VERSION)),
        u64::from(get_u32(bytes, TYPE_CODE)),
        u64::from(get_u32(bytes, ELEM_SIZE)),
        u64::from(get_u32(bytes, ELEM_ALIGN)),
        u64::from(get_u32(bytes, HEADER_SIZE_FIELD)),
        get_u64(bytes, LEN),
        get_u64(bytes, DATA_OFFSET),
        u64::from(get_u32(bytes, LAYOUT)),
        u64::from(get_u32(bytes, STRIPES)),
        u64::from(get_u32(bytes, FLAGS)),
    ];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in fields.iter().flat_map(|f| f.to_le_bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Stores the checksum of the header's current fields: a forgery that passes the check.
fn reseal(bytes: &mut [u8]) {
    let sum = checksum_of(bytes);
    put_u64(bytes, CHECKSUM, sum);
}

/// A valid `u64` region file of `len` elements holding 100, 101, ..., closed again.
fn region_file(len: usize) -> TempPath {
    let path = TempPath::new("open-errors");
    let arr = SharedArray::<u64>::create_file(&path.0, len).unwrap();
    for i in 0..len {
        arr.store(i, 100 + i as u64, Relaxed);
    }
    path
}

/// Rewrites the file at `path` with `f` applied to its bytes; returns the edited bytes.
fn edit(path: &TempPath, f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut bytes = std::fs::read(&path.0).unwrap();
    f(&mut bytes);
    std::fs::write(&path.0, &bytes).unwrap();
    bytes
}

/// Opens a region that must be refused.
fn refused(path: &TempPath) -> OpenError {
    SharedArray::<u64>::open_file_timeout(&path.0, SHORT)
        .expect_err("a hostile region was accepted")
}

/// Asserts `err`'s text is not empty and mentions each of `parts`.
fn says(err: &impl Display, parts: &[&str]) {
    let text = err.to_string();
    assert!(!text.trim().is_empty(), "empty error message");
    for part in parts {
        assert!(text.contains(part), "{text:?} does not mention {part:?}");
    }
}

#[test]
fn valid_region_opens_with_its_type_and_contents() {
    let path = region_file(4);
    let bytes = std::fs::read(&path.0).unwrap();
    assert_eq!(
        get_u64(&bytes, CHECKSUM),
        checksum_of(&bytes),
        "this test's checksum is not the format's: the forgeries below would prove nothing"
    );
    assert_eq!(bytes.len() as u64, HEADER_SIZE + 4 * 8);
    let arr = SharedArray::<u64>::open_file(&path.0).unwrap();
    assert_eq!(arr.len(), 4);
    assert_eq!(arr.type_code(), TypeCode::U64);
    assert_eq!(arr.to_vec(), [100, 101, 102, 103]);

    let name = TempName::new("valid");
    let _creator = SharedArray::create_from_slice(&name.0, &[-1.5f32, 2.0]).unwrap();
    assert_eq!(
        SharedArray::<f32>::open(&name.0).unwrap().to_vec(),
        [-1.5, 2.0]
    );
}

#[test]
fn missing_name_or_file_is_not_found() {
    let name = TempName::new("missing");
    let err = SharedArray::<u64>::open(&name.0).unwrap_err();
    assert!(matches!(err, OpenError::NotFound { .. }), "{err:?}");
    says(&err, &[]);
    let path = TempPath::new("missing-file");
    let err = SharedArray::<u64>::open_file(&path.0).unwrap_err();
    assert!(matches!(err, OpenError::NotFound { .. }), "{err:?}");
    let in_missing_dir = path.0.join("below");
    let err = SharedArray::<u64>::open_file(in_missing_dir).unwrap_err();
    assert!(matches!(err, OpenError::NotFound { .. }), "{err:?}");
}

#[test]
fn file_shorter_than_the_header_is_too_short() {
    let path = TempPath::new("short");
    for size in [0, 1, 100, HEADER_SIZE - 1] {
        std::fs::write(&path.0, vec![0u8; size as usize]).unwrap();
        let err = refused(&path);
        match err {
            OpenError::TooShort {
                size: s, needed, ..
            } => {
                assert_eq!((s, needed), (size, HEADER_SIZE))
            }
            ref e => panic!("a file of {size} bytes: expected TooShort, got {e:?}"),
        }
        says(&err, &[&size.to_string(), &HEADER_SIZE.to_string()]);
    }
}

#[test]
fn file_shorter_than_its_cells_is_too_short() {
    let path = region_file(10);
    let full = std::fs::metadata(&path.0).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path.0)
        .unwrap();
    file.set_len(full - 1).unwrap();
    match refused(&path) {
        OpenError::TooShort { size, needed, .. } => assert_eq!((size, needed), (full - 1, full)),
        e => panic!("expected TooShort, got {e:?}"),
    }
}

#[test]
fn forged_header_claiming_more_cells_than_the_file_holds_is_too_short() {
    let path = region_file(2);
    let size = std::fs::metadata(&path.0).unwrap().len();
    edit(&path, |b| {
        put_u64(b, LEN, 1_000_000);
        reseal(b);
    });
    let err = refused(&path);
    match err {
        OpenError::TooShort {
            size: s, needed, ..
        } => {
            assert_eq!((s, needed), (size, HEADER_SIZE + 8 * 1_000_000))
        }
        ref e => panic!("expected TooShort, got {e:?}"),
    }
    says(
        &err,
        &[&size.to_string(), &(HEADER_SIZE + 8_000_000).to_string()],
    );

    // One cell too many, at the exact boundary.
    edit(&path, |b| {
        put_u64(b, LEN, 3);
        reseal(b);
    });
    match refused(&path) {
        OpenError::TooShort { needed, .. } => assert_eq!(needed, size + 8),
        e => panic!("expected TooShort, got {e:?}"),
    }
}

#[test]
fn forged_layouts_this_build_cannot_use_are_bad_layouts() {
    type Forge = fn(&mut Vec<u8>);
    let edits: [(&str, Forge); 9] = [
        ("cells inside the header", |b| put_u64(b, DATA_OFFSET, 8)),
        ("misaligned cells", |b| {
            put_u64(b, DATA_OFFSET, HEADER_SIZE + 4)
        }),
        ("another header size", |b| {
            put_u32(b, HEADER_SIZE_FIELD, 448)
        }),
        ("another element size", |b| put_u32(b, ELEM_SIZE, 4)),
        ("another element alignment", |b| put_u32(b, ELEM_ALIGN, 4)),
        ("a byte size that overflows", |b| {
            put_u64(b, LEN, u64::MAX / 4)
        }),
        ("a dense region with two stripes", |b| {
            put_u32(b, STRIPES, 2)
        }),
        ("a dense region with no stripe", |b| put_u32(b, STRIPES, 0)),
        ("a flag this build does not know", |b| put_u32(b, FLAGS, 3)),
    ];
    for (what, forge) in edits {
        let path = region_file(2);
        edit(&path, |b| {
            forge(b);
            reseal(b);
        });
        let err = refused(&path);
        match err {
            OpenError::BadLayout { reason, .. } => says(&err, &[reason]),
            ref e => panic!("{what}: expected BadLayout, got {e:?}"),
        }
    }
}

#[test]
fn wrong_magic_is_bad_magic() {
    let path = region_file(1);
    edit(&path, |b| b[MAGIC..MAGIC + 8].copy_from_slice(b"NOTARRAY"));
    let err = refused(&path);
    match err {
        OpenError::BadMagic { found, .. } => assert_eq!(found, u64::from_le_bytes(*b"NOTARRAY")),
        ref e => panic!("expected BadMagic, got {e:?}"),
    }
    says(&err, &[&format!("{:x}", u64::from_le_bytes(*b"NOTARRAY"))]);

    // A published header with no magic at all.
    edit(&path, |b| put_u64(b, MAGIC, 0));
    assert!(matches!(
        refused(&path),
        OpenError::BadMagic { found: 0, .. }
    ));
}

#[test]
fn other_layout_version_is_unsupported() {
    for version in [0, 1, 2, 7, u32::MAX] {
        let path = region_file(1);
        edit(&path, |b| put_u32(b, VERSION, version));
        let err = refused(&path);
        match err {
            OpenError::UnsupportedVersion {
                found, supported, ..
            } => {
                assert_eq!((found, supported), (version, 3))
            }
            ref e => panic!("version {version}: expected UnsupportedVersion, got {e:?}"),
        }
        says(&err, &[&version.to_string()]);
    }
}

#[test]
fn any_changed_field_is_a_bad_checksum() {
    // Every checksummed field after magic and version (which have their own errors), and
    // the checksum itself.
    let fields = [
        ("type_code", TYPE_CODE),
        ("elem_size", ELEM_SIZE),
        ("elem_align", ELEM_ALIGN),
        ("header_size", HEADER_SIZE_FIELD),
        ("len", LEN),
        ("data_offset", DATA_OFFSET),
        ("layout", LAYOUT),
        ("stripes", STRIPES),
        ("flags", FLAGS),
        ("checksum", CHECKSUM),
    ];
    for (name, at) in fields {
        let path = region_file(4);
        let bytes = edit(&path, |b| b[at] ^= 0x10);
        let err = refused(&path);
        match err {
            OpenError::BadChecksum {
                stored, computed, ..
            } => {
                assert_eq!(stored, get_u64(&bytes, CHECKSUM), "{name}");
                assert_eq!(computed, checksum_of(&bytes), "{name}");
            }
            ref e => panic!("{name} changed: expected BadChecksum, got {e:?}"),
        }
        says(&err, &[&format!("{:x}", get_u64(&bytes, CHECKSUM))]);
    }
}

#[test]
fn other_element_type_is_wrong_type() {
    let path = region_file(4);
    let err = SharedArray::<i32>::open_file(&path.0).unwrap_err();
    match err {
        OpenError::WrongType {
            expected, found, ..
        } => {
            assert_eq!((expected, found), (TypeCode::I32, u32::from(b'Q')))
        }
        ref e => panic!("expected WrongType, got {e:?}"),
    }
    says(&err, &["'Q'", "'i'"]);
    // Same size, other signedness or kind: still refused.
    for err in [
        SharedArray::<i64>::open_file(&path.0).map(drop),
        SharedArray::<f64>::open_file(&path.0).map(drop),
        SharedArray::<u8>::open_file(&path.0).map(drop),
    ] {
        assert!(
            matches!(err, Err(OpenError::WrongType { found, .. }) if found == u32::from(b'Q')),
            "{err:?}"
        );
    }
    // A forged word that is no type code at all, resealed so that only the type is wrong.
    edit(&path, |b| {
        put_u32(b, TYPE_CODE, 0x5a5a);
        reseal(b);
    });
    let err = refused(&path);
    match err {
        OpenError::WrongType {
            expected, found, ..
        } => {
            assert_eq!((expected, found), (TypeCode::U64, 0x5a5a))
        }
        ref e => panic!("expected WrongType, got {e:?}"),
    }
    says(&err, &["5a5a"]);
}

#[test]
fn striped_region_opened_as_dense_is_wrong_layout() {
    // What a striped region's header says (layout 1, four stripes), resealed: the header is
    // genuine in every other respect, only the kind differs. Then a word no layout uses.
    let cases: [(u32, u32, &[&str]); 2] = [
        (Layout::Striped.code(), 4, &["striped", "dense"]),
        (0x77, 1, &["0x77", "dense"]),
    ];
    for (layout, stripes, text) in cases {
        let path = region_file(4);
        edit(&path, |b| {
            put_u32(b, LAYOUT, layout);
            put_u32(b, STRIPES, stripes);
            reseal(b);
        });
        let err = refused(&path);
        match err {
            OpenError::WrongLayout {
                expected, found, ..
            } => {
                assert_eq!((expected, found), (Layout::Dense, layout))
            }
            ref e => panic!("layout {layout}: expected WrongLayout, got {e:?}"),
        }
        says(&err, text);
    }
}

#[test]
fn each_kind_opened_as_the_other_is_wrong_layout() {
    let striped = TempPath::new("striped-as-dense");
    let _s = StripedArray::<u64>::options()
        .stripes(4)
        .create_file(&striped.0, 3)
        .unwrap();
    let err = SharedArray::<u64>::open_file(&striped.0).unwrap_err();
    match err {
        OpenError::WrongLayout {
            expected, found, ..
        } => {
            assert_eq!((expected, found), (Layout::Dense, Layout::Striped.code()))
        }
        ref e => panic!("expected WrongLayout, got {e:?}"),
    }
    says(&err, &["striped", "dense"]);

    let dense = region_file(3);
    let err = StripedArray::<u64>::open_file(&dense.0).unwrap_err();
    match err {
        OpenError::WrongLayout {
            expected, found, ..
        } => {
            assert_eq!((expected, found), (Layout::Striped, Layout::Dense.code()))
        }
        ref e => panic!("expected WrongLayout, got {e:?}"),
    }
    says(&err, &["dense", "striped"]);

    // By name too, and the type is checked as well.
    let name = TempName::new("striped-named");
    let _n = StripedArray::<i32>::create(&name.0, 2).unwrap();
    assert!(matches!(
        SharedArray::<i32>::open(&name.0),
        Err(OpenError::WrongLayout { .. })
    ));
    assert!(matches!(
        StripedArray::<u32>::open(&name.0),
        Err(OpenError::WrongType { .. })
    ));
}

#[test]
fn forged_striped_headers_are_refused() {
    // A striped u64 region of 3 elements in 4 stripes: each stripe one 128-byte block.
    let make = || {
        let path = TempPath::new("striped-forged");
        StripedArray::<u64>::options()
            .stripes(4)
            .create_file(&path.0, 3)
            .unwrap();
        path
    };
    let path = make();
    assert_eq!(
        std::fs::metadata(&path.0).unwrap().len(),
        HEADER_SIZE + 4 * 128
    );
    assert_eq!(
        StripedArray::<u64>::open_file(&path.0).unwrap().stripes(),
        4
    );

    for stripes in [0, 3, 2048] {
        let path = make();
        edit(&path, |b| {
            put_u32(b, STRIPES, stripes);
            reseal(b);
        });
        match StripedArray::<u64>::options()
            .open_timeout(SHORT)
            .open_file(&path.0)
        {
            Err(OpenError::BadLayout { reason, .. }) => {
                assert!(reason.contains("stripe"), "{reason}")
            }
            other => panic!("{stripes} stripes: expected BadLayout, got {other:?}"),
        }
    }

    // More stripes than the file holds: the size check counts every stripe.
    let path = make();
    edit(&path, |b| {
        put_u32(b, STRIPES, 8);
        reseal(b);
    });
    match StripedArray::<u64>::options()
        .open_timeout(SHORT)
        .open_file(&path.0)
    {
        Err(OpenError::TooShort { size, needed, .. }) => {
            assert_eq!(
                (size, needed),
                (HEADER_SIZE + 4 * 128, HEADER_SIZE + 8 * 128)
            )
        }
        other => panic!("expected TooShort, got {other:?}"),
    }
}

/// What a creator that died before writing anything leaves (zeros), and a complete header
/// whose creator never published it.
fn never_published() -> [TempPath; 2] {
    let zeros = TempPath::new("never-ready");
    std::fs::write(&zeros.0, vec![0u8; HEADER_SIZE as usize]).unwrap();
    let unpublished = region_file(2);
    edit(&unpublished, |b| put_u32(b, STATE, 0));
    [zeros, unpublished]
}

#[test]
fn region_never_published_with_a_live_creator_is_not_ready_after_the_timeout() {
    for path in never_published() {
        // A live creator holds the region's shared "in use" lock from before it sizes the
        // file until it is done: this test plays that creator.
        let creator = std::fs::File::open(&path.0).unwrap();
        // SAFETY: flock on a descriptor this test owns has no memory-safety preconditions.
        let locked = unsafe { libc::flock(creator.as_raw_fd(), libc::LOCK_SH) };
        assert_eq!(locked, 0);
        let err = refused(&path);
        match err {
            OpenError::NotReady { waited, .. } => {
                assert!(
                    waited >= SHORT,
                    "gave up after {waited:?}, before its timeout"
                );
                says(&err, &[&format!("{waited:?}")]);
            }
            ref e => panic!("expected NotReady, got {e:?}"),
        }
    }
}

#[test]
fn region_never_published_that_nobody_has_open_is_abandoned_at_once() {
    for path in never_published() {
        // An open timeout no test would wait out: waiting for it would hang this test until
        // the receive below gives up.
        let (tx, rx) = std::sync::mpsc::channel();
        let p = path.0.clone();
        std::thread::spawn(move || {
            let opened = SharedArray::<u64>::open_file_timeout(&p, Duration::from_secs(3600));
            tx.send(opened.map(drop)).unwrap()
        });
        let err = rx
            .recv_timeout(common::DEADLINE)
            .expect("open waited for a creator that is gone")
            .unwrap_err();
        assert!(matches!(err, OpenError::Abandoned { .. }), "{err:?}");
        says(&err, &[&path.0.display().to_string(), "nobody has it open"]);
    }
}

#[test]
fn unknown_state_word_is_a_bad_state() {
    for state in [0xdead_beef, 1, u32::from_le_bytes(*b"REDY") + 1] {
        let path = region_file(1);
        edit(&path, |b| put_u32(b, STATE, state));
        let err = refused(&path);
        assert!(
            matches!(err, OpenError::BadState { found, .. } if found == state),
            "{state:#x}: {err:?}"
        );
        says(&err, &[&format!("{state:x}")]);
    }
}

#[test]
fn malformed_names_are_invalid() {
    let too_long = "x".repeat(256);
    let too_long_slashed = format!("/{too_long}");
    for name in [
        "",
        "/",
        "a/b",
        "/a/b",
        "a/",
        ".",
        "..",
        "nul\0byte",
        too_long.as_str(),
        too_long_slashed.as_str(),
    ] {
        match SharedArray::<u8>::open(name) {
            Err(OpenError::InvalidName(e)) => {
                assert_eq!(e.name, name);
                assert!(!e.reason.is_empty());
            }
            other => panic!("open({name:?}): expected InvalidName, got {other:?}"),
        }
        assert!(
            matches!(
                SharedArray::<u8>::create(name, 1),
                Err(CreateError::InvalidName(_))
            ),
            "create accepted {name:?}"
        );
        assert!(
            matches!(
                SharedArray::<u8>::unlink(name),
                Err(OpenError::InvalidName(_))
            ),
            "unlink accepted {name:?}"
        );
    }
    says(&SharedArray::<u8>::open("a/b").unwrap_err(), &["a/b"]);
    // The limit is exactly 255 bytes, with or without the leading slash: such a name is
    // merely absent.
    let longest = format!("shmarray-{}-{}", std::process::id(), "x".repeat(255));
    let longest = &longest[..255];
    for name in [longest.to_owned(), format!("/{longest}")] {
        assert!(
            matches!(
                SharedArray::<u8>::open(&name),
                Err(OpenError::NotFound { .. })
            ),
            "a {}-byte name",
            name.len()
        );
    }
}

#[test]
fn symbolic_link_is_refused() {
    let target = region_file(1);
    let link = TempPath::new("symlink");
    std::os::unix::fs::symlink(&target.0, &link.0).unwrap();
    match SharedArray::<u64>::open_file(&link.0) {
        Err(OpenError::Io { source, .. }) => assert_eq!(source.raw_os_error(), Some(libc::ELOOP)),
        other => panic!("expected Io(ELOOP), got {other:?}"),
    }
    // Nor is a region created through a link, even a dangling one.
    let dangling = TempPath::new("dangling-target");
    let link2 = TempPath::new("dangling-link");
    std::os::unix::fs::symlink(&dangling.0, &link2.0).unwrap();
    assert!(matches!(
        SharedArray::<u64>::create_file(&link2.0, 1),
        Err(CreateError::AlreadyExists { .. })
    ));
    assert!(!dangling.0.exists(), "created through a symbolic link");
}

/// A named region is checked like a file: corrupted under `/dev/shm` (where glibc keeps
/// POSIX shared memory), or found empty, it is refused.
#[cfg(target_os = "linux")]
#[test]
fn hostile_named_regions_are_refused() {
    let name = TempName::new("hostile");
    drop(SharedArray::<u64>::create(&name.0, 2).unwrap());
    let file = std::path::Path::new("/dev/shm").join(&name.0);
    let mut bytes = std::fs::read(&file).unwrap();
    put_u32(&mut bytes, VERSION, 9);
    std::fs::write(&file, &bytes).unwrap();
    assert!(matches!(
        SharedArray::<u64>::open(&name.0),
        Err(OpenError::UnsupportedVersion { found: 9, .. })
    ));

    let empty = TempName::new("empty");
    std::fs::File::create(std::path::Path::new("/dev/shm").join(&empty.0)).unwrap();
    match SharedArray::<u64>::open_timeout(&empty.0, SHORT) {
        Err(OpenError::TooShort { size, needed, .. }) => {
            assert_eq!((size, needed), (0, HEADER_SIZE))
        }
        other => panic!("expected TooShort, got {other:?}"),
    }
}

#[test]
fn create_over_an_existing_region_fails_and_leaves_it_untouched() {
    let name = TempName::new("exists");
    let first = SharedArray::<u32>::create_from_slice(&name.0, &[1, 2, 3]).unwrap();
    let again = [
        SharedArray::<u32>::create(&name.0, 9).map(drop),
        SharedArray::<u32>::create_from_slice(&name.0, &[7; 3]).map(drop),
        SharedArray::<u8>::create(&name.0, 1).map(drop),
    ];
    for err in again {
        match err {
            Err(e @ CreateError::AlreadyExists { .. }) => says(&e, &[]),
            other => panic!("expected AlreadyExists, got {other:?}"),
        }
    }
    assert_eq!(first.to_vec(), [1, 2, 3]);
    let reopened = SharedArray::<u32>::open(&name.0).expect("the failed creates removed it");
    assert_eq!(reopened.to_vec(), [1, 2, 3]);

    let path = region_file(2);
    let before = std::fs::read(&path.0).unwrap();
    for err in [
        SharedArray::<u64>::create_file(&path.0, 5).map(drop),
        SharedArray::<i8>::create_file(&path.0, 1).map(drop),
    ] {
        assert!(
            matches!(err, Err(CreateError::AlreadyExists { .. })),
            "{err:?}"
        );
    }
    assert_eq!(std::fs::read(&path.0).unwrap(), before);
    assert_eq!(
        SharedArray::<u64>::open_file(&path.0).unwrap().to_vec(),
        [100, 101]
    );
}

#[test]
fn sizes_that_overflow_are_too_large_and_leave_nothing_behind() {
    // The first length whose region exceeds isize::MAX bytes, and two far beyond it.
    let first_too_large = (isize::MAX as usize - HEADER_SIZE as usize) / 8 + 1;
    for len in [first_too_large, usize::MAX / 8, usize::MAX] {
        let is_too_large = |r: Result<(), CreateError>| {
            let err = r.expect_err("an impossible length was accepted");
            assert!(
                matches!(err, CreateError::TooLarge { len: l, elem_size: 8, .. } if l == len),
                "len {len}: expected TooLarge, got {err:?}"
            );
            says(&err, &[&len.to_string()]);
        };
        is_too_large(SharedArray::<u64>::new(len).map(drop));
        let name = TempName::new("huge");
        is_too_large(SharedArray::<u64>::create(&name.0, len).map(drop));
        assert!(matches!(
            SharedArray::<u64>::open(&name.0),
            Err(OpenError::NotFound { .. })
        ));
        let path = TempPath::new("huge-file");
        is_too_large(SharedArray::<u64>::create_file(&path.0, len).map(drop));
        assert!(!path.0.exists(), "a refused create_file left a file");
    }
}

/// Heap arrays refuse impossible lengths as mapped ones do: an error, not a "capacity
/// overflow" panic or an allocation abort.
#[test]
fn heap_sizes_that_overflow_are_too_large() {
    for len in [usize::MAX, usize::MAX / 2, isize::MAX as usize / 8 + 1] {
        let err = SharedArray::<u64>::new_heap(len).expect_err("an impossible length");
        assert!(
            matches!(err, CreateError::TooLarge { len: l, elem_size: 8, .. } if l == len),
            "len {len}: {err:?}"
        );
    }
    for len in [usize::MAX, usize::MAX / 2] {
        let err = SharedArray::<u16>::new_heap(len).expect_err("an impossible length");
        assert!(matches!(err, CreateError::TooLarge { .. }), "{err:?}");
    }
}

/// A region larger than the memory the system can give is refused before anything is
/// allocated. A memfd has no size limit of its own: without the check, `new` fills it
/// until the out-of-memory killer ends the process. The attempt runs in a re-executed child
/// so that, were the check ever lost, only the child is at risk: the parent kills it as
/// soon as the system's available memory falls by 2 GiB while it runs (a guard for the
/// machine, not a timing assertion), and the test fails.
#[test]
fn regions_larger_than_memory_are_out_of_space_not_an_oom_kill() {
    const TEST: &str = "regions_larger_than_memory_are_out_of_space_not_an_oom_kill";
    // 8 TiB of u64 cells: more than any machine that runs these tests has.
    const HUGE: usize = 1 << 40;
    if let Some((_, arg)) = role() {
        let err = match arg.as_str() {
            "memfd" => SharedArray::<u64>::new(HUGE).map(drop),
            "named" => {
                let name = TempName::new("memory");
                SharedArray::<u64>::create(&name.0, HUGE).map(drop)
            }
            other => panic!("unknown case {other}"),
        }
        .expect_err("an 8 TiB region was created");
        assert!(
            matches!(err, CreateError::OutOfSpace { bytes, .. } if bytes >= HUGE * 8),
            "{err:?}"
        );
        return;
    }
    for case in ["memfd", "named"] {
        let mut child = reexec(TEST, "huge", case);
        let start = mem_available();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if mem_available() + (2 << 30) < start {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("{case}: the child was filling memory for an 8 TiB region: killed");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(status.success(), "{case}: child failed: {status}");
    }
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
fn mem_available() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("MemAvailable:"))
        .unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// A creator sizes its file just after creating it: an opener that finds it still empty
/// waits (within its timeout) instead of calling it too short.
#[test]
fn open_waits_out_a_creator_that_has_not_sized_its_file_yet() {
    let valid = region_file(3);
    let bytes = std::fs::read(&valid.0).unwrap();
    let path = TempPath::new("unsized");
    std::fs::write(&path.0, []).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(30));
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(&path.0)
                .unwrap();
            f.write_all(&bytes).unwrap();
        });
        let arr = SharedArray::<u64>::open_file_timeout(&path.0, Duration::from_secs(10))
            .expect("an opener gave up on a file being created");
        assert_eq!(arr.to_vec(), [100, 101, 102]);
    });
}
