//! The raw cross-process lock: state only, no guard, no policy.
//!
//! On the hardware it is a robust pthread mutex (`pthread.rs`); under `--cfg loom` and under
//! miri a model of that mutex's contract (`model.rs`). `crate::sync` picks one; both speak the types
//! below, so `control.rs`, which decides what an owner's death means for the data, is the
//! same code in both builds.

use std::io;

#[cfg(any(loom, miri))]
pub(crate) mod model;
// Compiled under miri too (its pure helpers are tested there), but not used as the lock.
#[cfg(not(loom))]
#[cfg_attr(miri, allow(dead_code))]
pub(crate) mod pthread;

/// What a successful acquisition found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Acquired {
    /// The previous owner released the lock normally.
    Clean,
    /// The previous owner died holding it. The raw lock is usable again; whether the data
    /// it protects is consistent is for the caller to decide.
    OwnerDied,
}

/// What a look at the raw lock shows, taken without locking it (for inspection only: by
/// the time anyone reads it, it may have changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(loom, allow(dead_code))]
pub(crate) enum Peeked {
    /// Nobody holds it.
    Free,
    /// A thread holds it: its kernel thread ID where the lock records one.
    Held {
        /// The holder's thread ID, as its own PID namespace numbers it.
        tid: Option<u32>,
    },
    /// Its holder died and no one has locked it since (the next locker will be told).
    OwnerDied,
}

/// Why an acquisition failed.
#[derive(Debug)]
pub(crate) enum RawLockError {
    /// `try_lock` or a timed lock found it held.
    WouldBlock,
    /// The calling thread already holds it (`EDEADLK`).
    #[cfg_attr(loom, allow(dead_code))]
    Deadlock,
    /// Any other OS error, e.g. `EINVAL` for a mutex another process corrupted.
    #[cfg_attr(loom, allow(dead_code))]
    Os(io::Error),
}
