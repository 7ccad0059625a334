//! The sequence counter of the seqlock that makes locked writes atomic to snapshot readers.
//!
//! Writers (who already hold the array's lock, so there is one at a time) make the counter
//! odd before their first data store and even again after their last. A reader copies the
//! cells between two reads of the counter and keeps the copy only if both reads saw the same
//! even value. The data itself is read and written with Relaxed atomic operations, never with
//! plain or volatile accesses: a racing plain read would be undefined behaviour even if its
//! result were thrown away.
//!
//! The orderings are the standard fence-based recipe (Boehm, "Can seqlocks get along with
//! programming language memory models?", 2012). Each is named with its partner below.

use crate::sync::{fence, AtomicU64, Ordering};

/// Whether an array's locked writes keep the sequence counter (chosen when the region is
/// created and recorded in its header, so that every opener agrees). With it off, a locked
/// write touches only the lock and the data, and a snapshot takes the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seqlock {
    On,
    Off,
}

/// A seqlock sequence counter over storage it is handed (a header field or a heap cell).
#[repr(transparent)]
pub(crate) struct SeqCount {
    seq: AtomicU64,
}

impl SeqCount {
    // Hardware builds start from zeroed memory instead (see `Control::init_at`).
    #[cfg_attr(not(loom), allow(dead_code))]
    pub(crate) fn new() -> SeqCount {
        SeqCount {
            seq: AtomicU64::new(0),
        }
    }

    /// Marks a write as begun and returns the (odd) value the write runs under.
    ///
    /// If the counter is already odd, a previous writer died mid-write: the counter stays odd,
    /// so readers keep refusing the half-written data until this write ends.
    ///
    /// Only the holder of the array's lock may call this.
    #[inline]
    pub(crate) fn begin_write(&self) -> u64 {
        self.open_from(self.load_as_holder())
    }

    /// As [`begin_write`](Self::begin_write) if no write is open (the counter is even), for
    /// the lock's fast path; `None`, changing nothing, if one is.
    ///
    /// Only the holder of the array's lock may call this.
    #[inline(always)]
    pub(crate) fn begin_write_if_closed(&self) -> Option<u64> {
        let current = self.load_as_holder();
        (current & 1 == 0).then(|| self.open_from(current))
    }

    /// The counter, as the lock's holder reads it.
    #[inline(always)]
    fn load_as_holder(&self) -> u64 {
        // Relaxed: only the lock holder writes the counter, and the lock's acquisition
        // ordered us after the previous holder's last store to it.
        self.seq.load(Ordering::Relaxed)
    }

    /// Opens a write over the counter value `current` the holder just loaded: makes it odd
    /// (if it is not already) and returns the odd value.
    #[inline(always)]
    fn open_from(&self, current: u64) -> u64 {
        let odd = current | 1;
        // Mutant for `.ci/loom-mutants.sh`: the counter is never made odd.
        if odd != current && !cfg!(shmarray_mutant = "counter_not_odd") {
            self.seq.store(odd, Ordering::Relaxed);
        }
        // Release fence: orders the odd store above before every data store of this write.
        // Pairs with the Acquire fence in `read`: a reader that sees any of this write's
        // data then sees the odd value (or later) on its second counter load.
        #[cfg(not(shmarray_mutant = "no_release_fence"))]
        fence(Ordering::Release);
        odd
    }

    /// True if a write is open: the counter is odd, because the holder is writing or
    /// because a writer ended without finishing (died, panicked, or forgot its guard).
    ///
    /// Only the holder of the array's lock may call this.
    #[inline]
    pub(crate) fn write_open(&self) -> bool {
        self.load_as_holder() & 1 == 1
    }

    /// Marks the write begun at `odd` as finished, publishing its data.
    ///
    /// Only the holder of the array's lock may call this.
    #[inline]
    pub(crate) fn end_write(&self, odd: u64) {
        debug_assert!(odd & 1 == 1);
        // Release: every data store of the write happens before this even value. Pairs with
        // the Acquire first load in `read`.
        self.seq.store(odd.wrapping_add(1), Ordering::Release);
    }

    /// The counter as it is now, for inspection: odd while a write is open (or was left
    /// open by a writer that died).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn peek(&self) -> u64 {
        // Relaxed: a report; no data is read on the strength of it.
        self.seq.load(Ordering::Relaxed)
    }

    /// Runs `copy` (Relaxed loads of the data) between two reads of the counter. Returns
    /// `true` if no write overlapped it, so what `copy` read is one consistent state.
    #[inline]
    pub(crate) fn read(&self, copy: impl FnOnce()) -> bool {
        // Acquire: pairs with the Release store in `end_write`, so the data of every write
        // finished before this value is visible to `copy`.
        let before = self.seq.load(Ordering::Acquire);
        if before & 1 == 1 {
            return false;
        }
        copy();
        // Acquire fence: pairs with the Release fence in `begin_write` (see there); keeps the
        // data loads in `copy` before the second counter load.
        #[cfg(not(shmarray_mutant = "no_acquire_fence"))]
        fence(Ordering::Acquire);
        // Relaxed: ordered by the fence above.
        let after = self.seq.load(Ordering::Relaxed);
        before == after
    }

    /// For a `copy` under way inside [`read`](Self::read): `false` once a write has begun
    /// since the counter held `start` (what `copy` read with [`peek`](Self::peek) as it
    /// began), so that a long copy can stop as soon as its try is lost instead of finishing a
    /// copy that will be thrown away.
    ///
    /// Only a hint: stopping early is safe because `read` still decides. Its second load of
    /// the counter comes later in this thread than the load here, and loads of one atomic
    /// never go back in its modification order, in which the counter only grows; so `read`
    /// sees the change too and reports the try as failed.
    #[inline]
    pub(crate) fn unchanged_since(&self, start: u64) -> bool {
        // Relaxed: a hint (above); `read`'s own fence and loads order the data.
        self.seq.load(Ordering::Relaxed) == start
    }
}
