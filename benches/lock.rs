//! Lock acquire and release: the crate's lock against a robust pthread mutex used directly,
//! uncontended and contended by a second thread.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shmarray::SharedArray;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;
use support::{PthreadMutex, SharedMem};

const BATCH: u64 = 1_000;

fn lock(c: &mut Criterion) {
    let arr = SharedArray::<u64>::new(1).unwrap();
    let mem = SharedMem::new(4096);
    let raw = PthreadMutex::new(&mem, 0);
    for contended in [false, true] {
        let label = if contended {
            "contended"
        } else {
            "uncontended"
        };
        let mut group = c.benchmark_group(format!("lock/{label}"));
        group
            .throughput(Throughput::Elements(BATCH))
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            if contended {
                s.spawn(|| {
                    while !stop.load(Relaxed) {
                        drop(arr.lock().expect("lock"));
                        raw.lock();
                        raw.unlock();
                    }
                });
            }
            group.bench_function(BenchmarkId::new("shmarray lock+unlock", BATCH), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters * BATCH {
                        drop(arr.lock().expect("lock"));
                    }
                    start.elapsed()
                })
            });
            group.bench_function(
                BenchmarkId::new("robust pthread mutex lock+unlock", BATCH),
                |b| {
                    b.iter_custom(|iters| {
                        let start = Instant::now();
                        for _ in 0..iters * BATCH {
                            raw.lock();
                            raw.unlock();
                        }
                        start.elapsed()
                    })
                },
            );
            stop.store(true, Relaxed);
        });
        group.finish();
    }
}

criterion_group!(benches, lock);
criterion_main!(benches);
