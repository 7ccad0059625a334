//! A short benchmark run that prints one markdown table: the crate against its baselines on
//! the benches' workloads, with the targets the project set, each MET or MISSED.
//!
//! ```text
//! cargo run --release --example bench_report                 # full: about 35 s
//! cargo run --release --example bench_report -- --quick      # tiny runs, for CI
//! cargo run --release --example bench_report -- --python-mops 0.7   # Python figure given
//! cargo run --release --example bench_report -- --hot-only --scaling-csv hot.csv
//!                                     # only the hot-counter rows; the plot's figures as CSV
//! ```
//!
//! The machine is assumed noisy. Every comparison is measured side by side in this one run:
//! the crate's measurement and its baseline's alternate (their order swapping each round),
//! `reps` rounds, and the ratio reported is the median of the per-round ratios (each round's
//! pair ran back to back), with their range. The throughput columns are medians.
//!
//! Python's reference (`multiprocessing.Array`, a lock per increment): the per-op figure in
//! M increments/s comes from `--python-mops X` or `SHMARRAY_PYTHON_MOPS`; failing those, the
//! report runs `python3 benches/baseline_multiprocessing.py 2 20000 5` (this crate's own
//! script, or `SHMARRAY_PYTHON_SCRIPT`) if `python3` is there, and prints what it ran. If it
//! cannot, the row says so. Nothing here passes or fails on timing: it reports.

mod args;
mod bench_hot;
#[path = "../benches/support/mod.rs"]
mod support;

use shmarray::SharedArray;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{
    loops_for, relaxed_copy, with_writer, BareCells, Bulk, BulkOp, LockKind, Locks, Timing,
    Variant, Workload, Writer,
};

/// The reference workload of the Python script: processes, loops, elements.
const PY_ARGS: (usize, u64, usize) = (2, 20_000, 5);

struct Config {
    quick: bool,
    reps: usize,
    /// Increments per worker per workload measurement.
    ops: u64,
    /// Lock + unlock pairs per lock measurement.
    lock_pairs: u64,
    python_mops: Option<(f64, String)>,
    /// Where to write the hot-counter scaling figures as CSV (for the plot).
    scaling_csv: Option<PathBuf>,
    /// Only the hot-counter rows.
    hot_only: bool,
}

const USAGE: &str =
    "usage: bench_report [--quick] [--hot-only] [--python-mops M_INC_PER_S] [--scaling-csv PATH]";

fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut quick = false;
    let mut scaling_csv = None;
    let mut hot_only = false;
    let mut python_mops = std::env::var("SHMARRAY_PYTHON_MOPS")
        .ok()
        .map(|v| (v, "SHMARRAY_PYTHON_MOPS".to_string()));
    let mut args = args.iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--hot-only" => hot_only = true,
            "--scaling-csv" => {
                let v = args.next().ok_or("--scaling-csv needs a file to write")?;
                scaling_csv = Some(PathBuf::from(v));
            }
            "--python-mops" => {
                let v = args.next().ok_or("--python-mops needs a value (M inc/s)")?;
                python_mops = Some((v.clone(), "--python-mops".to_string()));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let python_mops = match python_mops {
        Some((v, from)) => {
            let x: f64 = args::value(&from, Some(&v), 0.0)?;
            Some((x, format!("given by {from}")))
        }
        None => None,
    };
    Ok(if quick {
        Config {
            quick,
            reps: 3,
            ops: 50_000,
            lock_pairs: 50_000,
            python_mops,
            scaling_csv,
            hot_only,
        }
    } else {
        Config {
            quick,
            reps: 11,
            ops: 2_000_000,
            lock_pairs: 2_000_000,
            python_mops,
            scaling_csv,
            hot_only,
        }
    })
}

/// Runs every measurement in `fs` once per round, `reps` rounds, starting each round one
/// place further along (so no measurement always runs first); returns each one's times.
fn alternate(reps: usize, fs: &mut [&mut dyn FnMut() -> Duration]) -> Vec<Vec<Duration>> {
    let mut times = vec![Vec::with_capacity(reps); fs.len()];
    for r in 0..reps {
        for k in 0..fs.len() {
            let i = (r + k) % fs.len();
            times[i].push(fs[i]());
        }
    }
    times
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn secs(ts: &[Duration]) -> Vec<f64> {
    ts.iter().map(Duration::as_secs_f64).collect()
}

/// How the crate compares: baseline time over the crate's time, per round (higher is better
/// for the crate), summarised as median and range.
struct Ratio {
    median: f64,
    min: f64,
    max: f64,
}

fn ratio(ours: &[Duration], base: &[Duration]) -> Ratio {
    let r: Vec<f64> = ours
        .iter()
        .zip(base)
        .map(|(o, b)| b.as_secs_f64() / o.as_secs_f64())
        .collect();
    Ratio {
        median: median(&r),
        min: r.iter().copied().fold(f64::INFINITY, f64::min),
        max: r.iter().copied().fold(0.0, f64::max),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    LockFree,
    LockUnlock,
    LockPerOp,
    LockPerOpNoSeqlock,
    WholeLoop,
    Snapshot,
    Python,
    StripedOwn,
    StripedShared,
    StripedSingle,
    StripedAll,
    StripedSums,
    None,
}

impl Target {
    fn label(self) -> &'static str {
        match self {
            Target::LockFree => "lock-free >= 0.95x bare atomics",
            Target::LockUnlock => "lock + unlock >= 0.95x raw robust pthread mutex",
            Target::LockPerOp => "lock per op >= 0.9x robust pthread mutex per op",
            Target::LockPerOpNoSeqlock => {
                "lock per op, seqlock off >= 0.97x robust pthread mutex per op"
            }
            Target::WholeLoop => "whole loop / bulk >= 0.9x raw mutex + Relaxed loop",
            Target::Snapshot => "quiet snapshot 1M >= 0.8x Relaxed copy",
            Target::Python => "reference workload >= 20x Python per-op lock",
            Target::StripedOwn => "hot element, P = 2: striped >= 0.8x own cells (the limit)",
            Target::StripedShared => {
                "hot element, P = 2: striped >= 10x one shared cell (where that cell is costly)"
            }
            Target::StripedSingle => "hot element, P = 1: striped >= 0.8x bare fetch_add",
            Target::StripedAll => "every element, P = 2: striped >= 0.9x own cells",
            Target::StripedSums => "sums N = 1000 >= 0.8x Relaxed copy of N × S cells",
            Target::None => "(diagnostic, no target)",
        }
    }

    fn threshold(self) -> Option<f64> {
        match self {
            Target::LockFree => Some(0.95),
            Target::LockUnlock => Some(0.95),
            Target::LockPerOp | Target::WholeLoop => Some(0.9),
            Target::LockPerOpNoSeqlock => Some(0.97),
            Target::Snapshot => Some(0.8),
            Target::Python => Some(20.0),
            Target::StripedOwn | Target::StripedSingle | Target::StripedSums => Some(0.8),
            Target::StripedShared => Some(10.0),
            Target::StripedAll => Some(0.9),
            Target::None => None,
        }
    }
}

struct Row {
    target: Target,
    what: String,
    p: String,
    n: String,
    ours: String,
    base: String,
    ratio: Option<Ratio>,
    /// Replaces the verdict when the row could not be measured.
    note: Option<String>,
}

fn mops(incs: u64, t: f64) -> String {
    format!("{:.1} M/s", incs as f64 / t / 1e6)
}

fn human(t: f64) -> String {
    if t < 1e-6 {
        format!("{:.1} ns", t * 1e9)
    } else if t < 1e-3 {
        format!("{:.2} µs", t * 1e6)
    } else {
        format!("{:.2} ms", t * 1e3)
    }
}

/// The reference workload at `procs` × `n`: every comparison's pair, alternating.
fn workload_rows(cfg: &Config, procs: usize, n: usize, rows: &mut Vec<Row>) {
    use Variant::*;
    let work = Workload::new(n);
    let loops = loops_for(n, cfg.ops);
    let incs = procs as u64 * loops * n as u64;
    // The diagnostics split the per-op and whole-loop gaps into their parts; they are run
    // uncontended only, where the parts add up (under contention, lock hand-off dominates).
    let mut variants = vec![
        LockFree,
        BareAtomic,
        LockPerOp,
        PthreadPerOp,
        LockWholeLoop,
        LockWholeLoopGetSet,
        LockUpdateEach,
        PthreadWholeLoop,
        LockPerOpNoSeqlock,
        LockUpdateEachNoSeqlock,
    ];
    if procs == 1 {
        variants.extend([PthreadRmwPerOp, PthreadSeqRmwPerOp, PthreadRmwWholeLoop]);
    }
    eprintln!("workload: {procs} procs × {loops} loops × N={n}");
    let mut fs: Vec<Box<dyn FnMut() -> Duration>> = variants
        .iter()
        .map(|&v| {
            let work = &work;
            Box::new(move || work.run(v, procs, loops, Timing::FromGate)) as Box<dyn FnMut() -> _>
        })
        .collect();
    let mut refs: Vec<&mut dyn FnMut() -> Duration> =
        fs.iter_mut().map(|f| &mut **f as &mut _).collect();
    let times = alternate(cfg.reps, &mut refs);
    let t = |v: Variant| &times[variants.iter().position(|&x| x == v).unwrap()];
    let mut pairs = vec![
        (Target::LockFree, LockFree, BareAtomic),
        (Target::LockPerOp, LockPerOp, PthreadPerOp),
        (Target::LockPerOpNoSeqlock, LockPerOpNoSeqlock, PthreadPerOp),
        (Target::WholeLoop, LockUpdateEach, PthreadWholeLoop),
        (Target::WholeLoop, LockUpdateEachNoSeqlock, PthreadWholeLoop),
        // The index loops: `add` is an atomic RMW by design; `get`+`set` reloads the cell
        // pointer and bounds-checks per element. Shown for comparison, no target.
        (Target::None, LockWholeLoop, PthreadWholeLoop),
        (Target::None, LockWholeLoopGetSet, PthreadWholeLoop),
    ];
    if procs == 1 {
        pairs.extend([
            (Target::None, LockPerOp, PthreadRmwPerOp),
            (Target::None, LockPerOp, PthreadSeqRmwPerOp),
            (Target::None, LockWholeLoop, PthreadRmwWholeLoop),
        ]);
    }
    for (target, ours, base) in pairs {
        rows.push(Row {
            target,
            what: format!("{} vs {}", ours.name(), base.name()),
            p: procs.to_string(),
            n: n.to_string(),
            ours: mops(incs, median(&secs(t(ours)))),
            base: mops(incs, median(&secs(t(base)))),
            ratio: Some(ratio(t(ours), t(base))),
            note: None,
        });
    }
}

fn lock_rows(cfg: &Config, rows: &mut Vec<Row>) {
    let locks = Locks::new();
    let k = cfg.lock_pairs;
    for threads in [1usize, 2] {
        eprintln!("lock + unlock: {threads} thread(s)");
        let run = |kind: LockKind| {
            if threads == 1 {
                let start = Instant::now();
                locks.lock_unlock(kind, k);
                start.elapsed()
            } else {
                locks.contended(kind, threads, k / threads as u64)
            }
        };
        let times = alternate(
            cfg.reps,
            &mut [
                &mut || run(LockKind::Shmarray),
                &mut || run(LockKind::ShmarrayNoSeqlock),
                &mut || run(LockKind::Pthread),
            ],
        );
        let per = |ts: &[Duration]| human(median(&secs(ts)) / k as f64);
        let how = if threads == 1 {
            "uncontended".to_string()
        } else {
            format!("contended by {threads} threads")
        };
        for (ours, seqlock) in [(0, ""), (1, ", seqlock off")] {
            rows.push(Row {
                target: Target::LockUnlock,
                what: format!(
                    "lock + unlock{seqlock}, {how}, vs robust pthread mutex (time per pair)"
                ),
                p: format!("{threads} thr"),
                n: "-".into(),
                ours: per(&times[ours]),
                base: per(&times[2]),
                ratio: Some(ratio(&times[ours], &times[2])),
                note: None,
            });
        }
    }
}

/// The guard's other bulk operations against the raw mutex around the same loop, one thread.
fn bulk_rows(cfg: &Config, rows: &mut Vec<Row>) {
    for n in [5usize, 1_000, 1_000_000] {
        let bulk = Bulk::new(n);
        let (mut a, mut b): (Vec<u64>, Vec<u64>) = ((0..n as u64).collect(), vec![0; n]);
        // Elements per measurement: about as many as a workload measurement's increments.
        let k = (cfg.ops / n as u64).max(1);
        for op in BulkOp::ALL {
            eprintln!("bulk: {} N={n}", op.name());
            let run = |ours: bool, buf: &mut [u64]| {
                let start = Instant::now();
                bulk.run(op, ours, k, buf);
                start.elapsed()
            };
            let times = alternate(
                cfg.reps,
                &mut [&mut || run(true, &mut a), &mut || run(false, &mut b)],
            );
            let elems = k * n as u64;
            rows.push(Row {
                target: Target::WholeLoop,
                what: format!("shmarray {} vs {}", op.name(), op.baseline_name()),
                p: "1 thr".into(),
                n: n.to_string(),
                ours: mops(elems, median(&secs(&times[0]))),
                base: mops(elems, median(&secs(&times[1]))),
                ratio: Some(ratio(&times[0], &times[1])),
                note: None,
            });
        }
    }
}

/// The callgrind table of `examples/callgrind_ops.rs`, if that example is built beside this
/// one (`cargo build --release --examples`); it runs valgrind itself, or says it cannot.
fn callgrind_table(cfg: &Config) -> String {
    let probe = std::env::current_exe()
        .ok()
        .and_then(|me| Some(me.parent()?.join("callgrind_ops")))
        .filter(|p| p.exists());
    let Some(probe) = probe else {
        return "Callgrind table NOT RUN: build the probe first with `cargo build --release \
                --examples` (it is looked for beside this binary)."
            .into();
    };
    eprintln!("callgrind: {}", probe.display());
    let mut cmd = Command::new(&probe);
    if cfg.quick {
        cmd.arg("--quick");
    }
    match cmd.output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => format!(
            "Callgrind table NOT RUN: {} failed: {}",
            probe.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => format!("Callgrind table NOT RUN: {} ({e})", probe.display()),
    }
}

/// The time of `inner` copies into `out`.
fn timed(inner: usize, out: &mut [u64], copy: impl Fn(&mut [u64])) -> Duration {
    let start = Instant::now();
    for _ in 0..inner {
        copy(out);
    }
    start.elapsed()
}

fn snapshot_rows(cfg: &Config, rows: &mut Vec<Row>) {
    for (writer, n, target) in [
        (Writer::Quiet, 1_000_000, Target::Snapshot),
        (Writer::Quiet, 1_000, Target::None),
        (Writer::LockFree, 1_000_000, Target::None),
        (Writer::Locked, 1_000, Target::None),
        (Writer::Locked, 1_000_000, Target::None),
    ] {
        eprintln!("snapshot: N={n}, {}", writer.name());
        let arr = SharedArray::<u64>::new(n).unwrap();
        let bare = BareCells::new(n);
        let (mut a, mut b, mut c) = (vec![0u64; n], vec![0u64; n], vec![0u64; n]);
        // Enough copies per measurement for the clock: about 4 M elements.
        let inner = (4_000_000 / n).max(1);
        let times = with_writer(&arr, writer, || {
            // The crate's snapshot, the Relaxed copy of the same cells, and (quiet only, as
            // no writer writes them) the floor: a Relaxed copy of bare cells.
            let mut snapshot = || timed(inner, &mut a, |o| arr.snapshot_into(o).expect("snapshot"));
            let mut copy = || timed(inner, &mut b, |o| relaxed_copy(&arr, o));
            let mut floor = || timed(inner, &mut c, |o| bare.copy(o));
            let mut fs: Vec<&mut dyn FnMut() -> Duration> = vec![&mut snapshot, &mut copy];
            if writer == Writer::Quiet {
                fs.push(&mut floor);
            }
            alternate(cfg.reps * 2, &mut fs)
        });
        let per = |ts: &[Duration]| human(median(&secs(ts)) / inner as f64);
        rows.push(Row {
            target,
            what: format!(
                "snapshot_into, {}, vs Relaxed copy of the same cells (time per copy)",
                writer.name()
            ),
            p: "1 thr".into(),
            n: n.to_string(),
            ours: per(&times[0]),
            base: per(&times[1]),
            ratio: Some(ratio(&times[0], &times[1])),
            note: None,
        });
        if writer == Writer::Quiet {
            rows.push(Row {
                target: Target::None,
                what: "snapshot_into, quiet, vs Relaxed copy of bare AtomicU64 cells (floor)"
                    .into(),
                p: "1 thr".into(),
                n: n.to_string(),
                ours: per(&times[0]),
                base: per(&times[2]),
                ratio: Some(ratio(&times[0], &times[2])),
                note: None,
            });
        }
    }
}

/// Runs Python's reference script if it is there; returns its per-op figure and whole-loop
/// figure in M inc/s, and the command it ran.
fn run_python() -> Result<(f64, f64, String), String> {
    let script = std::env::var_os("SHMARRAY_PYTHON_SCRIPT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/baseline_multiprocessing.py")
        });
    if !script.exists() {
        return Err(format!("{} is absent", script.display()));
    }
    let (p, l, n) = PY_ARGS;
    let args = [p.to_string(), l.to_string(), n.to_string()];
    // The crate's own script is shown relative to the crate, as a reader would run it.
    let relative = script
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(&script);
    let shown = format!("python3 {} {}", relative.display(), args.join(" "));
    eprintln!("running: {shown}");
    let out = Command::new("python3")
        .arg(&script)
        .args(&args)
        .output()
        .map_err(|e| format!("python3 cannot be run ({e})"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprint!("{text}");
    if !out.status.success() {
        return Err(format!(
            "`{shown}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let figure = |mode: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.contains(mode))?;
        line.rsplit(':')
            .next()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    match (figure("per_op"), figure("whole_loop")) {
        (Some(per_op), Some(whole)) => Ok((per_op, whole, shown)),
        _ => Err(format!("no figures in the output of `{shown}`")),
    }
}

fn python_rows(cfg: &Config, rows: &mut Vec<Row>, notes: &mut Vec<String>) {
    let (procs, loops, n) = PY_ARGS;
    let python = match &cfg.python_mops {
        Some((x, from)) => Ok((*x, None, from.clone())),
        None => run_python().map(|(per_op, whole, cmd)| (per_op, Some(whole), cmd)),
    };
    let incs = procs as u64 * loops * n as u64;
    // The crate on the script's exact workload, timed as the script times itself: from
    // before the first fork to reaping the last worker.
    eprintln!("reference workload as Python runs it: {procs} procs × {loops} loops × N={n}");
    let work = Workload::new(n);
    let times = alternate(
        cfg.reps,
        &mut [
            &mut || work.run(Variant::LockFree, procs, loops, Timing::WholeRun),
            &mut || work.run(Variant::LockPerOp, procs, loops, Timing::WholeRun),
        ],
    );
    for (k, variant) in [Variant::LockFree, Variant::LockPerOp]
        .into_iter()
        .enumerate()
    {
        let ours = incs as f64 / median(&secs(&times[k])) / 1e6;
        let mut row = Row {
            target: Target::Python,
            what: format!(
                "{} (whole run incl. fork + exit) vs multiprocessing.Array, get_lock() per op",
                variant.name()
            ),
            p: procs.to_string(),
            n: format!("{n} (L={loops})"),
            ours: format!("{ours:.1} M/s"),
            base: "-".into(),
            ratio: None,
            note: None,
        };
        match &python {
            Ok((py, _, _)) => {
                row.base = format!("{py:.3} M/s");
                let r = ours / py;
                row.ratio = Some(Ratio {
                    median: r,
                    min: r,
                    max: r,
                });
            }
            Err(why) => row.note = Some(format!("NOT RUN: {why}")),
        }
        rows.push(row);
    }
    match python {
        Ok((py, whole, source)) => {
            let whole = whole.map_or(String::new(), |w| {
                format!("; its whole-loop lock figure: {w:.3} M inc/s")
            });
            notes.push(format!(
                "Python figure ({py:.3} M inc/s, lock per increment): {source}, one run{whole}. \
                 The crate's side of those rows: median of {} runs.",
                cfg.reps
            ));
        }
        Err(why) => notes.push(format!(
            "Python reference not measured: {why}. Pass --python-mops X (M inc/s) or set \
             SHMARRAY_PYTHON_MOPS to use a figure measured elsewhere."
        )),
    }
}

fn main() -> std::process::ExitCode {
    let cfg = match args::parse(USAGE, parse_args) {
        Ok(cfg) => cfg,
        Err(code) => return code,
    };
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    if !cfg.hot_only {
        for procs in [1usize, 2] {
            for n in [5usize, 1_000, 1_000_000] {
                workload_rows(&cfg, procs, n, &mut rows);
            }
        }
        lock_rows(&cfg, &mut rows);
        bulk_rows(&cfg, &mut rows);
        snapshot_rows(&cfg, &mut rows);
        python_rows(&cfg, &mut rows, &mut notes);
    }
    let scaling = bench_hot::hot_rows(&cfg, &mut rows, &mut notes);
    if let Some(path) = &cfg.scaling_csv {
        if let Err(e) = std::fs::write(path, scaling.csv()) {
            return args::fail(&format!("writing {}", path.display()), &e);
        }
    }
    rows.sort_by_key(|r| r.target); // stable: measurement order within a target

    println!("| target | comparison | P | N | shmarray | baseline | ratio (range) | verdict |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let ratio = r.ratio.as_ref().map_or("-".to_string(), |x| {
            if x.min == x.max {
                format!("{:.2}x", x.median)
            } else {
                format!("{:.2}x ({:.2}–{:.2})", x.median, x.min, x.max)
            }
        });
        let verdict = match (&r.note, r.target.threshold(), &r.ratio) {
            (Some(note), _, _) => note.clone(),
            (None, Some(t), Some(x)) if x.median >= t => "MET".to_string(),
            (None, Some(_), Some(_)) => "**MISSED**".to_string(),
            _ => "-".to_string(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.target.label(),
            r.what,
            r.p,
            r.n,
            r.ours,
            r.base,
            ratio,
            verdict
        );
    }
    println!();
    println!(
        "Ratio: the baseline's time over the crate's for the same work (higher is better for \
         the crate), median over {} alternating rounds (snapshots: twice as many), with the range of the rounds. \
         Workload rows: forked processes, timed from the start gate to the last exit; \
         M/s = increments per second, all processes together.{}",
        cfg.reps,
        if cfg.quick {
            " --quick: tiny runs, for CI; the figures are rough."
        } else {
            ""
        }
    );
    for note in notes {
        println!();
        println!("{note}");
    }
    if !cfg.hot_only {
        println!();
        println!("{}", callgrind_table(&cfg).trim_end());
    }
    eprintln!("bench_report took {:.1} s", started.elapsed().as_secs_f64());
    std::process::ExitCode::SUCCESS
}
