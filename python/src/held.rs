//! The array's lock as one Python object holds it: reentrant on the thread that took it (as
//! `multiprocessing`'s `RLock`), waited for without the GIL, and released on that thread.

use crate::any::{AnyArray, AnyGuard, Wait};
use crate::convert::Region;
use crate::errors;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use shmarray::LockError;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};
use std::thread::ThreadId;

/// A thread of a process. The process id matters after `fork`: the child's thread has the
/// parent thread's `ThreadId` but does not own the parent's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Owner {
    thread: ThreadId,
    pid: u32,
}

impl Owner {
    fn current() -> Owner {
        Owner {
            thread: std::thread::current().id(),
            pid: pid(),
        }
    }
}

/// This process's id, cached: `getpid` is a system call, and every lock entry asks.
static PID: AtomicU32 = AtomicU32::new(0);

/// Refreshes [`PID`] in a child: registered with `pthread_atfork`, so `fork` runs it in the
/// child before anything else does.
extern "C" fn refresh_pid() {
    // Relaxed: set by the child's only thread before it runs anything else; threads it
    // starts later see it through thread creation.
    PID.store(std::process::id(), Relaxed);
}

fn pid() -> u32 {
    // Relaxed: see `refresh_pid`.
    match PID.load(Relaxed) {
        0 => std::process::id(),
        pid => pid,
    }
}

/// Starts caching the process id; called once, at module import.
pub fn init_pid_cache() -> std::io::Result<()> {
    refresh_pid();
    // SAFETY: `refresh_pid` is a plain `extern "C" fn` that only calls `getpid` (async-signal
    // safe) and stores an atomic, as a fork handler must; it lives as long as the process
    // because this extension module is never unloaded.
    match unsafe { libc::pthread_atfork(None, None, Some(refresh_pid)) } {
        0 => Ok(()),
        errno => Err(std::io::Error::from_raw_os_error(errno)),
    }
}

/// The held lock: its guard, the thread that took it, and how many times it re-entered.
struct Held {
    owner: Owner,
    depth: usize,
    /// Touched (used or dropped) only on `owner`: see the `Send` impl.
    guard: ManuallyDrop<AnyGuard>,
}

// SAFETY: the guard is !Send because a robust mutex must be unlocked by the thread that
// locked it. `Held` moves between threads only inside `HeldSlot`'s mutex, and every use of
// `guard` checks `owner == Owner::current()` first (`HeldSlot::mine`); `Drop` releases the
// guard only on its owner and leaks it otherwise, which leaves the lock held exactly as a
// thread that never released it would.
unsafe impl Send for Held {}

impl Drop for Held {
    fn drop(&mut self) {
        if self.owner == Owner::current() {
            // SAFETY: dropped once, here, on the thread that took the lock.
            unsafe { ManuallyDrop::drop(&mut self.guard) };
        }
    }
}

/// Moves a value out of `Python::allow_threads`, which runs its closure on the calling thread
/// (it only releases the GIL around it), so the value never changes threads.
struct SameThread<T>(T);

// SAFETY: only built and unwrapped around `allow_threads` in `HeldSlot::enter`, which runs
// the closure on the calling thread: the value is made and used on one thread.
unsafe impl<T> Send for SameThread<T> {}

/// The lock state of one Python array object.
#[derive(Default)]
pub struct HeldSlot(Mutex<Option<Held>>);

impl HeldSlot {
    fn slot(&self) -> MutexGuard<'_, Option<Held>> {
        // A panic cannot happen while the slot is locked; recover the data regardless.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// True if the calling thread holds the lock through this object.
    pub fn held_by_me(&self) -> bool {
        matches!(&*self.slot(), Some(held) if held.owner == Owner::current())
    }

    /// Takes the lock, or enters it again if this thread holds it. Taking it, `repair`:
    /// succeed even if a holder's death is unrepaired (the caller repairs); otherwise that is
    /// `OwnerDiedError`. Returns false if `wait` ran out.
    pub fn enter(
        &self,
        py: Python<'_>,
        array: &AnyArray,
        region: &Region,
        repair: bool,
        wait: Wait,
    ) -> PyResult<bool> {
        let me = Owner::current();
        let stale = {
            let mut slot = self.slot();
            match slot.as_mut() {
                // Entered again (e.g. an operation inside `with lock_for_repair()`, or a
                // helper's own `with get_lock()`): this thread is already dealing with
                // whatever a dead holder left.
                Some(held) if held.owner == me => {
                    held.depth += 1;
                    return Ok(true);
                }
                // Inherited through fork from a parent that held it: not ours to use.
                Some(held) if held.owner.pid != me.pid => slot.take(),
                _ => None,
            }
        };
        drop(stale); // leaks the parent's guard (see `Held`'s Drop)

        let guard = match array.lock(Wait::No, repair) {
            Ok(guard) => guard,
            Err(LockError::WouldBlock) if !matches!(wait, Wait::No) => {
                let taken = py.allow_threads(|| SameThread(array.lock(wait, repair)));
                match taken.0 {
                    Ok(guard) => guard,
                    Err(LockError::TimedOut) => return Ok(false),
                    Err(e) => return Err(errors::lock_error(region, e)),
                }
            }
            Err(LockError::WouldBlock) => return Ok(false),
            Err(e) => return Err(errors::lock_error(region, e)),
        };
        let replaced = self.slot().replace(Held {
            owner: me,
            depth: 1,
            guard: ManuallyDrop::new(guard),
        });
        drop(replaced); // none: whoever held it released it before we could take it
        Ok(true)
    }

    /// Leaves the lock once; the last exit releases it.
    pub fn exit(&self, region: &Region) -> PyResult<()> {
        let released = {
            let mut slot = self.slot();
            match slot.as_mut() {
                Some(held) if held.owner == Owner::current() => {
                    held.depth -= 1;
                    if held.depth == 0 {
                        slot.take()
                    } else {
                        None
                    }
                }
                _ => {
                    return Err(PyRuntimeError::new_err(format!(
                        "{region}: cannot release a lock this thread does not hold"
                    )))
                }
            }
        };
        drop(released); // unlocks, outside the slot's mutex
        Ok(())
    }

    /// Runs `f` on the guard this thread holds, or fails.
    fn mine<R>(&self, region: &Region, f: impl FnOnce(&mut AnyGuard) -> R) -> PyResult<R> {
        match self.slot().as_mut() {
            Some(held) if held.owner == Owner::current() => Ok(f(&mut held.guard)),
            _ => Err(PyRuntimeError::new_err(format!(
                "{region}: this thread does not hold the lock"
            ))),
        }
    }

    /// Whether a holder's death is unrepaired, as seen by this thread's guard.
    pub fn owner_died(&self, region: &Region) -> PyResult<bool> {
        self.mine(region, |guard| guard.owner_died())
    }

    /// Declares the data consistent, through this thread's guard.
    pub fn make_consistent(&self, region: &Region) -> PyResult<()> {
        self.mine(region, |guard| guard.make_consistent())
    }
}
