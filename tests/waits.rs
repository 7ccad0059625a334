//! How long the blocking calls wait: `snapshot_timeout` behind a holder that cannot make
//! progress, and `lock_timeout(Duration::MAX)` as "forever". Real processes; every wait of
//! the test itself is bounded.

mod common;

use common::{kill, raise_and_wait, spawn, wait, wait_flag, Exit, DEADLINE};
use shmarray::{SharedArray, SnapshotError};
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::{Duration, Instant};

/// A holder stopped with SIGSTOP in the middle of a write: `snapshot_timeout` and
/// `snapshot_into_timeout` give up with `TimedOut` instead of waiting for it. The reader
/// runs in its own process so that a wait without end shows as a child past the deadline.
#[test]
fn snapshot_timeout_behind_a_stopped_holder_times_out() {
    let data = SharedArray::<u64>::new(2).unwrap();
    let flags = SharedArray::<u64>::new(1).unwrap();
    let holder = spawn(|| {
        let guard = data.lock().expect("holder lock");
        guard.set(0, 1); // half of a two-element write
        raise_and_wait(&flags, 0)
    });
    let deadline = Instant::now() + DEADLINE;
    wait_flag(&flags, 0, deadline);
    // SAFETY: sending a signal to our own child has no memory-safety preconditions.
    unsafe { libc::kill(holder, libc::SIGSTOP) };

    let reader = spawn(|| {
        let timeout = Duration::from_millis(100);
        let start = Instant::now();
        let whole = data.snapshot_timeout(timeout);
        let mut out = [0; 2];
        let into = data.snapshot_into_timeout(&mut out, timeout);
        match (whole, into) {
            (Err(SnapshotError::TimedOut), Err(SnapshotError::TimedOut))
                if start.elapsed() >= 2 * timeout =>
            {
                0
            }
            (Err(SnapshotError::TimedOut), Err(SnapshotError::TimedOut)) => 2, // gave up early
            _ => 1,
        }
    });
    let read = wait(reader, deadline);
    kill(holder); // SIGKILL ends a stopped process too
    assert_eq!(wait(holder, deadline), Exit::Signal(libc::SIGKILL));
    assert_eq!(
        read,
        Exit::Code(0),
        "1: not TimedOut; 2: returned before the timeout"
    );
}

/// `lock_timeout(Duration::MAX)` waits for the holder as long as it takes, instead of
/// failing at once on a deadline that overflowed.
#[test]
fn lock_timeout_max_waits_for_the_holder() {
    const HELD: usize = 0;
    const RELEASE: usize = 1;
    let data = SharedArray::<u64>::new(1).unwrap();
    let flags = SharedArray::<u64>::new(2).unwrap();
    let holder = spawn(|| {
        let guard = data.lock().expect("holder lock");
        flags.store(HELD, 1, Release);
        while flags.load(RELEASE, Acquire) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        guard.add(0, 1);
        0
    });
    let deadline = Instant::now() + DEADLINE;
    wait_flag(&flags, HELD, deadline);
    let got = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            flags.store(RELEASE, 1, Release);
        });
        data.lock_timeout(Duration::MAX).map(|g| g.get(0))
    });
    assert_eq!(wait(holder, deadline), Exit::Code(0));
    assert_eq!(got.expect("Duration::MAX must wait, not fail"), 1);
}
