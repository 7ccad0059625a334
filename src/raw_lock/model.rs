//! Under loom: a model of the robust pthread mutex's contract, built from loom's atomics.
//!
//! A pthread mutex cannot run under loom (its futex waits are invisible to the model), so the
//! loom build swaps in this type behind the same interface as `pthread.rs`. It models what
//! the layers above rely on, and nothing more:
//! - mutual exclusion, with Acquire on lock and Release on unlock;
//! - a holder that dies leaves the lock free but marked "owner died", and the next
//!   acquisition reports [`Acquired::OwnerDied`] exactly once (the kernel's robust-list
//!   cleanup, which sets `FUTEX_OWNER_DIED`; `pthread_mutex_consistent` then clears it).
//!
//! It does not model: `EDEADLK` on a relock by the same thread, timeouts, fairness, or the
//! kernel's own correctness. Those are covered by the real-process tests instead.

use super::{Acquired, Peeked, RawLockError};
use crate::sync::{AtomicU32, Ordering};
use std::io;
use std::time::Duration;

const FREE: u32 = 0;
const HELD: u32 = 1;
const FREE_OWNER_DIED: u32 = 2;

/// The modelled mutex: one state word.
pub(crate) struct RawMutex {
    state: AtomicU32,
}

impl RawMutex {
    /// # Safety
    /// `this` is valid for writes and not shared yet.
    pub(crate) unsafe fn init_at(this: *mut RawMutex) -> io::Result<()> {
        // SAFETY: valid for writes and unshared, per this function's contract.
        unsafe {
            this.write(RawMutex {
                state: AtomicU32::new(FREE),
            })
        };
        Ok(())
    }

    pub(crate) fn try_lock(&self) -> Result<Acquired, RawLockError> {
        // Acquire pairs with the Release store in `unlock` / `simulate_owner_death`.
        if self
            .state
            .compare_exchange(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return Ok(Acquired::Clean);
        }
        if self
            .state
            .compare_exchange(FREE_OWNER_DIED, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return Ok(Acquired::OwnerDied);
        }
        Err(RawLockError::WouldBlock)
    }

    pub(crate) fn lock(&self) -> Result<Acquired, RawLockError> {
        loop {
            match self.try_lock() {
                Err(RawLockError::WouldBlock) => loom::thread::yield_now(),
                other => return other,
            }
        }
    }

    pub(crate) fn lock_timeout(&self, _timeout: Duration) -> Result<Acquired, RawLockError> {
        self.lock()
    }

    /// The state word as a report, without locking (the model records no thread IDs).
    #[allow(dead_code)] // only inspection of mapped regions asks, and loom has none
    pub(crate) fn peek(&self) -> Option<Peeked> {
        // Relaxed: a report; nothing is read on the strength of it.
        Some(match self.state.load(Ordering::Relaxed) {
            FREE => Peeked::Free,
            FREE_OWNER_DIED => Peeked::OwnerDied,
            _ => Peeked::Held { tid: None },
        })
    }

    /// # Safety
    /// The calling thread holds the mutex.
    pub(crate) unsafe fn unlock(&self) {
        // Release pairs with the Acquire compare-exchanges in `try_lock`.
        self.state.store(FREE, Ordering::Release);
    }

    /// What the kernel does when the holder's process dies: the lock becomes free, marked.
    ///
    /// # Safety
    /// The calling thread holds the mutex and will not touch it again as its owner.
    pub(crate) unsafe fn simulate_owner_death(&self) {
        // Release: everything the dead holder wrote is visible to the next owner, as the
        // kernel's futex wake-up orders it.
        self.state.store(FREE_OWNER_DIED, Ordering::Release);
    }

    /// # Safety
    /// Nobody uses the mutex again.
    pub(crate) unsafe fn destroy(&self) {}
}
