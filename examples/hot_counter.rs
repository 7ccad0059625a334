//! A hot counter: several processes add 1 to the same element as fast as they can, first in
//! a [`SharedArray`] (one cell: every add fights for one cache line), then in a
//! [`StripedArray`] (one cell per CPU: each process adds on its own line, and reads sum the
//! stripes). Prints both rates, and checks both counts are exact.
//!
//! ```text
//! cargo run --release --example hot_counter [PROCS] [ADDS]   (defaults: 2 processes, 5000000 adds each)
//! ```
//!
//! Exit status: 0 if both counts are exact, 1 if not (or a child failed or hung), 2 for bad
//! arguments. The rates depend on the processor: on some, two processes on one cell are far
//! slower than one process alone; `BENCHMARKS.md` has measured figures.

mod args;
mod procs;

use procs::{kill_all, wait_all};
use shmarray::{SharedArray, StripedArray};
use std::process::ExitCode;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::{Duration, Instant};

const USAGE: &str =
    "usage: hot_counter [PROCS] [ADDS]   (defaults: 2 processes, 5000000 adds each)";

fn parse_args(args: &[String]) -> Result<(u32, u64), String> {
    let procs: u32 = args::value("PROCS", args.first(), 2)?;
    let adds = args::value("ADDS", args.get(1), 5_000_000)?;
    if procs == 0 {
        return Err("PROCS must be at least 1".into());
    }
    match args.get(2) {
        Some(extra) => Err(format!("unexpected argument {extra:?}")),
        None => Ok((procs, adds)),
    }
}

/// Element 0: children at the start line; element 1: the parent's "go".
struct Gate(SharedArray<u32>);

impl Gate {
    /// Child side: arrive, then wait for the parent's go.
    fn arrive_and_wait(&self) {
        // Release: pairs with the parent's Acquire load of the count.
        self.0.fetch_add(0, 1, Release);
        // Acquire: pairs with the parent's Release store of the go.
        while self.0.load(1, Acquire) == 0 {
            std::hint::spin_loop();
        }
    }
}

/// Forks `procs` children that each run `add` `adds` times once the gate opens; returns the
/// time from opening the gate to the last child's exit.
fn run(procs: u32, adds: u64, add: &dyn Fn()) -> Result<Duration, String> {
    let gate = Gate(SharedArray::<u32>::new(2).map_err(|e| e.to_string())?);
    let mut children = Vec::new();
    for _ in 0..procs {
        // SAFETY: fork has no memory-safety preconditions of its own. This program has one
        // thread, so the child cannot inherit a lock held by a thread that does not exist in
        // it; the child only adds and then leaves through `_exit`, never returning.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            kill_all(&children);
            return Err(format!("fork: {}", std::io::Error::last_os_error()));
        }
        if pid == 0 {
            gate.arrive_and_wait();
            for _ in 0..adds {
                add();
            }
            // SAFETY: `_exit` ends the child at once, running none of the parent's
            // destructors or exit handlers.
            unsafe { libc::_exit(0) };
        }
        children.push(pid);
    }
    let deadline = Instant::now() + procs::DEADLINE;
    // Acquire: pairs with the children's Release increments.
    while gate.0.load(0, Acquire) < procs {
        if Instant::now() > deadline {
            kill_all(&children);
            return Err("the children never reached the start line".into());
        }
        std::thread::yield_now();
    }
    let start = Instant::now();
    // Release: pairs with the children's Acquire loads.
    gate.0.store(1, 1, Release);
    wait_all(&children)?;
    Ok(start.elapsed())
}

fn main() -> ExitCode {
    let (procs, adds) = match args::parse(USAGE, parse_args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let dense = match SharedArray::<u64>::new(1) {
        Ok(arr) => arr,
        Err(e) => return args::fail("cannot create the shared array", &e),
    };
    let striped = match StripedArray::<u64>::new(1) {
        Ok(arr) => arr,
        Err(e) => return args::fail("cannot create the striped array", &e),
    };
    // Relaxed: a count; the parent reads it after waitpid, which orders the children's adds
    // before its reads.
    let dense_time = run(procs, adds, &|| {
        dense.fetch_add(0, 1, Relaxed);
    });
    let striped_time = run(procs, adds, &|| striped.add(0, 1));
    let (dense_time, striped_time) = match (dense_time, striped_time) {
        (Ok(d), Ok(s)) => (d, s),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let total = u64::from(procs) * adds;
    let rate = |t: Duration| total as f64 / t.as_secs_f64() / 1e6;
    println!(
        "{procs} processes x {adds} adds to one element ({} stripes):",
        striped.stripes()
    );
    println!(
        "  SharedArray::fetch_add  {:8.1} M adds/s  (count {})",
        rate(dense_time),
        dense.load(0, Relaxed)
    );
    println!(
        "  StripedArray::add       {:8.1} M adds/s  (sum {})",
        rate(striped_time),
        striped.sum(0)
    );
    println!(
        "  striped / shared: {:.2}x",
        dense_time.as_secs_f64() / striped_time.as_secs_f64()
    );
    if dense.load(0, Relaxed) == total && striped.sum(0) == total {
        ExitCode::SUCCESS
    } else {
        println!("NOT EXACT: both should be {total}");
        ExitCode::FAILURE
    }
}
