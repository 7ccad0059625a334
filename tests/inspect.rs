//! `inspect` and `inspect_file`: a region's header and live state, read by another process
//! (or this one) without knowing the element type and without changing anything.

mod common;

use common::{kill_child, lock_in_child, TempName, TempPath};
use shmarray::{
    inspect, inspect_file, remove_stale, Layout, LockState, OpenError, SharedArray, SnapshotError,
    TypeCode,
};
use std::os::unix::fs::PermissionsExt;

#[test]
fn header_fields_of_a_named_region_in_use_and_after() {
    let _serial = common::serial();
    let name = TempName::new("inspect-fields");
    let arr = SharedArray::<i16>::create(&name.0, 1000).unwrap();
    let info = inspect(&name.0).unwrap();
    assert_eq!(info.name.as_deref(), Some(name.0.as_str()));
    assert_eq!(info.path, std::path::Path::new("/dev/shm").join(&name.0));
    assert_eq!(info.layout, Layout::Dense);
    assert_eq!(info.type_code, TypeCode::I16);
    assert_eq!(info.len, 1000);
    assert_eq!(info.stripes, 1);
    assert_eq!(info.bytes, std::fs::metadata(&info.path).unwrap().len());
    assert!(info.bytes >= 2000);
    assert!(info.seqlock);
    assert!(info.version >= 1);
    assert_eq!(info.mode, 0o600);
    // SAFETY: geteuid has no preconditions.
    assert_eq!(info.uid, unsafe { libc::geteuid() });
    assert!(info.in_use);
    assert_eq!(info.lock, LockState::Free);
    assert!(!info.write_open());
    // A leading slash names the same region.
    assert_eq!(
        inspect(&format!("/{}", name.0)).unwrap().name,
        info.name,
        "the name is reported without its slash"
    );
    drop(arr);
    assert!(!inspect(&name.0).unwrap().in_use);
}

#[test]
fn a_lock_held_by_another_process_names_its_holder() {
    let _serial = common::serial();
    let name = TempName::new("inspect-held");
    let arr = SharedArray::<u64>::create(&name.0, 4).unwrap();
    let pid = lock_in_child(&arr, None);
    let info = inspect(&name.0).unwrap();
    if cfg!(target_env = "gnu") {
        // The child is single-threaded: its thread ID is its process ID.
        assert_eq!(
            info.lock,
            LockState::Held {
                holder: Some(pid as u32)
            }
        );
    } else {
        assert!(matches!(
            info.lock,
            LockState::Held { .. } | LockState::Unknown
        ));
    }
    assert!(info.write_open(), "a guard opens a seqlock write");
    // Looking twice changes nothing.
    assert_eq!(inspect(&name.0).unwrap(), info);
    assert!(matches!(
        arr.try_lock(),
        Err(shmarray::LockError::WouldBlock)
    ));
    kill_child(pid);
}

#[test]
fn a_holder_killed_holding_the_lock_shows_as_an_unrepaired_death() {
    let _serial = common::serial();
    let name = TempName::new("inspect-died");
    let arr = SharedArray::<u64>::create(&name.0, 4).unwrap();
    // Killed half-way through a write.
    kill_child(lock_in_child(&arr, Some(9)));

    // Marked by the kernel, reported to no locker yet.
    let info = inspect(&name.0).unwrap();
    assert_eq!(info.lock, LockState::OwnerDied { held: false });
    assert!(info.write_open(), "the dead writer's write stays open");
    assert_eq!(inspect(&name.0).unwrap(), info, "looking changes nothing");

    // A snapshot's fallback lock learns of the death, records it and refuses the data; the
    // record is what inspect reads from then on.
    assert!(matches!(arr.snapshot(), Err(SnapshotError::OwnerDied)));
    let info = inspect(&name.0).unwrap();
    assert_eq!(info.lock, LockState::OwnerDied { held: false });
    assert!(info.write_open());
}

#[test]
fn a_file_region_is_inspected_by_path() {
    let _serial = common::serial();
    let path = TempPath::new("inspect-file");
    let arr = SharedArray::<f32>::create_file(&path.0, 7).unwrap();
    let info = inspect_file(&path.0).unwrap();
    assert_eq!(info.name, None);
    assert_eq!(info.path, path.0);
    assert_eq!((info.type_code, info.len), (TypeCode::F32, 7));
    assert!(info.in_use);
    drop(arr);
    let info = inspect_file(&path.0).unwrap();
    assert!(!info.in_use);
    // Inspecting a stale region leaves it as it was: it can be opened, and removed.
    drop(SharedArray::<f32>::open_file(&path.0).unwrap());
    assert!(shmarray::remove_stale_file(&path.0).unwrap());
}

#[test]
fn inspecting_needs_only_read_permission_and_takes_no_user_lock() {
    let _serial = common::serial();
    let name = TempName::new("inspect-readonly");
    drop(SharedArray::<u8>::create(&name.0, 3).unwrap());
    let path = std::path::Path::new("/dev/shm").join(&name.0);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    let info = inspect(&name.0).unwrap();
    assert_eq!(info.mode, 0o400);
    assert!(!info.in_use);
    // The probe let go of its lock: the region is still removable as stale.
    assert!(remove_stale(&name.0).unwrap());
}

#[test]
fn what_is_not_a_region_is_refused_and_left_alone() {
    let _serial = common::serial();
    // Another program's segment in /dev/shm.
    let foreign = TempName::new("inspect-foreign");
    let foreign_path = std::path::Path::new("/dev/shm").join(&foreign.0);
    std::fs::write(&foreign_path, [7u8; 4096]).unwrap();
    assert!(matches!(
        inspect(&foreign.0),
        Err(OpenError::BadMagic { found, .. }) if found == u64::from_le_bytes([7; 8])
    ));
    assert_eq!(std::fs::read(&foreign_path).unwrap(), [7u8; 4096]);

    // Too short for a header.
    let short = TempPath::new("inspect-short");
    std::fs::write(&short.0, b"SHMARRAY").unwrap();
    assert!(matches!(
        inspect_file(&short.0),
        Err(OpenError::TooShort { size: 8, .. })
    ));

    // A creator that never finished: refused at once, not waited for.
    let unready = TempPath::new("inspect-unready");
    let mut bytes = vec![0u8; 4096];
    bytes[..8].copy_from_slice(b"SHMARRAY");
    std::fs::write(&unready.0, &bytes).unwrap();
    assert!(matches!(
        inspect_file(&unready.0),
        Err(OpenError::NotReady { .. })
    ));

    // Missing, badly named, a symbolic link, a directory.
    assert!(matches!(
        inspect("shmarray-test-no-such-region"),
        Err(OpenError::NotFound { .. })
    ));
    assert!(matches!(inspect("a/b"), Err(OpenError::InvalidName(_))));
    let link = TempPath::new("inspect-link");
    std::os::unix::fs::symlink(&unready.0, &link.0).unwrap();
    assert!(matches!(inspect_file(&link.0), Err(OpenError::Io { .. })));
    assert!(matches!(
        inspect_file(std::env::temp_dir()),
        Err(OpenError::Io { .. })
    ));
}

#[test]
fn a_striped_region_shows_its_layout_and_stripes() {
    let _serial = common::serial();
    let name = TempName::new("inspect-striped");
    let arr = shmarray::StripedArray::<i32>::options()
        .stripes(8)
        .create(&name.0, 5)
        .unwrap();
    let info = inspect(&name.0).unwrap();
    assert_eq!(info.layout, Layout::Striped);
    assert_eq!(info.stripes, 8);
    assert_eq!((info.type_code, info.len), (TypeCode::I32, 5));
    assert_eq!(info.bytes, std::fs::metadata(&info.path).unwrap().len());
    assert!(info.bytes >= 8 * 5 * 4);
    assert!(info.in_use);
    assert_eq!(info.lock, LockState::Free);
    drop(arr);
    assert!(!inspect(&name.0).unwrap().in_use);
}

#[test]
fn a_region_of_every_element_type_is_described() {
    let _serial = common::serial();
    fn check<T: shmarray::Element>(len: usize) {
        let path = TempPath::new("inspect-types");
        let _arr = SharedArray::<T>::create_file(&path.0, len).unwrap();
        let info = inspect_file(&path.0).unwrap();
        assert_eq!((info.type_code, info.len), (T::TYPE_CODE, len));
    }
    check::<i8>(1);
    check::<u8>(2);
    check::<i16>(3);
    check::<u16>(4);
    check::<i32>(5);
    check::<u32>(6);
    check::<isize>(7);
    check::<usize>(8);
    check::<i64>(9);
    check::<u64>(10);
    check::<f32>(11);
    check::<f64>(12);
}
