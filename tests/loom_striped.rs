//! Loom models of what [`StripedArray`] guarantees, run on the crate's own code.
//!
//! Built only with `RUSTFLAGS="--cfg loom"` (run by `.ci/loom.sh`): every atomic in the crate
//! then comes from loom (`src/sync.rs`), the arrays live on the heap
//! (`StripedArray::options().stripes(n).heap(len)`), and each model thread is its own "CPU":
//! the main thread adds to stripe 0, the first spawned thread to stripe 1, and so on, masked
//! to the stripe count (`src/cpu.rs`). Models with fewer stripes than threads make threads
//! share a stripe.
//!
//! The instrumentation (flags saying "my add has finished", "the sum has ended") is the
//! test's own; the adds, sums and takes are the product's.
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::Arc;
use loom::thread;
use shmarray::StripedArray;
use std::sync::atomic::Ordering::{Acquire, Release};

fn striped(len: usize, stripes: usize) -> Arc<StripedArray<u64>> {
    Arc::new(
        StripedArray::options()
            .stripes(stripes)
            .heap(len)
            .expect("heap array"),
    )
}

/// Asserts that loom finds an execution in which `model` panics, with a message containing
/// `why`: the failure the contrast names, not some other one.
fn assert_model_fails(why: &str, model: impl Fn() + Sync + Send + 'static) {
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loom::model(model)));
    let payload = found.expect_err("loom explored every interleaving and found no failure");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(
        message.contains(why),
        "the model failed otherwise: {message:?}"
    );
}

/// Concurrent adds, then a sum after joining the writers: exact. With one stripe every
/// thread shares it (the contended path); with two, threads 0 and 2 share stripe 0 and
/// thread 1 has stripe 1.
#[test]
fn adds_then_sum_after_join_is_exact() {
    for stripes in [1, 2] {
        loom::model(move || {
            let arr = striped(2, stripes);
            let writers: Vec<_> = (0..2)
                .map(|_| {
                    let arr = arr.clone();
                    thread::spawn(move || {
                        arr.add(1, 1);
                        arr.add(0, 5);
                    })
                })
                .collect();
            arr.add(1, 10);
            for w in writers {
                w.join().expect("writer");
            }
            assert_eq!(arr.sum(1), 12);
            assert_eq!(arr.sums(), [10, 12]);
        });
    }
}

/// A sum concurrent with adds counts every add that finished before it began and none that
/// began after it ended. "Finished before": the writer raised a flag after its add, and the
/// summer saw it before summing. "Began after": the writer saw the summer's flag, raised
/// after the sum, before adding.
#[test]
fn sum_concurrent_with_adds_lies_within_its_bounds() {
    loom::model(|| {
        let arr = striped(1, 2);
        let finished = Arc::new(AtomicUsize::new(0));
        let sum_ended = Arc::new(AtomicBool::new(false));
        arr.add(0, 1); // before the sum began, by the summer itself
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (arr, finished, sum_ended) = (arr.clone(), finished.clone(), sum_ended.clone());
                thread::spawn(move || {
                    // Acquire: pairs with the Release store after the sum.
                    let after = sum_ended.load(Acquire);
                    arr.add(0, 1);
                    // Release: pairs with the summer's Acquire load before the sum.
                    finished.fetch_add(1, Release);
                    usize::from(after)
                })
            })
            .collect();
        let before = 1 + finished.load(Acquire) as u64;
        let sum = arr.sum(0);
        sum_ended.store(true, Release);
        let after: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
        let all = 3;
        assert!(
            before <= sum && sum <= all - after as u64,
            "sum {sum} outside [{before}, {}]",
            all - after as u64
        );
        assert_eq!(arr.sum(0), all);
    });
}

/// Adds concurrent with takes lose nothing and count nothing twice: every take plus the
/// final sum is every add. With two stripes, one writer per stripe and a writer sharing
/// the taker's stripe; with four, every thread on its own stripe, and `take_all` sums the
/// stripes four at a time.
#[test]
fn adds_concurrent_with_takes_lose_nothing() {
    for stripes in [2, 4] {
        loom::model(move || takes_and_adds(stripes));
    }
}

/// One run of the model of `adds_concurrent_with_takes_lose_nothing`.
fn takes_and_adds(stripes: usize) {
    let arr = striped(2, stripes);
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let arr = arr.clone();
            thread::spawn(move || {
                arr.add(0, 1);
                arr.add(1, 2);
            })
        })
        .collect();
    let first = arr.take(0);
    let second = arr.take_all();
    for w in writers {
        w.join().expect("writer");
    }
    let rest = arr.sums();
    assert_eq!(first + second[0] + rest[0], 2);
    assert_eq!(second[1] + rest[1], 4);
}

/// Contrast: a sum is not a linearizable snapshot. Thread 1 adds 1 (stripe 1) and raises a
/// flag; thread 2, having seen the flag, adds 10 (stripe 2): the add of 1 happened before
/// the add of 10. A sum reading stripe 1 before the first add and stripe 2 after the second
/// returns 10: the later add without the earlier one, which no sequential order allows.
#[test]
fn sum_is_not_linearizable_it_may_see_a_later_add_without_an_earlier_one() {
    assert_model_fails("the later add without the earlier one", || {
        let arr = striped(1, 4);
        let first_done = Arc::new(AtomicBool::new(false));
        let t1 = {
            let (arr, first_done) = (arr.clone(), first_done.clone());
            thread::spawn(move || {
                arr.add(0, 1);
                // Release: pairs with thread 2's Acquire load.
                first_done.store(true, Release);
            })
        };
        let t2 = {
            let (arr, first_done) = (arr.clone(), first_done.clone());
            thread::spawn(move || {
                if first_done.load(Acquire) {
                    arr.add(0, 10);
                }
            })
        };
        let sum = arr.sum(0);
        t1.join().unwrap();
        t2.join().unwrap();
        assert_ne!(sum, 10, "saw the later add without the earlier one");
    });
}
