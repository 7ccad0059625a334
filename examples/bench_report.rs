//! A short benchmark run that prints one markdown table of the crate against its baselines,
//! with the targets the crate sets itself, each MET or MISSED.
//!
//! ```text
//! cargo run --release --example bench_report              # full sizes, about a minute
//! cargo run --release --example bench_report -- --quick   # tiny sizes, for CI
//! ```
//!
//! Every ratio compares two measurements taken side by side in the same run: the
//! measurements alternate, repeat, and the median of each is kept, because the machine is
//! noisy. The Python reference (`../shared/reference/baseline_python.py`, same workload on
//! `multiprocessing.Array`) is run too when `python3` and the script are there; set
//! `SHMARRAY_PYTHON_BASELINE` to its per-op figure in M inc/s to use a figure measured
//! elsewhere instead. Nothing here passes or fails on timing: the table reports.

#[path = "../benches/support/mod.rs"]
mod support;

use shmarray::SharedArray;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use support::{loops_for, Pool, PthreadMutex, SharedMem, Variant, Workload};

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// Runs each of `fs` `reps` times, alternating between them, and returns each one's median.
fn alternate(reps: usize, fs: &mut [&mut dyn FnMut() -> Duration]) -> Vec<Duration> {
    let mut times = vec![Vec::new(); fs.len()];
    for _ in 0..reps {
        for (f, t) in fs.iter_mut().zip(&mut times) {
            t.push(f());
        }
    }
    times.into_iter().map(median).collect()
}

struct Row {
    what: String,
    ours: String,
    base: String,
    ratio: f64,
    target: Option<f64>,
}

fn mops(incs: u64, t: Duration) -> f64 {
    incs as f64 / t.as_secs_f64() / 1e6
}

/// The Python reference's per-op figure in M inc/s, and where it came from.
fn python_baseline(procs: usize, loops: u64, n: usize) -> Option<(f64, String)> {
    if let Ok(v) = std::env::var("SHMARRAY_PYTHON_BASELINE") {
        return v
            .parse()
            .ok()
            .map(|x| (x, "SHMARRAY_PYTHON_BASELINE".to_string()));
    }
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/baseline_python.py");
    if !script.exists() {
        eprintln!("python reference: {} not found, skipped", script.display());
        return None;
    }
    let args = [procs.to_string(), loops.to_string(), n.to_string()];
    let out = match Command::new("python3").arg(&script).args(&args).output() {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            eprintln!(
                "python reference failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Err(e) => {
            eprintln!("python reference: python3 not runnable ({e}), skipped");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    eprint!("{text}");
    let line = text.lines().find(|l| l.contains("per_op"))?;
    let figure = line
        .split(':')
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((
        figure,
        format!("python3 baseline_python.py {}", args.join(" ")),
    ))
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (reps, ops, sizes, snap_n): (usize, u64, &[usize], usize) = if quick {
        (3, 20_000, &[5, 1_000], 10_000)
    } else {
        (9, 400_000, &[5, 1_000, 1_000_000], 1_000_000)
    };
    let procs = 2;
    let mut rows = Vec::new();

    // 1. The reference workload: lock-free against bare atomics; the lock per op against
    //    the robust pthread mutex used directly, per op.
    let mut lock_free_n5 = None;
    for &n in sizes {
        let loops = loops_for(n, ops);
        let work = Workload::new(n);
        let pool = Pool::new(&work, procs);
        let incs = procs as u64 * loops * n as u64;
        let t = alternate(
            reps,
            &mut [
                &mut || pool.run(Variant::LockFree, loops),
                &mut || pool.run(Variant::BareAtomic, loops),
                &mut || pool.run(Variant::LockPerOp, loops),
                &mut || pool.run(Variant::PthreadPerOp, loops),
                &mut || pool.run(Variant::LockWholeLoop, loops),
                &mut || pool.run(Variant::PthreadWholeLoop, loops),
                &mut || pool.run(Variant::LockWholeLoopGetSet, loops),
            ],
        );
        drop(pool);
        let runs = reps as u64 * procs as u64 * loops;
        assert_eq!(
            work.arr.load(0, Relaxed),
            4 * runs,
            "the crate's workload lost updates"
        );
        if n == 5 {
            lock_free_n5 = Some(mops(incs, t[0]));
        }
        for (what, a, b, target) in [
            (
                "lock-free fetch_add vs bare AtomicU64",
                t[0],
                t[1],
                Some(0.95),
            ),
            (
                "lock per op vs robust pthread mutex per op",
                t[2],
                t[3],
                Some(0.9),
            ),
            (
                "lock whole loop (guard.add) vs robust pthread mutex whole loop",
                t[4],
                t[5],
                None,
            ),
            (
                "lock whole loop (guard.get+set) vs robust pthread mutex whole loop",
                t[6],
                t[5],
                None,
            ),
        ] {
            rows.push(Row {
                what: format!("{what}, {procs} procs, N={n}"),
                ours: format!("{:.1} M inc/s", mops(incs, a)),
                base: format!("{:.1} M inc/s", mops(incs, b)),
                ratio: b.as_secs_f64() / a.as_secs_f64(),
                target,
            });
        }
    }

    // 2. Lock acquire + release, uncontended, against the robust pthread mutex directly.
    {
        let arr = SharedArray::<u64>::new(1).unwrap();
        let mem = SharedMem::new(4096);
        let raw = PthreadMutex::new(&mem, 0);
        let batch = if quick { 20_000 } else { 1_000_000 };
        let t = alternate(
            reps,
            &mut [
                &mut || {
                    let start = Instant::now();
                    for _ in 0..batch {
                        drop(black_box(arr.lock().expect("lock")));
                    }
                    start.elapsed()
                },
                &mut || {
                    let start = Instant::now();
                    for _ in 0..batch {
                        raw.lock();
                        raw.unlock();
                    }
                    start.elapsed()
                },
            ],
        );
        let per = |d: Duration| d.as_nanos() as f64 / batch as f64;
        rows.push(Row {
            what: "lock + unlock, uncontended, vs robust pthread mutex".into(),
            ours: format!("{:.1} ns", per(t[0])),
            base: format!("{:.1} ns", per(t[1])),
            ratio: t[1].as_secs_f64() / t[0].as_secs_f64(),
            target: Some(0.9),
        });
    }

    // 3. A quiet snapshot against a plain copy of Relaxed loads of the same cells.
    {
        let arr = SharedArray::<u64>::new(snap_n).unwrap();
        let (mut out_a, mut out_b) = (vec![0u64; snap_n], vec![0u64; snap_n]);
        let t = alternate(
            reps,
            &mut [
                &mut || {
                    let start = Instant::now();
                    arr.snapshot_into(black_box(&mut out_a)).expect("snapshot");
                    start.elapsed()
                },
                &mut || {
                    let start = Instant::now();
                    for (o, i) in out_b.iter_mut().zip(0..snap_n) {
                        *o = arr.load(i, Relaxed);
                    }
                    black_box(&out_b);
                    start.elapsed()
                },
            ],
        );
        rows.push(Row {
            what: format!("quiet snapshot of {snap_n} vs Relaxed copy"),
            ours: format!("{:.1} µs", t[0].as_secs_f64() * 1e6),
            base: format!("{:.1} µs", t[1].as_secs_f64() * 1e6),
            ratio: t[1].as_secs_f64() / t[0].as_secs_f64(),
            target: Some(0.8),
        });
    }

    // 4. Against Python's multiprocessing.Array with its per-op lock, same workload.
    let python = if quick && std::env::var_os("SHMARRAY_PYTHON_BASELINE").is_none() {
        eprintln!("python reference: skipped in --quick mode");
        None
    } else {
        python_baseline(procs, 20_000, 5)
    };
    match (python, lock_free_n5) {
        (Some((py, source)), Some(ours)) => rows.push(Row {
            what: format!("reference workload (lock-free), {procs} procs, N=5, vs multiprocessing.Array per-op lock ({source})"),
            ours: format!("{ours:.1} M inc/s"),
            base: format!("{py:.3} M inc/s"),
            ratio: ours / py,
            target: Some(20.0),
        }),
        _ => eprintln!("no Python figure: that row is left out"),
    }

    println!(
        "| comparison | shmarray | baseline | ratio (higher is better for shmarray) | target | |"
    );
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        let (target, verdict) = match r.target {
            Some(t) => (
                format!(">= {t}x"),
                if r.ratio >= t { "MET" } else { "MISSED" },
            ),
            None => ("-".to_string(), ""),
        };
        println!(
            "| {} | {} | {} | {:.2}x | {} | {} |",
            r.what, r.ours, r.base, r.ratio, target, verdict
        );
    }
    println!(
        "\n{} repetitions each, alternating, median kept{}",
        reps,
        if quick { "; --quick sizes" } else { "" }
    );
}
