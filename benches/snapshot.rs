//! Snapshots of 1 000 and 1 000 000 elements, grouped by contention: no writer, a thread
//! writing lock-free (`fetch_add` element after element), and a thread writing under the lock
//! (one `lock()` per increment). The baseline is a plain copy of Relaxed loads of the same
//! cells through `arr.load(i, Relaxed)`, measured beside the same writer; with no writer,
//! also a Relaxed copy of bare `AtomicU64` cells in a plain shared mapping (the floor).

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use shmarray::SharedArray;
use std::time::Duration;

#[path = "support/mod.rs"]
mod support;
use support::{relaxed_copy, with_writer, BareCells, Writer};

fn snapshot(c: &mut Criterion) {
    for writer in Writer::ALL {
        let mut group = c.benchmark_group(format!("snapshot/{}", writer.name()));
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(20)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1500));
        for n in [1_000usize, 1_000_000] {
            group.throughput(Throughput::Elements(n as u64));
            let arr = SharedArray::<u64>::new(n).unwrap();
            let mut out = vec![0u64; n];
            with_writer(&arr, writer, || {
                group.bench_with_input(
                    BenchmarkId::new("shmarray snapshot_into", n),
                    &n,
                    |b, _| b.iter(|| arr.snapshot_into(&mut out).expect("snapshot")),
                );
                if writer == Writer::Quiet {
                    group.bench_with_input(
                        BenchmarkId::new("shmarray snapshot (allocates)", n),
                        &n,
                        |b, _| b.iter(|| arr.snapshot().expect("snapshot")),
                    );
                }
                if writer == Writer::Quiet {
                    let bare = BareCells::new(n);
                    group.bench_with_input(
                        BenchmarkId::new("Relaxed copy of bare AtomicU64 cells (floor)", n),
                        &n,
                        |b, _| b.iter(|| bare.copy(&mut out)),
                    );
                }
                group.bench_with_input(
                    BenchmarkId::new("Relaxed copy of the same cells (baseline)", n),
                    &n,
                    |b, _| b.iter(|| relaxed_copy(&arr, &mut out)),
                );
            });
        }
        group.finish();
    }
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
