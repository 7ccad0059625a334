//! Which stripe of a [`StripedArray`](crate::StripedArray) the calling thread adds to, and
//! how many stripes an array gets by default.
//!
//! The stripe is the CPU the thread runs on, masked to the (power of two) stripe count. On
//! Linux the kernel keeps the current CPU number of every thread in the thread's `rseq`
//! area (restartable sequences), which glibc 2.35 and later registers and locates through
//! `__rseq_offset` from the thread pointer. Reading it takes two dependent loads;
//! `sched_getcpu()` measured 4 ns on this project's machine when idle and 14 to 21 ns under
//! load (`BENCHMARKS.md`), as much as the add itself, so it is only the fallback: for a glibc without `rseq`, `rseq`
//! disabled (`GLIBC_TUNABLES=glibc.pthread.rseq=0`), another C library or another
//! architecture. The answer may be stale by the time it is used (the thread may migrate in
//! between); that costs nothing but a briefly shared cache line, because the add itself is
//! atomic whichever stripe it lands on.
//!
//! Under loom every model thread is its own "CPU", numbered as loom numbers its threads
//! (the main thread 0, then 1, 2, ... in spawn order), so a model with as many stripes as
//! threads runs the one-writer-per-stripe path and a model with fewer runs the shared one.

/// The most stripes a [`StripedArray`](crate::StripedArray) gets by default, whatever the
/// number of CPUs: 64 stripes of every element, 64 × `len` × element size bytes.
pub(crate) const DEFAULT_MAX_STRIPES: usize = 64;

/// How this process reads the CPU the calling thread runs on: found once, when an array is
/// made or opened, and kept in the array, so that an add reads the CPU number with one load
/// (from the thread's `rseq` area) and no load of a static before it.
///
/// The add's locked instruction lets no later load start until it completes, so every load
/// on the way from one add to the next (the static holding the `rseq` offset, then
/// `cpu_id`) is paid in full by every add; a field of the array, unchanged while the array
/// lives, is kept in a register across a loop of adds instead.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CpuSource {
    /// Where this process's `rseq` `cpu_id` is, from the thread pointer, or
    /// `rseq::ABSENT` (never an offset) if there is no `rseq` area to read: one word, so
    /// that an add tests the value it loads rather than loading a discriminant first.
    #[cfg(all(
        not(loom),
        target_os = "linux",
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    rseq: isize,
}

impl CpuSource {
    /// How this process reads its CPU number (looked up once per process, then copied).
    pub(crate) fn find() -> CpuSource {
        CpuSource {
            #[cfg(all(
                not(loom),
                target_os = "linux",
                target_env = "gnu",
                any(target_arch = "x86_64", target_arch = "aarch64")
            ))]
            rseq: rseq::offset().unwrap_or(rseq::ABSENT),
        }
    }

    /// The CPU the calling thread is running on (a hint: it may have moved already).
    #[inline(always)]
    pub(crate) fn current(self) -> usize {
        #[cfg(all(
            not(loom),
            target_os = "linux",
            target_env = "gnu",
            any(target_arch = "x86_64", target_arch = "aarch64")
        ))]
        if self.rseq != rseq::ABSENT {
            // Negative: the area is not registered for this thread (-1 uninitialised, -2
            // registration failed).
            if let Ok(cpu) = usize::try_from(rseq::load_cpu_id(self.rseq)) {
                return cpu;
            }
        }
        fallback()
    }
}

/// The CPU number without `rseq`: `sched_getcpu`.
#[cfg(all(not(loom), target_os = "linux"))]
#[inline]
fn fallback() -> usize {
    getcpu()
}

/// `sched_getcpu()`: the fallback, and what the benchmarks compare the `rseq` read with.
#[cfg(all(not(loom), target_os = "linux"))]
#[inline]
pub(crate) fn getcpu() -> usize {
    // Miri runs no system calls: every thread is on CPU 0.
    if cfg!(miri) {
        return 0;
    }
    // SAFETY: sched_getcpu takes no arguments and has no preconditions.
    let cpu = unsafe { libc::sched_getcpu() };
    // -1 only if the kernel cannot say: any stripe is correct, stripe 0 will do.
    usize::try_from(cpu).unwrap_or(0)
}

/// Reading the CPU number from the calling thread's `rseq` area, where glibc registered one.
#[cfg(all(
    not(loom),
    target_os = "linux",
    target_env = "gnu",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod rseq {
    use crate::sync::{AtomicIsize, Ordering};

    /// `CPU_ID` before the first lookup (never a field offset: those are multiples of 4).
    const UNKNOWN: isize = 1;
    /// `CPU_ID` when this process has no `rseq` area to read.
    pub(super) const ABSENT: isize = 2;
    /// Where `cpu_id` (an `i32`, after `cpu_id_start`) is, relative to the thread pointer:
    /// `__rseq_offset + 4`, the same for every thread of the process.
    static CPU_ID: AtomicIsize = AtomicIsize::new(UNKNOWN);

    /// Where `cpu_id` is from the thread pointer, for [`load_cpu_id`], or `None` if this
    /// process has no `rseq` area to read. Looked up once per process.
    pub(super) fn offset() -> Option<isize> {
        // Relaxed: the value is the same whoever stored it; any thread may look it up.
        let mut offset = CPU_ID.load(Ordering::Relaxed);
        if offset == UNKNOWN {
            offset = lookup();
        }
        (offset != ABSENT).then_some(offset)
    }

    /// `cpu_id`, at `offset` (from [`offset`]) from the calling thread's pointer: the CPU
    /// number the kernel last stored for this thread, or negative if the area is not
    /// registered for it.
    #[inline(always)]
    pub(super) fn load_cpu_id(offset: isize) -> i32 {
        let raw: i32;
        #[cfg(target_arch = "x86_64")]
        // SAFETY: glibc says (`__rseq_offset`, `__rseq_size` >= 8, checked in `lookup`) that
        // every thread's registered `rseq` area lies at this offset from its thread pointer
        // (the %fs base), for the thread's whole life: `cpu_id` is a 4-byte aligned field of
        // this thread's own TLS, which only the kernel writes, on this thread's behalf,
        // between its instructions. One aligned 4-byte load reads it whole; nothing is
        // written.
        unsafe {
            core::arch::asm!(
                "mov {raw:e}, dword ptr fs:[{offset}]",
                offset = in(reg) offset,
                raw = lateout(reg) raw,
                options(nostack, readonly, preserves_flags),
            );
        }
        #[cfg(target_arch = "aarch64")]
        // SAFETY: as for x86-64; the thread pointer is `tpidr_el0`, and the field is read
        // with one aligned 4-byte load.
        unsafe {
            core::arch::asm!(
                "mrs {tp}, tpidr_el0",
                "ldr {raw:w}, [{tp}, {offset}]",
                tp = out(reg) _,
                offset = in(reg) offset,
                raw = lateout(reg) raw,
                options(nostack, readonly, preserves_flags),
            );
        }
        raw
    }

    #[cold]
    #[inline(never)]
    fn lookup() -> isize {
        // Relaxed: see `cpu`.
        let known = CPU_ID.load(Ordering::Relaxed);
        if known != UNKNOWN {
            return known;
        }
        let symbol = |name: &core::ffi::CStr| {
            // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only looks the name up.
            unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
        };
        let (offset, size) = (symbol(c"__rseq_offset"), symbol(c"__rseq_size"));
        let found = if offset.is_null() || size.is_null() {
            ABSENT
        } else {
            // SAFETY: glibc defines `__rseq_offset` as a `ptrdiff_t` and `__rseq_size` as an
            // `unsigned int`, both set before `main` and constant after.
            let (offset, size) = unsafe { (*offset.cast::<isize>(), *size.cast::<u32>()) };
            // The area must reach past `cpu_id`; size 0 means rseq is disabled.
            match offset.checked_add(4) {
                Some(at) if size >= 8 && at & 3 == 0 => at,
                _ => ABSENT,
            }
        };
        // Relaxed: see `cpu`.
        CPU_ID.store(found, Ordering::Relaxed);
        found
    }
}

/// Without `sched_getcpu`: a number per thread, handed out in order of first use, so that
/// threads (and processes' main threads, which all get 0) spread over the stripes.
#[cfg(all(not(loom), not(target_os = "linux")))]
#[inline]
fn fallback() -> usize {
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
fn fallback() -> usize {
    // loom numbers its threads but shows the number only through `Debug`: "ThreadId(N)".
    let id = format!("{:?}", loom::thread::current().id());
    id.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0)
}

/// The default stripe count: enough stripes that every CPU this process may run on (its
/// affinity mask) adds to a stripe of its own, at most [`DEFAULT_MAX_STRIPES`].
pub(crate) fn default_stripes() -> usize {
    stripes_covering(allowed_cpus())
}

/// The fewest stripes (a power of two, at most [`DEFAULT_MAX_STRIPES`]) that give every CPU
/// of `cpus` a stripe of its own.
///
/// A CPU adds to stripe `cpu & (stripes - 1)`, so what counts is the highest CPU number,
/// not how many CPUs there are: CPUs {0, 2} share stripe 0 of 2 stripes, and need 4. An
/// empty set (no answer from the kernel) gets one stripe.
fn stripes_covering(cpus: impl IntoIterator<Item = usize>) -> usize {
    cpus.into_iter()
        .max()
        .map_or(1, |highest| highest.saturating_add(1))
        .min(DEFAULT_MAX_STRIPES)
        .next_power_of_two()
}

/// The CPUs this process may run on: its affinity mask, or, where there is none to read,
/// CPUs 0 to `available_parallelism - 1`.
#[cfg(target_os = "linux")]
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid, empty set.
    let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is this thread.
    let rc = unsafe { libc::sched_getaffinity(0, core::mem::size_of_val(&set), &mut set) };
    if rc == 0 {
        let bits = 8 * core::mem::size_of_val(&set);
        return (0..bits)
            .filter(|&cpu| {
                // SAFETY: `set` was filled in by the kernel; `cpu` is below its size in bits.
                unsafe { libc::CPU_ISSET(cpu, &set) }
            })
            .collect();
    }
    // More CPUs than a cpu_set_t holds (over 1024), or no answer: what std can tell.
    fallback_cpus()
}

#[cfg(not(target_os = "linux"))]
fn allowed_cpus() -> Vec<usize> {
    fallback_cpus()
}

/// CPUs 0 to `available_parallelism - 1`.
fn fallback_cpus() -> Vec<usize> {
    (0..std::thread::available_parallelism().map_or(1, usize::from)).collect()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn default_stripes_cover_the_allowed_cpus() {
        let n = default_stripes();
        let cpus = allowed_cpus();
        assert!(!cpus.is_empty());
        assert!(n.is_power_of_two() && n <= DEFAULT_MAX_STRIPES);
        // Every allowed CPU (up to the cap) lands on a stripe of its own.
        let stripes: std::collections::HashSet<usize> = cpus
            .iter()
            .filter(|&&cpu| cpu < DEFAULT_MAX_STRIPES)
            .map(|&cpu| cpu & (n - 1))
            .collect();
        assert_eq!(
            stripes.len(),
            cpus.iter().filter(|&&c| c < DEFAULT_MAX_STRIPES).count()
        );
    }

    #[test]
    fn the_highest_cpu_sets_the_stripe_count() {
        let covering = |cpus: &[usize]| stripes_covering(cpus.iter().copied());
        assert_eq!(covering(&[]), 1);
        assert_eq!(covering(&[0]), 1);
        assert_eq!(covering(&[0, 1]), 2);
        // Two CPUs, but counting them would give 2 stripes and both would add to stripe 0.
        assert_eq!(covering(&[0, 2]), 4);
        assert_eq!(covering(&[5]), 8);
        assert_eq!(covering(&[3, 1]), 4);
        assert_eq!(covering(&[0, 1, 2, 3, 4]), 8);
        assert_eq!(covering(&[63]), 64);
        // Capped: CPUs past the cap share stripes.
        assert_eq!(covering(&[64]), DEFAULT_MAX_STRIPES);
        assert_eq!(covering(&[0, 1000]), DEFAULT_MAX_STRIPES);
        assert_eq!(covering(&[usize::MAX]), DEFAULT_MAX_STRIPES);
        // Every CPU of a covered set gets a stripe of its own.
        for cpus in [&[0, 2][..], &[1, 4, 6], &[7, 8, 9]] {
            let n = covering(cpus);
            let mut stripes: Vec<usize> = cpus.iter().map(|c| c & (n - 1)).collect();
            stripes.sort_unstable();
            stripes.dedup();
            assert_eq!(stripes.len(), cpus.len(), "{cpus:?} in {n} stripes");
        }
    }

    #[cfg(all(
        not(loom),
        target_os = "linux",
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    #[test]
    fn rseq_agrees_with_sched_getcpu() {
        // Pinned to one CPU, the two must agree (unpinned, the thread could move between).
        let cpu = getcpu();
        // SAFETY: as in `allowed_cpus`.
        let mut one: libc::cpu_set_t = unsafe { core::mem::zeroed() };
        // SAFETY: `cpu` came from the kernel, below CPU_SETSIZE.
        unsafe { libc::CPU_SET(cpu, &mut one) };
        // SAFETY: as in `allowed_cpus`.
        let mut old: libc::cpu_set_t = unsafe { core::mem::zeroed() };
        // SAFETY: valid sets of the size passed; pid 0 is this thread.
        unsafe {
            assert_eq!(
                libc::sched_getaffinity(0, core::mem::size_of_val(&old), &mut old),
                0
            );
            assert_eq!(
                libc::sched_setaffinity(0, core::mem::size_of_val(&one), &one),
                0
            );
        }
        let rseq = rseq::offset().and_then(|at| usize::try_from(rseq::load_cpu_id(at)).ok());
        let (current, getcpu) = (CpuSource::find().current(), getcpu());
        // SAFETY: as above.
        unsafe { libc::sched_setaffinity(0, core::mem::size_of_val(&old), &old) };
        assert_eq!(getcpu, cpu);
        assert_eq!(current, cpu);
        match rseq {
            Some(seen) => assert_eq!(seen, cpu, "rseq says {seen}, sched_getcpu {cpu}"),
            // glibc older than 2.35, or rseq disabled: `current` falls back.
            None => eprintln!("no rseq area under glibc {}", libc_version()),
        }
    }

    #[cfg(all(
        not(loom),
        target_os = "linux",
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    fn libc_version() -> String {
        // SAFETY: gnu_get_libc_version returns a static NUL-terminated string.
        unsafe { core::ffi::CStr::from_ptr(gnu_get_libc_version()) }
            .to_string_lossy()
            .into_owned()
    }

    #[cfg(all(
        not(loom),
        target_os = "linux",
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    extern "C" {
        fn gnu_get_libc_version() -> *const core::ffi::c_char;
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn current_cpu_is_one_this_thread_may_run_on() {
        // SAFETY: as in `allowed_cpus`.
        let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
        // SAFETY: as in `allowed_cpus`.
        let rc = unsafe { libc::sched_getaffinity(0, core::mem::size_of_val(&set), &mut set) };
        assert_eq!(rc, 0);
        let cpu = CpuSource::find().current();
        // SAFETY: `cpu` is below CPU_SETSIZE on any machine this test runs on.
        assert!(unsafe { libc::CPU_ISSET(cpu, &set) }, "cpu {cpu}");
    }
}
