//! Workloads, baselines and the process and thread harnesses shared by the criterion benches
//! and `examples/bench_report.rs`, so that both measure exactly the same code.
//!
//! The baselines use no crate code: bare `AtomicU64` cells in a plain `MAP_SHARED |
//! MAP_ANONYMOUS` mapping (the floor), a bare spinlock on an `AtomicU32` in that mapping, a
//! robust process-shared pthread mutex used directly through `libc`, and
//! `std::sync::Mutex<Vec<u64>>` across threads. Every access to shared memory is atomic: under
//! a lock, a Relaxed load then a Relaxed store plays the part of the "plain" increment, because
//! a plain read of memory another process may be writing is undefined behaviour.
//!
//! Multi-process runs fork their workers per run. A child pins itself to a core of its own
//! (worker k to the k-th CPU this process may use), prefaults the pages it will touch,
//! reports ready, and sleeps on a start gate (a futex word in a shared mapping); the parent
//! opens the gate and takes the time from that moment until it has reaped the last child. A
//! child touches nothing but memory mapped before the fork (atomics, futex words, the robust
//! mutexes) and leaves through `libc::_exit`, so the bench process's other threads (criterion
//! runs rayon) and its destructors are never involved.
#![allow(dead_code)] // each bench target uses a different part of this module

pub mod hot;

use shmarray::{ArrayGuard, SharedArray};
use std::hint::black_box;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64};
use std::time::{Duration, Instant};

const PAGE: usize = 4096;

/// True in a forked worker: failures end the process with an exit code instead of panicking.
static IN_CHILD: AtomicBool = AtomicBool::new(false);

/// Ends the process at once with `code`: no unwinding, no destructors, no atexit handlers.
pub fn child_exit(code: i32) -> ! {
    // SAFETY: `_exit` has no preconditions; it never returns.
    unsafe { libc::_exit(code) }
}

/// A failure inside a worker: exit code `code` in a forked child (the parent reports it),
/// a panic in a thread.
#[cold]
fn fail(code: i32, what: &str) -> ! {
    if IN_CHILD.load(Relaxed) {
        child_exit(code)
    }
    panic!("{what}")
}

/// The exit codes `fail` uses.
const EXIT_LOCK: i32 = 3;
const EXIT_PTHREAD: i32 = 4;
const EXIT_PANIC: i32 = 101;

/// A `MAP_SHARED | MAP_ANONYMOUS` mapping: memory shared with forked children, with no crate
/// code involved.
pub struct SharedMem {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is only accessed through atomics and process-shared pthread mutexes,
// which are made for concurrent use.
unsafe impl Send for SharedMem {}
// SAFETY: as above.
unsafe impl Sync for SharedMem {}

impl SharedMem {
    pub fn new(len: usize) -> SharedMem {
        let len = len.max(1).next_multiple_of(PAGE);
        // SAFETY: an anonymous mapping with no address hint; the result is checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(
            ptr,
            libc::MAP_FAILED,
            "mmap: {}",
            std::io::Error::last_os_error()
        );
        SharedMem {
            ptr: ptr.cast(),
            len,
        }
    }

    /// `n` `AtomicU64` cells at byte `offset` (zero-filled when the mapping is new).
    pub fn cells(&self, offset: usize, n: usize) -> &[AtomicU64] {
        assert!(offset % 8 == 0 && offset + n * 8 <= self.len);
        // SAFETY: in bounds and aligned (checked above; the mapping is page aligned); any bit
        // pattern is a valid AtomicU64; the cells live as long as `self`, and are only ever
        // accessed atomically.
        unsafe { std::slice::from_raw_parts(self.ptr.add(offset).cast(), n) }
    }

    /// The `AtomicU32` at byte `offset`.
    pub fn word(&self, offset: usize) -> &AtomicU32 {
        assert!(offset % 4 == 0 && offset + 4 <= self.len);
        // SAFETY: in bounds and aligned (checked above); any bit pattern is a valid
        // AtomicU32; it lives as long as `self` and is only ever accessed atomically.
        unsafe { &*self.ptr.add(offset).cast() }
    }

    fn ptr(&self, offset: usize, size: usize) -> *mut u8 {
        assert!(offset + size <= self.len);
        // SAFETY: in bounds (checked above).
        unsafe { self.ptr.add(offset) }
    }
}

impl Drop for SharedMem {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; nothing borrows it any more
        // (every reference handed out borrows `self`).
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// Sleeps while `word` holds `expected`, at most `timeout`; may return early.
fn futex_wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    #[cfg(target_os = "linux")]
    {
        let ts = timeout.map(|d| libc::timespec {
            tv_sec: d.as_secs() as libc::time_t,
            tv_nsec: d.subsec_nanos() as libc::c_long,
        });
        let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const _);
        // SAFETY: `word` is a valid, aligned u32 for the whole call and `tsp` is null or
        // points to `ts`, which outlives it. FUTEX_WAIT (not the private variant: the word may
        // be in a mapping shared with other processes) only reads the word.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT,
                expected,
                tsp,
            )
        };
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (word, expected, timeout);
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// Wakes every waiter on `word`.
fn futex_wake_all(word: &AtomicU32) {
    #[cfg(target_os = "linux")]
    // SAFETY: `word` is a valid, aligned u32; FUTEX_WAKE does not access it.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, i32::MAX)
    };
    #[cfg(not(target_os = "linux"))]
    let _ = word;
}

/// The CPUs this process may run on.
pub fn allowed_cpus() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `set` is a plain bit set, valid when zeroed; sched_getaffinity writes at most
        // `size_of::<cpu_set_t>()` bytes into it, and CPU_ISSET only reads it.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
                let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
                    .filter(|&c| libc::CPU_ISSET(c, &set))
                    .collect();
                if !cpus.is_empty() {
                    return cpus;
                }
            }
        }
    }
    vec![]
}

/// Pins the calling thread to `cpus[k % len]`, best effort (nothing happens where affinity
/// is unsupported): worker k of a contended run gets its own core when there are enough, so
/// "P workers" means P workers running in parallel, not taking turns on one core.
fn pin(cpus: &[usize], k: usize) {
    #[cfg(target_os = "linux")]
    if !cpus.is_empty() {
        // SAFETY: `set` is a plain bit set, valid when zeroed; CPU_SET writes one bit inside
        // it (the index is below CPU_SETSIZE, as it came from `allowed_cpus`), and
        // sched_setaffinity only reads it. Pid 0 is the calling thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpus[k % cpus.len()], &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (cpus, k);
}

/// A start gate in shared memory: workers announce themselves and sleep until the parent
/// opens it, so that the timed interval starts with every worker ready.
pub struct Gate {
    mem: SharedMem,
}

impl Gate {
    pub fn new() -> Gate {
        Gate {
            mem: SharedMem::new(PAGE),
        }
    }

    fn ready(&self) -> &AtomicU32 {
        self.mem.word(0)
    }

    fn go(&self) -> &AtomicU32 {
        self.mem.word(64)
    }

    fn running(&self) -> &AtomicU32 {
        self.mem.word(128)
    }

    /// Worker side, one of `n`: counts this worker in, sleeps until the gate opens, then
    /// spins until all `n` are awake, so that contended runs really start together rather
    /// than one worker finishing before a late-woken other begins.
    pub fn arrive_and_wait(&self, n: u32) {
        // Release: pairs with the parent's Acquire load in `wait_ready` (nothing rides on it
        // but the count itself).
        self.ready().fetch_add(1, Release);
        futex_wake_all(self.ready());
        // Acquire: pairs with the Release store in `open`.
        while self.go().load(Acquire) == 0 {
            futex_wait(self.go(), 0, None);
        }
        self.running().fetch_add(1, Relaxed);
        let mut spins = 0u32;
        while self.running().load(Relaxed) < n {
            spins += 1;
            if spins % 256 == 0 {
                std::thread::yield_now(); // the other worker may be waiting for this core
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// Parent side: waits until `n` workers arrived, calling `check` every 10 ms or so
    /// (to notice a worker that died before arriving).
    pub fn wait_ready(&self, n: u32, mut check: impl FnMut()) {
        loop {
            // Acquire: pairs with the Release increment in `arrive_and_wait`.
            let arrived = self.ready().load(Acquire);
            if arrived >= n {
                return;
            }
            check();
            futex_wait(self.ready(), arrived, Some(Duration::from_millis(10)));
        }
    }

    /// Parent side: lets every worker go.
    pub fn open(&self) {
        // Release: pairs with the workers' Acquire load in `arrive_and_wait`.
        self.go().store(1, Release);
        futex_wake_all(self.go());
    }
}

impl Default for Gate {
    fn default() -> Gate {
        Gate::new()
    }
}

fn kill_all(pids: &[libc::pid_t]) {
    for &pid in pids {
        // SAFETY: plain system calls on our own children; `status` is a valid out-pointer.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
        }
    }
}

fn describe(status: libc::c_int) -> String {
    if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            EXIT_LOCK => "exited: the crate's lock failed".into(),
            EXIT_PTHREAD => "exited: a baseline pthread call failed".into(),
            EXIT_PANIC => "exited: panicked".into(),
            code => format!("exited with code {code}"),
        }
    } else {
        format!("killed by signal {}", libc::WTERMSIG(status))
    }
}

/// What a fork-based run's time covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// From opening the start gate to reaping the last child: the work, plus waking the
    /// children and their exit. What the benches use.
    FromGate,
    /// From before the first `fork` to reaping the last child, as Python's reference script
    /// times `Process.start` to `join`.
    WholeRun,
}

/// Forks `procs` children; each runs `prepare`, waits at the start gate, runs `work`, and
/// `_exit`s. Returns the time `timing` asks for. Panics if a child fails.
///
/// Call only where forking is sound for the child: `prepare` and `work` must touch nothing
/// but memory mapped before the fork, through atomics or process-shared locks.
pub fn fork_run(procs: usize, timing: Timing, prepare: &dyn Fn(), work: &dyn Fn()) -> Duration {
    let gate = Gate::new();
    let cpus = allowed_cpus();
    let mut pids: Vec<libc::pid_t> = Vec::with_capacity(procs);
    let whole_start = Instant::now();
    for k in 0..procs {
        // SAFETY: fork has no memory-safety preconditions. The child runs only `prepare` and
        // `work` (atomics and robust process-shared mutexes on mappings made before the fork;
        // no allocation, no locks another thread of this process could hold) and leaves
        // through `_exit`, never returning into the bench harness.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            IN_CHILD.store(true, Relaxed);
            let run = || {
                pin(&cpus, k);
                prepare();
                gate.arrive_and_wait(procs as u32);
                work();
            };
            let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                Ok(()) => 0,
                Err(_) => EXIT_PANIC,
            };
            child_exit(code);
        }
        if pid < 0 {
            let err = std::io::Error::last_os_error();
            kill_all(&pids);
            panic!("fork: {err}");
        }
        pids.push(pid);
    }
    gate.wait_ready(procs as u32, || {
        for (k, &pid) in pids.iter().enumerate() {
            let mut status = 0;
            // SAFETY: `pid` is our child; `status` is a valid out-pointer.
            if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
                let others: Vec<_> = pids.iter().copied().filter(|&p| p != pid).collect();
                kill_all(&others);
                panic!("worker {k} {} before the start", describe(status));
            }
        }
    });
    let start = Instant::now();
    gate.open();
    let mut failed = None;
    for &pid in &pids {
        let mut status = 0;
        loop {
            // SAFETY: `pid` is our child; `status` is a valid out-pointer.
            let r = unsafe { libc::waitpid(pid, &mut status, 0) };
            if r == pid {
                break;
            }
            let err = std::io::Error::last_os_error();
            assert_eq!(
                err.kind(),
                std::io::ErrorKind::Interrupted,
                "waitpid: {err}"
            );
        }
        if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
            failed = Some(describe(status));
        }
    }
    let end = Instant::now();
    if let Some(why) = failed {
        panic!("a worker {why}");
    }
    match timing {
        Timing::FromGate => end - start,
        Timing::WholeRun => end - whole_start,
    }
}

/// Runs `body(k)` on `threads` threads at once, `k` the thread's number; returns the time
/// from opening the start gate to joining the last thread. Spawning is not timed.
pub fn threads_run(threads: usize, body: &(dyn Fn(usize) + Sync)) -> Duration {
    let gate = Gate::new();
    let cpus = allowed_cpus();
    std::thread::scope(|s| {
        let (gate, cpus) = (&gate, &cpus);
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                s.spawn(move || {
                    pin(cpus, k);
                    gate.arrive_and_wait(threads as u32);
                    body(k);
                })
            })
            .collect();
        gate.wait_ready(threads as u32, || {});
        let start = Instant::now();
        gate.open();
        for h in handles {
            h.join().expect("a worker thread panicked");
        }
        start.elapsed()
    })
}

/// The crate's lock, or the end of a worker that could not take it. Always inlined, as the
/// raw mutex's `lock` wrapper is, so that both sides are measured as a caller writes them.
#[inline(always)]
pub fn lock_or_fail(arr: &SharedArray<u64>) -> ArrayGuard<'_, u64> {
    match arr.lock() {
        Ok(guard) => guard,
        Err(_) => fail(EXIT_LOCK, "the crate's lock failed"),
    }
}

/// The crate's side of the reference workload: `loops` passes over the array, each a
/// function of `&SharedArray`, as a caller's own function takes it. Not inlined into
/// `Workload::body`, whose `&self` points to interior-mutable baselines (a `Mutex`): there
/// the compiler must assume every atomic store may change the array handle's fields and
/// reloads them per element, which no caller holding `&SharedArray` pays. The baselines'
/// loops get the same from their local slices.
mod crate_passes {
    use super::{lock_or_fail, Relaxed, SharedArray};

    #[inline(never)]
    pub fn lock_free(arr: &SharedArray<u64>, loops: u64) {
        for _ in 0..loops {
            for i in 0..arr.len() {
                arr.fetch_add(i, 1, Relaxed);
            }
        }
    }

    #[inline(never)]
    pub fn lock_per_op(arr: &SharedArray<u64>, loops: u64) {
        for _ in 0..loops {
            for i in 0..arr.len() {
                lock_or_fail(arr).add(i, 1);
            }
        }
    }

    #[inline(never)]
    pub fn guard_add(arr: &SharedArray<u64>, loops: u64) {
        for _ in 0..loops {
            let guard = lock_or_fail(arr);
            for i in 0..guard.len() {
                guard.add(i, 1);
            }
        }
    }

    #[inline(never)]
    pub fn guard_get_set(arr: &SharedArray<u64>, loops: u64) {
        for _ in 0..loops {
            let guard = lock_or_fail(arr);
            for i in 0..guard.len() {
                guard.set(i, guard.get(i) + 1);
            }
        }
    }

    #[inline(never)]
    pub fn update_each(arr: &SharedArray<u64>, loops: u64) {
        for _ in 0..loops {
            lock_or_fail(arr).update_each(|x| x + 1);
        }
    }
}

/// An anonymous array of `n` zeros made with `seqlock(false)`.
pub fn no_seqlock(n: usize) -> SharedArray<u64> {
    SharedArray::options()
        .seqlock(false)
        .anonymous(n)
        .expect("SharedArray without seqlock")
}

/// A bare test-and-test-and-set spinlock on a word in shared memory.
pub struct SpinLock<'a>(pub &'a AtomicU32);

impl SpinLock<'_> {
    #[inline]
    pub fn lock(&self) {
        // Acquire: pairs with the Release store in `unlock`.
        while self
            .0
            .compare_exchange_weak(0, 1, Acquire, Relaxed)
            .is_err()
        {
            while self.0.load(Relaxed) != 0 {
                std::hint::spin_loop();
            }
        }
    }

    #[inline]
    pub fn unlock(&self) {
        self.0.store(0, Release);
    }
}

/// A robust, process-shared, error-checking pthread mutex in shared memory, used directly:
/// the attributes of the crate's lock, without the crate around it.
pub struct PthreadMutex(*mut libc::pthread_mutex_t);

// SAFETY: a process-shared pthread mutex is made to be used from any thread of any process.
unsafe impl Sync for PthreadMutex {}
// SAFETY: as above; an unlocked mutex holds no thread-local state.
unsafe impl Send for PthreadMutex {}

impl PthreadMutex {
    /// Initialises a mutex at byte `offset` of `mem` (64-byte aligned), which must outlive it.
    pub fn new(mem: &SharedMem, offset: usize) -> PthreadMutex {
        assert_eq!(offset % 64, 0);
        let m = mem
            .ptr(offset, std::mem::size_of::<libc::pthread_mutex_t>())
            .cast::<libc::pthread_mutex_t>();
        let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: `attr` is initialised by pthread_mutexattr_init before any other use and
        // destroyed at the end; `m` points to enough aligned memory for a mutex that nobody
        // else uses yet (the mapping is fresh and not shared with any child so far).
        unsafe {
            assert_eq!(libc::pthread_mutexattr_init(attr.as_mut_ptr()), 0);
            let a = attr.as_mut_ptr();
            assert_eq!(
                libc::pthread_mutexattr_setpshared(a, libc::PTHREAD_PROCESS_SHARED),
                0
            );
            assert_eq!(
                libc::pthread_mutexattr_setrobust(a, libc::PTHREAD_MUTEX_ROBUST),
                0
            );
            assert_eq!(
                libc::pthread_mutexattr_settype(a, libc::PTHREAD_MUTEX_ERRORCHECK),
                0
            );
            assert_eq!(libc::pthread_mutex_init(m, a), 0);
            libc::pthread_mutexattr_destroy(a);
        }
        PthreadMutex(m)
    }

    #[inline]
    pub fn lock(&self) {
        // SAFETY: initialised in `new`; the mapping outlives every user (the owner of
        // `SharedMem` keeps both).
        let code = unsafe { libc::pthread_mutex_lock(self.0) };
        if code != 0 {
            fail(EXIT_PTHREAD, "pthread_mutex_lock failed");
        }
    }

    #[inline]
    pub fn unlock(&self) {
        // SAFETY: as in `lock`; called by the thread that locked it, right after.
        let code = unsafe { libc::pthread_mutex_unlock(self.0) };
        if code != 0 {
            fail(EXIT_PTHREAD, "pthread_mutex_unlock failed");
        }
    }
}

/// How the reference workload is synchronised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The crate: one `fetch_add` per element.
    LockFree,
    /// The crate: `arr.lock().unwrap().add(i, 1)` per element.
    LockPerOp,
    /// The crate: one guard per pass, `guard.add(i, 1)` (an atomic read-modify-write, so it
    /// never loses a concurrent lock-free update).
    LockWholeLoop,
    /// The crate: one guard per pass, `guard.set(i, guard.get(i) + 1)` (a load and a store:
    /// right when every writer locks; the form the pthread baseline uses).
    LockWholeLoopGetSet,
    /// The crate: one guard per pass, `guard.update_each(|x| x + 1)` (one walk over the
    /// cells, a Relaxed load + store each: the bulk form of `get`+`set`).
    LockUpdateEach,
    /// As `LockPerOp`, on an array made with `seqlock(false)`.
    LockPerOpNoSeqlock,
    /// As `LockUpdateEach`, on an array made with `seqlock(false)`.
    LockUpdateEachNoSeqlock,
    /// Baseline: bare `AtomicU64::fetch_add` in a plain shared mapping (the floor).
    BareAtomic,
    /// Baseline: a bare spinlock around a Relaxed load + store, per element.
    SpinPerOp,
    /// Baseline: a robust pthread mutex used directly around a Relaxed load + store, per
    /// element.
    PthreadPerOp,
    /// Baseline: a robust pthread mutex used directly, once per pass.
    PthreadWholeLoop,
    /// Baseline: `std::sync::Mutex<Vec<u64>>` per element, across threads.
    StdMutexPerOp,
    /// Baseline: `std::sync::Mutex<Vec<u64>>` per pass, across threads.
    StdMutexWholeLoop,
    /// Diagnostic: the raw pthread mutex around a `fetch_add` (the crate's increment).
    PthreadRmwPerOp,
    /// Diagnostic: the crate's critical section rebuilt on the raw mutex: a seqlock counter on
    /// its own cache line made odd, a `fetch_add`, the counter made even.
    PthreadSeqRmwPerOp,
    /// Diagnostic: the raw pthread mutex once per pass, `fetch_add` per element.
    PthreadRmwWholeLoop,
}

impl Variant {
    /// What the criterion workload bench measures.
    pub const BENCH: [Variant; 13] = [
        Variant::LockFree,
        Variant::LockPerOp,
        Variant::LockPerOpNoSeqlock,
        Variant::LockUpdateEachNoSeqlock,
        Variant::LockWholeLoop,
        Variant::LockWholeLoopGetSet,
        Variant::LockUpdateEach,
        Variant::BareAtomic,
        Variant::SpinPerOp,
        Variant::PthreadPerOp,
        Variant::PthreadWholeLoop,
        Variant::StdMutexPerOp,
        Variant::StdMutexWholeLoop,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::LockFree => "shmarray lock-free fetch_add",
            Variant::LockPerOp => "shmarray lock per op",
            Variant::LockWholeLoop => "shmarray lock whole loop (guard.add)",
            Variant::LockWholeLoopGetSet => "shmarray lock whole loop (guard.get+set)",
            Variant::LockUpdateEach => "shmarray lock whole loop (guard.update_each)",
            Variant::LockPerOpNoSeqlock => "shmarray lock per op, seqlock off",
            Variant::LockUpdateEachNoSeqlock => {
                "shmarray lock whole loop (guard.update_each), seqlock off"
            }
            Variant::BareAtomic => "bare AtomicU64 fetch_add (floor)",
            Variant::SpinPerOp => "bare spinlock per op",
            Variant::PthreadPerOp => "robust pthread mutex per op",
            Variant::PthreadWholeLoop => "robust pthread mutex whole loop",
            Variant::StdMutexPerOp => "std Mutex<Vec> per op (threads)",
            Variant::StdMutexWholeLoop => "std Mutex<Vec> whole loop (threads)",
            Variant::PthreadRmwPerOp => "robust pthread mutex per op, fetch_add inside",
            Variant::PthreadSeqRmwPerOp => {
                "robust pthread mutex per op, seqlock counter + fetch_add inside"
            }
            Variant::PthreadRmwWholeLoop => "robust pthread mutex whole loop, fetch_add inside",
        }
    }

    /// Runs on threads of this process rather than forked processes.
    pub fn threads(self) -> bool {
        matches!(self, Variant::StdMutexPerOp | Variant::StdMutexWholeLoop)
    }

    fn uses_crate(self) -> bool {
        matches!(
            self,
            Variant::LockFree
                | Variant::LockPerOp
                | Variant::LockWholeLoop
                | Variant::LockWholeLoopGetSet
                | Variant::LockUpdateEach
                | Variant::LockPerOpNoSeqlock
                | Variant::LockUpdateEachNoSeqlock
        )
    }

    fn without_seqlock(self) -> bool {
        matches!(
            self,
            Variant::LockPerOpNoSeqlock | Variant::LockUpdateEachNoSeqlock
        )
    }
}

// The baselines' mapping: the lock words on page 0, the cells from page 1.
const SPIN: usize = 0;
const SEQ: usize = 64;
const PTHREAD: usize = 128;
const CELLS: usize = PAGE;

/// The memory of one workload size: the crate's array, and the baselines' mapping and
/// `std::sync::Mutex<Vec<u64>>`.
pub struct Workload {
    pub n: usize,
    pub arr: SharedArray<u64>,
    /// The same array made with `seqlock(false)`.
    pub arr_no_seqlock: SharedArray<u64>,
    mem: SharedMem,
    pthread: PthreadMutex,
    std: std::sync::Mutex<Vec<u64>>,
}

impl Workload {
    pub fn new(n: usize) -> Workload {
        let mem = SharedMem::new(CELLS + n * 8);
        let pthread = PthreadMutex::new(&mem, PTHREAD);
        Workload {
            n,
            arr: SharedArray::new(n).expect("SharedArray::new"),
            arr_no_seqlock: no_seqlock(n),
            mem,
            pthread,
            std: std::sync::Mutex::new(vec![0; n]),
        }
    }

    fn cells(&self) -> &[AtomicU64] {
        self.mem.cells(CELLS, self.n)
    }

    /// The crate's array `variant` uses.
    fn arr_of(&self, variant: Variant) -> &SharedArray<u64> {
        if variant.without_seqlock() {
            &self.arr_no_seqlock
        } else {
            &self.arr
        }
    }

    /// Faults in every page `variant` will touch, without changing any value (adding zero),
    /// so that a child's run does not time the kernel mapping shared pages into it.
    fn prefault(&self, variant: Variant) {
        let step = PAGE / 8;
        if variant.uses_crate() {
            for i in (0..self.n).step_by(step) {
                self.arr_of(variant).fetch_add(i, 0, Relaxed);
            }
        } else {
            self.mem.word(SPIN).fetch_add(0, Relaxed);
            for cell in self.cells().iter().step_by(step) {
                cell.fetch_add(0, Relaxed);
            }
        }
    }

    /// One worker's share: `loops` passes, each incrementing every element once.
    pub fn body(&self, variant: Variant, loops: u64) {
        let arr = self.arr_of(variant);
        let cells = self.cells();
        let spin = SpinLock(self.mem.word(SPIN));
        let seq = self.mem.cells(SEQ, 1);
        let seq = &seq[0];
        let pthread = &self.pthread;
        // A Relaxed load then a Relaxed store: the "plain" increment, for use under a lock.
        let plain_inc = |cell: &AtomicU64| cell.store(cell.load(Relaxed) + 1, Relaxed);
        match variant {
            Variant::LockFree => crate_passes::lock_free(arr, loops),
            Variant::LockPerOp | Variant::LockPerOpNoSeqlock => {
                crate_passes::lock_per_op(arr, loops)
            }
            Variant::LockWholeLoop => crate_passes::guard_add(arr, loops),
            Variant::LockWholeLoopGetSet => crate_passes::guard_get_set(arr, loops),
            Variant::LockUpdateEach | Variant::LockUpdateEachNoSeqlock => {
                crate_passes::update_each(arr, loops)
            }
            Variant::BareAtomic => {
                for _ in 0..loops {
                    for cell in cells {
                        cell.fetch_add(1, Relaxed);
                    }
                }
            }
            Variant::SpinPerOp => {
                for _ in 0..loops {
                    for cell in cells {
                        spin.lock();
                        plain_inc(cell);
                        spin.unlock();
                    }
                }
            }
            Variant::PthreadPerOp => {
                for _ in 0..loops {
                    for cell in cells {
                        pthread.lock();
                        plain_inc(cell);
                        pthread.unlock();
                    }
                }
            }
            Variant::PthreadWholeLoop => {
                for _ in 0..loops {
                    pthread.lock();
                    for cell in cells {
                        plain_inc(cell);
                    }
                    pthread.unlock();
                }
            }
            Variant::PthreadRmwPerOp => {
                for _ in 0..loops {
                    for cell in cells {
                        pthread.lock();
                        cell.fetch_add(1, Relaxed);
                        pthread.unlock();
                    }
                }
            }
            Variant::PthreadSeqRmwPerOp => {
                for _ in 0..loops {
                    for cell in cells {
                        pthread.lock();
                        // The seqlock writer protocol, as the crate runs it under its lock.
                        let odd = seq.load(Relaxed) | 1;
                        seq.store(odd, Relaxed);
                        fence(Release);
                        cell.fetch_add(1, Relaxed);
                        seq.store(odd + 1, Release);
                        pthread.unlock();
                    }
                }
            }
            Variant::PthreadRmwWholeLoop => {
                for _ in 0..loops {
                    pthread.lock();
                    for cell in cells {
                        cell.fetch_add(1, Relaxed);
                    }
                    pthread.unlock();
                }
            }
            Variant::StdMutexPerOp => {
                for _ in 0..loops {
                    for i in 0..self.n {
                        self.std.lock().unwrap()[i] += 1;
                    }
                }
            }
            Variant::StdMutexWholeLoop => {
                for _ in 0..loops {
                    let mut v = self.std.lock().unwrap();
                    for x in v.iter_mut() {
                        *x += 1;
                    }
                }
            }
        }
        black_box(self);
    }

    /// The first and last element as `variant` sees them.
    fn ends(&self, variant: Variant) -> (u64, u64) {
        let n = self.n;
        if variant.uses_crate() {
            let arr = self.arr_of(variant);
            (arr.load(0, Acquire), arr.load(n - 1, Acquire))
        } else if variant.threads() {
            let v = self.std.lock().unwrap();
            (v[0], v[n - 1])
        } else {
            let c = self.cells();
            (c[0].load(Acquire), c[n - 1].load(Acquire))
        }
    }

    /// `procs` workers (forked processes, or threads for the std baselines) each run `loops`
    /// passes at once. Returns the time `timing` asks for (threads: always from the gate), and
    /// checks that no increment was lost.
    pub fn run(&self, variant: Variant, procs: usize, loops: u64, timing: Timing) -> Duration {
        let before = self.ends(variant);
        let t = if variant.threads() {
            threads_run(procs, &|_| self.body(variant, loops))
        } else {
            fork_run(procs, timing, &|| self.prefault(variant), &|| {
                self.body(variant, loops)
            })
        };
        let add = procs as u64 * loops;
        assert_eq!(
            self.ends(variant),
            (before.0 + add, before.1 + add),
            "{}: increments lost",
            variant.name()
        );
        t
    }
}

/// Loops per worker so that one run makes about `ops` increments per worker.
pub fn loops_for(n: usize, ops: u64) -> u64 {
    (ops / n as u64).max(1)
}

/// The locks of the lock benches: the crate's, and the baselines'.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockKind {
    Shmarray,
    /// The crate's lock on an array made with `seqlock(false)`.
    ShmarrayNoSeqlock,
    Pthread,
    Spin,
    StdMutex,
}

impl LockKind {
    pub const ALL: [LockKind; 5] = [
        LockKind::Shmarray,
        LockKind::ShmarrayNoSeqlock,
        LockKind::Pthread,
        LockKind::Spin,
        LockKind::StdMutex,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LockKind::Shmarray => "shmarray lock+unlock",
            LockKind::ShmarrayNoSeqlock => "shmarray lock+unlock, seqlock off",
            LockKind::Pthread => "robust pthread mutex lock+unlock",
            LockKind::Spin => "bare spinlock lock+unlock",
            LockKind::StdMutex => "std Mutex lock+unlock",
        }
    }
}

pub struct Locks {
    arr: SharedArray<u64>,
    arr_no_seqlock: SharedArray<u64>,
    mem: SharedMem,
    pthread: PthreadMutex,
    std: std::sync::Mutex<u64>,
}

impl Locks {
    pub fn new() -> Locks {
        let mem = SharedMem::new(PAGE);
        let pthread = PthreadMutex::new(&mem, PTHREAD);
        Locks {
            arr: SharedArray::new(1).expect("SharedArray::new"),
            arr_no_seqlock: no_seqlock(1),
            mem,
            pthread,
            std: std::sync::Mutex::new(0),
        }
    }

    /// `k` empty lock + unlock pairs.
    pub fn lock_unlock(&self, kind: LockKind, k: u64) {
        match kind {
            LockKind::Shmarray | LockKind::ShmarrayNoSeqlock => {
                let arr = if kind == LockKind::Shmarray {
                    &self.arr
                } else {
                    &self.arr_no_seqlock
                };
                for _ in 0..k {
                    // No black_box: the drop's unlock call keeps the pair; black_box would
                    // add a store-forwarding stall on the guard that the baselines do not pay.
                    drop(lock_or_fail(arr));
                }
            }
            LockKind::Pthread => {
                for _ in 0..k {
                    self.pthread.lock();
                    self.pthread.unlock();
                }
            }
            LockKind::Spin => {
                let spin = SpinLock(self.mem.word(SPIN));
                for _ in 0..k {
                    spin.lock();
                    spin.unlock();
                }
            }
            LockKind::StdMutex => {
                for _ in 0..k {
                    drop(self.std.lock().unwrap());
                }
            }
        }
    }

    /// `threads` threads each run `k` lock + unlock pairs at once; the time from the gate.
    pub fn contended(&self, kind: LockKind, threads: usize, k: u64) -> Duration {
        threads_run(threads, &|_| self.lock_unlock(kind, k))
    }
}

impl Default for Locks {
    fn default() -> Locks {
        Locks::new()
    }
}

/// What runs beside the snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writer {
    Quiet,
    /// A thread `fetch_add`s element after element, lock-free.
    LockFree,
    /// A thread takes the lock per increment, element after element.
    Locked,
}

impl Writer {
    pub const ALL: [Writer; 3] = [Writer::Quiet, Writer::LockFree, Writer::Locked];

    pub fn name(self) -> &'static str {
        match self {
            Writer::Quiet => "quiet",
            Writer::LockFree => "lock-free writer",
            Writer::Locked => "locked writer",
        }
    }
}

/// Runs `f` while a thread writes `arr` as `writer` says.
pub fn with_writer<R>(arr: &SharedArray<u64>, writer: Writer, f: impl FnOnce() -> R) -> R {
    let stop = AtomicBool::new(false);
    let started = AtomicBool::new(false);
    std::thread::scope(|s| {
        if writer != Writer::Quiet {
            s.spawn(|| {
                let n = arr.len();
                let mut i = 0;
                started.store(true, Release);
                while !stop.load(Relaxed) {
                    for _ in 0..64 {
                        match writer {
                            Writer::LockFree => {
                                arr.fetch_add(i, 1, Relaxed);
                            }
                            Writer::Locked => {
                                lock_or_fail(arr).add(i, 1);
                            }
                            Writer::Quiet => unreachable!(),
                        }
                        i = if i + 1 == n { 0 } else { i + 1 };
                    }
                }
            });
            while !started.load(Acquire) {
                std::thread::yield_now();
            }
        }
        let r = f();
        stop.store(true, Relaxed);
        r
    })
}

/// Bare `AtomicU64` cells in a plain shared mapping, for the snapshots' floor.
pub struct BareCells {
    mem: SharedMem,
    n: usize,
}

impl BareCells {
    pub fn new(n: usize) -> BareCells {
        BareCells {
            mem: SharedMem::new(n * 8),
            n,
        }
    }

    pub fn cells(&self) -> &[AtomicU64] {
        self.mem.cells(0, self.n)
    }

    /// A plain copy of Relaxed loads, walking the cells as a slice (the floor).
    #[inline]
    pub fn copy(&self, out: &mut [u64]) {
        for (o, cell) in out.iter_mut().zip(self.cells()) {
            *o = cell.load(Relaxed);
        }
    }
}

/// The snapshots' baseline: a plain copy of Relaxed loads of the same cells, through the
/// public per-element API.
#[inline]
pub fn relaxed_copy(arr: &SharedArray<u64>, out: &mut [u64]) {
    let n = arr.len();
    for (i, o) in out[..n].iter_mut().enumerate() {
        *o = arr.load(i, Relaxed);
    }
}

/// The guard's bulk operations that do not increment (the workload covers `update_each`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkOp {
    /// `guard.fill(v)` / a Relaxed store per cell.
    Fill,
    /// `guard.copy_from_slice(src)` / a Relaxed store per cell from a slice.
    CopyFrom,
    /// `guard.copy_to_slice(out)` / a Relaxed load per cell into a slice.
    CopyTo,
}

impl BulkOp {
    pub const ALL: [BulkOp; 3] = [BulkOp::Fill, BulkOp::CopyFrom, BulkOp::CopyTo];

    pub fn name(self) -> &'static str {
        match self {
            BulkOp::Fill => "guard.fill",
            BulkOp::CopyFrom => "guard.copy_from_slice",
            BulkOp::CopyTo => "guard.copy_to_slice",
        }
    }

    pub fn baseline_name(self) -> &'static str {
        match self {
            BulkOp::Fill => "robust pthread mutex + Relaxed store loop",
            BulkOp::CopyFrom => "robust pthread mutex + Relaxed store loop from a slice",
            BulkOp::CopyTo => "robust pthread mutex + Relaxed load loop into a slice",
        }
    }
}

/// The memory of the bulk-operation measurements: the crate's array and a raw robust mutex
/// with bare cells, both of `n` elements.
pub struct Bulk {
    pub n: usize,
    arr: SharedArray<u64>,
    mem: SharedMem,
    pthread: PthreadMutex,
}

impl Bulk {
    pub fn new(n: usize) -> Bulk {
        let mem = SharedMem::new(CELLS + n * 8);
        let pthread = PthreadMutex::new(&mem, PTHREAD);
        Bulk {
            n,
            arr: SharedArray::new(n).expect("SharedArray::new"),
            mem,
            pthread,
        }
    }

    /// `k` locked bulk operations through the crate (`ours`) or the raw mutex; `buf` (of
    /// length `n`) is the copies' source or destination.
    pub fn run(&self, op: BulkOp, ours: bool, k: u64, buf: &mut [u64]) {
        if ours {
            crate_bulk(&self.arr, op, k, buf);
        } else {
            raw_bulk(&self.pthread, self.mem.cells(CELLS, self.n), op, k, buf);
        }
    }
}

/// The crate's side of [`Bulk::run`]: a function of `&SharedArray`, as a caller's own
/// function takes it (see `crate_passes`), with one loop per operation.
#[inline(never)]
fn crate_bulk(arr: &SharedArray<u64>, op: BulkOp, k: u64, buf: &mut [u64]) {
    match op {
        BulkOp::Fill => {
            for round in 0..k {
                lock_or_fail(arr).fill(round);
                black_box(&mut *buf);
            }
        }
        BulkOp::CopyFrom => {
            for _ in 0..k {
                lock_or_fail(arr).copy_from_slice(buf);
                black_box(&mut *buf);
            }
        }
        BulkOp::CopyTo => {
            for _ in 0..k {
                lock_or_fail(arr).copy_to_slice(buf);
                black_box(&mut *buf);
            }
        }
    }
}

/// The raw side of [`Bulk::run`]: the mutex around the same walk over bare cells.
#[inline(never)]
fn raw_bulk(pthread: &PthreadMutex, cells: &[AtomicU64], op: BulkOp, k: u64, buf: &mut [u64]) {
    match op {
        BulkOp::Fill => {
            for round in 0..k {
                pthread.lock();
                cells.iter().for_each(|c| c.store(round, Relaxed));
                pthread.unlock();
                black_box(&mut *buf);
            }
        }
        BulkOp::CopyFrom => {
            for _ in 0..k {
                pthread.lock();
                cells
                    .iter()
                    .zip(buf.iter())
                    .for_each(|(c, &v)| c.store(v, Relaxed));
                pthread.unlock();
                black_box(&mut *buf);
            }
        }
        BulkOp::CopyTo => {
            for _ in 0..k {
                pthread.lock();
                buf.iter_mut()
                    .zip(cells)
                    .for_each(|(o, c)| *o = c.load(Relaxed));
                pthread.unlock();
                black_box(&mut *buf);
            }
        }
    }
}
