//! Hot counters: P processes adding 1 to the same N elements, L times each, as
//! [`StripedArray::add`], as [`SharedArray::fetch_add`] and as bare `AtomicU64::fetch_add`
//! on one shared block of cells or on a block of each process's own (the blocks 128 bytes
//! apart: what P independent counters cost, the physical limit of any shared counter).
//! Also the read side: a `StripedArray`'s `sums_into` against a Relaxed copy of as many
//! bare cells, and what the stripe lookup would cost through `sched_getcpu`.
//!
//! Every run forks its workers (`fork_run`: pinned, prefaulted, behind a start gate). A
//! worker learns its number from a counter in shared memory, in `prepare`.

use super::{fork_run, SharedMem, Timing};
use shmarray::{SharedArray, StripedArray};
use std::hint::black_box;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

/// How the workers add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hot {
    /// `StripedArray::add(i, 1)`.
    Striped,
    /// `SharedArray::fetch_add(i, 1, Relaxed)`, every worker on the same elements.
    Dense,
    /// Bare `fetch_add(1, Relaxed)` on one block of cells every worker shares.
    BareShared,
    /// Bare `fetch_add(1, Relaxed)`, each worker on a block of its own, 128 bytes apart.
    BareOwn,
}

impl Hot {
    pub const ALL: [Hot; 4] = [Hot::Striped, Hot::Dense, Hot::BareShared, Hot::BareOwn];

    pub fn name(self) -> &'static str {
        match self {
            Hot::Striped => "StripedArray::add",
            Hot::Dense => "SharedArray::fetch_add",
            Hot::BareShared => "bare fetch_add, shared cells",
            Hot::BareOwn => "bare fetch_add, own cells 128 B apart",
        }
    }
}

/// `loops` passes of `StripedArray::add(i, 1)` over every element: a function of the array
/// reference, as a caller's own function takes it (see `crate_passes` in `mod.rs`: inlined
/// into the harness's closure, the array's fields would be reloaded after every add).
#[inline(never)]
fn striped_passes(arr: &StripedArray<u64>, loops: u64) {
    for _ in 0..loops {
        for i in 0..arr.len() {
            arr.add(i, 1);
        }
    }
}

/// As [`striped_passes`], with `SharedArray::fetch_add(i, 1, Relaxed)`.
#[inline(never)]
fn dense_passes(arr: &SharedArray<u64>, loops: u64) {
    for _ in 0..loops {
        for i in 0..arr.len() {
            arr.fetch_add(i, 1, Relaxed);
        }
    }
}

/// Bytes between two bare blocks: N cells rounded up to 128 bytes.
fn block(n: usize) -> usize {
    (n * 8).next_multiple_of(128)
}

/// This worker's number, set in `prepare` (a forked child's own copy of the static).
static WORKER: AtomicUsize = AtomicUsize::new(0);

/// The counters of one hot workload of `n` elements, for up to `max_procs` workers.
pub struct HotCounters {
    n: usize,
    striped: StripedArray<u64>,
    dense: SharedArray<u64>,
    /// Block 0: the shared bare cells; block `1 + k`: worker k's own.
    bare: SharedMem,
    /// Word 0: the next worker number.
    numbering: SharedMem,
    max_procs: usize,
}

impl HotCounters {
    /// Counters for `n` elements; the striped array has the default stripe count (every CPU
    /// this process may run on has its own stripe).
    pub fn new(n: usize, max_procs: usize) -> HotCounters {
        HotCounters {
            n,
            striped: StripedArray::new(n).expect("striped array"),
            dense: SharedArray::new(n).expect("shared array"),
            bare: SharedMem::new(block(n) * (1 + max_procs)),
            numbering: SharedMem::new(64),
            max_procs,
        }
    }

    /// The striped array's stripe count.
    pub fn stripes(&self) -> usize {
        self.striped.stripes()
    }

    fn bare_block(&self, b: usize) -> &[std::sync::atomic::AtomicU64] {
        self.bare.cells(b * block(self.n), self.n)
    }

    /// The time `procs` workers take to add 1 to each of the `n` elements `loops` times.
    pub fn run(&self, hot: Hot, procs: usize, loops: u64) -> Duration {
        assert!(procs <= self.max_procs);
        self.numbering.word(0).store(0, Relaxed);
        let n = self.n;
        let mine = || match hot {
            Hot::BareShared => self.bare_block(0),
            _ => self.bare_block(1 + WORKER.load(Relaxed)),
        };
        let prepare = || {
            // Relaxed: a numbering only.
            WORKER.store(
                self.numbering.word(0).fetch_add(1, Relaxed) as usize,
                Relaxed,
            );
            // Touch every cell this worker will write (adding 0), so no page fault is timed.
            for i in 0..n {
                match hot {
                    Hot::Striped => self.striped.add(i, 0),
                    Hot::Dense => _ = self.dense.fetch_add(i, 0, Relaxed),
                    Hot::BareShared | Hot::BareOwn => _ = mine()[i].fetch_add(0, Relaxed),
                }
            }
        };
        // One loop per kind: no per-add branch on the kind inside the timed loops.
        let work = || match hot {
            Hot::Striped => striped_passes(&self.striped, loops),
            Hot::Dense => dense_passes(&self.dense, loops),
            Hot::BareShared | Hot::BareOwn => {
                let cells = mine();
                for _ in 0..loops {
                    for cell in cells {
                        cell.fetch_add(1, Relaxed);
                    }
                }
            }
        };
        fork_run(procs, Timing::FromGate, &prepare, &work)
    }

    /// Checks, after runs, that no add was lost: each kind's counts are what its runs added.
    pub fn sums(&self) -> (Vec<u64>, Vec<u64>) {
        (self.striped.sums(), self.dense.to_vec())
    }
}

/// The read side: `sums_into` of a striped array of `n` elements and `stripes` stripes,
/// against a Relaxed copy of `n × stripes` bare cells (the same number of loads).
pub struct HotSums {
    striped: StripedArray<u64>,
    bare: super::BareCells,
    out: Vec<u64>,
    flat: Vec<u64>,
}

impl HotSums {
    pub fn new(n: usize, stripes: usize) -> HotSums {
        let sums = HotSums {
            striped: StripedArray::options()
                .stripes(stripes)
                .anonymous(n)
                .expect("striped array"),
            bare: super::BareCells::new(n * stripes),
            out: vec![0; n],
            flat: vec![0; n * stripes],
        };
        // Write every cell of both first, so that both read private, present pages (an
        // untouched page of a shared mapping may read as the one shared zero page).
        for (k, cell) in sums.bare.cells().iter().enumerate() {
            cell.store(k as u64, Relaxed);
        }
        for i in 0..n {
            sums.striped.add(i, i as u64);
        }
        let _ = sums.striped.take_all();
        sums
    }

    /// The time of `inner` calls of `sums_into`.
    pub fn sums(&mut self, inner: usize) -> Duration {
        let start = Instant::now();
        for _ in 0..inner {
            self.striped.sums_into(&mut self.out);
            black_box(&self.out);
        }
        start.elapsed()
    }

    /// The time of `inner` Relaxed copies of the bare cells.
    pub fn copy(&mut self, inner: usize) -> Duration {
        let start = Instant::now();
        for _ in 0..inner {
            self.bare.copy(&mut self.flat);
            black_box(&self.flat);
        }
        start.elapsed()
    }
}

/// The time of `calls` calls of `sched_getcpu()`: what the stripe lookup would cost without
/// the `rseq` read.
pub fn sched_getcpu_time(calls: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..calls {
        // SAFETY: sched_getcpu has no preconditions.
        black_box(unsafe { libc::sched_getcpu() });
    }
    start.elapsed()
}
