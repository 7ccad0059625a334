//! The reference workload: two processes each add 1 to every element of one shared array,
//! many times over, at the same time. With `fetch_add` no update is lost and no lock is
//! taken, so every element ends at exactly 2 × LOOPS.
//!
//! Users of Python's `multiprocessing.Array` know this workload: there each increment is a
//! separate read and write, correct only while holding the array's lock. Here each
//! increment is one atomic instruction on memory that both processes map.
//!
//! ```text
//! cargo run --release --example increment_all [LOOPS] [N]     (defaults: 100000 loops, 10 elements)
//! ```
//!
//! Prints the final array and whether every element is exact. Exit status: 0 if exact, 1 if
//! not (or a child failed or hung), 2 for bad arguments.

mod args;
mod procs;

use procs::{kill_all, wait_all};
use shmarray::SharedArray;
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;

/// Processes that increment at once.
const PROCS: u32 = 2;

fn main() -> ExitCode {
    let (loops, len) = match args::parse(USAGE, parse_args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let arr = match SharedArray::<i64>::new(len) {
        Ok(arr) => arr,
        Err(e) => return args::fail("cannot create the shared array", &e),
    };
    // Each child counts itself in here and waits for the other, so that both increment at
    // the same time rather than one after the other.
    let start = match SharedArray::<u32>::new(1) {
        Ok(arr) => arr,
        Err(e) => return args::fail("cannot create the start line", &e),
    };

    let mut children = Vec::new();
    for _ in 0..PROCS {
        // SAFETY: fork has no memory-safety preconditions of its own. This program has one
        // thread, so the child cannot inherit a lock held by a thread that does not exist in
        // it; the child only increments and then leaves through `_exit`, never returning
        // into `main`.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            eprintln!("fork: {}", std::io::Error::last_os_error());
            kill_all(&children);
            return ExitCode::FAILURE;
        }
        if pid == 0 {
            increment(&arr, &start, loops);
            // SAFETY: `_exit` ends the child at once, running none of the destructors or
            // exit handlers that belong to the parent (such as flushing its stdout twice).
            unsafe { libc::_exit(0) };
        }
        children.push(pid);
    }
    if let Err(msg) = wait_all(&children) {
        eprintln!("{msg}");
        return ExitCode::FAILURE;
    }

    let values = arr.to_vec();
    let expected = i64::from(PROCS) * i64::from(loops);
    let exact = values.iter().all(|&v| v == expected);
    println!("{values:?}");
    println!(
        "{}: every element should be {PROCS} processes x {loops} loops = {expected}",
        if exact { "exact" } else { "NOT EXACT" }
    );
    if exact {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One child's work: wait at the start line, then add 1 to every element, `loops` times.
fn increment(arr: &SharedArray<i64>, start: &SharedArray<u32>, loops: u32) {
    // Relaxed: a rendezvous only; the increments do not depend on each other's data.
    start.fetch_add(0, 1, Relaxed);
    while start.load(0, Relaxed) < PROCS {
        std::thread::yield_now();
    }
    for _ in 0..loops {
        for i in 0..arr.len() {
            // Relaxed: each increment needs only its own atomicity; the parent reads the
            // totals after `waitpid`, which orders the children's writes before its reads.
            arr.fetch_add(i, 1, Relaxed);
        }
    }
}

const USAGE: &str = "usage: increment_all [LOOPS] [N]   (defaults: 100000 loops, 10 elements)";

fn parse_args(args: &[String]) -> Result<(u32, usize), String> {
    let loops = args::value("LOOPS", args.first(), 100_000)?;
    let len = args::value("N", args.get(1), 10)?;
    match args.get(2) {
        Some(extra) => Err(format!("unexpected argument {extra:?}")),
        None => Ok((loops, len)),
    }
}
