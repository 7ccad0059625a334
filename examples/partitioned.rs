//! Several processes write one shared array at the same time, each only its own index
//! range, with plain atomic stores and no lock at all: every element has exactly one
//! writer, so there is nothing to serialise.
//!
//! This is the other workload users of Python's `multiprocessing.Array` know: there it is
//! the case where the lock may be switched off. Here no lock is ever taken unless asked for.
//!
//! ```text
//! cargo run --release --example partitioned [PROCS] [PER_PROCESS]     (defaults: 4 processes, 5 elements each)
//! ```
//!
//! Process `p` (counting from 1) writes `p * 1000 + i` into each element `i` of its range.
//! Prints the array and whether every element holds what its owner wrote. Exit status: 0 if
//! so, 1 if not (or a child failed or hung), 2 for bad arguments.

mod args;
mod procs;

use procs::{kill_all, wait_all};
use shmarray::SharedArray;
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;

/// What process `p` (from 0) writes into element `i`.
fn value(p: usize, i: usize) -> u64 {
    (p as u64 + 1) * 1000 + i as u64
}

fn main() -> ExitCode {
    let (procs, per) = match args::parse(USAGE, parse_args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let arr = match SharedArray::<u64>::new(procs * per) {
        Ok(arr) => arr,
        Err(e) => return args::fail("cannot create the shared array", &e),
    };
    // Each child counts itself in here and waits for the others, so that all write at the
    // same time.
    let start = match SharedArray::<usize>::new(1) {
        Ok(arr) => arr,
        Err(e) => return args::fail("cannot create the start line", &e),
    };

    let mut children = Vec::new();
    for p in 0..procs {
        // SAFETY: fork has no memory-safety preconditions of its own. This program has one
        // thread, so the child cannot inherit a lock held by a thread that does not exist in
        // it; the child only writes its range and then leaves through `_exit`, never
        // returning into `main`.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            eprintln!("fork: {}", std::io::Error::last_os_error());
            kill_all(&children);
            return ExitCode::FAILURE;
        }
        if pid == 0 {
            // Relaxed: a rendezvous only; no process reads another's data.
            start.fetch_add(0, 1, Relaxed);
            while start.load(0, Relaxed) < procs {
                std::thread::yield_now();
            }
            for i in p * per..(p + 1) * per {
                // Relaxed: one writer per element; the parent reads after `waitpid`, which
                // orders the children's writes before its reads.
                arr.store(i, value(p, i), Relaxed);
            }
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
    println!("{values:?}");
    let wrong: Vec<usize> = (0..values.len())
        .filter(|&i| values[i] != value(i / per, i))
        .collect();
    if wrong.is_empty() {
        println!("every range holds exactly what its process wrote, with no lock taken");
        ExitCode::SUCCESS
    } else {
        println!("elements not as their process wrote them: {wrong:?}");
        ExitCode::FAILURE
    }
}

const USAGE: &str =
    "usage: partitioned [PROCS] [PER_PROCESS]   (defaults: 4 processes, 5 elements each)";

fn parse_args(args: &[String]) -> Result<(usize, usize), String> {
    let procs: usize = args::value("PROCS", args.first(), 4)?;
    let per: usize = args::value("PER_PROCESS", args.get(1), 5)?;
    if let Some(extra) = args.get(2) {
        return Err(format!("unexpected argument {extra:?}"));
    }
    if !(1..=256).contains(&procs) {
        return Err(format!("PROCS must be 1 to 256, not {procs}"));
    }
    if per == 0 || procs.checked_mul(per).is_none() {
        return Err(format!(
            "PER_PROCESS must be at least 1 and PROCS x it must fit, not {per}"
        ));
    }
    Ok((procs, per))
}
