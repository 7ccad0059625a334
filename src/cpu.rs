//! Which stripe of a [`StripedArray`](crate::StripedArray) the calling thread adds to, and
//! how many stripes an array gets by default.
//!
//! The stripe is the CPU the thread runs on, masked to the (power of two) stripe count. On
//! Linux that is `sched_getcpu()`, which glibc (2.35 and later) answers from the `rseq`
//! area the kernel keeps up to date for every thread: a load, no system call.
//! `BENCHMARKS.md` has its measured cost. The answer may be stale by the time it is used
//! (the thread may migrate in between); that costs nothing but a briefly shared cache line,
//! because the add itself is atomic whichever stripe it lands on.
//!
//! Under loom every model thread is its own "CPU", numbered as loom numbers its threads
//! (the main thread 0, then 1, 2, ... in spawn order), so a model with as many stripes as
//! threads runs the one-writer-per-stripe path and a model with fewer runs the shared one.

/// The most stripes a [`StripedArray`](crate::StripedArray) gets by default, whatever the
/// number of CPUs: 64 stripes of every element, 64 × `len` × element size bytes.
pub(crate) const DEFAULT_MAX_STRIPES: usize = 64;

/// The CPU the calling thread is running on (a hint: it may have moved already).
#[cfg(all(not(loom), target_os = "linux"))]
#[inline(always)]
pub(crate) fn current() -> usize {
    // SAFETY: sched_getcpu takes no arguments and has no preconditions.
    let cpu = unsafe { libc::sched_getcpu() };
    // -1 only if the kernel cannot say: any stripe is correct, stripe 0 will do.
    usize::try_from(cpu).unwrap_or(0)
}

/// Without `sched_getcpu`: a number per thread, handed out in order of first use, so that
/// threads (and processes' main threads, which all get 0) spread over the stripes.
#[cfg(all(not(loom), not(target_os = "linux")))]
#[inline]
pub(crate) fn current() -> usize {
    use crate::sync::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::thread_local! {
        // Relaxed: only uniqueness matters, which the read-modify-write gives.
        static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    MINE.with(|n| *n)
}

/// Under loom: the model thread's number (see the module docs).
#[cfg(loom)]
pub(crate) fn current() -> usize {
    // loom numbers its threads but shows the number only through `Debug`: "ThreadId(N)".
    let id = format!("{:?}", loom::thread::current().id());
    id.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0)
}

/// The default stripe count: the number of CPUs this process may run on (its affinity
/// mask), rounded up to a power of two, at most [`DEFAULT_MAX_STRIPES`].
pub(crate) fn default_stripes() -> usize {
    allowed_cpus()
        .max(1)
        .next_power_of_two()
        .min(DEFAULT_MAX_STRIPES)
}

#[cfg(target_os = "linux")]
fn allowed_cpus() -> usize {
    // SAFETY: a zeroed cpu_set_t is a valid, empty set.
    let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is this thread.
    let rc = unsafe { libc::sched_getaffinity(0, core::mem::size_of_val(&set), &mut set) };
    if rc == 0 {
        // SAFETY: `set` was filled in by the kernel.
        let n = unsafe { libc::CPU_COUNT(&set) };
        if let Ok(n) = usize::try_from(n) {
            return n;
        }
    }
    // More CPUs than a cpu_set_t holds (over 1024), or no answer: what std can tell.
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(not(target_os = "linux"))]
fn allowed_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn default_stripes_cover_the_allowed_cpus() {
        let n = default_stripes();
        assert!(n.is_power_of_two() && n <= DEFAULT_MAX_STRIPES);
        assert!(n >= allowed_cpus().min(DEFAULT_MAX_STRIPES));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn current_cpu_is_one_this_thread_may_run_on() {
        // SAFETY: as in `allowed_cpus`.
        let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
        // SAFETY: as in `allowed_cpus`.
        let rc = unsafe { libc::sched_getaffinity(0, core::mem::size_of_val(&set), &mut set) };
        assert_eq!(rc, 0);
        let cpu = current();
        // SAFETY: `cpu` is below CPU_SETSIZE on any machine this test runs on.
        assert!(unsafe { libc::CPU_ISSET(cpu, &set) }, "cpu {cpu}");
    }
}
