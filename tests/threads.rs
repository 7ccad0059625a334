//! Many threads of one process on one array: the suite ThreadSanitizer runs (`.ci/tsan.sh`),
//! and an in-process check of the same guarantees the loom models prove.
//!
//! Threads are joined explicitly (`pthread_join`), so that the sanitizer sees the
//! happens-before edge even though std itself is not instrumented.
//!
//! Arrays come as heap, anonymous (memfd) and file-backed; the last test maps one region
//! file twice in this process, so that threads lock the same mutex through two addresses,
//! as two processes do.

mod common;

use common::TempPath;
use shmarray::SharedArray;
use std::sync::atomic::Ordering::Relaxed;

const THREADS: usize = 4;

/// The same test on each kind of storage: heap, anonymous memfd, and a region file (the
/// file's guard removes it when the test ends); and on an array without the seqlock, whose
/// snapshots take the lock.
fn arrays(n: usize) -> ([SharedArray<u64>; 4], TempPath) {
    let path = TempPath::new("threads");
    let arrays = [
        SharedArray::new_heap(n).unwrap(),
        SharedArray::new(n).unwrap(),
        SharedArray::create_file(&path.0, n).unwrap(),
        SharedArray::options().seqlock(false).anonymous(n).unwrap(),
    ];
    (arrays, path)
}

#[test]
fn lock_free_fetch_add_from_threads_loses_nothing() {
    const LOOPS: u64 = 20_000;
    let (arrays, _file) = arrays(8);
    for arr in arrays {
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
    let (arrays, _file) = arrays(64);
    for arr in arrays {
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
    let (arrays, _file) = arrays(4);
    for arr in arrays {
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

/// One region file mapped twice in this process: threads using one mapping and threads
/// using the other take the same lock, and under it do a plain read-then-write (`get` then
/// `set`), which loses updates unless the lock excludes across the two mappings. Snapshots
/// through either mapping see every locked pass whole.
#[test]
fn the_lock_excludes_across_two_mappings_of_one_region() {
    const PASSES: u64 = 2_000;
    let path = TempPath::new("two-maps");
    let first = SharedArray::<u64>::create_file(&path.0, 8).unwrap();
    let second = SharedArray::<u64>::open_file(&path.0).unwrap();
    std::thread::scope(|s| {
        let writers: Vec<_> = [&first, &second, &first, &second]
            .into_iter()
            .map(|arr| {
                s.spawn(move || {
                    for _ in 0..PASSES {
                        let guard = arr.lock().expect("lock");
                        for i in 0..guard.len() {
                            guard.set(i, guard.get(i) + 1);
                        }
                    }
                })
            })
            .collect();
        let readers: Vec<_> = [&first, &second]
            .into_iter()
            .map(|arr| {
                s.spawn(move || {
                    let mut out = vec![0; arr.len()];
                    for _ in 0..PASSES {
                        arr.snapshot_into(&mut out).expect("snapshot");
                        assert!(out.iter().all(|&x| x == out[0]), "torn: {out:?}");
                    }
                })
            })
            .collect();
        writers.into_iter().for_each(|h| h.join().unwrap());
        readers.into_iter().for_each(|h| h.join().unwrap());
    });
    assert_eq!(first.to_vec(), vec![4 * PASSES; 8]);
    assert_eq!(second.to_vec(), first.to_vec());
}

/// Not a test of the crate: the proof that ThreadSanitizer is watching. Two threads
/// increment a plain integer with no synchronisation at all, a data race by construction.
/// `.ci/tsan.sh` runs it alone under the sanitizer and fails unless a race is reported
/// here, so a sanitizer that was not really enabled (or a suppression that hides too
/// much) cannot pass silently. It is ignored everywhere else and does nothing without
/// `SHMARRAY_TSAN_CANARY` set, because the race is undefined behaviour outside the
/// sanitizer's supervision.
#[test]
#[ignore = "races on purpose: run by .ci/tsan.sh, which expects ThreadSanitizer to report it"]
fn tsan_canary_an_unsynchronised_counter_is_reported() {
    if std::env::var_os("SHMARRAY_TSAN_CANARY").is_none() {
        return;
    }
    struct Racy(std::cell::UnsafeCell<u64>);
    // SAFETY: not sound, on purpose: this type exists to race (see the test's docs).
    unsafe impl Sync for Racy {}
    impl Racy {
        fn ptr(&self) -> *mut u64 {
            self.0.get()
        }
    }
    let counter = Racy(std::cell::UnsafeCell::new(0));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..1000 {
                    let p = counter.ptr();
                    // SAFETY: not sound, on purpose: an unsynchronised read-modify-write
                    // from two threads, for the sanitizer to report. Volatile, so that the
                    // compiler keeps every access.
                    unsafe { p.write_volatile(p.read_volatile() + 1) };
                }
            });
        }
    });
}
