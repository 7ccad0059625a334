//! Single operations, uncontended: `load`, `store`, `fetch_add` and `compare_exchange` of the
//! crate's cells (in a shared mapping) against std atomics on the heap, for `u64`, `i32`, `u8`
//! and `f64`. One criterion group per type.
//!
//! Each iteration runs the operation once on each of `N` cells, indexed through `black_box`,
//! so the loop and the bounds check are included on both sides, as a user pays them. Every
//! `compare_exchange` succeeds: all cells always hold the same value `k` (every round touches
//! every cell), and each round exchanges `k` for `k + 1`.

use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion,
};
use criterion::{measurement::WallTime, Throughput};
use shmarray::SharedArray;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicU8};
use std::time::Duration;

const N: usize = 64;

fn group<'a>(c: &'a mut Criterion, ty: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(format!("single_ops/uncontended/{ty}"));
    g.throughput(Throughput::Elements(N as u64))
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1200));
    g
}

macro_rules! int_ops {
    ($c:expr, $t:ty, $atomic:ty) => {{
        let ty = stringify!($t);
        let mut g = group($c, ty);
        let arr = SharedArray::<$t>::new(N).unwrap();
        let std: Vec<$atomic> = (0..N).map(|_| <$atomic>::new(0)).collect();
        let (ours, theirs) = (
            "shmarray".to_string(),
            format!("std {} (heap)", stringify!($atomic)),
        );

        g.bench_function(BenchmarkId::new(ours.clone(), "load"), |b| {
            b.iter(|| (0..N).fold(0 as $t, |acc, i| acc ^ arr.load(black_box(i), Acquire)))
        });
        g.bench_function(BenchmarkId::new(theirs.clone(), "load"), |b| {
            b.iter(|| (0..N).fold(0 as $t, |acc, i| acc ^ std[black_box(i)].load(Acquire)))
        });
        g.bench_function(BenchmarkId::new(ours.clone(), "store"), |b| {
            b.iter(|| (0..N).for_each(|i| arr.store(black_box(i), 1, Release)))
        });
        g.bench_function(BenchmarkId::new(theirs.clone(), "store"), |b| {
            b.iter(|| (0..N).for_each(|i| std[black_box(i)].store(1, Release)))
        });
        g.bench_function(BenchmarkId::new(ours.clone(), "fetch_add"), |b| {
            b.iter(|| {
                (0..N).for_each(|i| {
                    black_box(arr.fetch_add(black_box(i), 1, Relaxed));
                })
            })
        });
        g.bench_function(BenchmarkId::new(theirs.clone(), "fetch_add"), |b| {
            b.iter(|| {
                (0..N).for_each(|i| {
                    black_box(std[black_box(i)].fetch_add(1, Relaxed));
                })
            })
        });
        g.bench_function(BenchmarkId::new(ours.clone(), "compare_exchange"), |b| {
            let mut k = arr.load(0, Relaxed);
            b.iter(|| {
                let next = k.wrapping_add(1);
                (0..N).for_each(|i| {
                    black_box(arr.compare_exchange(black_box(i), k, next, AcqRel, Acquire))
                        .expect("every compare_exchange succeeds");
                });
                k = next;
            })
        });
        g.bench_function(BenchmarkId::new(theirs.clone(), "compare_exchange"), |b| {
            let mut k = std[0].load(Relaxed);
            b.iter(|| {
                let next = k.wrapping_add(1);
                (0..N).for_each(|i| {
                    black_box(std[black_box(i)].compare_exchange(k, next, AcqRel, Acquire))
                        .expect("every compare_exchange succeeds");
                });
                k = next;
            })
        });
        g.finish();
    }};
}

/// `f64`: the crate stores the bits in an `AtomicU64`; std has no atomic float, so the
/// baseline is an `AtomicU64` holding the bits, with `fetch_add` written as the usual
/// compare-exchange loop (the one the crate runs).
fn f64_ops(c: &mut Criterion) {
    let mut g = group(c, "f64");
    let arr = SharedArray::<f64>::new(N).unwrap();
    let std: Vec<AtomicU64> = (0..N).map(|_| AtomicU64::new(0f64.to_bits())).collect();
    let (ours, theirs) = (
        "shmarray".to_string(),
        "std AtomicU64 bits (heap)".to_string(),
    );
    g.bench_function(BenchmarkId::new(ours.clone(), "load"), |b| {
        b.iter(|| (0..N).fold(0.0, |acc, i| acc + arr.load(black_box(i), Acquire)))
    });
    g.bench_function(BenchmarkId::new(theirs.clone(), "load"), |b| {
        b.iter(|| {
            (0..N).fold(0.0, |acc, i| {
                acc + f64::from_bits(std[black_box(i)].load(Acquire))
            })
        })
    });
    g.bench_function(BenchmarkId::new(ours.clone(), "store"), |b| {
        b.iter(|| (0..N).for_each(|i| arr.store(black_box(i), 1.0, Release)))
    });
    g.bench_function(BenchmarkId::new(theirs.clone(), "store"), |b| {
        b.iter(|| (0..N).for_each(|i| std[black_box(i)].store(1f64.to_bits(), Release)))
    });
    g.bench_function(BenchmarkId::new(ours.clone(), "fetch_add"), |b| {
        b.iter(|| {
            (0..N).for_each(|i| {
                black_box(arr.fetch_add(black_box(i), 1.0, Relaxed));
            })
        })
    });
    g.bench_function(BenchmarkId::new(theirs.clone(), "fetch_add"), |b| {
        b.iter(|| {
            (0..N).for_each(|i| {
                let cell = &std[black_box(i)];
                let mut old = cell.load(Relaxed);
                loop {
                    let new = (f64::from_bits(old) + 1.0).to_bits();
                    match cell.compare_exchange_weak(old, new, Relaxed, Relaxed) {
                        Ok(prev) => {
                            black_box(prev);
                            break;
                        }
                        Err(now) => old = now,
                    };
                }
            })
        })
    });
    g.bench_function(BenchmarkId::new(ours.clone(), "compare_exchange"), |b| {
        // Values stay small integers, exact in f64, so `k + 1.0` is always a new value.
        let mut k = arr.load(0, Relaxed);
        b.iter(|| {
            let next = k + 1.0;
            (0..N).for_each(|i| {
                black_box(arr.compare_exchange(black_box(i), k, next, AcqRel, Acquire))
                    .expect("every compare_exchange succeeds");
            });
            k = next;
        })
    });
    g.bench_function(BenchmarkId::new(theirs.clone(), "compare_exchange"), |b| {
        let mut k = f64::from_bits(std[0].load(Relaxed));
        b.iter(|| {
            let next = k + 1.0;
            (0..N).for_each(|i| {
                black_box(std[black_box(i)].compare_exchange(
                    k.to_bits(),
                    next.to_bits(),
                    AcqRel,
                    Acquire,
                ))
                .expect("every compare_exchange succeeds");
            });
            k = next;
        })
    });
    g.finish();
}

fn single_ops(c: &mut Criterion) {
    int_ops!(c, u64, AtomicU64);
    int_ops!(c, i32, AtomicI32);
    int_ops!(c, u8, AtomicU8);
    f64_ops(c);
}

criterion_group!(benches, single_ops);
criterion_main!(benches);
