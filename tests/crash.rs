//! Crash tests: real child processes SIGKILLed at named points inside the lock.
//!
//! Children are forked (see `common/mod.rs` for the rules they follow); every wait is
//! bounded.

mod common;

use common::{kill, kill_at_flag, raise_and_wait, spawn, wait, wait_flag, Exit, DEADLINE};
use shmarray::{ArrayGuard, LockError, SharedArray, SnapshotError};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::{Duration, Instant};

#[test]
fn holder_killed_right_after_locking_is_reported_once() {
    let data = SharedArray::from_slice(&[5u64, 6, 7]).unwrap();
    let flags = SharedArray::<u64>::new(1).unwrap();
    let pid = spawn(|| {
        let _guard = data.lock().expect("child lock");
        raise_and_wait(&flags, 0)
    });
    kill_at_flag(&flags, pid);

    assert!(matches!(data.lock(), Err(LockError::OwnerDied)));
    assert!(matches!(data.try_lock(), Err(LockError::OwnerDied)));
    let mut guard = data.lock_for_repair().expect("repair lock");
    assert!(guard.owner_died());
    guard.make_consistent();
    assert!(!guard.owner_died());
    drop(guard);
    let guard = data.lock().expect("repaired lock is healthy");
    drop(guard);
    assert_eq!(data.snapshot().unwrap(), [5, 6, 7]);
}

#[test]
fn writer_killed_mid_write_leaves_no_torn_snapshot() {
    let data = SharedArray::<u64>::new(8).unwrap();
    let flags = SharedArray::<u64>::new(1).unwrap();
    let pid = spawn(|| {
        let guard = data.lock().expect("child lock");
        for i in 0..4 {
            guard.set(i, 7); // half of an eight-element write: the sequence is odd
        }
        raise_and_wait(&flags, 0)
    });
    kill_at_flag(&flags, pid);

    // Readers get an error, never the half-written state, and do not hang.
    assert!(matches!(data.snapshot(), Err(SnapshotError::OwnerDied)));
    // Per-element reads do see the half-write: they promise no consistency.
    assert_eq!(data.to_vec(), [7, 7, 7, 7, 0, 0, 0, 0]);

    assert!(matches!(data.lock(), Err(LockError::OwnerDied)));
    let mut guard = data.lock_for_repair().expect("repair lock");
    assert!(guard.owner_died());
    guard.copy_from_slice(&[0; 8]); // roll the dead writer's work back
    guard.make_consistent();
    drop(guard);
    assert_eq!(data.snapshot().unwrap(), [0; 8]);
    assert!(data.lock().is_ok(), "the death is reported once");
}

#[test]
fn unrepaired_death_is_reported_to_the_next_process() {
    let data = SharedArray::<u64>::new(2).unwrap();
    let flags = SharedArray::<u64>::new(1).unwrap();
    let pid = spawn(|| {
        let _guard = data.lock().expect("child lock");
        raise_and_wait(&flags, 0)
    });
    kill_at_flag(&flags, pid);

    // The first locker looks, but does not declare the data consistent.
    assert!(matches!(data.lock(), Err(LockError::OwnerDied)));
    assert!(data.lock_for_repair().expect("repair lock").owner_died());
    // The next locker, in another process, is told too.
    let next = spawn(|| match data.lock() {
        Err(LockError::OwnerDied) => 0,
        Ok(_) => 1,
        Err(_) => 2,
    });
    assert_eq!(wait(next, Instant::now() + DEADLINE), Exit::Code(0));
    assert!(matches!(data.snapshot(), Err(SnapshotError::OwnerDied)));
}

#[test]
fn held_lock_times_out_and_try_lock_does_not_wait() {
    let data = SharedArray::<u64>::new(1).unwrap();
    let flags = SharedArray::<u64>::new(1).unwrap();
    let pid = spawn(|| {
        let _guard = data.lock().expect("child lock");
        raise_and_wait(&flags, 0)
    });
    wait_flag(&flags, 0, Instant::now() + DEADLINE);
    assert!(matches!(data.try_lock(), Err(LockError::WouldBlock)));
    assert!(matches!(
        data.lock_timeout(Duration::from_millis(20)),
        Err(LockError::TimedOut)
    ));
    kill(pid);
    assert_eq!(
        wait(pid, Instant::now() + DEADLINE),
        Exit::Signal(libc::SIGKILL)
    );
    assert!(matches!(data.lock(), Err(LockError::OwnerDied)));
}

/// Layout of the bookkeeping array in the hammering test.
const KILL_FLAG: usize = 0;
const DEATHS_SEEN: usize = 1;
const FIRST_COUNTER: usize = 2;

/// Takes the lock for repair and, if no other process repaired first, rolls the dead owner's
/// partial pass back: every element to the completed-loops count (the last cell).
fn repair<'a>(data: &'a SharedArray<u64>, book: &SharedArray<u64>) -> Option<ArrayGuard<'a, u64>> {
    let mut guard = data.lock_for_repair().ok()?;
    if guard.owner_died() {
        book.fetch_add(DEATHS_SEEN, 1, Relaxed);
        let done = data.len() - 1;
        let completed = guard.get(done);
        for i in 0..done {
            guard.set(i, completed);
        }
        guard.make_consistent();
    }
    Some(guard)
}

/// One pass of the locked loop: increment every data element and the completed-loops cell
/// (the last one), all under one guard. A locker that finds a dead owner rolls the dead
/// owner's partial pass back (see `repair`).
fn locked_pass(data: &SharedArray<u64>, book: &SharedArray<u64>, me: usize) -> Option<()> {
    let done = data.len() - 1;
    let guard = match data.lock() {
        Ok(guard) => guard,
        Err(LockError::OwnerDied) => repair(data, book)?,
        Err(_) => return None,
    };
    for i in 0..done {
        guard.add(i, 1);
    }
    guard.add(done, 1);
    // Counted inside the critical section, so it is exact even for a process killed later.
    book.fetch_add(FIRST_COUNTER + me, 1, Relaxed);
    Some(())
}

#[test]
fn killing_one_of_many_hammering_processes_loses_nothing_else() {
    const WORKERS: usize = 3;
    const LOOPS: u64 = 3_000;
    const N: usize = 16;
    let data = SharedArray::<u64>::new(N + 1).unwrap(); // N elements + completed-loops cell
    let book = SharedArray::<u64>::new(FIRST_COUNTER + WORKERS + 1).unwrap();
    let victim_id = WORKERS;

    let workers: Vec<_> = (0..WORKERS)
        .map(|me| {
            let (data, book) = (&data, &book);
            spawn(move || {
                for _ in 0..LOOPS {
                    if locked_pass(data, book, me).is_none() {
                        return 3;
                    }
                }
                0
            })
        })
        .collect();
    let victim = spawn(|| {
        for _ in 0..LOOPS / 3 {
            if locked_pass(&data, &book, victim_id).is_none() {
                return 3;
            }
        }
        // The fatal pass: half the elements, then the process is killed holding the lock.
        let guard = data.lock().expect("victim lock");
        for i in 0..N / 2 {
            guard.add(i, 1);
        }
        raise_and_wait(&book, KILL_FLAG)
    });

    let deadline = Instant::now() + DEADLINE;
    wait_flag(&book, KILL_FLAG, deadline);
    kill(victim);
    assert_eq!(wait(victim, deadline), Exit::Signal(libc::SIGKILL));
    for pid in workers {
        assert_eq!(wait(pid, deadline), Exit::Code(0), "a worker failed");
    }
    // If every worker had finished before the kill, the parent is the one to find the body.
    if let Err(LockError::OwnerDied) = data.lock() {
        drop(repair(&data, &book).expect("repair lock"));
    }

    assert_eq!(book.load(DEATHS_SEEN, Relaxed), 1, "OwnerDied exactly once");
    let completed: u64 = (0..=WORKERS)
        .map(|me| book.load(FIRST_COUNTER + me, Relaxed))
        .sum();
    assert_eq!(completed, WORKERS as u64 * LOOPS + LOOPS / 3);
    let snap = data.snapshot().expect("snapshots work again");
    assert_eq!(snap[N], completed, "a completed pass was lost");
    assert!(
        snap[..N].iter().all(|&x| x == completed),
        "the dead pass was not rolled back, or a live one was lost: {snap:?}"
    );
}

/// A guard dropped while its thread panics leaves the write open and records a death, as a
/// killed holder does, whether the panic unwinds or aborts the process.
#[test]
fn panic_while_holding_the_lock_is_a_death_with_unwind_and_with_abort() {
    for abort in [false, true] {
        let data = SharedArray::<u64>::new(4).unwrap();
        let pid = spawn(|| {
            if abort {
                // What `panic = "abort"` does after the hook: end the process at once.
                std::panic::set_hook(Box::new(|_| std::process::abort()));
            } else {
                std::panic::set_hook(Box::new(|_| {})); // quiet: the panic is expected
            }
            let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let guard = data.lock().expect("child lock");
                guard.add(0, 1);
                guard.add(1, 1);
                panic!("a bug half-way through the locked loop");
            }));
            i32::from(unwound.is_err()) * 7 // 7: unwound, guard dropped while panicking
        });
        let ended = wait(pid, Instant::now() + DEADLINE);
        let expected = if abort {
            Exit::Signal(libc::SIGABRT)
        } else {
            Exit::Code(7)
        };
        assert_eq!(ended, expected, "abort = {abort}");

        assert!(
            matches!(data.snapshot(), Err(SnapshotError::OwnerDied)),
            "the half-done loop must not be published (abort = {abort})"
        );
        assert!(
            matches!(data.lock(), Err(LockError::OwnerDied)),
            "the next locker must be told (abort = {abort})"
        );
        let mut guard = data.lock_for_repair().expect("repair lock");
        assert!(guard.owner_died());
        assert_eq!(
            guard.to_vec(),
            [1, 1, 0, 0],
            "what the loop did before the panic"
        );
        guard.copy_from_slice(&[0; 4]);
        guard.make_consistent();
        drop(guard);
        assert_eq!(data.snapshot().unwrap(), [0; 4]);
        assert!(data.lock().is_ok());
    }
}

/// Layout of the flags in the dead-reader test.
const WRITER_LOCKED: usize = 0;
const WRITER_GO: usize = 1;
const READER_DONE: usize = 2;

/// A reader killed while it holds the lock in the snapshot fallback (counter even) left
/// nothing half-written: later lockers are not told a holder died.
#[test]
fn a_reader_killed_inside_the_snapshot_fallback_is_not_a_dead_writer() {
    // Large, so that the fallback's copy holds the lock long enough to be caught at it.
    const N: usize = 4 << 20;
    const ROUNDS: usize = 20;
    let data = SharedArray::<u64>::new(N).unwrap();
    for _ in 0..ROUNDS {
        let flags = SharedArray::<u64>::new(3).unwrap();
        // A writer holds an open write (counter odd) until told to finish it.
        let writer = spawn(|| {
            let guard = data.lock().expect("writer lock");
            guard.set(0, 1);
            flags.store(WRITER_LOCKED, 1, Release);
            while flags.load(WRITER_GO, Acquire) == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            guard.set(0, 0);
            0
        });
        let deadline = Instant::now() + DEADLINE;
        wait_flag(&flags, WRITER_LOCKED, deadline);
        // The reader finds the counter odd and queues for the lock in the fallback.
        let reader = spawn(|| match data.snapshot() {
            Ok(_) => raise_and_wait(&flags, READER_DONE),
            Err(_) => 3,
        });
        std::thread::sleep(Duration::from_millis(20)); // let the reader reach the queue
        flags.store(WRITER_GO, 1, Release);
        assert_eq!(wait(writer, deadline), Exit::Code(0));
        // The writer is gone, and this process holds nothing: a busy lock is the reader's.
        let caught = loop {
            match data.try_lock() {
                Err(LockError::WouldBlock) => {
                    kill(reader);
                    break true;
                }
                Ok(guard) => drop(guard),
                Err(e) => panic!("unexpected lock error {e}"),
            }
            if flags.load(READER_DONE, Acquire) != 0 {
                kill(reader);
                break false;
            }
            assert!(Instant::now() < deadline, "the reader never finished");
        };
        assert_eq!(wait(reader, deadline), Exit::Signal(libc::SIGKILL));
        if !caught || flags.load(READER_DONE, Acquire) != 0 {
            continue; // the reader was not killed holding the lock: another round
        }
        let guard = data
            .lock()
            .expect("a dead reader must not be reported as a dead writer");
        assert!(!guard.owner_died());
        drop(guard);
        assert_eq!(data.snapshot().unwrap()[0], 0);
        return;
    }
    panic!("in {ROUNDS} rounds the reader was never killed while holding the lock");
}
