//! This process's ID, without a system call on the lock's fast path.
//!
//! A guard records the process that took the lock, so that a copy of it inherited through
//! `fork` does nothing when the child drops it (the child does not hold the parent's lock).
//! glibc no longer caches `getpid()`, so the ID is cached here and refreshed in every
//! `fork()` child by a `pthread_atfork` handler. A child made by a raw `clone` system call,
//! which runs no fork handlers, keeps its parent's cached ID.
//!
//! Under loom and miri there is one process, and the ID is a constant.

#[cfg(not(any(loom, miri)))]
mod imp {
    use crate::sync::{AtomicU32, Ordering};
    use std::sync::Once;

    /// The cached ID; 0 until first asked for.
    static PID: AtomicU32 = AtomicU32::new(0);

    /// Stores the calling process's ID. Runs in a `fork()` child before `fork` returns
    /// there; `getpid` and an atomic store are async-signal-safe, as such a handler must be.
    extern "C" fn refresh() {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        // Relaxed: each process only reads the value it stored itself (a fork child starts
        // with one thread, which runs this handler before anything else).
        PID.store(pid as u32, Ordering::Relaxed);
    }

    #[cold]
    fn first() -> u32 {
        static REGISTER: Once = Once::new();
        // The handler is registered before the ID is cached, so that no fork can copy a
        // cached ID into a child that will not refresh it.
        REGISTER.call_once(|| {
            // SAFETY: `refresh` is a valid `extern "C" fn()` for the life of the process.
            // On failure (ENOMEM) children would keep a stale ID; nothing safe to do but
            // carry on without the handler.
            unsafe { libc::pthread_atfork(None, None, Some(refresh as unsafe extern "C" fn())) };
        });
        refresh();
        // Relaxed: as in `refresh`.
        PID.load(Ordering::Relaxed)
    }

    /// The ID cached by an earlier [`current`] in this process (or in its parent before a
    /// `fork`, the child's handler having refreshed it): one load, no check. 0 if nobody
    /// asked yet; every array constructor asks, so a guard, which needs an array, never
    /// sees 0.
    #[inline(always)]
    pub(crate) fn cached() -> u32 {
        // Relaxed: as in `refresh`.
        PID.load(Ordering::Relaxed)
    }

    /// The calling process's ID.
    #[inline]
    pub(crate) fn current() -> u32 {
        // Relaxed: as in `refresh`.
        match PID.load(Ordering::Relaxed) {
            0 => first(),
            pid => pid,
        }
    }
}

#[cfg(any(loom, miri))]
mod imp {
    /// One process: a constant.
    #[inline]
    pub(crate) fn current() -> u32 {
        1
    }

    /// As [`current`].
    #[inline(always)]
    pub(crate) fn cached() -> u32 {
        1
    }
}

pub(crate) use imp::{cached, current};
