//! Opening a region is bounded and leaves no lock unusable.
//!
//! - A region whose lock word names a thread that no longer exists (here: a file copied
//!   while another process held its lock, which is also what a file that outlived a reboot
//!   looks like) is reclaimed by the first opener that finds nobody else using it: the lock
//!   is re-initialised, and the write that was open is reported as a death.
//! - A region that others have open is never reclaimed: their lock stays theirs.
//! - `open` never blocks without limit on the "in use" `flock`, even when another process
//!   holds it exclusively: it retries without blocking until its timeout.
#![cfg(not(loom))]

mod common;

use common::{kill, spawn, wait, Exit, TempName, TempPath, DEADLINE};
use shmarray::{LockError, OpenError, SharedArray, SnapshotError};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

/// Forks a child that takes `arr`'s lock, writes through the guard (so a locked write is
/// open), raises cell `flag` and keeps the lock until it is killed. Returns once it holds it.
fn hold_lock_in_child(arr: &SharedArray<u64>, flag: usize) -> libc::pid_t {
    let pid = spawn(|| {
        let guard = arr.lock().expect("child: lock");
        guard.set(0, 42);
        arr.store(flag, 1, SeqCst);
        // Until killed; a child whose test failed before killing it leaves with its parent.
        let parent = std::os::unix::process::parent_id();
        let end = Instant::now() + DEADLINE;
        while Instant::now() < end && std::os::unix::process::parent_id() == parent {
            std::thread::sleep(Duration::from_millis(10));
        }
        3
    });
    let end = Instant::now() + DEADLINE;
    while arr.load(flag, SeqCst) != 1 {
        assert!(Instant::now() < end, "the child never took the lock");
        std::thread::sleep(Duration::from_millis(1));
    }
    pid
}

#[test]
fn a_copy_of_a_locked_file_is_reclaimed_and_reports_the_open_write() {
    let _serial = common::serial();
    let path = TempPath::new("locked-original");
    let copy = TempPath::new("locked-copy");
    let arr = SharedArray::<u64>::create_file(&path.0, 4).unwrap();
    let holder = hold_lock_in_child(&arr, 3);

    // The copy carries the holder's lock word (a thread of a live process) and an odd
    // counter: a write was open.
    std::fs::copy(&path.0, &copy.0).unwrap();
    let copied = SharedArray::<u64>::open_file(&copy.0).unwrap();
    match copied.lock_timeout(Duration::from_secs(1)) {
        Err(LockError::OwnerDied) => {}
        Ok(_) => panic!("the open write in the copy was not reported as a death"),
        Err(e) => panic!("the copy's stale lock was not reclaimed: {e:?}"),
    }
    // Snapshots refuse the half-done write until a holder repairs it.
    assert!(matches!(copied.snapshot(), Err(SnapshotError::OwnerDied)));

    // The original, which a live process uses, was not touched: its lock is still held.
    let again = SharedArray::<u64>::open_file(&path.0).unwrap();
    assert!(matches!(again.try_lock(), Err(LockError::WouldBlock)));

    kill(holder);
    assert_eq!(
        wait(holder, Instant::now() + DEADLINE),
        Exit::Signal(libc::SIGKILL)
    );
}

#[test]
fn a_reclaimed_lock_excludes_as_before() {
    let _serial = common::serial();
    let path = TempPath::new("unlocked-original");
    let copy = TempPath::new("reclaimed-copy");
    let arr = SharedArray::<u64>::create_file(&path.0, 4).unwrap();
    let holder = hold_lock_in_child(&arr, 3);
    std::fs::copy(&path.0, &copy.0).unwrap();
    kill(holder);
    wait(holder, Instant::now() + DEADLINE);

    // The first opener reclaims; a second one, opening while the first has it open, must
    // not: the lock the first repairs and holds keeps the second out.
    let first = SharedArray::<u64>::open_file(&copy.0).unwrap();
    let second = SharedArray::<u64>::open_file(&copy.0).unwrap();
    assert!(matches!(first.try_lock(), Err(LockError::OwnerDied)));
    let mut guard = first.lock_for_repair().unwrap();
    assert!(guard.owner_died());
    guard.make_consistent();
    std::thread::scope(|s| {
        let blocked = s.spawn(|| matches!(second.try_lock(), Err(LockError::WouldBlock)));
        assert!(
            blocked.join().unwrap(),
            "the second opener took a held lock"
        );
    });
    drop(guard);
    assert_eq!(second.try_lock().unwrap().get(0), 42);
    assert_eq!(second.snapshot().unwrap(), [42, 0, 0, 1]);
}

#[test]
fn open_gives_up_on_an_exclusive_flock_at_its_timeout_instead_of_blocking() {
    let _serial = common::serial();
    let name = TempName::new("flock-ex");
    drop(SharedArray::<u64>::create(&name.0, 2).unwrap());
    let path = std::path::Path::new("/dev/shm").join(&name.0);
    let blocker = std::fs::File::open(&path).unwrap();
    // SAFETY: `blocker` is an open descriptor; flock has no memory-safety preconditions.
    let locked = unsafe { libc::flock(blocker.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(locked, 0);

    let (tx, rx) = std::sync::mpsc::channel();
    let opener_name = name.0.clone();
    std::thread::spawn(move || {
        let result = SharedArray::<u64>::open_timeout(&opener_name, Duration::from_millis(100));
        let _ = tx.send(result.map(drop));
    });
    let result = rx
        .recv_timeout(DEADLINE)
        .expect("open blocked on another process's exclusive flock");
    assert!(
        matches!(result, Err(OpenError::Busy { .. })),
        "expected Busy, got {result:?}"
    );

    // Released while an opener waits within its timeout: the opener gets the region.
    std::thread::scope(|s| {
        let opener = s.spawn(|| SharedArray::<u64>::open_timeout(&name.0, Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(50));
        drop(blocker);
        assert_eq!(opener.join().unwrap().unwrap().len(), 2);
    });
}
