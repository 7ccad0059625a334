//! Snapshots of 1_000 and 1_000_000 elements: quiet, and under a concurrent writer (lock-free
//! and locked), against a plain copy of Relaxed loads of the same cells.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shmarray::SharedArray;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

#[path = "support/mod.rs"]
mod support;

/// What runs beside the snapshots.
#[derive(Clone, Copy)]
enum Writer {
    Quiet,
    LockFree,
    Locked,
}

fn with_writer<R>(arr: &SharedArray<u64>, writer: Writer, f: impl FnOnce() -> R) -> R {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        if !matches!(writer, Writer::Quiet) {
            s.spawn(|| {
                let mut i = 0;
                while !stop.load(Relaxed) {
                    match writer {
                        Writer::LockFree => {
                            arr.fetch_add(i % arr.len(), 1, Relaxed);
                        }
                        Writer::Locked => {
                            arr.lock().expect("lock").add(i % arr.len(), 1);
                        }
                        Writer::Quiet => unreachable!(),
                    }
                    i += 1;
                    if i % 64 == 0 {
                        std::thread::yield_now();
                    }
                }
            });
        }
        let r = f();
        stop.store(true, Relaxed);
        r
    })
}

fn snapshot(c: &mut Criterion) {
    let quick = std::env::var_os("SHMARRAY_BENCH_QUICK").is_some();
    for (writer, label) in [
        (Writer::Quiet, "quiet"),
        (Writer::LockFree, "lock-free writer"),
        (Writer::Locked, "locked writer"),
    ] {
        let mut group = c.benchmark_group(format!("snapshot/{label}"));
        group
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(if quick { 1 } else { 2 }))
            .sample_size(20);
        for n in [1_000usize, 1_000_000] {
            group.throughput(Throughput::Elements(n as u64));
            let arr = SharedArray::<u64>::new(n).unwrap();
            let mut out = vec![0u64; n];
            with_writer(&arr, writer, || {
                group.bench_with_input(BenchmarkId::new("snapshot_into", n), &n, |b, _| {
                    b.iter(|| arr.snapshot_into(&mut out).expect("snapshot"))
                });
                group.bench_with_input(
                    BenchmarkId::new("Relaxed copy (baseline)", n),
                    &n,
                    |b, _| {
                        b.iter(|| {
                            for (o, i) in out.iter_mut().zip(0..n) {
                                *o = arr.load(i, Relaxed);
                            }
                        })
                    },
                );
            });
        }
        group.finish();
    }
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
