//! The reference workload: P processes each increment every one of N elements L times,
//! under each granularity of the crate and each baseline, grouped by contention (P).
//!
//! Workers are forked once per group and reused, so the times are the work's, not `fork`'s.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

#[path = "support/mod.rs"]
mod support;
use support::{loops_for, std_mutex_run, Pool, Variant, Workload};

/// Increments per process per measured run.
const OPS_PER_RUN: u64 = 200_000;

fn workload(c: &mut Criterion) {
    let quick = std::env::var_os("SHMARRAY_BENCH_QUICK").is_some();
    let sizes: &[usize] = if quick {
        &[5, 1_000]
    } else {
        &[5, 1_000, 1_000_000]
    };
    for procs in [1usize, 2] {
        let mut group = c.benchmark_group(format!("workload/procs={procs}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(if quick { 1 } else { 2 }));
        for &n in sizes {
            let loops = loops_for(n, OPS_PER_RUN);
            group.throughput(Throughput::Elements(procs as u64 * loops * n as u64));
            let work = Workload::new(n);
            let pool = Pool::new(&work, procs);
            for variant in Variant::ALL {
                group.bench_with_input(BenchmarkId::new(variant.name(), n), &n, |b, _| {
                    b.iter_custom(|iters| (0..iters).map(|_| pool.run(variant, loops)).sum())
                });
            }
            drop(pool);
            for (per_op, name) in [
                (true, "std Mutex<Vec> per op (threads)"),
                (false, "std Mutex<Vec> whole loop (threads)"),
            ] {
                group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| std_mutex_run(procs, n, loops, per_op))
                            .sum()
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, workload);
criterion_main!(benches);
