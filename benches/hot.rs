//! Hot counters: P processes adding to one element, and to every one of
//! N = 1000, as `StripedArray::add`, `SharedArray::fetch_add` and bare `fetch_add` on a
//! shared cell or on cells of each process's own 128 bytes apart; and the read side,
//! `sums_into` of N = 1000 against a Relaxed copy of N × stripes bare cells. Every sample
//! forks its workers afresh behind a start gate (`support::hot`).

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use std::time::Duration;

#[path = "support/mod.rs"]
mod support;
use support::hot::{sched_getcpu_time, Hot, HotCounters, HotSums};

/// Adds per worker per criterion iteration.
const ADDS_PER_WORKER: u64 = 1_000_000;

fn hot(c: &mut Criterion) {
    for (n, procs_list) in [(1usize, &[1usize, 2, 4][..]), (1_000, &[2][..])] {
        let counters = HotCounters::new(n, 4);
        let loops = ADDS_PER_WORKER / n as u64;
        let mut group = c.benchmark_group(format!("hot/n={n}"));
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2));
        for &procs in procs_list {
            group.throughput(Throughput::Elements(procs as u64 * loops * n as u64));
            for kind in Hot::ALL {
                group.bench_with_input(BenchmarkId::new(kind.name(), procs), &procs, |b, _| {
                    b.iter_custom(|iters| counters.run(kind, procs, iters * loops))
                });
            }
        }
        group.finish();
    }

    let mut group = c.benchmark_group("hot/sums/n=1000");
    for stripes in [2usize, 8] {
        let mut sums = HotSums::new(1_000, stripes);
        group.throughput(Throughput::Elements(1_000 * stripes as u64));
        group.bench_function(BenchmarkId::new("sums_into", stripes), |b| {
            b.iter_custom(|iters| sums.sums(iters as usize))
        });
        group.bench_function(
            BenchmarkId::new("Relaxed copy of n × stripes", stripes),
            |b| b.iter_custom(|iters| sums.copy(iters as usize)),
        );
    }
    group.finish();

    c.bench_function("hot/sched_getcpu", |b| b.iter_custom(sched_getcpu_time));
}

criterion_group!(benches, hot);
criterion_main!(benches);
