//! Workloads and baselines shared by the criterion benches and `examples/bench_report.rs`,
//! so that both measure exactly the same code.
//!
//! The baselines use no crate code: bare `AtomicU64` cells in a plain `MAP_SHARED` mapping
//! (the floor), a bare spinlock, and a robust pthread mutex used directly, all in shared
//! memory; and `std::sync::Mutex<Vec<u64>>` across threads. Every access to shared memory is
//! atomic (Relaxed loads and stores play the part of "plain" increments under a lock), as
//! everywhere in this project: a racing plain read is undefined behaviour.
#![allow(dead_code)] // each bench target uses a different part of this module

use shmarray::SharedArray;
use std::hint::black_box;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::{Duration, Instant};

/// A `MAP_SHARED | MAP_ANONYMOUS` mapping: memory shared with forked children, with no crate
/// code involved.
pub struct SharedMem {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is only accessed through atomics and a process-shared pthread mutex.
unsafe impl Send for SharedMem {}
// SAFETY: as above.
unsafe impl Sync for SharedMem {}

impl SharedMem {
    pub fn new(len: usize) -> SharedMem {
        let len = len.max(1);
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
        assert_ne!(ptr, libc::MAP_FAILED, "mmap failed");
        SharedMem {
            ptr: ptr.cast(),
            len,
        }
    }

    /// `n` zero-initialised `AtomicU64` cells at byte `offset`.
    pub fn cells(&self, offset: usize, n: usize) -> &[AtomicU64] {
        assert!(offset % 8 == 0 && offset + n * 8 <= self.len);
        // SAFETY: in bounds and aligned (checked above; the mapping is page aligned); zeroed
        // memory is a valid AtomicU64; the cells live as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.add(offset).cast(), n) }
    }

    /// The `AtomicU32` at byte `offset`.
    pub fn word(&self, offset: usize) -> &AtomicU32 {
        assert!(offset % 4 == 0 && offset + 4 <= self.len);
        // SAFETY: in bounds and aligned (checked above); zero is a valid AtomicU32.
        unsafe { &*self.ptr.add(offset).cast() }
    }

    pub fn ptr(&self, offset: usize) -> *mut u8 {
        assert!(offset < self.len);
        // SAFETY: in bounds (checked above).
        unsafe { self.ptr.add(offset) }
    }
}

impl Drop for SharedMem {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; nothing borrows it any more.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// A bare test-and-test-and-set spinlock on a word in shared memory.
pub struct SpinLock<'a>(pub &'a AtomicU32);

impl SpinLock<'_> {
    #[inline]
    pub fn lock(&self) {
        // Acquire pairs with the Release store in `unlock`.
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
/// the same attributes as the crate's lock, without the crate around it.
pub struct PthreadMutex(*mut libc::pthread_mutex_t);

// SAFETY: a process-shared pthread mutex is made to be used from any thread.
unsafe impl Sync for PthreadMutex {}
// SAFETY: as above.
unsafe impl Send for PthreadMutex {}

impl PthreadMutex {
    /// Initialises a mutex at byte `offset` of `mem`.
    pub fn new(mem: &SharedMem, offset: usize) -> PthreadMutex {
        assert!(
            offset % 64 == 0 && offset + std::mem::size_of::<libc::pthread_mutex_t>() <= mem.len
        );
        let m = mem.ptr(offset).cast::<libc::pthread_mutex_t>();
        // SAFETY: `attr` is initialised before use and destroyed after; `m` points to enough
        // aligned, unshared memory for a mutex.
        unsafe {
            let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
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
        // SAFETY: initialised in `new`; the mapping outlives every user.
        let r = unsafe { libc::pthread_mutex_lock(self.0) };
        debug_assert_eq!(r, 0);
    }
    #[inline]
    pub fn unlock(&self) {
        // SAFETY: called by the thread that locked it, right after `lock`.
        let r = unsafe { libc::pthread_mutex_unlock(self.0) };
        debug_assert_eq!(r, 0);
    }
}

/// How the reference workload is synchronised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The crate: one `fetch_add` per element.
    LockFree,
    /// The crate: `lock()` around each increment.
    LockPerOp,
    /// The crate: one `lock()` around each pass, incrementing with `guard.add` (an atomic
    /// read-modify-write, safe beside lock-free writers).
    LockWholeLoop,
    /// The crate: one `lock()` around each pass, incrementing with `guard.set(i, guard.get(i)
    /// + 1)` (a load and a store: right only when every writer takes the lock).
    LockWholeLoopGetSet,
    /// Baseline: bare `AtomicU64::fetch_add` in a plain shared mapping (the floor).
    BareAtomic,
    /// Baseline: a bare spinlock around each increment.
    SpinPerOp,
    /// Baseline: a robust pthread mutex used directly around each increment.
    PthreadPerOp,
    /// Baseline: a robust pthread mutex used directly around each pass.
    PthreadWholeLoop,
}

impl Variant {
    pub const ALL: [Variant; 8] = [
        Variant::LockFree,
        Variant::LockPerOp,
        Variant::LockWholeLoop,
        Variant::LockWholeLoopGetSet,
        Variant::BareAtomic,
        Variant::SpinPerOp,
        Variant::PthreadPerOp,
        Variant::PthreadWholeLoop,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::LockFree => "shmarray lock-free fetch_add",
            Variant::LockPerOp => "shmarray lock per op",
            Variant::LockWholeLoop => "shmarray lock whole loop (add)",
            Variant::LockWholeLoopGetSet => "shmarray lock whole loop (get+set)",
            Variant::BareAtomic => "bare AtomicU64 (floor)",
            Variant::SpinPerOp => "bare spinlock per op",
            Variant::PthreadPerOp => "robust pthread mutex per op",
            Variant::PthreadWholeLoop => "robust pthread mutex whole loop",
        }
    }
}

/// The memory one workload run works on: the crate's array, and the baselines' mapping
/// (cells at offset 0, spinlock and pthread mutex after them).
pub struct Workload {
    pub arr: SharedArray<u64>,
    mem: SharedMem,
    n: usize,
    pthread: PthreadMutex,
}

impl Workload {
    pub fn new(n: usize) -> Workload {
        let cells = (n * 8).next_multiple_of(64);
        let mem = SharedMem::new(cells + 128);
        let pthread = PthreadMutex::new(&mem, cells + 64);
        Workload {
            arr: SharedArray::new(n).expect("array"),
            mem,
            n,
            pthread,
        }
    }

    fn cells(&self) -> &[AtomicU64] {
        self.mem.cells(0, self.n)
    }

    fn spin(&self) -> SpinLock<'_> {
        SpinLock(self.mem.word((self.n * 8).next_multiple_of(64)))
    }

    /// One process's share of the workload: `loops` passes, each incrementing every element.
    pub fn run(&self, variant: Variant, loops: u64) {
        let arr = &self.arr;
        for _ in 0..loops {
            match variant {
                Variant::LockFree => {
                    for i in 0..arr.len() {
                        arr.fetch_add(i, 1, Relaxed);
                    }
                }
                Variant::LockPerOp => {
                    for i in 0..arr.len() {
                        arr.lock().expect("lock").add(i, 1);
                    }
                }
                Variant::LockWholeLoop => {
                    let guard = arr.lock().expect("lock");
                    for i in 0..guard.len() {
                        guard.add(i, 1);
                    }
                }
                Variant::LockWholeLoopGetSet => {
                    let guard = arr.lock().expect("lock");
                    for i in 0..guard.len() {
                        guard.set(i, guard.get(i) + 1);
                    }
                }
                Variant::BareAtomic => {
                    for cell in self.cells() {
                        cell.fetch_add(1, Relaxed);
                    }
                }
                Variant::SpinPerOp => {
                    let spin = self.spin();
                    for cell in self.cells() {
                        spin.lock();
                        cell.store(cell.load(Relaxed) + 1, Relaxed);
                        spin.unlock();
                    }
                }
                Variant::PthreadPerOp => {
                    for cell in self.cells() {
                        self.pthread.lock();
                        cell.store(cell.load(Relaxed) + 1, Relaxed);
                        self.pthread.unlock();
                    }
                }
                Variant::PthreadWholeLoop => {
                    self.pthread.lock();
                    for cell in self.cells() {
                        cell.store(cell.load(Relaxed) + 1, Relaxed);
                    }
                    self.pthread.unlock();
                }
            }
        }
        black_box(arr);
    }

    /// The value every element should hold after `runs` completed runs of `procs` × `loops`.
    pub fn total(&self, variant: Variant) -> u64 {
        match variant {
            Variant::LockFree
            | Variant::LockPerOp
            | Variant::LockWholeLoop
            | Variant::LockWholeLoopGetSet => self.arr.load(0, Relaxed),
            _ => self.cells().first().map_or(0, |c| c.load(Relaxed)),
        }
    }
}

/// A pool of forked worker processes that run `Workload::run` on command, so that a
/// measurement times the work and not `fork`. Commands and completions go through atomics in
/// a shared mapping; idle workers sleep-poll, so they leave the cores to the measured run.
pub struct Pool<'w> {
    work: &'w Workload,
    ctl: SharedMem,
    pids: Vec<libc::pid_t>,
}

const GEN: usize = 0; // u64: command generation
const VARIANT: usize = 8; // u64: Variant index
const LOOPS: usize = 16; // u64: loops per worker
const DONE: usize = 64; // u64: completions, own cache line
const QUIT: usize = 128; // u64: 1 = exit

impl<'w> Pool<'w> {
    /// Forks `procs` workers. Call only from a single-threaded point of the program: the
    /// children touch nothing but shared mappings and leave through `_exit`.
    pub fn new(work: &'w Workload, procs: usize) -> Pool<'w> {
        let ctl = SharedMem::new(4096);
        let mut pids = Vec::new();
        for _ in 0..procs {
            // SAFETY: the child only runs `worker` (atomics on mappings made before the fork)
            // and leaves through `_exit`.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                worker(work, &ctl);
                // SAFETY: ends the child without running the parent's destructors.
                unsafe { libc::_exit(0) };
            }
            pids.push(pid);
        }
        Pool { work, ctl, pids }
    }

    fn at(&self, offset: usize) -> &AtomicU64 {
        &self.ctl.cells(offset, 1)[0]
    }

    /// Every worker runs `loops` passes of `variant` at once; returns the wall time from the
    /// command to the last completion.
    pub fn run(&self, variant: Variant, loops: u64) -> Duration {
        let done_before = self.at(DONE).load(Acquire);
        let index = Variant::ALL.iter().position(|&v| v == variant).unwrap();
        self.at(VARIANT).store(index as u64, Relaxed);
        self.at(LOOPS).store(loops, Relaxed);
        let start = Instant::now();
        // Release: publishes the command fields to the workers' Acquire load of GEN.
        self.at(GEN).fetch_add(1, Release);
        let target = done_before + self.pids.len() as u64;
        // Acquire: pairs with the workers' Release increments of DONE.
        while self.at(DONE).load(Acquire) < target {
            std::thread::yield_now();
        }
        let elapsed = start.elapsed();
        black_box(self.work);
        elapsed
    }
}

impl Drop for Pool<'_> {
    fn drop(&mut self) {
        self.at(QUIT).store(1, Release);
        for &pid in &self.pids {
            let mut status = 0;
            // SAFETY: `pid` is our child; `status` a valid out-pointer.
            unsafe { libc::waitpid(pid, &mut status, 0) };
        }
    }
}

fn worker(work: &Workload, ctl: &SharedMem) {
    let at = |offset| &ctl.cells(offset, 1)[0];
    let mut seen = 0;
    loop {
        // Acquire: pairs with the Release increment in `Pool::run`.
        let generation = at(GEN).load(Acquire);
        if generation != seen {
            seen = generation;
            let variant = Variant::ALL[at(VARIANT).load(Relaxed) as usize];
            work.run(variant, at(LOOPS).load(Relaxed));
            // Release: the work happens before the parent sees the completion.
            at(DONE).fetch_add(1, Release);
        } else if at(QUIT).load(Acquire) == 1 {
            return;
        } else {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

/// `std::sync::Mutex<Vec<u64>>` across `threads` threads: each takes the mutex per
/// increment (`per_op`) or per pass. Returns the wall time.
pub fn std_mutex_run(threads: usize, n: usize, loops: u64, per_op: bool) -> Duration {
    let data = std::sync::Mutex::new(vec![0u64; n]);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..loops {
                    if per_op {
                        for i in 0..n {
                            data.lock().unwrap()[i] += 1;
                        }
                    } else {
                        let mut v = data.lock().unwrap();
                        for x in v.iter_mut() {
                            *x += 1;
                        }
                    }
                }
            });
        }
    });
    let elapsed = start.elapsed();
    assert!(data
        .into_inner()
        .unwrap()
        .iter()
        .all(|&x| x == threads as u64 * loops));
    elapsed
}

/// Loops per worker so that one run makes about `target_ops` increments per process.
pub fn loops_for(n: usize, target_ops: u64) -> u64 {
    (target_ops / n as u64).max(1)
}
