//! `bench_report`'s hot-counter rows: P processes adding to one element
//! and to every one of N = 1000, as `StripedArray::add` against bare `fetch_add` on cells of
//! each process's own (the limit) and on one shared cell, and against
//! `SharedArray::fetch_add`; the read side, `sums_into` against a Relaxed copy of as many
//! cells; the throughput of the three one-element kinds at P = 1, 2, 4 (more processes
//! than this machine's cores), for the plot in `BENCHMARKS.md`; and the cost of
//! `sched_getcpu`, which the stripe lookup avoids.

use super::support::hot::{sched_getcpu_time, Hot, HotCounters, HotSums};
use super::{alternate, human, median, mops, ratio, secs, Config, Row, Target};
use std::time::Duration;

/// Throughput (M adds/s, all processes together) at each process count, of bare shared,
/// `SharedArray::fetch_add` and `StripedArray::add`, for the plot.
pub struct Scaling(pub Vec<(usize, [f64; 3])>);

impl Scaling {
    /// As CSV, with a header line.
    pub fn csv(&self) -> String {
        let mut out =
            String::from("processes,bare_shared_cell,SharedArray_fetch_add,StripedArray_add\n");
        for (p, [bare, dense, striped]) in &self.0 {
            out.push_str(&format!("{p},{bare:.2},{dense:.2},{striped:.2}\n"));
        }
        out
    }
}

fn row(target: Target, what: String, p: usize, n: usize, ours: String, base: String) -> Row {
    Row {
        target,
        what,
        p: p.to_string(),
        n: n.to_string(),
        ours,
        base,
        ratio: None,
        note: None,
    }
}

/// Adds the hot-counter rows to `rows` and notes to `notes`; returns the scaling figures.
pub fn hot_rows(cfg: &Config, rows: &mut Vec<Row>, notes: &mut Vec<String>) -> Scaling {
    let mut scaling = Vec::new();
    let one = HotCounters::new(1, 4);
    let loops = cfg.ops;
    for procs in [1usize, 2, 4] {
        eprintln!("hot counter: {procs} procs × {loops} adds to one element");
        let one = &one;
        let run = |kind: Hot| move || one.run(kind, procs, loops);
        let (mut s, mut d, mut bs, mut bo) = (
            run(Hot::Striped),
            run(Hot::Dense),
            run(Hot::BareShared),
            run(Hot::BareOwn),
        );
        let times = alternate(cfg.reps, &mut [&mut s, &mut d, &mut bs, &mut bo]);
        let t = |kind: Hot| &times[Hot::ALL.iter().position(|&k| k == kind).unwrap()];
        let incs = procs as u64 * loops;
        let rate = |kind: Hot| incs as f64 / median(&secs(t(kind))) / 1e6;
        scaling.push((
            procs,
            [rate(Hot::BareShared), rate(Hot::Dense), rate(Hot::Striped)],
        ));
        let pairs: &[(Target, Hot)] = match procs {
            1 => &[
                (Target::StripedSingle, Hot::BareShared),
                (Target::None, Hot::Dense),
            ],
            2 => &[
                (Target::StripedOwn, Hot::BareOwn),
                (Target::StripedShared, Hot::BareShared),
                (Target::None, Hot::Dense),
            ],
            _ => &[
                (Target::None, Hot::BareOwn),
                (Target::None, Hot::BareShared),
                (Target::None, Hot::Dense),
            ],
        };
        for &(target, base) in pairs {
            let mut r = row(
                target,
                format!("{} vs {}, one element", Hot::Striped.name(), base.name()),
                procs,
                1,
                mops(incs, median(&secs(t(Hot::Striped)))),
                mops(incs, median(&secs(t(base)))),
            );
            r.ratio = Some(ratio(t(Hot::Striped), t(base)));
            rows.push(r);
        }
    }

    let n = 1_000;
    let all = HotCounters::new(n, 2);
    let loops = (cfg.ops / n as u64).max(1);
    eprintln!("hot counters: 2 procs × {loops} passes over N={n}");
    let times = alternate(
        cfg.reps,
        &mut [&mut || all.run(Hot::Striped, 2, loops), &mut || {
            all.run(Hot::BareOwn, 2, loops)
        }],
    );
    let incs = 2 * loops * n as u64;
    let mut r = row(
        Target::StripedAll,
        format!(
            "{} vs {}, every element",
            Hot::Striped.name(),
            Hot::BareOwn.name()
        ),
        2,
        n,
        mops(incs, median(&secs(&times[0]))),
        mops(incs, median(&secs(&times[1]))),
    );
    r.ratio = Some(ratio(&times[0], &times[1]));
    rows.push(r);

    for stripes in [one.stripes(), 8] {
        eprintln!("sums_into: N={n}, {stripes} stripes");
        let mut sums = HotSums::new(n, stripes);
        let inner = (4_000_000 / (n * stripes)).max(1);
        let times = {
            let sums = std::cell::RefCell::new(&mut sums);
            alternate(
                cfg.reps * 2,
                &mut [&mut || sums.borrow_mut().sums(inner), &mut || {
                    sums.borrow_mut().copy(inner)
                }],
            )
        };
        let per = |ts: &[Duration]| human(median(&secs(ts)) / inner as f64);
        let mut r = row(
            Target::StripedSums,
            format!("sums_into, {stripes} stripes, vs Relaxed copy of N × {stripes} bare cells (time per call)"),
            1,
            n,
            per(&times[0]),
            per(&times[1]),
        );
        r.p = "1 thr".into();
        r.ratio = Some(ratio(&times[0], &times[1]));
        rows.push(r);
    }

    let calls = 4 * cfg.ops;
    let getcpu = median(&secs(
        &(0..cfg.reps)
            .map(|_| sched_getcpu_time(calls))
            .collect::<Vec<_>>(),
    )) / calls as f64;
    notes.push(format!(
        "Stripe lookup: `sched_getcpu()` costs {} per call here (median of {} runs of {calls}); \
         `StripedArray` reads the CPU number from the thread's rseq area instead (one load), \
         so its P = 1 row above is the whole cost of the lookup plus the add. \
         Striped arrays here have {} stripes (the default: one per CPU number up to the \
         highest this process may use).",
        human(getcpu),
        cfg.reps,
        one.stripes()
    ));
    Scaling(scaling)
}
