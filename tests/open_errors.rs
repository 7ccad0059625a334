//! Every way `open` and `open_file` refuse a region, each with its specific error, and the
//! creation errors that do not need a full filesystem (those are in `environment.rs`).
//!
//! Hostile files are made by creating a valid region and then editing its header at the
//! offsets documented in `src/header.rs`.

mod common;

use common::{TempName, TempPath};
use shmarray::{CreateError, OpenError, SharedArray, TypeCode};
use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::time::Duration;

const MAGIC: usize = 0;
const VERSION: usize = 8;
const STATE: usize = 12;
const TYPE_CODE: usize = 16;
const ELEM_SIZE: usize = 20;
const LEN: usize = 32;
const DATA_OFFSET: usize = 40;
const CHECKSUM: usize = 48;
const HEADER_SIZE: u64 = 384;

/// A valid `u64` region file of `len` elements, closed again.
fn region_file(len: usize) -> TempPath {
    let path = TempPath::new("open-errors");
    SharedArray::<u64>::create_file(&path.0, len).unwrap();
    path
}

fn read_u64(path: &TempPath, at: usize) -> u64 {
    let bytes = std::fs::read(&path.0).unwrap();
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

fn read_u32(path: &TempPath, at: usize) -> u32 {
    let bytes = std::fs::read(&path.0).unwrap();
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn write_at(path: &TempPath, at: usize, bytes: &[u8]) {
    let mut f = OpenOptions::new().write(true).open(&path.0).unwrap();
    f.seek(SeekFrom::Start(at as u64)).unwrap();
    f.write_all(bytes).unwrap();
}

/// FNV-1a over the checksummed fields, as the format defines it, to forge headers that pass
/// the checksum.
fn forged_checksum(path: &TempPath) -> u64 {
    let fields = [
        read_u64(path, MAGIC),
        u64::from(read_u32(path, VERSION)),
        u64::from(read_u32(path, TYPE_CODE)),
        u64::from(read_u32(path, ELEM_SIZE)),
        u64::from(read_u32(path, 24)),
        u64::from(read_u32(path, 28)),
        read_u64(path, LEN),
        read_u64(path, DATA_OFFSET),
    ];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in fields.iter().flat_map(|f| f.to_le_bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn open(path: &TempPath) -> OpenError {
    SharedArray::<u64>::open_file_timeout(&path.0, Duration::from_millis(50))
        .expect_err("a hostile region was accepted")
}

#[test]
fn valid_region_opens_and_the_forged_checksum_matches_the_format() {
    let path = region_file(4);
    assert_eq!(read_u64(&path, CHECKSUM), forged_checksum(&path));
    let arr = SharedArray::<u64>::open_file(&path.0).unwrap();
    assert_eq!(arr.len(), 4);
    assert_eq!(arr.type_code(), TypeCode::U64);
}

#[test]
fn missing_name_or_file_is_not_found() {
    assert!(matches!(
        SharedArray::<u64>::open(&TempName::new("missing").0),
        Err(OpenError::NotFound(_))
    ));
    let path = TempPath::new("missing-file");
    assert!(matches!(
        SharedArray::<u64>::open_file(&path.0),
        Err(OpenError::NotFound(_))
    ));
}

#[test]
fn file_shorter_than_the_header_is_too_short() {
    let path = TempPath::new("short");
    std::fs::write(&path.0, [0u8; 100]).unwrap();
    match open(&path) {
        OpenError::TooShort { size, needed } => assert_eq!((size, needed), (100, HEADER_SIZE)),
        e => panic!("expected TooShort, got {e:?}"),
    }
    std::fs::write(&path.0, []).unwrap();
    assert!(matches!(open(&path), OpenError::TooShort { size: 0, .. }));
}

#[test]
fn file_shorter_than_its_cells_is_too_short() {
    let path = region_file(10);
    let full = std::fs::metadata(&path.0).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&path.0)
        .unwrap()
        .set_len(full - 8)
        .unwrap();
    match open(&path) {
        OpenError::TooShort { size, needed } => assert_eq!((size, needed), (full - 8, full)),
        e => panic!("expected TooShort, got {e:?}"),
    }
}

#[test]
fn forged_header_claiming_more_cells_than_the_file_holds_is_too_short() {
    let path = region_file(2);
    write_at(&path, LEN, &1_000_000u64.to_le_bytes());
    write_at(&path, CHECKSUM, &forged_checksum(&path).to_le_bytes());
    match open(&path) {
        OpenError::TooShort { needed, .. } => assert_eq!(needed, HEADER_SIZE + 8_000_000),
        e => panic!("expected TooShort, got {e:?}"),
    }
    // A length whose byte size overflows is refused too, never wrapped around.
    write_at(&path, LEN, &(u64::MAX / 4).to_le_bytes());
    write_at(&path, CHECKSUM, &forged_checksum(&path).to_le_bytes());
    assert!(matches!(open(&path), OpenError::BadLayout { .. }));
}

#[test]
fn forged_header_with_misplaced_cells_is_a_bad_layout() {
    let path = region_file(2);
    write_at(&path, DATA_OFFSET, &8u64.to_le_bytes()); // cells inside the header
    write_at(&path, CHECKSUM, &forged_checksum(&path).to_le_bytes());
    assert!(matches!(open(&path), OpenError::BadLayout { .. }));
    write_at(&path, DATA_OFFSET, &(HEADER_SIZE + 4).to_le_bytes()); // misaligned
    write_at(&path, CHECKSUM, &forged_checksum(&path).to_le_bytes());
    assert!(matches!(open(&path), OpenError::BadLayout { .. }));
}

#[test]
fn wrong_magic_is_bad_magic() {
    let path = region_file(1);
    write_at(&path, MAGIC, b"NOTARRAY");
    match open(&path) {
        OpenError::BadMagic { found } => assert_eq!(found, u64::from_le_bytes(*b"NOTARRAY")),
        e => panic!("expected BadMagic, got {e:?}"),
    }
}

#[test]
fn other_layout_version_is_unsupported() {
    let path = region_file(1);
    write_at(&path, VERSION, &7u32.to_le_bytes());
    match open(&path) {
        OpenError::UnsupportedVersion { found, supported } => {
            assert_eq!((found, supported), (7, 1))
        }
        e => panic!("expected UnsupportedVersion, got {e:?}"),
    }
}

#[test]
fn corrupted_field_is_a_bad_checksum() {
    let path = region_file(4);
    write_at(&path, LEN, &3u64.to_le_bytes());
    assert!(matches!(open(&path), OpenError::BadChecksum { .. }));
}

#[test]
fn other_element_type_is_wrong_type() {
    let path = region_file(4);
    match SharedArray::<i32>::open_file(&path.0) {
        Err(OpenError::WrongType { expected, found }) => {
            assert_eq!(expected, TypeCode::I32);
            assert_eq!(found, 'Q' as u32);
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    // Same size, other signedness or kind: still refused.
    assert!(matches!(
        SharedArray::<i64>::open_file(&path.0),
        Err(OpenError::WrongType { .. })
    ));
    assert!(matches!(
        SharedArray::<f64>::open_file(&path.0),
        Err(OpenError::WrongType { .. })
    ));
}

#[test]
fn region_never_published_is_not_ready_after_the_timeout() {
    let path = TempPath::new("never-ready");
    std::fs::write(&path.0, vec![0u8; HEADER_SIZE as usize]).unwrap();
    let err = SharedArray::<u64>::open_file_timeout(&path.0, Duration::from_millis(20))
        .expect_err("an unpublished region was accepted");
    match err {
        OpenError::NotReady { waited } => assert!(waited >= Duration::from_millis(20)),
        e => panic!("expected NotReady, got {e:?}"),
    }
}

#[test]
fn unknown_state_word_is_a_bad_state() {
    let path = region_file(1);
    write_at(&path, STATE, &0xdead_beefu32.to_le_bytes());
    assert!(matches!(
        open(&path),
        OpenError::BadState { found: 0xdead_beef }
    ));
}

#[test]
fn malformed_names_are_invalid() {
    let too_long = "x".repeat(256);
    for name in [
        "",
        "/",
        "a/b",
        "/a/b",
        ".",
        "..",
        "nul\0byte",
        too_long.as_str(),
    ] {
        assert!(
            matches!(
                SharedArray::<u8>::open(name),
                Err(OpenError::InvalidName(_))
            ),
            "open accepted {name:?}"
        );
        assert!(
            matches!(
                SharedArray::<u8>::create(name, 1),
                Err(CreateError::InvalidName(_))
            ),
            "create accepted {name:?}"
        );
    }
}

#[test]
fn create_over_an_existing_region_fails_and_leaves_it_untouched() {
    let name = TempName::new("exists");
    let first = SharedArray::<u32>::create_from_slice(&name.0, &[1, 2, 3]).unwrap();
    assert!(matches!(
        SharedArray::<u32>::create(&name.0, 9),
        Err(CreateError::AlreadyExists(_))
    ));
    assert_eq!(first.to_vec(), [1, 2, 3]);
    assert_eq!(
        SharedArray::<u32>::open(&name.0).unwrap().to_vec(),
        [1, 2, 3]
    );

    let path = region_file(2);
    let before = std::fs::read(&path.0).unwrap();
    assert!(matches!(
        SharedArray::<u64>::create_file(&path.0, 5),
        Err(CreateError::AlreadyExists(_))
    ));
    assert_eq!(std::fs::read(&path.0).unwrap(), before);
}

#[test]
fn sizes_that_overflow_are_too_large() {
    for len in [usize::MAX, usize::MAX / 8, isize::MAX as usize / 8 + 1] {
        assert!(matches!(
            SharedArray::<u64>::new(len),
            Err(CreateError::TooLarge { .. })
        ));
        assert!(matches!(
            SharedArray::<u64>::create(&TempName::new("huge").0, len),
            Err(CreateError::TooLarge { .. })
        ));
    }
}

#[test]
fn errors_say_what_went_wrong() {
    let path = region_file(1);
    write_at(&path, VERSION, &7u32.to_le_bytes());
    let text = open(&path).to_string();
    assert!(text.contains('7') && text.contains("version"), "{text}");
    let text = SharedArray::<i32>::open_file(&region_file(1).0)
        .unwrap_err()
        .to_string();
    assert!(text.contains("'Q'") && text.contains("'i'"), "{text}");
    let text = SharedArray::<u8>::open("a/b").unwrap_err().to_string();
    assert!(text.contains("a/b"), "{text}");
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
            let mut f = OpenOptions::new().write(true).open(&path.0).unwrap();
            f.write_all(&bytes).unwrap();
        });
        let arr = SharedArray::<u64>::open_file_timeout(&path.0, Duration::from_secs(10))
            .expect("an opener gave up on a file being created");
        assert_eq!(arr.len(), 3);
    });
}
