//! Loom models of what each access path guarantees, run on the crate's own code.
//!
//! Built only with `RUSTFLAGS="--cfg loom"`: every atomic in the crate then comes from loom
//! (`src/sync.rs`), arrays live on the heap ([`SharedArray::new_heap`]), and the robust
//! pthread mutex is replaced by a model of its contract (`src/raw_lock/model.rs`). Run with
//! `.ci/loom.sh` (release, `LOOM_MAX_PREEMPTIONS=2`).
//!
//! The "contrast" models check that loom *does* find the failure a weaker access path allows:
//! each asserts that its model panics, so a checker that explored nothing would fail them.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use shmarray::{LockError, SharedArray, SnapshotError};
use std::sync::atomic::Ordering::Relaxed;

fn array(values: &[u64]) -> Arc<SharedArray<u64>> {
    Arc::new(SharedArray::from_slice_heap(values).expect("heap array"))
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

/// Asserts that loom finds an execution in which `model` panics.
fn assert_model_fails(model: impl Fn() + Sync + Send + 'static) {
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loom::model(model)));
    assert!(
        found.is_err(),
        "loom explored every interleaving and found no failure"
    );
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
    assert_model_fails(|| {
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
    loom::model(|| {
        let arr = array(&[0]);
        on_threads(&arr, 2, |a| {
            let guard = a.lock().expect("lock");
            let v = guard.get(0);
            guard.set(0, v + 1);
        });
        assert_eq!(arr.load(0, Relaxed), 2);
    });
}

/// Path "lock whole loop": a snapshot taken while another thread runs a locked loop over the
/// array sees the loop entirely or not at all.
#[test]
fn locked_loop_is_all_or_nothing_to_snapshots() {
    loom::model(|| {
        let arr = array(&[0, 0]);
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

/// Contrast: the same loop made of lock-free `fetch_add`s is seen half done.
#[test]
fn lock_free_loop_is_seen_half_done() {
    assert_model_fails(|| {
        let arr = array(&[0, 0]);
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

/// Seqlock: over two successive locked writes, a snapshot only ever returns one of the three
/// states the writes leave behind, never data from a write still in progress.
#[test]
fn snapshot_never_returns_an_unfinished_write() {
    loom::model(|| {
        let arr = array(&[0, 0]);
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

/// A writer that dies with the sequence odd, mid-write: readers neither spin forever nor see
/// the half-written data; the next locker gets `OwnerDied`, repairs, and snapshots succeed.
#[test]
fn dead_writer_is_repaired_and_readers_do_not_spin() {
    loom::model(|| {
        let arr = array(&[0, 0]);
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

/// Dropping the guard of a dead owner's lock without `make_consistent` hands the report on
/// to the next locker instead of silently reusing the lock.
#[test]
fn unrepaired_death_is_reported_to_the_next_locker() {
    loom::model(|| {
        let arr = array(&[0]);
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
