//! The control block: the array's lock and its seqlock counter, and what an owner's death
//! means for them.
//!
//! Layout: every field on the mutex's own cache line. A locker takes that line to acquire
//! the mutex; the flag, counter and holder stores that follow hit a line it owns already,
//! so a locked write moves no line but this one and the data's, as a bare mutex would.
//! (Snapshot readers load the counter from it too, which costs a writer no more than a
//! counter line of its own did: each write has to take the counter back from the readers
//! either way.) A second cache-padded half is reserved, zero, for later fields.
//!
//! | field        | written by              | meaning                                          |
//! |--------------|-------------------------|--------------------------------------------------|
//! | `mutex`      | lock/unlock             | the raw robust mutex (`raw_lock`)                |
//! | `owner_died` | the lock holder only    | 1: a holder died and nobody has repaired yet     |
//! | `holder`     | the lock holder only    | which handle's guard holds the lock (0: none)    |
//! | `seq`        | the lock holder only    | odd while a locked write is open (`seqlock.rs`)  |
//!
//! The raw mutex reports a death once; `owner_died` remembers it until a holder calls
//! [`ArrayGuard::make_consistent`](crate::ArrayGuard::make_consistent), so that a holder who
//! drops the guard without repairing hands the same report to the next one rather than
//! silently reusing possibly half-written data.
//!
//! What counts as a death:
//! - the raw mutex reports its holder died (`EOWNERDEAD`) **and** the counter is odd: a
//!   locked write was open. A holder that died with the counter even (a snapshot reader in
//!   its fallback) left nothing half-written and is not recorded;
//! - a guard dropped while its thread panics ([`Control::abandon_write`]): the write is
//!   left open, so the outcome is the same whether the panic unwinds or aborts the process;
//! - on an array without the seqlock (`options().seqlock(false)`), whose writes leave the
//!   counter alone: every `EOWNERDEAD`, since nothing tells a reader's death from a writer's.
//!
//! Every path that releases the lock with a write left open records the death first, so with
//! the seqlock on, "the lock is free and the counter odd" and "a death is recorded" are the
//! same state: the lock's fast path tests the counter it loads anyway, not `owner_died`.

use crate::raw_lock::{Acquired, Peeked, RawLockError};
use crate::seqlock::{SeqCount, Seqlock};
use crate::sync::{AtomicU32, AtomicU64, Ordering, RawMutex};
use crossbeam_utils::CachePadded;
use std::io;
use std::time::Duration;

/// How long an acquisition may wait.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    Forever,
    No,
    For(Duration),
}

#[repr(C)]
struct LockHalf {
    mutex: RawMutex,
    owner_died: AtomicU32,
    seq: SeqCount,
    /// The [`HandleId`] whose guard holds the lock, 0 when no guard does.
    holder: AtomicU64,
}

/// Which array handle, in which process, took a guard: the process ID in the high half, a
/// per-process handle number in the low half. Never 0.
pub(crate) type HandleId = u64;

/// The lock and seqlock state of one array, in the region header or on the heap.
#[repr(C)]
pub(crate) struct Control {
    lock: CachePadded<LockHalf>,
    /// Zero; room for fields of a later layout version.
    _reserved: CachePadded<[u64; 1]>,
}

/// The control block's state as read by [`Control::peek`], without locking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(loom, allow(dead_code))]
pub(crate) struct Peek {
    /// The raw lock word, if this platform's mutex layout is known.
    pub(crate) lock: Option<Peeked>,
    /// A holder's death was reported to a later locker, who has not repaired since.
    pub(crate) death_recorded: bool,
    /// The seqlock counter: odd while a write is open.
    pub(crate) seq: u64,
}

/// Why `lock_write` did not open a write.
#[derive(Debug)]
pub(crate) enum WriteRefused {
    /// A death is recorded and unrepaired, and the caller did not ask to repair.
    OwnerDied,
    /// The raw lock was not acquired.
    Raw(RawLockError),
}

/// What [`Control::lock_write`] got.
#[derive(Debug)]
pub(crate) enum WriteLock {
    /// The lock is held, healthy, and a write is open under this odd counter value (0 with
    /// the seqlock off).
    Open(u64),
    /// The lock is held (cleanly acquired), but a death is recorded: for
    /// [`Control::lock_write_slow`], as `Slow(Ok(Acquired::Clean))`.
    Unhealthy,
    /// Anything else, for [`Control::lock_write_slow`]: the acquisition's outcome.
    Slow(Result<Acquired, RawLockError>),
}

/// A held lock, as the control block sees it.
#[derive(Debug)]
pub(crate) struct Held {
    /// A holder died and the data has not been declared consistent since.
    pub(crate) owner_died: bool,
}

impl Control {
    /// Initialises a control block at `this`: unlocked, no death recorded, counter even.
    ///
    /// # Safety
    /// `this` is valid for writes of a `Control`, aligned, and not yet visible to any other
    /// thread or process.
    pub(crate) unsafe fn init_at(this: *mut Control) -> io::Result<()> {
        // SAFETY: valid, aligned, unshared (this function's contract). The fields are
        // written in place because a pthread mutex must not move once initialised.
        unsafe {
            // Zero first: writing a `CachePadded` value would copy its uninitialised padding
            // (bytes of this stack) into a region file. Zero bytes already are the hardware
            // atomics' initial state (owner_died = 0, seq = 0).
            core::ptr::write_bytes(this, 0, 1);
            let lock = core::ptr::addr_of_mut!((*this).lock).cast::<LockHalf>();
            // Loom's atomics are registered with the model when constructed: build them.
            #[cfg(loom)]
            {
                core::ptr::addr_of_mut!((*lock).owner_died).write(AtomicU32::new(0));
                core::ptr::addr_of_mut!((*lock).holder).write(AtomicU64::new(0));
                core::ptr::addr_of_mut!((*lock).seq).write(SeqCount::new());
            }
            RawMutex::init_at(core::ptr::addr_of_mut!((*lock).mutex))
        }
    }

    /// Takes the raw mutex as `wait` says.
    #[inline(always)]
    fn take(&self, wait: Wait) -> Result<Acquired, RawLockError> {
        match wait {
            Wait::Forever => self.lock.mutex.lock(),
            Wait::No => self.lock.mutex.try_lock(),
            Wait::For(d) => self.lock.mutex.lock_timeout(d),
        }
    }

    fn acquire(&self, wait: Wait, seqlock: Seqlock) -> Result<Held, RawLockError> {
        let how = self.take(wait)?;
        Ok(self.held(how, seqlock))
    }

    /// What a successful acquisition means: records a death the raw mutex reported, or that
    /// an open write shows.
    fn held(&self, how: Acquired, seqlock: Seqlock) -> Held {
        let write_open = self.lock.seq.write_open();
        let died = how == Acquired::OwnerDied
            && match seqlock {
                // Only a write the dead holder left open can have left the data
                // half-written; one that died with the counter even (a snapshot reader in
                // its fallback, or a writer before its first store or after its last) left
                // nothing to repair.
                Seqlock::On => write_open || cfg!(shmarray_mutant = "reader_death_is_a_death"),
                // No counter says whether a write was open: every holder's death counts.
                // (Mutant for `.ci/loom-mutants.sh`: judge by the untouched counter anyway.)
                Seqlock::Off => !cfg!(shmarray_mutant = "seqlock_off_counter_rule") || write_open,
            };
        // With the seqlock on, an odd counter at a clean acquisition is an unfinished write
        // too. Every path that releases the lock with the counter odd records the death
        // first, so this only restates what `owner_died` says; `lock_write`'s fast path
        // relies on it.
        let open = seqlock == Seqlock::On && write_open;
        // Relaxed: `owner_died` is only touched by lock holders; the mutex orders us.
        let recorded = self.lock.owner_died.load(Ordering::Relaxed) != 0;
        if (died || open) && !recorded {
            self.lock.owner_died.store(1, Ordering::Relaxed);
        }
        Held {
            owner_died: died || open || recorded,
        }
    }

    /// Reads the lock word, the owner-died flag and the seqlock counter with atomic loads:
    /// changes nothing and never waits. The three loads are not one snapshot; each is what
    /// its word held at some instant during the call.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn peek(&self) -> Peek {
        Peek {
            lock: self.lock.mutex.peek(),
            // Relaxed: a report; nothing is read on the strength of it.
            death_recorded: self.lock.owner_died.load(Ordering::Relaxed) != 0,
            seq: self.lock.seq.peek(),
        }
    }

    /// Takes the lock to write. The fast path, inline: a clean acquisition of a healthy lock
    /// ([`WriteLock::Open`]); with the seqlock on, the counter is then odd until
    /// [`Control::unlock_write`]. Anything else is for [`Control::lock_write_slow`].
    ///
    /// With the seqlock on, one load of the counter checks for a recorded death too: a death
    /// is recorded exactly when the lock is free with the counter odd (see `held`), so an
    /// even counter means no death, and the `owner_died` word is not read.
    #[inline(always)]
    pub(crate) fn lock_write(&self, wait: Wait, seqlock: Seqlock) -> WriteLock {
        match self.take(wait) {
            Ok(Acquired::Clean) => {}
            other => return WriteLock::Slow(other),
        }
        let open = match seqlock {
            Seqlock::On => self.lock.seq.begin_write_if_closed(),
            // Relaxed: `owner_died` is only touched by lock holders; the mutex orders us.
            Seqlock::Off => (self.lock.owner_died.load(Ordering::Relaxed) == 0).then_some(0),
        };
        match open {
            Some(odd) => WriteLock::Open(odd),
            None => WriteLock::Unhealthy,
        }
    }

    /// The rest of [`Control::lock_write`]: an acquisition that failed, or found a holder's
    /// death (reported by the mutex now, or recorded before). Returns the odd counter value
    /// (0 with the seqlock off) and whether a dead holder's work is unrepaired.
    ///
    /// Unless `repair` is set, a recorded death is refused: the lock is released again,
    /// before any write is opened, and the result is [`WriteRefused::OwnerDied`].
    #[cold]
    #[inline(never)]
    pub(crate) fn lock_write_slow(
        &self,
        taken: Result<Acquired, RawLockError>,
        seqlock: Seqlock,
        repair: bool,
    ) -> Result<(Held, u64), WriteRefused> {
        let how = taken.map_err(WriteRefused::Raw)?;
        let held = self.held(how, seqlock);
        if held.owner_died && !repair {
            // SAFETY: `take` just gave this thread the lock; no write was opened.
            unsafe { self.lock.mutex.unlock() };
            return Err(WriteRefused::OwnerDied);
        }
        let odd = match seqlock {
            Seqlock::On => self.lock.seq.begin_write(),
            Seqlock::Off => 0,
        };
        Ok((held, odd))
    }

    /// Records that a guard of handle `id` holds the lock. Lock holder only.
    #[inline(always)]
    pub(crate) fn set_holder(&self, id: HandleId) {
        // Relaxed: holder-only field; read by `release_before_drop` after a handover of the
        // handle, which synchronises.
        self.lock.holder.store(id, Ordering::Relaxed);
    }

    /// Declares the data consistent after a holder's death. Lock holder only.
    pub(crate) fn make_consistent(&self) {
        // Relaxed: holder-only field, ordered for the next holder by the mutex.
        self.lock.owner_died.store(0, Ordering::Relaxed);
    }

    /// Ends a write and releases the lock. `unrepaired`: a death is still recorded (the
    /// holder's guard knows; only it can have cleared the record): then the counter stays
    /// odd so that snapshot readers keep refusing the data.
    ///
    /// # Safety
    /// The calling thread holds the lock, taken by `lock_write` with this `seqlock`, which
    /// returned `odd`.
    #[inline(always)]
    pub(crate) unsafe fn unlock_write(&self, odd: u64, seqlock: Seqlock, unrepaired: bool) {
        self.set_holder(0);
        if seqlock == Seqlock::On && !unrepaired {
            self.lock.seq.end_write(odd);
        }
        // SAFETY: the caller holds the lock (this function's contract).
        unsafe { self.lock.mutex.unlock() };
    }

    /// Ends a write that did not finish (its holder panicked, or forgot its guard) and
    /// releases the lock: the death is recorded and the counter stays odd, exactly as if the
    /// holder's process had died, so the next locker must repair.
    ///
    /// # Safety
    /// The calling thread holds the lock, taken by `lock_write`.
    pub(crate) unsafe fn abandon_write(&self) {
        self.set_holder(0);
        // Relaxed: holder-only field, ordered for the next holder by the mutex.
        self.lock.owner_died.store(1, Ordering::Relaxed);
        // SAFETY: the caller holds the lock (this function's contract).
        unsafe { self.lock.mutex.unlock() };
    }

    /// Called when array handle `id` goes away (so no live guard of it exists): if this
    /// thread still holds the lock (its guard was forgotten with `mem::forget`), the write
    /// it left open is abandoned as by a panic (death recorded, counter odd) and the lock
    /// released, so that no robust mutex stays on this thread's robust list after its
    /// memory is unmapped or freed.
    ///
    /// Returns `false` if a forgotten guard of this handle, on another thread, holds the
    /// lock: then the memory must stay mapped. A lock held by anyone else (another handle,
    /// another process) is theirs and no obstacle.
    pub(crate) fn release_before_drop(&self, seqlock: Seqlock, id: HandleId) -> bool {
        // Relaxed: the handle is being dropped, so whatever thread's guard stored `id` has
        // handed the handle over (or ended) with a synchronising operation since. Only a
        // guard of this handle, in this process, stores `id`, and its drop clears it.
        if self.lock.holder.load(Ordering::Relaxed) != id {
            return true;
        }
        match self.acquire(Wait::No, seqlock) {
            Ok(_) => {
                // SAFETY: `acquire` just gave this thread the lock, without opening a write.
                unsafe { self.lock.mutex.unlock() };
                true
            }
            Err(RawLockError::Deadlock) => {
                // SAFETY: EDEADLK: this thread holds the lock, through a guard that will never
                // drop (a guard borrows its array, so none can be alive while it drops).
                unsafe { self.abandon_write() };
                true
            }
            Err(_) => false,
        }
    }

    /// Takes the lock to read without opening a write (the snapshot fallback). The caller
    /// must not trust the data if `Held::owner_died` is set: a dead writer may have left it
    /// half-written.
    pub(crate) fn lock_read(&self, wait: Wait, seqlock: Seqlock) -> Result<Held, RawLockError> {
        self.acquire(wait, seqlock)
    }

    /// Releases a lock taken by `lock_read`.
    ///
    /// # Safety
    /// The calling thread holds the lock, taken by `lock_read`.
    pub(crate) unsafe fn unlock_read(&self) {
        // SAFETY: the caller holds the lock (this function's contract).
        unsafe { self.lock.mutex.unlock() };
    }

    /// Makes the lock of a region that nobody else has open usable again: the raw mutex is
    /// initialised afresh (its lock word may name a thread that no longer exists: the region
    /// was copied while locked, or outlived a reboot), and if a locked write was open (the
    /// counter is odd) a death is recorded, so that the next locker repairs the data before
    /// anyone trusts it. The counter is left as it is: snapshots keep refusing a half-done
    /// write until the repair.
    ///
    /// With the seqlock off there is no counter to tell: a lock word that is not free (its
    /// holder is gone, since nobody else uses the region) counts as an open write.
    ///
    /// # Safety
    /// No other thread or process uses this control block while this runs: the caller holds
    /// the region's `flock` exclusively, and no array of this process maps it.
    #[cfg(not(loom))]
    pub(crate) unsafe fn reclaim(&self, seqlock: Seqlock) -> io::Result<()> {
        let open = match seqlock {
            Seqlock::On => self.lock.seq.write_open(),
            Seqlock::Off => self.lock.mutex.peek() != Some(Peeked::Free),
        };
        // SAFETY: the caller is the region's only user (this function's contract).
        unsafe { self.lock.mutex.reinit() }?;
        // The holder's handle is gone with its process (or its copy was never in this one).
        self.set_holder(0);
        if open {
            // Relaxed: published to later users by the release of our exclusive `flock`
            // (the kernel orders it) and, within this process, by the mutex.
            self.lock.owner_died.store(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The seqlock counter, for snapshot readers.
    #[inline]
    pub(crate) fn seq(&self) -> &SeqCount {
        &self.lock.seq
    }

    /// Destroys the raw mutex (heap storage, when the last user is gone).
    ///
    /// # Safety
    /// Nobody holds or will use the lock again.
    pub(crate) unsafe fn destroy(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.lock.mutex.destroy() };
    }

    /// Under loom: the holder's process "dies": the lock is released the way the kernel
    /// releases a robust mutex, with the counter left as it was.
    ///
    /// # Safety
    /// The calling thread holds the lock and never touches it again as its owner.
    #[cfg(loom)]
    pub(crate) unsafe fn simulate_owner_death(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.lock.mutex.simulate_owner_death() };
    }
}
