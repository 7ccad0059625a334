//! Which stripe of a [`StripedArray`](crate::StripedArray) the calling thread adds to, and
//! how many stripes an array gets by default.
//!
//! The stripe is the CPU the thread runs on, masked to the (power of two) stripe count. On
//! Linux the kernel keeps the current CPU number of every thread in the thread's `rseq`
//! area (restartable sequences), which glibc 2.35 and later registers and locates through
//! `__rseq_offset` from the thread pointer. Reading it is one load (about 2 ns here);
//! `sched_getcpu()` measured about 20 ns on this project's machine (`BENCHMARKS.md`), as
//! much as the add itself, so it is only the fallback: for a glibc without `rseq`, `rseq`
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

/// The CPU the calling thread is running on (a hint: it may have moved already).
#[cfg(all(not(loom), target_os = "linux"))]
#[inline(always)]
pub(crate) fn current() -> usize {
    #[cfg(all(
        not(loom),
        target_os = "linux",
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    if let Some(cpu) = rseq::cpu() {
        return cpu;
    }
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
    use crate::sync::{AtomicIsize, AtomicU32, Ordering};

    /// `OFFSET` before the first lookup.
    const UNKNOWN: isize = isize::MIN;
    /// `OFFSET` when this process has no `rseq` area to read.
    const ABSENT: isize = isize::MIN + 1;
    /// `__rseq_offset`: where the `rseq` area is, relative to the thread pointer (the same
    /// for every thread of the process).
    static OFFSET: AtomicIsize = AtomicIsize::new(UNKNOWN);
    /// Offset of `cpu_id` (an `i32`) in `struct rseq`, after `cpu_id_start`.
    const CPU_ID: isize = 4;

    /// The CPU number the kernel last stored for this thread, or `None` if there is no
    /// `rseq` area (or it is not registered for this thread).
    #[inline(always)]
    pub(super) fn cpu() -> Option<usize> {
        // Relaxed: the value is the same whoever stored it; any thread may look it up.
        let mut offset = OFFSET.load(Ordering::Relaxed);
        if offset == UNKNOWN {
            offset = lookup();
        }
        if offset == ABSENT {
            return None;
        }
        let field = thread_pointer()
            .wrapping_offset(offset + CPU_ID)
            .cast::<u32>()
            .cast_mut();
        // SAFETY: glibc says (`__rseq_offset`, `__rseq_size` >= 8, checked in `lookup`) that
        // every thread's registered `rseq` area lies at this offset from its thread pointer,
        // for the thread's whole life: `cpu_id` is a 4-byte aligned u32 of this thread's
        // own TLS, which only the kernel writes (on this thread's behalf, between its
        // instructions). An atomic load reads it whole.
        let raw = unsafe { AtomicU32::from_ptr(field) }.load(Ordering::Relaxed);
        // Negative: the area is not registered for this thread (-1 uninitialised, -2
        // registration failed).
        usize::try_from(raw as i32).ok()
    }

    #[cold]
    #[inline(never)]
    fn lookup() -> isize {
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
            if size >= 8 && offset != UNKNOWN && offset != ABSENT {
                offset
            } else {
                ABSENT
            }
        };
        // Relaxed: see `cpu`.
        OFFSET.store(found, Ordering::Relaxed);
        found
    }

    /// The thread pointer, which `__rseq_offset` is relative to.
    #[inline(always)]
    fn thread_pointer() -> *const u8 {
        let tp: *const u8;
        #[cfg(target_arch = "x86_64")]
        // SAFETY: reads the TCB's self-pointer at %fs:0 (the x86-64 TLS ABI); no memory is
        // written, the stack is not touched.
        unsafe {
            core::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly, preserves_flags));
        }
        #[cfg(target_arch = "aarch64")]
        // SAFETY: reads the thread pointer register; no memory is touched.
        unsafe {
            core::arch::asm!("mrs {}, tpidr_el0", out(reg) tp, options(nomem, nostack, preserves_flags));
        }
        tp
    }
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
        let (rseq, getcpu) = (rseq::cpu(), getcpu());
        // SAFETY: as above.
        unsafe { libc::sched_setaffinity(0, core::mem::size_of_val(&old), &old) };
        assert_eq!(getcpu, cpu);
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
        let cpu = current();
        // SAFETY: `cpu` is below CPU_SETSIZE on any machine this test runs on.
        assert!(unsafe { libc::CPU_ISSET(cpu, &set) }, "cpu {cpu}");
    }
}
