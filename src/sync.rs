//! The one place that names atomics, fences and spin hints.
//!
//! Every other module imports its synchronisation primitives from here. Under
//! `RUSTFLAGS="--cfg loom"` the same names resolve to [loom]'s instrumented versions, so the
//! model checker explores the product's own cell, lock and seqlock code rather than a copy of
//! it. `.ci/lint-shim.sh` fails CI if any other file in `src/` names `std::sync::atomic`.
//!
//! Loom atomics have a different layout from the hardware ones and cannot live in an mmap
//! region, so under loom only heap storage exists (see `storage.rs`).
//!
//! [loom]: https://docs.rs/loom

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{
    fence, AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicIsize, AtomicU16, AtomicU32, AtomicU64,
    AtomicU8, AtomicUsize, Ordering,
};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    fence, AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicIsize, AtomicU16, AtomicU32, AtomicU64,
    AtomicU8, AtomicUsize, Ordering,
};

/// A number no earlier call in this process returned (until it wraps after 2^32 calls):
/// each array handle's serial number. Per-process bookkeeping, neither shared with other
/// processes nor part of what loom models, so a hardware atomic in every build.
pub(crate) fn next_handle_serial() -> u32 {
    static NEXT: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(1);
    NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed)
}

/// Tells the processor (or, under loom, the scheduler) that this thread is waiting for
/// another one, so that a bounded retry loop lets the other make progress.
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(not(loom))]
    core::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// Gives the processor to another thread (under loom, to another modelled thread): for
/// waits that poll.
#[cfg(any(loom, miri))]
#[inline]
pub(crate) fn yield_now() {
    #[cfg(not(loom))]
    std::thread::yield_now();
    #[cfg(loom)]
    loom::thread::yield_now();
}

#[cfg(any(loom, miri))]
pub(crate) use crate::raw_lock::model::RawMutex;
/// The raw cross-process mutex: a robust pthread mutex on the hardware, a model of its
/// contract under loom and miri (which can run neither a robust nor a process-shared one).
#[cfg(not(any(loom, miri)))]
pub(crate) use crate::raw_lock::pthread::RawMutex;

/// Largest number of optimistic seqlock read attempts before a snapshot takes the lock.
/// Kept tiny under loom: every retry multiplies the interleavings the model explores.
#[cfg(not(loom))]
pub(crate) const SNAPSHOT_OPTIMISTIC_TRIES: u32 = 64;
#[cfg(loom)]
pub(crate) const SNAPSHOT_OPTIMISTIC_TRIES: u32 = 2;

/// Elements a snapshot copies between looks at the seqlock counter on its optimistic path:
/// beside a busy writer a try is abandoned after at most this many elements, not after the
/// whole array. One under loom, so that the models reach the early exit.
#[cfg(not(loom))]
pub(crate) const SNAPSHOT_CHUNK: usize = 4096;
#[cfg(loom)]
pub(crate) const SNAPSHOT_CHUNK: usize = 1;
