//! Lock acquire + release, grouped by contention: the crate's lock against a robust,
//! process-shared pthread mutex used directly (the same attributes), a bare spinlock and
//! `std::sync::Mutex`.
//!
//! Uncontended: one thread, `BATCH` empty lock + unlock pairs per iteration. Contended: two
//! threads, each making half of the `BATCH` pairs on the same lock at once (time from a start
//! gate to joining both), so every figure is per pair.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;
use support::{LockKind, Locks};

const BATCH: u64 = 1_000;

fn lock(c: &mut Criterion) {
    let locks = Locks::new();
    for threads in [1usize, 2] {
        let label = if threads == 1 {
            "uncontended".to_string()
        } else {
            format!("contended ({threads} threads)")
        };
        let mut group = c.benchmark_group(format!("lock/{label}"));
        group
            .throughput(Throughput::Elements(BATCH))
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1500));
        for kind in LockKind::ALL {
            group.bench_function(BenchmarkId::new(kind.name(), BATCH), |b| {
                b.iter_custom(|iters| {
                    if threads == 1 {
                        let start = Instant::now();
                        locks.lock_unlock(kind, iters * BATCH);
                        start.elapsed()
                    } else {
                        let per_thread = iters * BATCH / threads as u64;
                        locks.contended(kind, threads, per_thread)
                    }
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, lock);
criterion_main!(benches);
