//! A robust, process-shared, error-checking pthread mutex placed in memory it is handed.
//!
//! This is the raw lock only: it holds state and reports what the OS said. The owner-died
//! bookkeeping and the seqlock live in `control.rs`; the safe guard in `guard.rs`.
//!
//! Why a pthread mutex and not a futex word of our own: when a process dies holding a robust
//! mutex, the kernel walks that thread's robust list and marks the mutex `FUTEX_OWNER_DIED`,
//! so the next `lock` returns `EOWNERDEAD` instead of hanging. No PID is stored or checked:
//! PIDs are reused, and mean nothing across PID namespaces.
//!
//! What the OS does not cover: a region file whose holder was lost to a machine crash or
//! reboot keeps a lock word naming a thread no kernel knows; `lock` would wait for it
//! forever, which is why [`SharedArray::lock_timeout`](crate::SharedArray::lock_timeout)
//! exists.

use super::{Acquired, Peeked, RawLockError};
use core::cell::UnsafeCell;
use std::io;
use std::time::Duration;

/// A `pthread_mutex_t` in shared memory.
#[repr(transparent)]
pub(crate) struct RawMutex {
    inner: UnsafeCell<libc::pthread_mutex_t>,
}

// SAFETY: a process-shared pthread mutex is designed to be used from any thread of any
// process; every access goes through the pthread functions, which synchronise internally.
unsafe impl Sync for RawMutex {}
// SAFETY: as above; the mutex holds no thread-local state while unlocked.
unsafe impl Send for RawMutex {}

/// Turns a pthread return code into a `Result`.
fn check(code: libc::c_int) -> io::Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(code))
    }
}

impl RawMutex {
    /// Initialises a mutex at `this` as robust, process-shared and error-checking.
    ///
    /// # Safety
    /// - `this` is valid for writes of `size_of::<RawMutex>()` bytes and suitably aligned;
    /// - no other thread or process uses the mutex until this returns (the creator calls it
    ///   before publishing the region as ready).
    pub(crate) unsafe fn init_at(this: *mut RawMutex) -> io::Result<()> {
        let mut attr = core::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: `attr` is a local; the calls below initialise it before it is used and
        // destroy it at the end; `this` is valid for writes per this function's contract, and
        // `UnsafeCell<T>` has the layout of `T`.
        unsafe {
            check(libc::pthread_mutexattr_init(attr.as_mut_ptr()))?;
            let attr = attr.as_mut_ptr();
            let result = (|| {
                check(libc::pthread_mutexattr_setpshared(
                    attr,
                    libc::PTHREAD_PROCESS_SHARED,
                ))?;
                check(libc::pthread_mutexattr_setrobust(
                    attr,
                    libc::PTHREAD_MUTEX_ROBUST,
                ))?;
                check(libc::pthread_mutexattr_settype(
                    attr,
                    libc::PTHREAD_MUTEX_ERRORCHECK,
                ))?;
                check(libc::pthread_mutex_init(
                    this.cast::<libc::pthread_mutex_t>(),
                    attr,
                ))
            })();
            libc::pthread_mutexattr_destroy(attr);
            result
        }
    }

    fn raw(&self) -> *mut libc::pthread_mutex_t {
        self.inner.get()
    }

    /// Maps a lock call's result: `EOWNERDEAD` is a success that needs repair, which is done
    /// here (`pthread_mutex_consistent`) so that the mutex never becomes unrecoverable; the
    /// caller records the death in its own state instead.
    #[inline(always)]
    fn acquired(&self, code: libc::c_int) -> Result<Acquired, RawLockError> {
        if code == 0 {
            return Ok(Acquired::Clean);
        }
        self.acquired_slow(code)
    }

    #[cold]
    #[inline(never)]
    fn acquired_slow(&self, code: libc::c_int) -> Result<Acquired, RawLockError> {
        match code {
            0 => Ok(Acquired::Clean),
            libc::EOWNERDEAD => {
                // SAFETY: we hold the mutex (EOWNERDEAD means acquisition succeeded), which is
                // the one precondition of pthread_mutex_consistent.
                check(unsafe { libc::pthread_mutex_consistent(self.raw()) })
                    .map_err(RawLockError::Os)?;
                Ok(Acquired::OwnerDied)
            }
            libc::EBUSY | libc::ETIMEDOUT => Err(RawLockError::WouldBlock),
            libc::EDEADLK => Err(RawLockError::Deadlock),
            other => Err(RawLockError::Os(io::Error::from_raw_os_error(other))),
        }
    }

    /// Blocks until the mutex is held by the calling thread.
    #[inline]
    pub(crate) fn lock(&self) -> Result<Acquired, RawLockError> {
        // SAFETY: the mutex was initialised by `init_at` before the region was published
        // (every constructor of the control block does so, see `control.rs`).
        let code = unsafe { libc::pthread_mutex_lock(self.raw()) };
        self.acquired(code)
    }

    /// Takes the mutex if it is free, without blocking.
    #[inline]
    pub(crate) fn try_lock(&self) -> Result<Acquired, RawLockError> {
        // SAFETY: as in `lock`.
        let code = unsafe { libc::pthread_mutex_trylock(self.raw()) };
        self.acquired(code)
    }

    /// Waits at most `timeout` for the mutex, measured on `CLOCK_MONOTONIC`, so that a step
    /// of the wall clock neither stretches nor cuts the wait. A timeout whose deadline is
    /// beyond what a `timespec` can hold (`Duration::MAX`) waits forever.
    pub(crate) fn lock_timeout(&self, timeout: Duration) -> Result<Acquired, RawLockError> {
        let mut now = core::mem::MaybeUninit::<libc::timespec>::uninit();
        // SAFETY: `now` is a valid out-pointer for clock_gettime.
        check(unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, now.as_mut_ptr()) })
            .map_err(RawLockError::Os)?;
        // SAFETY: clock_gettime returned 0, so it wrote `now`.
        let now = unsafe { now.assume_init() };
        let Some(deadline) = add_timespec(now, timeout) else {
            return self.lock();
        };
        // SAFETY: as in `lock`; `deadline` is a valid timespec on the clock named.
        let code = unsafe { pthread_mutex_clocklock(self.raw(), libc::CLOCK_MONOTONIC, &deadline) };
        self.acquired(code)
    }

    /// What the lock word says now, without locking: one atomic load, no system call, no
    /// write. `None` where the C library's mutex layout is not known to this crate.
    ///
    /// glibc keeps a robust mutex's state in its first `int`, the futex word the kernel's
    /// robust-list cleanup also writes (`linux/futex.h`):
    ///
    /// | bits       | meaning                                                    |
    /// |------------|------------------------------------------------------------|
    /// | 0..=29     | kernel thread ID of the holder, 0 when free                |
    /// | 30         | `FUTEX_OWNER_DIED`: set by the kernel when the holder died |
    /// | 31         | `FUTEX_WAITERS`: some thread sleeps on the word            |
    pub(crate) fn peek(&self) -> Option<Peeked> {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
            const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
            // SAFETY:
            // - glibc's `pthread_mutex_t` starts with `int __lock` on every architecture, and
            //   the mutex is aligned for it, so the pointer is valid and aligned for a u32;
            // - glibc and the kernel change that word only with atomic instructions, and we
            //   only load it, so viewing it as an `AtomicU32` races with nothing non-atomic.
            let word = unsafe { &*self.raw().cast::<crate::sync::AtomicU32>() };
            // Relaxed: a report for a person or a tool; nothing is read on the strength of it.
            let word = word.load(crate::sync::Ordering::Relaxed);
            let tid = word & FUTEX_TID_MASK;
            Some(if word & FUTEX_OWNER_DIED != 0 {
                Peeked::OwnerDied
            } else if tid != 0 {
                Peeked::Held { tid: Some(tid) }
            } else {
                Peeked::Free
            })
        }
        #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
        None
    }

    /// Releases the mutex.
    ///
    /// # Safety
    /// The calling thread holds the mutex.
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        // SAFETY: the caller holds the mutex (this function's contract). An error-checking
        // mutex reports EPERM rather than misbehaving if that were ever violated.
        let code = unsafe { libc::pthread_mutex_unlock(self.raw()) };
        debug_assert_eq!(code, 0, "pthread_mutex_unlock failed");
    }

    /// Initialises the mutex again, in place, whatever state its lock word is in: for a
    /// region whose lock word names a thread that no longer exists (a file copied while
    /// locked, or one that outlived a reboot), which no kernel will ever release.
    ///
    /// # Safety
    /// No other thread or process uses the mutex while this runs or holds it: the caller
    /// is the region's only user (it holds the region's `flock` exclusively).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) unsafe fn reinit(&self) -> io::Result<()> {
        // SAFETY: `raw()` is the `UnsafeCell`'s pointer, valid for writes of a mutex and
        // aligned; nobody else uses the mutex (this function's contract).
        unsafe { Self::init_at(self.raw().cast::<RawMutex>()) }
    }

    /// Destroys a mutex no process can use any more (heap storage only).
    ///
    /// # Safety
    /// Nobody holds or will use the mutex again.
    pub(crate) unsafe fn destroy(&self) {
        // SAFETY: per this function's contract the mutex is unused and unlocked.
        unsafe { libc::pthread_mutex_destroy(self.raw()) };
    }
}

extern "C" {
    /// `pthread_mutex_timedlock` on a clock of the caller's choice (glibc 2.30, POSIX 2024);
    /// not bound by the `libc` crate.
    fn pthread_mutex_clocklock(
        mutex: *mut libc::pthread_mutex_t,
        clock: libc::clockid_t,
        abstime: *const libc::timespec,
    ) -> libc::c_int;
}

/// `t + d`, or `None` for a wait of more than `u32::MAX` seconds (136 years) or one whose
/// end does not fit a `timespec`: such a wait is forever.
fn add_timespec(t: libc::timespec, d: Duration) -> Option<libc::timespec> {
    if d.as_secs() > u64::from(u32::MAX) {
        return None;
    }
    let nanos = t.tv_nsec as u64 + u64::from(d.subsec_nanos());
    let secs = libc::time_t::try_from(d.as_secs())
        .ok()?
        .checked_add(t.tv_sec)?
        .checked_add((nanos / 1_000_000_000) as libc::time_t)?;
    Some(libc::timespec {
        tv_sec: secs,
        tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespec_addition_carries_and_long_waits_are_forever() {
        let t = libc::timespec {
            tv_sec: 1,
            tv_nsec: 900_000_000,
        };
        let s = add_timespec(t, Duration::from_millis(200)).expect("fits");
        assert_eq!((s.tv_sec, s.tv_nsec), (2, 100_000_000));
        assert!(add_timespec(t, Duration::MAX).is_none(), "forever");
        let longest = Duration::from_secs(u32::MAX.into());
        assert_eq!(
            add_timespec(t, longest).map(|s| s.tv_sec),
            Some(1 + 4_294_967_295)
        );
        let late = libc::timespec {
            tv_sec: libc::time_t::MAX - 1,
            tv_nsec: 900_000_000,
        };
        let carry = Duration::new(1, 200_000_000);
        assert!(add_timespec(late, carry).is_none(), "the carry overflows");
    }
}
