//! Faults from the environment: other processes truncating or holding regions, a full
//! filesystem, symbolic links, permissions, and stale segments.

mod common;

use common::{reexec, role, spawn, wait, Exit, TempName, TempPath, DEADLINE};
use shmarray::{remove_stale, remove_stale_file, CreateError, OpenError, SharedArray};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::{Duration, Instant};

/// A region file truncated by another process after it was opened: touching a page past
/// the new end raises SIGBUS (documented on `region.rs`; a library cannot catch it for its
/// users). Checked in a child, which must die of exactly that.
#[test]
fn truncated_region_file_raises_sigbus_on_access() {
    let path = TempPath::new("truncate");
    let arr = SharedArray::<u64>::create_file(&path.0, 1024).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path.0)
        .unwrap()
        .set_len(0)
        .unwrap();
    let pid = spawn(|| {
        let _ = arr.get(1000);
        0
    });
    assert_eq!(
        wait(pid, Instant::now() + DEADLINE),
        Exit::Signal(libc::SIGBUS)
    );
}

/// Anonymous arrays are sealed memfds: nobody can shrink or grow them. The check runs in a
/// forked child, where no other test thread can close and reuse a descriptor number under
/// it: it probes every descriptor for seals and tries to truncate each sealed one.
#[test]
fn anonymous_arrays_refuse_truncation() {
    let arr = SharedArray::<u64>::new(512).unwrap();
    let pid = spawn(|| {
        let mut sealed = 0;
        for fd in 0..4096 {
            // SAFETY: F_GET_SEALS on any descriptor number is harmless; it fails with EBADF
            // or EINVAL where there is no sealable file.
            let seals = unsafe { libc::fcntl(fd, libc::F_GET_SEALS) };
            if seals < 0 {
                continue;
            }
            let want = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;
            if seals & want != want {
                return 2;
            }
            for len in [0, 1 << 30] {
                // SAFETY: ftruncate on our own descriptor; the seals make it fail.
                if unsafe { libc::ftruncate(fd, len) } == 0 {
                    return 3;
                }
                if std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
                    return 4;
                }
            }
            sealed += 1;
        }
        if sealed == 0 {
            5
        } else {
            0
        }
    });
    assert_eq!(wait(pid, Instant::now() + DEADLINE), Exit::Code(0));
    assert_eq!(arr.len(), 512);
}

/// A filesystem without room for the region: `create_file` says OutOfSpace and leaves no
/// file behind. Uses a 1 MiB tmpfs, which needs the right to mount (root in CI).
#[test]
fn full_filesystem_is_out_of_space_and_leaves_nothing() {
    let dir = std::env::temp_dir().join(&TempName::new("tmpfs").0);
    std::fs::create_dir(&dir).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        std::fs::remove_dir(&dir).unwrap();
        eprintln!(
            "SKIPPED full_filesystem_is_out_of_space_and_leaves_nothing: cannot mount a tmpfs here"
        );
        return;
    }
    let path = dir.join("region");
    let result = SharedArray::<u64>::create_file(&path, 1 << 20); // 8 MiB > 1 MiB
    let left = std::fs::read_dir(&dir).unwrap().count();
    let _ = std::process::Command::new("umount").arg(&dir).status();
    let _ = std::fs::remove_dir(&dir);
    assert!(
        matches!(result, Err(CreateError::OutOfSpace { .. })),
        "{result:?}"
    );
    assert_eq!(left, 0, "a half-made region file was left behind");
}

/// A named region larger than the whole of /dev/shm: OutOfSpace at create time (not SIGBUS
/// later), and no segment left behind.
#[test]
fn named_region_larger_than_dev_shm_is_out_of_space() {
    // SAFETY: statvfs writes into the zeroed struct we pass; the path is a C string literal.
    let (total, ok) = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        let ok = libc::statvfs(c"/dev/shm".as_ptr(), &mut st) == 0;
        (st.f_blocks as u64 * st.f_frsize as u64, ok)
    };
    assert!(ok, "statvfs(/dev/shm)");
    let name = TempName::new("huge");
    let len = (total / 8 + (1 << 27)) as usize; // 1 GiB more than the filesystem holds
    let result = SharedArray::<u64>::create(&name.0, len);
    assert!(
        matches!(result, Err(CreateError::OutOfSpace { .. })),
        "{result:?}"
    );
    assert!(
        !std::path::Path::new("/dev/shm").join(&name.0).exists(),
        "a half-made segment was left behind"
    );
}

#[test]
fn symbolic_links_are_not_followed() {
    let target = TempPath::new("link-target");
    std::fs::write(&target.0, b"precious").unwrap();
    let link = TempPath::new("link");
    std::os::unix::fs::symlink(&target.0, &link.0).unwrap();

    assert!(matches!(
        SharedArray::<u64>::create_file(&link.0, 4),
        Err(CreateError::AlreadyExists(_))
    ));
    match SharedArray::<u64>::open_file(&link.0) {
        Err(OpenError::Io { source, .. }) => {
            assert_eq!(source.raw_os_error(), Some(libc::ELOOP))
        }
        other => panic!("open_file followed a symlink: {other:?}"),
    }
    assert_eq!(std::fs::read(&target.0).unwrap(), b"precious");
}

#[test]
fn regions_are_private_to_their_owner() {
    let name = TempName::new("mode");
    let _arr = SharedArray::<u8>::create(&name.0, 1).unwrap();
    let meta = std::fs::metadata(std::path::Path::new("/dev/shm").join(&name.0)).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    let path = TempPath::new("mode-file");
    let _arr = SharedArray::<u8>::create_file(&path.0, 1).unwrap();
    let meta = std::fs::metadata(&path.0).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.uid(), std::fs::metadata("/proc/self").unwrap().uid());
}

/// A region held open by a live, separately started process is not stale; once that
/// process is SIGKILLed, it is, and `remove_stale` removes it.
#[test]
fn remove_stale_spares_live_regions_and_removes_dead_ones() {
    const TEST: &str = "remove_stale_spares_live_regions_and_removes_dead_ones";
    if let Some((_, name)) = role() {
        let arr = SharedArray::<u64>::open(&name).expect("child open");
        arr.store(0, 1, Release); // "I hold it"
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    let name = TempName::new("stale");
    let arr = SharedArray::<u64>::create(&name.0, 1).unwrap();
    let mut holder = reexec(TEST, "hold", &name.0);
    let deadline = Instant::now() + DEADLINE;
    while arr.load(0, Acquire) == 0 {
        assert!(Instant::now() < deadline, "holder never opened the region");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(!remove_stale(&name.0).unwrap(), "removed while we hold it");
    drop(arr);
    assert!(
        !remove_stale(&name.0).unwrap(),
        "removed while the holder lives"
    );
    assert!(SharedArray::<u64>::open(&name.0).is_ok());

    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(
        remove_stale(&name.0).unwrap(),
        "a dead holder's region was kept"
    );
    assert!(matches!(
        SharedArray::<u64>::open(&name.0),
        Err(OpenError::NotFound(_))
    ));
    assert!(matches!(remove_stale(&name.0), Err(OpenError::NotFound(_))));
}

/// The same for region files: any open array keeps the file.
#[test]
fn remove_stale_file_spares_live_files() {
    let path = TempPath::new("stale-file");
    let arr = SharedArray::<u32>::create_file(&path.0, 1).unwrap();
    assert!(!remove_stale_file(&path.0).unwrap());
    drop(arr);
    let opened = SharedArray::<u32>::open_file(&path.0).unwrap();
    assert!(!remove_stale_file(&path.0).unwrap());
    drop(opened);
    assert!(remove_stale_file(&path.0).unwrap());
    assert!(!path.0.exists());
}
