//! Instructions per operation, counted by `valgrind --tool=callgrind`: the crate beside the
//! raw primitive, for each access path. Instruction counts do not depend on what else the
//! machine is doing, so this table is repeatable where timings are not.
//!
//! ```text
//! cargo build --release --examples
//! target/release/examples/callgrind_ops            # the table (runs valgrind itself)
//! target/release/examples/callgrind_ops --quick    # fewer operations per run, same counts
//! ```
//!
//! Each case runs twice under callgrind, with `small` and `large` operations, in a child
//! process of this binary (`callgrind_ops run CASE SIDE OPS`); the count per operation is
//! the difference of the two totals over the difference of the operation counts, so start-up,
//! mapping and exit cancel out. Single thread, uncontended: callgrind serialises threads, and
//! contention is a matter of time, not instructions. If valgrind is absent, it says so and
//! exits successfully. Nothing here passes or fails on a count: it reports.

#[path = "../benches/support/mod.rs"]
mod support;

mod args;

use shmarray::{SharedArray, StripedArray};
use std::process::{Command, ExitCode};
use support::{BareCells, LockKind, Locks, Variant, Workload};

const USAGE: &str = "usage: callgrind_ops [--quick] | callgrind_ops run CASE ours|raw OPS";

/// What the command line asks for.
enum Mode {
    /// The table; `true`: fewer operations per run.
    Table(bool),
    /// One measured run, in a child under valgrind.
    Run { key: String, ours: bool, ops: u64 },
}

fn parse_args(args: &[String]) -> Result<Mode, String> {
    match args {
        [] => Ok(Mode::Table(false)),
        [q] if q == "--quick" => Ok(Mode::Table(true)),
        [run, key, side, ops] if run == "run" => {
            if !CASES.iter().any(|c| c.key == key) {
                return Err(format!("unknown case {key:?}"));
            }
            let ours = match side.as_str() {
                "ours" => true,
                "raw" => false,
                other => return Err(format!("side {other:?}: expected ours or raw")),
            };
            let ops = args::value("OPS", Some(ops), 0u64)?;
            Ok(Mode::Run {
                key: key.clone(),
                ours,
                ops,
            })
        }
        _ => Err(format!("unexpected arguments {args:?}")),
    }
}

/// Array length of the per-element cases: in L1, so the counts are about the code.
const N: usize = 1000;

/// A measured case: what it is, its name for the command line, the crate's variant and
/// the raw primitive's.
struct Case {
    what: &'static str,
    key: &'static str,
    ours: &'static str,
    raw: &'static str,
}

/// Stripes of the striped cases: fixed, so that the counts do not depend on the machine.
const STRIPES: usize = 4;

const CASES: [Case; 11] = [
    Case {
        what: "lock-free fetch_add, per element",
        key: "fetch_add",
        ours: "arr.fetch_add(i, 1, Relaxed)",
        raw: "bare AtomicU64 fetch_add",
    },
    Case {
        what: "lock + unlock, uncontended, per pair",
        key: "lock_unlock",
        ours: "drop(arr.lock())",
        raw: "robust pthread mutex lock + unlock",
    },
    Case {
        what: "lock per op, per element",
        key: "lock_per_op",
        ours: "arr.lock().add(i, 1)",
        raw: "pthread lock, Relaxed load + store, unlock",
    },
    Case {
        what: "lock + unlock, seqlock off, per pair",
        key: "lock_unlock_no_seqlock",
        ours: "drop(arr.lock())",
        raw: "robust pthread mutex lock + unlock",
    },
    Case {
        what: "lock per op, seqlock off, per element",
        key: "lock_per_op_no_seqlock",
        ours: "arr.lock().add(i, 1)",
        raw: "pthread lock, Relaxed load + store, unlock",
    },
    Case {
        what: "whole loop, per element",
        key: "update_each",
        ours: "guard.update_each(|x| x + 1)",
        raw: "pthread lock, Relaxed load + store loop",
    },
    Case {
        what: "whole loop, per element",
        key: "get_set",
        ours: "guard.set(i, guard.get(i) + 1)",
        raw: "pthread lock, Relaxed load + store loop",
    },
    Case {
        what: "whole loop, per element",
        key: "guard_add",
        ours: "guard.add(i, 1)",
        raw: "pthread lock, Relaxed load + store loop",
    },
    Case {
        what: "snapshot, per element",
        key: "snapshot",
        ours: "arr.snapshot_into(out)",
        raw: "Relaxed copy of bare AtomicU64 cells",
    },
    Case {
        what: "striped add, per element (valgrind has no rseq: the sched_getcpu fallback)",
        key: "striped_add",
        ours: "striped.add(i, 1)",
        raw: "bare AtomicU64 fetch_add",
    },
    Case {
        what: "striped sums, per cell (N × 4 stripes)",
        key: "striped_sums",
        ours: "striped.sums_into(out)",
        raw: "Relaxed copy of N × 4 bare AtomicU64 cells",
    },
];

/// Runs case `key`, the crate's side (`ours`) or the raw one, for about `ops` operations;
/// returns the exact number of operations it made.
fn run_case(key: &str, ours: bool, ops: u64) -> u64 {
    let passes = (ops / N as u64).max(1);
    let workload = |crate_side: Variant, raw: Variant| {
        let work = Workload::new(N);
        work.body(if ours { crate_side } else { raw }, passes);
        passes * N as u64
    };
    match key {
        "fetch_add" => workload(Variant::LockFree, Variant::BareAtomic),
        "lock_per_op" => workload(Variant::LockPerOp, Variant::PthreadPerOp),
        "lock_per_op_no_seqlock" => workload(Variant::LockPerOpNoSeqlock, Variant::PthreadPerOp),
        "update_each" => workload(Variant::LockUpdateEach, Variant::PthreadWholeLoop),
        "get_set" => workload(Variant::LockWholeLoopGetSet, Variant::PthreadWholeLoop),
        "guard_add" => workload(Variant::LockWholeLoop, Variant::PthreadWholeLoop),
        "lock_unlock" | "lock_unlock_no_seqlock" => {
            let locks = Locks::new();
            let kind = match (ours, key) {
                (false, _) => LockKind::Pthread,
                (true, "lock_unlock") => LockKind::Shmarray,
                (true, _) => LockKind::ShmarrayNoSeqlock,
            };
            locks.lock_unlock(kind, ops);
            ops
        }
        "snapshot" => {
            let mut out = vec![0u64; N];
            if ours {
                let arr = SharedArray::<u64>::new(N).expect("SharedArray::new");
                for _ in 0..passes {
                    arr.snapshot_into(&mut out).expect("snapshot");
                    std::hint::black_box(&mut out);
                }
            } else {
                let bare = BareCells::new(N);
                for _ in 0..passes {
                    bare.copy(&mut out);
                    std::hint::black_box(&mut out);
                }
            }
            passes * N as u64
        }
        "striped_add" => {
            if ours {
                let striped = striped();
                for _ in 0..passes {
                    for i in 0..N {
                        striped.add(i, 1);
                    }
                }
            } else {
                workload(Variant::BareAtomic, Variant::BareAtomic);
            }
            passes * N as u64
        }
        "striped_sums" => {
            if ours {
                let striped = striped();
                let mut out = vec![0u64; N];
                for _ in 0..passes {
                    striped.sums_into(&mut out);
                    std::hint::black_box(&mut out);
                }
            } else {
                let bare = BareCells::new(N * STRIPES);
                let mut out = vec![0u64; N * STRIPES];
                for _ in 0..passes {
                    bare.copy(&mut out);
                    std::hint::black_box(&mut out);
                }
            }
            passes * (N * STRIPES) as u64
        }
        other => panic!("unknown case {other:?}"),
    }
}

/// The striped cases' array: `N` elements, [`STRIPES`] stripes, in an anonymous mapping.
fn striped() -> StripedArray<u64> {
    StripedArray::options()
        .stripes(STRIPES)
        .anonymous(N)
        .expect("StripedArray")
}

/// Instructions callgrind counted for one run of `key` with `ops` operations, and the
/// number of operations made.
fn count(key: &str, ours: bool, ops: u64) -> Result<(u64, u64), String> {
    let me = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let side = if ours { "ours" } else { "raw" };
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(&me)
        .args(["run", key, side, &ops.to_string()])
        .output()
        .map_err(|e| format!("valgrind cannot be run ({e})"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "valgrind failed on {key} {side}: {}",
            stderr.trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let made: u64 = stdout
        .trim()
        .parse()
        .map_err(|_| format!("no operation count from {key} {side}: {stdout:?}"))?;
    // "==123== Collected : 4567890"
    let collected = stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("no 'Collected' line from callgrind: {}", stderr.trim()))?;
    Ok((collected, made))
}

/// `code` as a markdown table cell: the closure bars escaped.
fn cell(code: &str) -> String {
    code.replace('|', "\\|")
}

/// Instructions per operation of one side of a case.
fn per_op(key: &str, ours: bool, small: u64, large: u64) -> Result<f64, String> {
    let (a, n_a) = count(key, ours, small)?;
    let (b, n_b) = count(key, ours, large)?;
    Ok((b as f64 - a as f64) / (n_b - n_a) as f64)
}

fn main() -> ExitCode {
    let quick = match args::parse(USAGE, parse_args) {
        Ok(Mode::Table(quick)) => quick,
        Ok(Mode::Run { key, ours, ops }) => {
            println!("{}", run_case(&key, ours, ops));
            return ExitCode::SUCCESS;
        }
        Err(code) => return code,
    };
    let (small, large) = if quick {
        (20_000, 120_000)
    } else {
        (100_000, 1_100_000)
    };
    let version = Command::new("valgrind").arg("--version").output();
    let version = match version {
        Ok(v) if v.status.success() => String::from_utf8_lossy(&v.stdout).trim().to_string(),
        _ => {
            println!(
                "Callgrind table NOT RUN: `valgrind` is not installed (Debian: apt-get install \
                 valgrind)."
            );
            return ExitCode::SUCCESS;
        }
    };
    println!(
        "| path | shmarray | instructions/op | raw primitive | instructions/op | difference |"
    );
    println!("|---|---|---|---|---|---|");
    for case in &CASES {
        eprintln!("callgrind: {}", case.key);
        let row = per_op(case.key, true, small, large)
            .and_then(|o| per_op(case.key, false, small, large).map(|r| (o, r)));
        match row {
            Ok((ours, raw)) => println!(
                "| {} | `{}` | {:.2} | {} | {:.2} | {:+.2} |",
                case.what,
                cell(case.ours),
                ours,
                case.raw,
                raw,
                ours - raw
            ),
            Err(why) => println!(
                "| {} | `{}` | NOT RUN | {} | - | {} |",
                case.what,
                cell(case.ours),
                case.raw,
                why
            ),
        }
    }
    println!();
    println!(
        "Instructions per operation: ({} minus {} operations) under `valgrind --tool=callgrind` \
         ({version}), counted in whole-process totals; uncontended, one thread; per-element \
         cases on N = {N}.",
        large, small
    );
    ExitCode::SUCCESS
}
