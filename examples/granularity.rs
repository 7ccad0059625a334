//! The reference workload (every process increments every element of a shared array, many
//! times) at each of the three granularities, across real processes.
//!
//! ```text
//! cargo run --release --example granularity [PROCS LOOPS N]     (default 2 20000 5)
//! ```
//!
//! Prints one line per granularity: its time, its increments per second, and whether the
//! array ended exact (every element PROCS × LOOPS). Exits non-zero if any did not.
//! The same arguments given to `benches/baseline_multiprocessing.py` run the same workload
//! on Python's `multiprocessing.Array`, for comparison on the same machine.

mod args;

use shmarray::{LockError, SharedArray};
use std::process::ExitCode;
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

fn work(arr: &SharedArray<u64>, how: Granularity, loops: u64) -> Result<(), LockError> {
    for _ in 0..loops {
        match how {
            Granularity::LockFree => {
                for i in 0..arr.len() {
                    arr.fetch_add(i, 1, Relaxed);
                }
            }
            Granularity::LockPerOp => {
                for i in 0..arr.len() {
                    arr.lock()?.add(i, 1);
                }
            }
            Granularity::LockWholeLoop => {
                let guard = arr.lock()?;
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

const USAGE: &str = "usage: granularity [PROCS LOOPS N]   (default 2 20000 5)";

fn parse_args(args: &[String]) -> Result<(usize, u64, usize), String> {
    match args {
        [] => Ok((2, 20_000, 5)),
        [p, l, n] => {
            let procs: usize = args::value("PROCS", Some(p), 0)?;
            let loops: u64 = args::value("LOOPS", Some(l), 0)?;
            let n: usize = args::value("N", Some(n), 0)?;
            if !(1..=256).contains(&procs) {
                return Err(format!("PROCS must be 1 to 256, not {procs}"));
            }
            let incs = (procs as u64)
                .checked_mul(loops)
                .and_then(|x| x.checked_mul(n as u64));
            if incs.is_none() {
                return Err("PROCS x LOOPS x N must fit in 64 bits".to_string());
            }
            Ok((procs, loops, n))
        }
        _ => Err(format!("expected 0 or 3 arguments, not {}", args.len())),
    }
}

fn main() -> ExitCode {
    let (procs, loops, n) = match args::parse(USAGE, parse_args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let mut all_exact = true;
    for how in [
        Granularity::LockFree,
        Granularity::LockPerOp,
        Granularity::LockWholeLoop,
    ] {
        let arr = match SharedArray::<u64>::new(n) {
            Ok(arr) => arr,
            Err(e) => return args::fail("cannot create the array", &e),
        };
        let elapsed = match run(&arr, how, procs, loops) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{how:?}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let expected = procs as u64 * loops;
        let exact = match arr.snapshot() {
            Ok(values) => values.iter().all(|&x| x == expected),
            Err(e) => return args::fail("snapshot", &e),
        };
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
    if all_exact {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
