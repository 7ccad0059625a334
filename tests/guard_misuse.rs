//! What safe code can do to a guard besides dropping it on its own thread: forget it, or
//! carry a copy of it into a `fork` child. Neither may cause undefined behaviour or end a
//! write that is not the dropping process's own.

mod common;

use common::{kill, raise_and_wait, reexec, role, spawn, wait, wait_child_ok, wait_flag};
use common::{Exit, TempPath, DEADLINE};
use shmarray::{LockError, SharedArray, SnapshotError};
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::{Duration, Instant};

/// Flags of the fork test.
const FORKED: usize = 0;
const GRANDCHILD_STATUS: usize = 1;

/// A process that forks while holding a guard: the child drops its copy, and the parent's
/// write stays open (no snapshot sees it half done) and its lock held.
#[test]
fn a_guard_inherited_through_fork_does_not_end_the_parents_write() {
    let data = SharedArray::<u64>::new(2).unwrap();
    let flags = SharedArray::<u64>::new(2).unwrap();
    let holder = spawn(|| {
        let guard = data.lock().expect("holder lock");
        guard.set(0, 1); // half of a two-element write

        // SAFETY: this process is a fork child with one thread; the grandchild only drops
        // the guard and leaves through `_exit`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // The copy: it must do nothing in this process.
            drop(guard);
            // SAFETY: ends the grandchild without running anything else.
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer and `pid` our child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        flags.store(GRANDCHILD_STATUS, status as u64, Release);
        raise_and_wait(&flags, FORKED)
    });
    let deadline = Instant::now() + DEADLINE;
    wait_flag(&flags, FORKED, deadline);
    // The write is still open: the snapshot must wait for the holder, not see [1, 0].
    let seen = data.snapshot_timeout(Duration::from_millis(50));
    let relock = data.try_lock().map(drop);
    kill(holder); // before any assertion, so that a failure leaves no process behind
    assert_eq!(wait(holder, deadline), Exit::Signal(libc::SIGKILL));
    assert_eq!(
        flags.load(GRANDCHILD_STATUS, Acquire),
        0,
        "the grandchild's drop failed (wait status)"
    );
    assert!(
        matches!(seen, Err(SnapshotError::TimedOut)),
        "the parent's write was ended by the child: {seen:?}"
    );
    assert!(matches!(relock, Err(LockError::WouldBlock)), "{relock:?}");
    assert!(matches!(data.lock(), Err(LockError::OwnerDied)));
}

/// In a child process: a guard forgotten on a thread whose array is then dropped, with
/// another robust mutex locked before it and unlocked after (glibc unlinks that one from
/// the thread's robust list by walking the list through the forgotten one), more locks on
/// other arrays, then the thread's exit (the kernel walks the list again). Heap and mapped
/// arrays both. The file region, reopened, reports the forgotten write as a death.
#[test]
fn forgetting_a_guard_then_dropping_its_array_is_safe() {
    const TEST: &str = "forgetting_a_guard_then_dropping_its_array_is_safe";
    if let Some((_, path)) = role() {
        std::thread::spawn(move || {
            let before = SharedArray::<u64>::new(1).unwrap();
            let held_before = before.lock().unwrap();
            let file = SharedArray::<u64>::create_file(&path, 2).unwrap();
            let forgotten = file.lock().unwrap();
            forgotten.set(0, 1);
            std::mem::forget(forgotten);
            drop(file); // unmapped with the lock still taken by this thread
            let heap = SharedArray::<u64>::new_heap(1).unwrap();
            std::mem::forget(heap.lock().unwrap());
            drop(heap); // freed likewise
            drop(held_before); // walks the robust list past both
            for _ in 0..3 {
                let other = SharedArray::<u32>::new(4).unwrap();
                other.lock().unwrap().add(0, 1);
                let heap = SharedArray::<u32>::new_heap(4).unwrap();
                heap.lock().unwrap().add(1, 1);
                assert_eq!(other.snapshot().unwrap()[0], 1);
            }
            let file = SharedArray::<u64>::open_file(&path).unwrap();
            assert!(
                matches!(file.lock(), Err(LockError::OwnerDied)),
                "the forgotten write must stay recorded"
            );
            assert!(file.lock_for_repair().unwrap().owner_died());
        })
        .join()
        .expect("the locking thread failed");
        let again = SharedArray::<u64>::new(1).unwrap();
        drop(again.lock().unwrap());
        return;
    }
    let path = TempPath::new("forget");
    let child = reexec(TEST, "forget", path.0.to_str().unwrap());
    wait_child_ok(child);
}
