//! Single operations, uncontended: the crate's element operations against std atomics on
//! the heap, for several element types. Each sample runs a batch of operations over a small
//! array, so the loop and the bounds check are included as a user would pay them.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shmarray::SharedArray;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicU8};
use std::time::Duration;

const N: usize = 64;

macro_rules! int_ops {
    ($group:expr, $t:ty, $atomic:ty) => {{
        let name = stringify!($t);
        let arr = SharedArray::<$t>::new(N).unwrap();
        let std: Vec<$atomic> = (0..N).map(|_| <$atomic>::new(0)).collect();
        let g = &mut $group;
        g.bench_function(BenchmarkId::new(format!("shmarray {name}"), "load"), |b| {
            b.iter(|| (0..N).fold(0 as $t, |acc, i| acc ^ arr.load(black_box(i), Acquire)))
        });
        g.bench_function(BenchmarkId::new(format!("std {name}"), "load"), |b| {
            b.iter(|| (0..N).fold(0 as $t, |acc, i| acc ^ std[black_box(i)].load(Acquire)))
        });
        g.bench_function(BenchmarkId::new(format!("shmarray {name}"), "store"), |b| {
            b.iter(|| (0..N).for_each(|i| arr.store(black_box(i), 1, Release)))
        });
        g.bench_function(BenchmarkId::new(format!("std {name}"), "store"), |b| {
            b.iter(|| (0..N).for_each(|i| std[black_box(i)].store(1, Release)))
        });
        g.bench_function(
            BenchmarkId::new(format!("shmarray {name}"), "fetch_add"),
            |b| {
                b.iter(|| {
                    (0..N).for_each(|i| {
                        arr.fetch_add(black_box(i), 1, Relaxed);
                    })
                })
            },
        );
        g.bench_function(BenchmarkId::new(format!("std {name}"), "fetch_add"), |b| {
            b.iter(|| {
                (0..N).for_each(|i| {
                    std[black_box(i)].fetch_add(1, Relaxed);
                })
            })
        });
        g.bench_function(
            BenchmarkId::new(format!("shmarray {name}"), "compare_exchange"),
            |b| {
                b.iter(|| {
                    (0..N).for_each(|i| {
                        let _ = arr.compare_exchange(black_box(i), 1, 2, AcqRel, Acquire);
                    })
                })
            },
        );
        g.bench_function(
            BenchmarkId::new(format!("std {name}"), "compare_exchange"),
            |b| {
                b.iter(|| {
                    (0..N).for_each(|i| {
                        let _ = std[black_box(i)].compare_exchange(1, 2, AcqRel, Acquire);
                    })
                })
            },
        );
    }};
}

fn single_ops(c: &mut Criterion) {
    let mut group = c.benchmark_group("single_ops/uncontended");
    group
        .throughput(Throughput::Elements(N as u64))
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    int_ops!(group, u64, AtomicU64);
    int_ops!(group, i32, AtomicI32);
    int_ops!(group, u8, AtomicU8);

    // f64: the crate's float fetch_add is a compare-exchange loop on the bits; so is the
    // std baseline, written out by hand, since std has no atomic float.
    let arr = SharedArray::<f64>::new(N).unwrap();
    let std: Vec<AtomicU64> = (0..N).map(|_| AtomicU64::new(0)).collect();
    group.bench_function(BenchmarkId::new("shmarray f64", "load"), |b| {
        b.iter(|| (0..N).fold(0.0, |acc, i| acc + arr.load(black_box(i), Acquire)))
    });
    group.bench_function(BenchmarkId::new("std f64 bits", "load"), |b| {
        b.iter(|| {
            (0..N).fold(0.0, |acc, i| {
                acc + f64::from_bits(std[black_box(i)].load(Acquire))
            })
        })
    });
    group.bench_function(BenchmarkId::new("shmarray f64", "fetch_add"), |b| {
        b.iter(|| {
            (0..N).for_each(|i| {
                arr.fetch_add(black_box(i), 1.0, Relaxed);
            })
        })
    });
    group.bench_function(BenchmarkId::new("std f64 bits", "fetch_add"), |b| {
        b.iter(|| {
            (0..N).for_each(|i| {
                let _ = std[black_box(i)].fetch_update(Relaxed, Relaxed, |x| {
                    Some((f64::from_bits(x) + 1.0).to_bits())
                });
            })
        })
    });
    group.finish();
}

criterion_group!(benches, single_ops);
criterion_main!(benches);
