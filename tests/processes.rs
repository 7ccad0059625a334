//! Cross-process behaviour of the lock-free operations, with real processes.

mod common;

use common::{reexec, role, spawn, wait_all_ok, wait_child_ok, TempName, TempPath};
use shmarray::SharedArray;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::time::{Duration, Instant};

/// The reference workload: N processes each increment every element L times with
/// `fetch_add`; no update may be lost.
#[test]
fn concurrent_fetch_add_from_many_processes_loses_nothing() {
    const PROCS: usize = 4;
    const LOOPS: u64 = 50_000;
    let arr = SharedArray::<u64>::new(5).unwrap();
    let pids: Vec<_> = (0..PROCS)
        .map(|_| {
            spawn(|| {
                for _ in 0..LOOPS {
                    for i in 0..arr.len() {
                        arr.fetch_add(i, 1, Relaxed);
                    }
                }
                0
            })
        })
        .collect();
    wait_all_ok(pids);
    assert_eq!(arr.to_vec(), vec![PROCS as u64 * LOOPS; 5]);
}

/// Contrast: the same workload as a load then a store loses updates between processes. This
/// is what makes the check above meaningful: the processes do overlap.
#[test]
fn load_then_store_from_many_processes_does_lose_updates() {
    const PROCS: usize = 2;
    const LOOPS: u64 = 2_000_000;
    let arr = SharedArray::<u64>::new(1).unwrap();
    let start = SharedArray::<u64>::new(1).unwrap();
    let pids: Vec<_> = (0..PROCS)
        .map(|_| {
            spawn(|| {
                // A start line, so that both run at once rather than one after the other.
                while start.load(0, Acquire) == 0 {
                    std::hint::spin_loop();
                }
                for _ in 0..LOOPS {
                    let v = arr.load(0, Relaxed);
                    arr.store(0, v + 1, Relaxed);
                }
                0
            })
        })
        .collect();
    start.store(0, 1, Release);
    wait_all_ok(pids);
    assert!(
        arr.load(0, Relaxed) < PROCS as u64 * LOOPS,
        "no update was lost: the processes never overlapped"
    );
}

/// Wrapping arithmetic across processes: i8 wraps as `AtomicI8::fetch_add` does.
#[test]
fn i8_fetch_add_wraps_across_processes() {
    const PROCS: usize = 3;
    const LOOPS: i32 = 1_001; // 3 × 1001 = 3003 = 11 × 256 + 187 → wraps to -69
    let arr = SharedArray::<i8>::new(2).unwrap();
    let pids: Vec<_> = (0..PROCS)
        .map(|_| {
            spawn(|| {
                for _ in 0..LOOPS {
                    arr.fetch_add(0, 1, Relaxed);
                    arr.fetch_sub(1, 1, Relaxed);
                }
                0
            })
        })
        .collect();
    wait_all_ok(pids);
    let total = PROCS as i32 * LOOPS;
    assert_eq!(arr.to_vec(), [total as i8, (-total) as i8]);
}

/// Float `fetch_add` is a compare-exchange loop: exact across processes for values whose
/// sums are exactly representable.
#[test]
fn f64_fetch_add_is_exact_across_processes() {
    const PROCS: usize = 3;
    const LOOPS: u32 = 20_000;
    let arr = SharedArray::<f64>::new(3).unwrap();
    let pids: Vec<_> = (0..PROCS)
        .map(|_| {
            spawn(|| {
                for _ in 0..LOOPS {
                    arr.fetch_add(0, 1.0, Relaxed);
                    arr.fetch_add(1, 0.5, Relaxed);
                    arr.fetch_max(2, f64::from(LOOPS), Relaxed);
                }
                0
            })
        })
        .collect();
    wait_all_ok(pids);
    let n = f64::from(PROCS as u32 * LOOPS);
    assert_eq!(arr.to_vec(), [n, n / 2.0, f64::from(LOOPS)]);
}

/// Disjoint index ranges written by different processes with plain atomic stores, no lock.
#[test]
fn disjoint_ranges_written_by_different_processes() {
    const PROCS: usize = 4;
    const PER: usize = 1_000;
    let arr = SharedArray::<u32>::new(PROCS * PER).unwrap();
    let pids: Vec<_> = (0..PROCS)
        .map(|p| {
            let arr = &arr;
            spawn(move || {
                for i in p * PER..(p + 1) * PER {
                    arr.store(i, (p as u32 + 1) * 1_000_000 + i as u32, Relaxed);
                }
                0
            })
        })
        .collect();
    wait_all_ok(pids);
    for (i, v) in arr.iter().enumerate() {
        assert_eq!(
            v,
            ((i / PER) as u32 + 1) * 1_000_000 + i as u32,
            "element {i}"
        );
    }
}

/// The child side of the attach tests: opens the array the parent made (by name or path),
/// checks the parent's writes, answers with writes of its own, and waits for the parent's
/// acknowledgement, all through the array.
fn attached_child(arr: SharedArray<i64>) {
    // Acquire: pairs with the parent's Release store of its last value.
    assert_eq!(
        arr.load(0, Acquire),
        41,
        "child does not see the parent's write"
    );
    assert_eq!(arr.get(1), Some(-7));
    for _ in 0..1_000 {
        arr.fetch_add(2, 1, Relaxed);
    }
    // Release: publishes the increments above to the parent's Acquire load.
    arr.store(3, 1, Release);
    let deadline = Instant::now() + Duration::from_secs(30);
    while arr.compare_exchange(4, 1, 2, AcqRel, Acquire).is_err() {
        assert!(Instant::now() < deadline, "parent never acknowledged");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The parent side: writes, starts a separate process running `test` with `role`, then
/// checks the child's writes while both have the array open.
fn attached_parent(arr: &SharedArray<i64>, test: &str, role: &str, arg: &str) {
    arr.store(1, -7, Relaxed);
    // Release: pairs with the child's Acquire load of element 0.
    arr.store(0, 41, Release);
    let child = reexec(test, role, arg);
    let deadline = Instant::now() + Duration::from_secs(30);
    // Acquire: pairs with the child's Release store of element 3.
    while arr.load(3, Acquire) == 0 {
        assert!(Instant::now() < deadline, "child never answered");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        arr.load(2, Relaxed),
        1_000,
        "parent does not see the child's writes"
    );
    arr.store(4, 1, Release);
    wait_child_ok(child);
    assert_eq!(
        arr.load(4, Acquire),
        2,
        "the child's last write was not seen"
    );
}

#[test]
fn separate_process_attaches_by_name() {
    const TEST: &str = "separate_process_attaches_by_name";
    if let Some((role, name)) = role() {
        assert_eq!(role, "open-by-name");
        attached_child(SharedArray::<i64>::open(&name).expect("child open"));
        return;
    }
    let name = TempName::new("attach");
    let arr = SharedArray::<i64>::create(&name.0, 5).unwrap();
    attached_parent(&arr, TEST, "open-by-name", &name.0);
}

#[test]
fn separate_process_attaches_by_file() {
    const TEST: &str = "separate_process_attaches_by_file";
    if let Some((role, path)) = role() {
        assert_eq!(role, "open-by-file");
        attached_child(SharedArray::<i64>::open_file(&path).expect("child open_file"));
        return;
    }
    let path = TempPath::new("attach-file");
    let arr = SharedArray::<i64>::create_file(&path.0, 5).unwrap();
    attached_parent(&arr, TEST, "open-by-file", path.0.to_str().unwrap());
}

/// Initial values given to `create_from_slice` are what a separate process sees first: the
/// region is published only once they are written.
#[test]
fn separate_process_sees_initial_values() {
    const TEST: &str = "separate_process_sees_initial_values";
    if let Some((_, name)) = role() {
        let arr = SharedArray::<u16>::open(&name).expect("child open");
        assert_eq!(arr.to_vec(), [3, 1, 4, 1, 5]);
        return;
    }
    let name = TempName::new("initial");
    let _arr = SharedArray::create_from_slice(&name.0, &[3u16, 1, 4, 1, 5]).unwrap();
    wait_child_ok(reexec(TEST, "initial", &name.0));
}
