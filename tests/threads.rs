//! Many threads of one process on one array: the suite ThreadSanitizer runs (`.ci/tsan.sh`),
//! and an in-process check of the same guarantees the loom models prove.
//!
//! Threads are joined explicitly (`pthread_join`), so that the sanitizer sees the
//! happens-before edge even though std itself is not instrumented.

use shmarray::SharedArray;
use std::sync::atomic::Ordering::Relaxed;

const THREADS: usize = 4;

fn arrays(n: usize) -> [SharedArray<u64>; 2] {
    [
        SharedArray::new_heap(n).unwrap(),
        SharedArray::new(n).unwrap(),
    ]
}

#[test]
fn lock_free_fetch_add_from_threads_loses_nothing() {
    const LOOPS: u64 = 20_000;
    for arr in arrays(8) {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        for _ in 0..LOOPS {
                            for i in 0..arr.len() {
                                arr.fetch_add(i, 1, Relaxed);
                            }
                        }
                    })
                })
                .collect();
            handles.into_iter().for_each(|h| h.join().unwrap());
        });
        assert_eq!(arr.to_vec(), vec![THREADS as u64 * LOOPS; 8]);
    }
}

/// Writers increment every element under one guard per pass; readers snapshot all the
/// while. Every snapshot must show all elements equal: a pass is all-or-nothing.
#[test]
fn snapshots_never_see_a_locked_pass_half_done() {
    const PASSES: u64 = 2_000;
    for arr in arrays(64) {
        std::thread::scope(|s| {
            let writers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        for _ in 0..PASSES {
                            let guard = arr.lock().expect("lock");
                            for i in 0..guard.len() {
                                guard.add(i, 1);
                            }
                        }
                    })
                })
                .collect();
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let mut out = vec![0; arr.len()];
                        let mut last = 0;
                        while last < 2 * PASSES {
                            arr.snapshot_into(&mut out).expect("snapshot");
                            assert!(out.iter().all(|&x| x == out[0]), "torn: {out:?}");
                            assert!(out[0] >= last, "snapshots went back in time");
                            last = out[0];
                        }
                    })
                })
                .collect();
            writers.into_iter().for_each(|h| h.join().unwrap());
            readers.into_iter().for_each(|h| h.join().unwrap());
        });
    }
}

/// Lock-free increments and locked increments of the same elements, at once: a guard's
/// `add` is atomic, so neither kind is lost.
#[test]
fn locked_and_lock_free_writers_together_lose_nothing() {
    const LOOPS: u64 = 5_000;
    for arr in arrays(4) {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let arr = &arr;
                    s.spawn(move || {
                        for _ in 0..LOOPS {
                            if t % 2 == 0 {
                                arr.fetch_add(t % arr.len(), 1, Relaxed);
                            } else {
                                arr.lock().expect("lock").add(t % arr.len(), 1);
                            }
                        }
                    })
                })
                .collect();
            handles.into_iter().for_each(|h| h.join().unwrap());
        });
        let total: u64 = arr.iter().sum();
        assert_eq!(total, THREADS as u64 * LOOPS);
    }
}
