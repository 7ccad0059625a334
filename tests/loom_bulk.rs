//! Loom models of the guard's bulk operations (`src/guard_bulk.rs`), on the crate's own code.
//!
//! Built only with `RUSTFLAGS="--cfg loom"` (see `tests/loom.rs` for how the crate is switched
//! to loom's atomics and the lock model); run by `.ci/loom.sh`.
//!
//! The bulk updates are a Relaxed load and a Relaxed store per element under the lock. The
//! models show the two halves of what their docs promise: to snapshot readers and to other
//! lock users they are as atomic as a locked loop of read-modify-writes; a lock-free writer
//! racing with one can lose its write (the contrast model, which must fail for that reason).
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use shmarray::SharedArray;
use std::sync::atomic::Ordering::Relaxed;

fn array(values: &[u64]) -> Arc<SharedArray<u64>> {
    Arc::new(SharedArray::from_slice_heap(values).expect("heap array"))
}

/// Runs `f` on a new thread with its own handle to `arr`.
fn spawn(
    arr: &Arc<SharedArray<u64>>,
    f: impl FnOnce(&SharedArray<u64>) + Send + 'static,
) -> thread::JoinHandle<()> {
    let arr = arr.clone();
    thread::spawn(move || f(&arr))
}

/// A snapshot taken while another thread runs `update_each` under the lock sees the update
/// entirely or not at all; so does one taken beside `update_range` and `fill`.
#[test]
fn bulk_update_is_all_or_nothing_to_snapshots() {
    loom::model(|| {
        let arr = array(&[0, 0, 0]);
        let writer = spawn(&arr, |a| {
            let guard = a.lock().expect("lock");
            guard.update_each(|v| v + 1);
        });
        let seen = arr.snapshot().expect("snapshot");
        assert!(
            seen == [0, 0, 0] || seen == [1, 1, 1],
            "torn snapshot {seen:?}"
        );
        writer.join().unwrap();
        assert_eq!(arr.snapshot().unwrap(), [1, 1, 1]);
    });
    loom::model(|| {
        let arr = array(&[0, 0, 0]);
        let writer = spawn(&arr, |a| {
            let guard = a.lock().expect("lock");
            guard.update_range(1.., |v| v + 1);
            guard.fill(7);
        });
        let mut seen = [9; 3];
        arr.snapshot_into(&mut seen).expect("snapshot");
        assert!(
            seen == [0, 0, 0] || seen == [7, 7, 7],
            "torn snapshot {seen:?}"
        );
        writer.join().unwrap();
    });
}

/// Two threads each add one to every element with `update_each`: the lock makes each load +
/// store pair exclusive among lock users, so no increment is lost.
#[test]
fn bulk_update_beside_locked_writers_loses_nothing() {
    loom::model(|| {
        let arr = array(&[0, 0]);
        let writer = spawn(&arr, |a| a.lock().expect("lock").update_each(|v| v + 1));
        arr.lock().expect("lock").update_each(|v| v + 1);
        writer.join().unwrap();
        assert_eq!(arr.to_vec(), [2, 2]);
    });
}

/// A copy taken under the lock with `copy_to_slice` sees a concurrent locked bulk update
/// entirely or not at all.
#[test]
fn copy_under_the_lock_sees_whole_bulk_updates() {
    loom::model(|| {
        let arr = array(&[0, 0]);
        let writer = spawn(&arr, |a| a.lock().expect("lock").update_each(|v| v + 1));
        let mut seen = [9; 2];
        arr.lock().expect("lock").copy_to_slice(&mut seen);
        assert!(seen == [0, 0] || seen == [1, 1], "torn copy {seen:?}");
        writer.join().unwrap();
    });
}

/// Contrast: a lock-free `fetch_add` racing with `update_each` can be lost (it lands
/// between an element's load and store), exactly as the docs warn. The model must fail, and
/// fail on that assertion.
#[test]
fn bulk_update_loses_a_racing_lock_free_add() {
    let found = std::panic::catch_unwind(|| {
        loom::model(|| {
            let arr = array(&[0]);
            let writer = spawn(&arr, |a| a.lock().expect("lock").update_each(|v| v + 1));
            arr.fetch_add(0, 10, Relaxed);
            writer.join().unwrap();
            assert_eq!(arr.load(0, Relaxed), 11, "lost update");
        })
    });
    let message = found.expect_err("loom explored every interleaving and found no lost update");
    let text = message
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| message.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(
        text.contains("lost update"),
        "failed for another reason: {text}"
    );
}

/// The same race with the guard's `add` (an atomic read-modify-write) loses nothing: the
/// contrast above fails because of the Relaxed load + store, not because of the lock.
#[test]
fn guard_add_beside_a_lock_free_add_loses_nothing() {
    loom::model(|| {
        let arr = array(&[0]);
        let writer = spawn(&arr, |a| {
            a.lock().expect("lock").add(0, 1);
        });
        arr.fetch_add(0, 10, Relaxed);
        writer.join().unwrap();
        assert_eq!(arr.load(0, Relaxed), 11);
    });
}
