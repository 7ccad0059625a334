//! Many threads of one process adding to one [`StripedArray`] while others take and sum it:
//! run by ThreadSanitizer (`.ci/tsan.sh`) beside `tests/threads.rs`, and an in-process check
//! of what the loom models of `tests/loom_striped.rs` prove.
//!
//! Threads are joined explicitly (`pthread_join`), so that the sanitizer sees the
//! happens-before edge even though std itself is not instrumented.
//!
//! Arrays come as heap, anonymous (memfd) and file-backed, with fewer stripes than threads
//! (threads share stripes) and with the default count; the file-backed one is written
//! through two mappings of the region, as two processes write it.

mod common;

use common::TempPath;
use shmarray::StripedArray;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::thread::{Scope, ScopedJoinHandle};

const WRITERS: usize = 4;
const LOOPS: u64 = 5_000;
const LEN: usize = 8;

/// Pairs of handles to one array (the same handle twice, or two mappings of one file), on
/// each kind of storage, with 2 stripes and with the default count.
fn arrays(path: &TempPath) -> Vec<(StripedArray<u64>, Option<StripedArray<u64>>)> {
    let two = StripedArray::<u64>::options().stripes(2);
    let file = two.create_file(&path.0, LEN).unwrap();
    let again = StripedArray::open_file(&path.0).unwrap();
    vec![
        (two.heap(LEN).unwrap(), None),
        (two.anonymous(LEN).unwrap(), None),
        (StripedArray::new_heap(LEN).unwrap(), None),
        (StripedArray::new(LEN).unwrap(), None),
        (file, Some(again)),
    ]
}

/// `WRITERS` threads that each add 1 to every element of `arr` `LOOPS` times, then count
/// themselves done.
fn spawn_writers<'scope>(
    s: &'scope Scope<'scope, '_>,
    arr: &'scope StripedArray<u64>,
    done: &'scope AtomicUsize,
) -> Vec<ScopedJoinHandle<'scope, ()>> {
    (0..WRITERS)
        .map(|_| {
            s.spawn(move || {
                for _ in 0..LOOPS {
                    for i in 0..LEN {
                        arr.add(i, 1);
                    }
                }
                // Release: pairs with the Acquire loads of the threads that wait for the
                // writers; it only ends their loops.
                done.fetch_add(1, Release);
            })
        })
        .collect()
}

/// Writers add 1 to every element `LOOPS` times while a taker takes (`take_all` and
/// `take`) until they are done: after joining, the takes plus the final sums are exactly
/// every add, for every element.
#[test]
fn adds_racing_takes_lose_nothing_and_count_nothing_twice() {
    let path = TempPath::new("striped-threads-take");
    for (arr, other) in arrays(&path) {
        let writer_arr = other.as_ref().unwrap_or(&arr);
        let done = AtomicUsize::new(0);
        let taken = std::thread::scope(|s| {
            let writers = spawn_writers(s, writer_arr, &done);
            let taker = s.spawn(|| {
                let mut taken = vec![0u64; LEN];
                let mut round = 0usize;
                while done.load(Acquire) < WRITERS {
                    if round % 2 == 0 {
                        for (t, v) in taken.iter_mut().zip(arr.take_all()) {
                            *t += v;
                        }
                    } else {
                        let i = round / 2 % LEN;
                        taken[i] += arr.take(i);
                    }
                    round += 1;
                }
                taken
            });
            writers.into_iter().for_each(|h| h.join().unwrap());
            taker.join().unwrap()
        });
        let rest = arr.sums();
        for i in 0..LEN {
            assert_eq!(
                taken[i] + rest[i],
                WRITERS as u64 * LOOPS,
                "element {i}: taken {}, left {} ({arr:?})",
                taken[i],
                rest[i]
            );
        }
    }
}

/// Writers add while readers sum (`sums_into` and `sum`): every cell only grows, so the
/// sums one reader sees never decrease and never exceed every add; after joining, the sum
/// is exact.
#[test]
fn sums_racing_adds_only_grow_and_end_exact() {
    let path = TempPath::new("striped-threads-sum");
    let total = WRITERS as u64 * LOOPS;
    for (arr, other) in arrays(&path) {
        let writer_arr = other.as_ref().unwrap_or(&arr);
        let done = AtomicUsize::new(0);
        std::thread::scope(|s| {
            let writers = spawn_writers(s, writer_arr, &done);
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let (mut last, mut out) = (vec![0u64; LEN], vec![0u64; LEN]);
                        while done.load(Acquire) < WRITERS {
                            arr.sums_into(&mut out);
                            for i in 0..LEN {
                                assert!(
                                    last[i] <= out[i] && out[i] <= total,
                                    "element {i}: {} after {}",
                                    out[i],
                                    last[i]
                                );
                            }
                            let one = arr.sum(LEN - 1);
                            assert!(out[LEN - 1] <= one && one <= total, "sum {one}");
                            out[LEN - 1] = one;
                            std::mem::swap(&mut last, &mut out);
                        }
                    })
                })
                .collect();
            writers.into_iter().for_each(|h| h.join().unwrap());
            readers.into_iter().for_each(|h| h.join().unwrap());
        });
        assert_eq!(arr.sums(), vec![total; LEN], "{arr:?}");
    }
}
