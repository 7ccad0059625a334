//! Loom models of what each access path guarantees, run on the crate's own code.
//!
//! Built only with `RUSTFLAGS="--cfg loom"`: every atomic in the crate then comes from loom
//! (`src/sync.rs`), arrays live on the heap ([`SharedArray::new_heap`]), and the robust
//! pthread mutex is replaced by a model of its contract (`src/raw_lock/model.rs`). Run with
//! `.ci/loom.sh` (release, `LOOM_MAX_PREEMPTIONS=2`).
//!
//! The "contrast" models check that loom *does* find the failure a weaker access path allows:
//! each asserts that its model panics with the message of that failure ("lost update",
//! "torn snapshot"), so neither a checker that explored nothing nor an unrelated panic (an
//! `expect`, one of loom's own limits) passes them.
//!
//! `.ci/loom-mutants.sh` builds this suite again with deliberate defects in the crate
//! (`--cfg shmarray_mutant="..."`) and checks that each one makes some model fail.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use shmarray::{LockError, SharedArray, SnapshotError};
use std::sync::atomic::Ordering::Relaxed;

fn array(values: &[u64]) -> Arc<SharedArray<u64>> {
    array_in(true, values)
}

/// Both ways an array can be made: with the seqlock (the default), and without it
/// (`options().seqlock(false)`: locked writes leave the counter alone, snapshots lock). The
/// models that hold for both run on both.
const MODES: [bool; 2] = [true, false];

fn array_in(seqlock: bool, values: &[u64]) -> Arc<SharedArray<u64>> {
    let arr = SharedArray::options()
        .seqlock(seqlock)
        .heap_from_slice(values)
        .expect("heap array");
    assert_eq!(arr.has_seqlock(), seqlock);
    Arc::new(arr)
}

/// Runs `f` on `threads` threads sharing `arr`, then joins them.
fn on_threads(
    arr: &Arc<SharedArray<u64>>,
    threads: usize,
    f: impl Fn(&SharedArray<u64>) + Send + Sync + 'static,
) {
    let f = Arc::new(f);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (arr, f) = (arr.clone(), f.clone());
            thread::spawn(move || f(&arr))
        })
        .collect();
    for h in handles {
        h.join().expect("model thread panicked");
    }
}

/// The text of a panic payload (`panic!` with or without format arguments).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic payload that is not a string)".to_string()
    }
}

/// Asserts that loom finds an execution in which `model` panics, and that the panic is the
/// failure the contrast names (its message contains `failure`), not any other.
fn assert_model_fails_with(failure: &str, model: impl Fn() + Sync + Send + 'static) {
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loom::model(model)));
    let payload = found.expect_err("loom explored every interleaving and found no failure");
    let message = panic_message(&*payload);
    assert!(
        message.contains(failure),
        "the model failed, but not with {failure:?}: {message}"
    );
}

/// The panic a model makes on purpose; kept out of the test output.
const DELIBERATE: &str = "a bug half-way through the locked loop";

/// Installs (once) a panic hook that stays silent for [`DELIBERATE`] panics and reports
/// every other panic as the default hook does.
fn quiet_deliberate_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if panic_message(info.payload()) != DELIBERATE {
                default(info);
            }
        }));
    });
}

/// Path "lock-free op": concurrent `fetch_add`s never lose an update.
#[test]
fn lock_free_fetch_add_loses_no_update() {
    loom::model(|| {
        let arr = array(&[0]);
        on_threads(&arr, 3, |a| {
            a.fetch_add(0, 1, Relaxed);
        });
        assert_eq!(arr.load(0, Relaxed), 3);
    });
}

/// Contrast: a load followed by a store, with no lock, loses an update in some interleaving.
#[test]
fn unlocked_load_then_store_loses_an_update() {
    assert_model_fails_with("lost update", || {
        let arr = array(&[0]);
        on_threads(&arr, 2, |a| {
            let v = a.load(0, Relaxed);
            a.store(0, v + 1, Relaxed);
        });
        assert_eq!(arr.load(0, Relaxed), 2, "lost update");
    });
}

/// Path "lock per op": the same load-then-store, each under its own lock, loses nothing:
/// the lock, not the atomicity of the cell, is what makes it correct.
#[test]
fn lock_per_op_loses_no_update() {
    for seqlock in MODES {
        loom::model(move || {
            let arr = array_in(seqlock, &[0]);
            on_threads(&arr, 2, |a| {
                let guard = a.lock().expect("lock");
                let v = guard.get(0);
                guard.set(0, v + 1);
            });
            assert_eq!(arr.load(0, Relaxed), 2);
        });
    }
}

/// Path "lock whole loop": a snapshot taken while another thread runs a locked loop over the
/// array sees the loop entirely or not at all.
#[test]
fn locked_loop_is_all_or_nothing_to_snapshots() {
    for seqlock in MODES {
        loom::model(move || {
            let arr = array_in(seqlock, &[0, 0]);
            let writer = {
                let arr = arr.clone();
                thread::spawn(move || {
                    let guard = arr.lock().expect("lock");
                    for i in 0..guard.len() {
                        guard.add(i, 1);
                    }
                })
            };
            let seen = arr.snapshot().expect("snapshot");
            assert!(seen == [0, 0] || seen == [1, 1], "torn snapshot {seen:?}");
            writer.join().unwrap();
            assert_eq!(arr.snapshot().unwrap(), [1, 1]);
        });
    }
}

/// Contrast: the same loop made of lock-free `fetch_add`s is seen half done.
#[test]
fn lock_free_loop_is_seen_half_done() {
    for seqlock in MODES {
        assert_model_fails_with("torn snapshot", move || {
            let arr = array_in(seqlock, &[0, 0]);
            let writer = {
                let arr = arr.clone();
                thread::spawn(move || {
                    for i in 0..arr.len() {
                        arr.fetch_add(i, 1, Relaxed);
                    }
                })
            };
            let seen = arr.snapshot().expect("snapshot");
            writer.join().unwrap();
            assert!(seen == [0, 0] || seen == [1, 1], "torn snapshot {seen:?}");
        });
    }
}

/// Seqlock: over two successive locked writes, a snapshot only ever returns one of the three
/// states the writes leave behind, never data from a write still in progress.
#[test]
fn snapshot_never_returns_an_unfinished_write() {
    for seqlock in MODES {
        loom::model(move || {
            let arr = array_in(seqlock, &[0, 0]);
            let writer = {
                let arr = arr.clone();
                thread::spawn(move || {
                    for v in 1..=2 {
                        arr.lock().expect("lock").copy_from_slice(&[v, v]);
                    }
                })
            };
            let mut out = [9, 9];
            arr.snapshot_into(&mut out).expect("snapshot");
            assert!(out[0] == out[1] && out[0] <= 2, "torn snapshot {out:?}");
            writer.join().unwrap();
        });
    }
}

/// A writer that dies with the sequence odd, mid-write: readers neither spin forever nor see
/// the half-written data; the next locker gets `OwnerDied`, repairs, and snapshots succeed.
#[test]
fn dead_writer_is_repaired_and_readers_do_not_spin() {
    for seqlock in MODES {
        loom::model(move || {
            let arr = array_in(seqlock, &[0, 0]);
            let writer = {
                let arr = arr.clone();
                thread::spawn(move || {
                    let guard = arr.lock().expect("lock");
                    guard.set(0, 1); // half of a two-element write ...
                    guard.simulate_owner_death(); // ... then the process is killed
                })
            };
            match arr.snapshot() {
                Ok(seen) => assert_eq!(seen, [0, 0], "a snapshot saw a dead writer's half-write"),
                Err(SnapshotError::OwnerDied) => {}
                Err(e) => panic!("unexpected snapshot error {e}"),
            }
            writer.join().unwrap();

            let repairer = {
                let arr = arr.clone();
                thread::spawn(move || {
                    assert!(matches!(arr.lock(), Err(LockError::OwnerDied)));
                    let mut guard = arr.lock_for_repair().expect("repair lock");
                    assert!(guard.owner_died());
                    guard.set(0, 0); // roll the half-write back
                    guard.make_consistent();
                })
            };
            match arr.snapshot() {
                Ok(seen) => assert_eq!(seen, [0, 0]),
                Err(SnapshotError::OwnerDied) => {} // before the repair
                Err(e) => panic!("unexpected snapshot error {e}"),
            }
            repairer.join().unwrap();
            assert_eq!(arr.snapshot().expect("repaired"), [0, 0]);
            assert!(arr.lock().is_ok(), "the death is reported once, not again");
        });
    }
}

/// Dropping the guard of a dead owner's lock without `make_consistent` hands the report on
/// to the next locker instead of silently reusing the lock.
#[test]
fn unrepaired_death_is_reported_to_the_next_locker() {
    for seqlock in MODES {
        loom::model(move || {
            let arr = array_in(seqlock, &[0]);
            let writer = {
                let arr = arr.clone();
                thread::spawn(move || arr.lock().expect("lock").simulate_owner_death())
            };
            writer.join().unwrap();
            for _ in 0..2 {
                assert!(matches!(arr.lock(), Err(LockError::OwnerDied)));
                assert!(arr.lock_for_repair().expect("repair lock").owner_died());
            }
            assert!(matches!(arr.snapshot(), Err(SnapshotError::OwnerDied)));
        });
    }
}

/// A panic inside a locked loop is a death, not a commit: the guard dropped while unwinding
/// leaves the write open, so no snapshot ever sees the half-done loop, and the next locker
/// is told.
#[test]
fn panic_in_a_locked_loop_is_a_death_not_a_commit() {
    quiet_deliberate_panics();
    for seqlock in MODES {
        loom::model(move || {
            let arr = array_in(seqlock, &[0, 0]);
            let writer = {
                let arr = arr.clone();
                thread::spawn(move || {
                    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        let guard = arr.lock().expect("lock");
                        guard.add(0, 1);
                        panic!("{}", DELIBERATE);
                    }));
                    assert!(unwound.is_err());
                })
            };
            match arr.snapshot() {
                Ok(seen) => assert_eq!(seen, [0, 0], "torn snapshot"),
                Err(SnapshotError::OwnerDied) => {}
                Err(e) => panic!("unexpected snapshot error {e}"),
            }
            writer.join().unwrap();
            assert!(
                matches!(arr.snapshot(), Err(SnapshotError::OwnerDied)),
                "torn snapshot: a panicked write was published"
            );
            assert!(matches!(arr.lock(), Err(LockError::OwnerDied)));
            let mut guard = arr.lock_for_repair().expect("repair lock");
            assert!(guard.owner_died());
            guard.set(0, 0);
            guard.make_consistent();
            drop(guard);
            assert_eq!(arr.snapshot().expect("repaired"), [0, 0]);
        });
    }
}

/// A reader that dies holding the lock in the snapshot fallback (the counter even) left
/// nothing half-written: the next locker is not told that a holder died.
#[test]
fn dead_reader_is_not_a_dead_writer() {
    loom::model(|| {
        let arr = array(&[0, 0]);
        let reader = {
            let arr = arr.clone();
            thread::spawn(move || arr.simulate_reader_death())
        };
        let writer = {
            let arr = arr.clone();
            thread::spawn(move || {
                arr.lock()
                    .expect("a dead reader is not a death")
                    .copy_from_slice(&[1, 1]);
            })
        };
        reader.join().unwrap();
        writer.join().unwrap();
        assert_eq!(arr.snapshot().expect("no death recorded"), [1, 1]);
    });
}

/// Without the seqlock no counter tells whether a dead holder was writing, so a reader that
/// dies holding the lock in a snapshot counts as a death: the next locker is told, and
/// snapshots refuse the data until a repair. (The contrast of the model above: the two
/// differ in exactly this.)
#[test]
fn without_the_seqlock_a_dead_reader_is_a_death() {
    loom::model(|| {
        let arr = array_in(false, &[0, 0]);
        let reader = {
            let arr = arr.clone();
            thread::spawn(move || arr.simulate_reader_death())
        };
        reader.join().unwrap();
        assert!(matches!(arr.lock(), Err(LockError::OwnerDied)));
        assert!(matches!(arr.snapshot(), Err(SnapshotError::OwnerDied)));
        let mut guard = arr.lock_for_repair().expect("repair lock");
        assert!(guard.owner_died());
        guard.make_consistent();
        drop(guard);
        assert_eq!(arr.snapshot().expect("repaired"), [0, 0]);
    });
}
