//! What a log shows of a create or open error: each names its region (the shm name with its
//! `/dev/shm` path, or the file path), Rust type names come first, messages are lowercase
//! without a trailing period, and a chain printer that walks `source()` shows the OS error
//! once, not twice. Also: a file that clearly is no region being initialised is refused at
//! once, not after the open timeout.

mod common;

use common::{TempName, TempPath};
use shmarray::{CreateError, OpenError, Origin, SharedArray};
use std::error::Error;
use std::time::Duration;

/// The whole chain, as `anyhow`'s `{:#}` prints it: each error's `Display`, then its
/// sources', joined by ": ".
fn chain(err: &dyn Error) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        text.push_str(": ");
        text.push_str(&e.to_string());
        next = e.source();
    }
    text
}

/// Asserts the API guidelines' form of a message: starts lowercase, no trailing period.
fn well_formed(err: &dyn Error) {
    let text = err.to_string();
    let first = text.chars().next().expect("empty message");
    assert!(!first.is_uppercase(), "{text:?} starts uppercase");
    assert!(!text.ends_with('.'), "{text:?} ends with a period");
}

/// Asserts `os_text` occurs exactly once in the chain of `err`.
fn os_error_once(err: &dyn Error, os_text: &str) {
    let text = chain(err);
    assert_eq!(text.matches(os_text).count(), 1, "{text:?}");
}

fn os_text(code: i32) -> String {
    std::io::Error::from_raw_os_error(code).to_string()
}

#[test]
fn a_missing_region_is_named_and_its_os_error_shown_once() {
    let name = TempName::new("msg-missing");
    let err = SharedArray::<u64>::open(&name.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("no region named {:?} (/dev/shm/{})", name.0, name.0)
    );
    assert_eq!(err.region(), Some(&Origin::Named(name.0.clone())));
    os_error_once(&err, &os_text(libc::ENOENT));
    well_formed(&err);

    let path = TempPath::new("msg-missing-file");
    let err = SharedArray::<u64>::open_file(&path.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("no region file {:?}", path.0.display().to_string())
    );
    os_error_once(&err, &os_text(libc::ENOENT));
    well_formed(&err);
}

#[test]
fn an_existing_region_is_named_and_its_os_error_shown_once() {
    let name = TempName::new("msg-exists");
    let _first = SharedArray::<u8>::create(&name.0, 1).unwrap();
    let err = SharedArray::<u8>::create(&name.0, 1).unwrap_err();
    assert!(matches!(err, CreateError::AlreadyExists { .. }));
    assert_eq!(
        err.to_string(),
        format!("region {:?} (/dev/shm/{}) already exists", name.0, name.0)
    );
    os_error_once(&err, &os_text(libc::EEXIST));
    well_formed(&err);

    let path = TempPath::new("msg-exists-file");
    let _first = SharedArray::<u8>::create_file(&path.0, 1).unwrap();
    let err = SharedArray::<u8>::create_file(&path.0, 1).unwrap_err();
    assert!(err.to_string().contains(&path.0.display().to_string()));
    os_error_once(&err, &os_text(libc::EEXIST));
}

#[test]
fn a_failed_create_inside_open_or_create_keeps_a_single_os_error() {
    // A file under a missing directory: not found when opening, so creation is tried, and
    // creating fails with ENOENT too.
    let path = std::env::temp_dir()
        .join(format!("shmarray-no-dir-{}", std::process::id()))
        .join("a");
    let err = SharedArray::<u8>::open_or_create_file(&path, 1).unwrap_err();
    assert!(
        matches!(err, OpenError::Create(CreateError::Io { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    os_error_once(&err, &os_text(libc::ENOENT));
    well_formed(&err);
}

#[test]
fn a_wrong_type_says_rust_types_first_then_type_codes() {
    let name = TempName::new("msg-type");
    let _arr = SharedArray::<u64>::create(&name.0, 1).unwrap();
    let err = SharedArray::<i64>::open(&name.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "region {:?} (/dev/shm/{}) holds u64 elements (type code 'Q'), not i64 ('q')",
            name.0, name.0
        )
    );
    assert!(err.source().is_none());
    well_formed(&err);
}

#[test]
fn a_wrong_length_from_open_or_create_gives_both_lengths() {
    let name = TempName::new("msg-len");
    let _arr = SharedArray::<u32>::create(&name.0, 3).unwrap();
    let err = SharedArray::<u32>::open_or_create(&name.0, 4).unwrap_err();
    assert!(matches!(
        err,
        OpenError::WrongLength {
            expected: 4,
            found: 3,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        format!(
            "region {:?} (/dev/shm/{}) holds 3 elements, not 4",
            name.0, name.0
        )
    );
}

#[test]
fn hostile_files_are_named_and_refused_at_once() {
    // An open timeout no test would wait out: a refusal that waited for it would hang the
    // test until the harness's deadline instead of returning.
    const FOREVER: Duration = Duration::from_secs(3600);
    let opts = SharedArray::<u64>::options().open_timeout(FOREVER);
    let refuse = |bytes: Vec<u8>| {
        let path = TempPath::new("msg-hostile");
        std::fs::write(&path.0, bytes).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let opts = opts.clone();
        let p = path.0.clone();
        std::thread::spawn(move || tx.send(opts.open_file(&p).map(drop)).unwrap());
        let err = rx
            .recv_timeout(common::DEADLINE)
            .expect("open waited for a creator that cannot exist")
            .unwrap_err();
        assert_eq!(err.region(), Some(&Origin::File(path.0.clone())));
        assert!(
            err.to_string().contains(&path.0.display().to_string()),
            "{err}"
        );
        well_formed(&err);
        err
    };
    // Neither empty nor long enough for a header: no creator makes such a file.
    let err = refuse(vec![0u8; 100]);
    assert!(
        matches!(err, OpenError::TooShort { size: 100, .. }),
        "{err:?}"
    );
    // Long enough, and a magic number that is not ours.
    let err = refuse(vec![7u8; 4096]);
    assert!(matches!(err, OpenError::BadMagic { .. }), "{err:?}");
    // Long enough, all zeros, and nobody has it open: no creator is coming to finish it.
    let err = refuse(vec![0u8; 4096]);
    assert!(matches!(err, OpenError::Abandoned { .. }), "{err:?}");
}

#[test]
fn a_too_large_anonymous_array_says_it_is_anonymous() {
    let err = SharedArray::<u64>::new(usize::MAX / 2).unwrap_err();
    assert!(matches!(err, CreateError::TooLarge { .. }));
    assert_eq!(err.region(), Some(&Origin::Anonymous));
    assert!(err.to_string().starts_with("anonymous region of "), "{err}");
    well_formed(&err);
}

#[test]
fn stale_removal_errors_name_the_region() {
    let path = TempPath::new("msg-stale");
    std::fs::write(&path.0, [7u8; 4096]).unwrap();
    let err = shmarray::remove_stale_file(&path.0).unwrap_err();
    assert!(matches!(err, OpenError::BadMagic { .. }));
    assert!(
        err.to_string().contains(&path.0.display().to_string()),
        "{err}"
    );
    let name = TempName::new("msg-stale-missing");
    let err = shmarray::remove_stale(&name.0).unwrap_err();
    assert!(
        err.to_string().contains(&format!("/dev/shm/{}", name.0)),
        "{err}"
    );
    os_error_once(&err, &os_text(libc::ENOENT));
}
