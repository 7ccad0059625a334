//! The reference workload: P processes each increment every one of N elements L times, under
//! each granularity of the crate and each baseline, grouped by contention (P = 1, 2).
//!
//! Every sample forks its P workers afresh (threads for the `std::sync::Mutex` baseline):
//! they prefault their pages, wait at a start gate, run `iters × L` passes and `_exit`; the
//! time runs from opening the gate to reaping the last worker (`support::fork_run`). Each
//! process makes about `OPS_PER_WORKER` increments per iteration, so at N = 5, 1 000 and
//! 1 000 000 the loop counts are 200 000, 1 000 and 1.

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use std::time::Duration;

#[path = "support/mod.rs"]
mod support;
use support::{loops_for, Timing, Variant, Workload};

/// Increments per worker per criterion iteration.
const OPS_PER_WORKER: u64 = 1_000_000;

fn workload(c: &mut Criterion) {
    for procs in [1usize, 2] {
        let mut group = c.benchmark_group(format!("workload/procs={procs}"));
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for n in [5usize, 1_000, 1_000_000] {
            let loops = loops_for(n, OPS_PER_WORKER);
            group.throughput(Throughput::Elements(procs as u64 * loops * n as u64));
            let work = Workload::new(n);
            for variant in Variant::BENCH {
                group.bench_with_input(BenchmarkId::new(variant.name(), n), &n, |b, _| {
                    b.iter_custom(|iters| work.run(variant, procs, iters * loops, Timing::FromGate))
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, workload);
criterion_main!(benches);
