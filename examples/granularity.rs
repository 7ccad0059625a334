//! The reference workload (every process increments every element of a shared array, many
//! times) at each of the three granularities, across real processes.
//!
//! ```text
//! cargo run --release --example granularity [PROCS LOOPS N]     (default 2 20000 5)
//! ```
//!
//! Prints one line per granularity: its time, its increments per second, and whether the
//! array ended exact (every element PROCS × LOOPS). Exits non-zero if any did not.
//! The same arguments given to `../shared/reference/baseline_python.py` run the same
//! workload on Python's `multiprocessing.Array`, for comparison on the same machine.

use shmarray::SharedArray;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
#[allow(clippy::enum_variant_names)] // the crate's own names for the three granularities
enum Granularity {
    /// One `fetch_add` per element: no lock at all.
    LockFree,
    /// `lock()` around every single increment, as `with arr.get_lock(): arr[i] += 1`.
    LockPerOp,
    /// One `lock()` around each whole pass over the array.
    LockWholeLoop,
}

fn work(arr: &SharedArray<u64>, how: Granularity, loops: u64) -> Result<(), String> {
    for _ in 0..loops {
        match how {
            Granularity::LockFree => {
                for i in 0..arr.len() {
                    arr.fetch_add(i, 1, Relaxed);
                }
            }
            Granularity::LockPerOp => {
                for i in 0..arr.len() {
                    arr.lock().map_err(|e| e.to_string())?.add(i, 1);
                }
            }
            Granularity::LockWholeLoop => {
                let guard = arr.lock().map_err(|e| e.to_string())?;
                for i in 0..guard.len() {
                    guard.add(i, 1);
                }
            }
        }
    }
    Ok(())
}

/// Runs `procs` forked processes doing `work`, returns the wall time from the first fork to
/// the last exit, or why a child failed.
fn run(
    arr: &SharedArray<u64>,
    how: Granularity,
    procs: usize,
    loops: u64,
) -> Result<Duration, String> {
    let start = Instant::now();
    let mut children = Vec::with_capacity(procs);
    for _ in 0..procs {
        // SAFETY: this program is single-threaded, so the child may do anything the parent
        // could; it leaves through `_exit` and never returns into `main`.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(format!("fork: {}", std::io::Error::last_os_error()));
        }
        if pid == 0 {
            let code = match work(arr, how, loops) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("child: {e}");
                    1
                }
            };
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(code) };
        }
        children.push(pid);
    }
    for pid in children {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer and `pid` our child.
        if unsafe { libc::waitpid(pid, &mut status, 0) } != pid
            || !libc::WIFEXITED(status)
            || libc::WEXITSTATUS(status) != 0
        {
            return Err(format!("child {pid} failed (status {status:#x})"));
        }
    }
    Ok(start.elapsed())
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("arguments: PROCS LOOPS N (whole numbers)"))
        .collect();
    let (procs, loops, n) = match args[..] {
        [] => (2, 20_000, 5),
        [p, l, n] => (p as usize, l, n as usize),
        _ => {
            eprintln!("usage: granularity [PROCS LOOPS N]");
            std::process::exit(2);
        }
    };
    let mut all_exact = true;
    for how in [
        Granularity::LockFree,
        Granularity::LockPerOp,
        Granularity::LockWholeLoop,
    ] {
        let arr = SharedArray::<u64>::new(n).expect("create the array");
        let elapsed = match run(&arr, how, procs, loops) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{how:?}: {e}");
                std::process::exit(1);
            }
        };
        let expected = procs as u64 * loops;
        let exact = arr
            .snapshot()
            .expect("snapshot")
            .iter()
            .all(|&x| x == expected);
        all_exact &= exact;
        let incs = (procs as u64 * loops * n as u64) as f64;
        println!(
            "{:<16} procs={procs} loops={loops} n={n}: {:>9.3} ms, {:>8.3} M inc/s, {}",
            format!("{how:?}"),
            elapsed.as_secs_f64() * 1e3,
            incs / elapsed.as_secs_f64() / 1e6,
            if exact { "exact" } else { "NOT EXACT" },
        );
    }
    if !all_exact {
        std::process::exit(1);
    }
}
