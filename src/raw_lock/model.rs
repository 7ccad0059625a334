//! Under loom and miri: a model of the robust pthread mutex's contract, built from the
//! atomics of `crate::sync` (loom's under loom).
//!
//! A pthread mutex cannot run under loom (its futex waits are invisible to the model), nor
//! under miri (which implements neither robust nor process-shared mutexes), so those builds
//! swap in this type behind the same interface as `pthread.rs`. It models what the layers
//! above rely on, and nothing more:
//! - mutual exclusion, with Acquire on lock and Release on unlock;
//! - a holder that dies leaves the lock free but marked "owner died", and the next
//!   acquisition reports [`Acquired::OwnerDied`] exactly once (the kernel's robust-list
//!   cleanup, which sets `FUTEX_OWNER_DIED`; `pthread_mutex_consistent` then clears it).
//!
//! Under miri it also reports `EDEADLK` on a relock by the holding thread and honours
//! timeouts (by polling), so the unit tests of heap arrays run unchanged. Under loom it does
//! neither (every extra atomic multiplies the interleavings, and the models never relock).
//! It never models fairness or the kernel's own correctness: the real-process tests cover
//! those.

use super::{Acquired, Peeked, RawLockError};
use crate::sync::{AtomicU32, Ordering};
use std::io;
use std::time::Duration;

const FREE: u32 = 0;
const HELD: u32 = 1;
const FREE_OWNER_DIED: u32 = 2;

/// The modelled mutex: one state word (and, under miri, the holding thread).
pub(crate) struct RawMutex {
    state: AtomicU32,
    /// Under miri: a token of the holding thread (`thread_token`), 0 when free. Written and
    /// compared only by the thread it names, so Relaxed suffices.
    #[cfg(miri)]
    owner: crate::sync::AtomicUsize,
}

/// A number unique to the calling thread while it lives: the address of a thread-local.
#[cfg(miri)]
fn thread_token() -> usize {
    std::thread_local! { static TOKEN: u8 = const { 0 }; }
    TOKEN.with(|t| core::ptr::from_ref(t) as usize)
}

impl RawMutex {
    /// # Safety
    /// `this` is valid for writes and not shared yet.
    pub(crate) unsafe fn init_at(this: *mut RawMutex) -> io::Result<()> {
        // SAFETY: valid for writes and unshared, per this function's contract.
        unsafe {
            this.write(RawMutex {
                state: AtomicU32::new(FREE),
                #[cfg(miri)]
                owner: crate::sync::AtomicUsize::new(0),
            })
        };
        Ok(())
    }

    pub(crate) fn try_lock(&self) -> Result<Acquired, RawLockError> {
        // Relaxed: only this thread ever stores its own token.
        #[cfg(miri)]
        if self.owner.load(Ordering::Relaxed) == thread_token() {
            return Err(RawLockError::Deadlock);
        }
        // Acquire pairs with the Release store in `unlock` / `simulate_owner_death`.
        let how = if self
            .state
            .compare_exchange(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            Acquired::Clean
        } else if self
            .state
            .compare_exchange(FREE_OWNER_DIED, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            Acquired::OwnerDied
        } else {
            return Err(RawLockError::WouldBlock);
        };
        // Relaxed: read back only by this thread (above).
        #[cfg(miri)]
        self.owner.store(thread_token(), Ordering::Relaxed);
        Ok(how)
    }

    pub(crate) fn lock(&self) -> Result<Acquired, RawLockError> {
        loop {
            match self.try_lock() {
                Err(RawLockError::WouldBlock) => crate::sync::yield_now(),
                other => return other,
            }
        }
    }

    /// Under loom, as `lock` (the model has no time); under miri, polls until `timeout`.
    pub(crate) fn lock_timeout(&self, timeout: Duration) -> Result<Acquired, RawLockError> {
        #[cfg(loom)]
        let _ = timeout;
        #[cfg(loom)]
        return self.lock();
        #[cfg(not(loom))]
        {
            let start = std::time::Instant::now();
            loop {
                match self.try_lock() {
                    Err(RawLockError::WouldBlock) if start.elapsed() < timeout => {
                        crate::sync::yield_now()
                    }
                    other => return other,
                }
            }
        }
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
        // Relaxed: see `try_lock`.
        #[cfg(miri)]
        self.owner.store(0, Ordering::Relaxed);
        // Release pairs with the Acquire compare-exchanges in `try_lock`.
        self.state.store(FREE, Ordering::Release);
    }

    /// What the kernel does when the holder's process dies: the lock becomes free, marked.
    ///
    /// # Safety
    /// The calling thread holds the mutex and will not touch it again as its owner.
    #[cfg(loom)]
    pub(crate) unsafe fn simulate_owner_death(&self) {
        // Release: everything the dead holder wrote is visible to the next owner, as the
        // kernel's futex wake-up orders it.
        self.state.store(FREE_OWNER_DIED, Ordering::Release);
    }

    /// Under miri: makes the mutex free again, as `pthread.rs`'s `reinit` (the stale-lock
    /// reclaim of mapped regions, which miri cannot run, but which must build).
    ///
    /// # Safety
    /// No other thread uses the mutex while this runs or holds it.
    #[cfg(not(loom))]
    #[allow(dead_code)]
    pub(crate) unsafe fn reinit(&self) -> io::Result<()> {
        // Relaxed: nobody else uses the mutex (this function's contract).
        self.owner.store(0, Ordering::Relaxed);
        // Release, as `unlock`.
        self.state.store(FREE, Ordering::Release);
        Ok(())
    }

    /// # Safety
    /// Nobody uses the mutex again.
    pub(crate) unsafe fn destroy(&self) {}
}
