//! Cross-process behaviour of the lock-free operations, with real processes (never threads).
//!
//! Two kinds of child:
//! - **Forked** children, sharing an anonymous (memfd) array mapped before the fork. The
//!   test harness is multi-threaded, so a forked child does nothing but atomic operations on
//!   memory mapped before the fork, clock reads and `sched_yield`, and leaves through `_exit`
//!   (`common::spawn`). Its indices are in bounds and it reports a failed check through its
//!   exit code ([`CHECK_FAILED`], [`NEVER_STARTED`]), so it has no reason to panic, allocate,
//!   or take a lock that another harness thread may have held at the moment of the fork.
//! - **Separately started** processes: this test binary run again (`common::reexec`) with a
//!   role in its environment, running one test, which attaches to the parent's array by name
//!   or by file as an unrelated program would.
//!
//! Every wait is bounded by `common::DEADLINE`: a child still running then is killed and the
//! test fails, and a test that fails early kills and reaps the children it started
//! ([`Children`], [`Attached`]), so no bug can hang CI.
//!
//! The children's writes are visible to the parent after `waitpid` because a process's exit
//! and its parent's wait synchronise through the kernel; while children run, the tests
//! publish with Release stores and read with Acquire loads, each pair named where it is made.

mod common;

use common::{kill, reexec, role, spawn, wait, Exit, TempName, TempPath, DEADLINE};
use shmarray::{OpenError, SharedArray, TypeCode};
use std::process::{Child, ExitStatus};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::time::{Duration, Instant};

/// Exit code of a forked child whose own check failed.
const CHECK_FAILED: i32 = 2;
/// Exit code of a forked child whose siblings did not all reach the start line in time.
const NEVER_STARTED: i32 = 3;
/// How many times a test that needs the processes to overlap runs before it gives up.
const ATTEMPTS: usize = 5;

/// The forked children of one test. [`wait_all_ok`](Children::wait_all_ok) waits for them
/// within the deadline; if the test fails before that, dropping this kills and reaps every
/// child not yet waited for.
struct Children(Vec<libc::pid_t>);

impl Children {
    fn new() -> Children {
        Children(Vec::new())
    }

    /// Forks a child running `body` and exiting with the code it returns. `body` must keep
    /// to what the module doc allows a forked child.
    fn fork(&mut self, body: impl FnOnce() -> i32) {
        self.0.push(spawn(body));
    }

    /// Waits for every child, bounded by one shared deadline, and asserts each exited 0.
    fn wait_all_ok(mut self) {
        let deadline = Instant::now() + DEADLINE;
        while let Some(&pid) = self.0.first() {
            // `wait` kills the child and panics at the deadline; `drop` then reaps it.
            let exit = wait(pid, deadline);
            self.0.remove(0);
            let why = match exit {
                Exit::Code(0) => continue,
                Exit::Code(CHECK_FAILED) => "its own check failed".to_owned(),
                Exit::Code(NEVER_STARTED) => "its siblings never reached the start line".into(),
                Exit::Code(101) => "it panicked".into(),
                Exit::Code(c) => format!("it exited with code {c}"),
                Exit::Signal(s) => format!("it was killed by signal {s}"),
            };
            panic!("forked child {pid} failed: {why}");
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for &pid in &self.0 {
            kill(pid);
            reap(pid, Duration::from_secs(5));
        }
    }
}

/// Reaps our child `pid` if it exits within `within` (a SIGKILLed child does so at once).
/// Never panics: it runs in `drop`, possibly while a failed test unwinds.
fn reap(pid: libc::pid_t, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer, and `pid` is our own child, not yet reaped.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r != 0 || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Holds each caller until `procs` processes have called it (or the deadline passed, then
/// `false`), so that the children run their loops at the same time rather than one after
/// the other. `line` is a one-element array mapped before the fork, zero at the start.
fn start_line(line: &SharedArray<u32>, procs: u32) -> bool {
    // Relaxed: a rendezvous only; the children's work does not depend on each other's data.
    line.fetch_add(0, 1, Relaxed);
    let deadline = Instant::now() + DEADLINE;
    while line.load(0, Relaxed) < procs {
        if Instant::now() > deadline {
            return false;
        }
        // sched_yield: lets a sibling that shares this CPU get to the line.
        std::thread::yield_now();
    }
    true
}

/// The reference workload: N processes each increment every element L times with
/// `fetch_add`; after all exit, every element is exactly N × L.
///
/// The check only means something if the processes' increments interleave, so the children
/// also count how often a `fetch_add` on element 0 returned something other than their own
/// previous result + 1 (another process got in between); a round without any interleaving
/// is run again, and the test fails if none of [`ATTEMPTS`] rounds interleaved.
#[test]
fn fetch_add_from_many_processes_loses_no_update() {
    const PROCS: u32 = 4;
    const LOOPS: u64 = 100_000;
    const LEN: usize = 5;
    for _ in 0..ATTEMPTS {
        let arr = SharedArray::<u64>::new(LEN).unwrap();
        let line = SharedArray::<u32>::new(1).unwrap();
        let interleaved = SharedArray::<u64>::new(1).unwrap();
        let mut children = Children::new();
        for _ in 0..PROCS {
            children.fork(|| {
                if !start_line(&line, PROCS) {
                    return NEVER_STARTED;
                }
                let mut last: Option<u64> = None;
                let mut foreign = 0;
                for _ in 0..LOOPS {
                    let seen = arr.fetch_add(0, 1, Relaxed);
                    if last.is_some_and(|l| seen != l + 1) {
                        foreign += 1;
                    }
                    last = Some(seen);
                    for i in 1..LEN {
                        arr.fetch_add(i, 1, Relaxed);
                    }
                }
                interleaved.fetch_add(0, foreign, Relaxed);
                0
            });
        }
        children.wait_all_ok();
        assert_eq!(arr.to_vec(), [u64::from(PROCS) * LOOPS; LEN]);
        if interleaved.load(0, Relaxed) > 0 {
            return;
        }
    }
    panic!("in {ATTEMPTS} rounds the processes never interleaved: the check proved nothing");
}

/// Contrast: the same kind of workload as a load then a store does lose updates between
/// processes. This shows that the start line makes the processes truly overlap, so that the
/// exact counts above are the work of `fetch_add`, not of luck in scheduling.
#[test]
fn load_then_store_from_many_processes_does_lose_updates() {
    const PROCS: u32 = 2;
    const LOOPS: u64 = 500_000;
    for _ in 0..ATTEMPTS {
        let arr = SharedArray::<u64>::new(1).unwrap();
        let line = SharedArray::<u32>::new(1).unwrap();
        let mut children = Children::new();
        for _ in 0..PROCS {
            children.fork(|| {
                if !start_line(&line, PROCS) {
                    return NEVER_STARTED;
                }
                for _ in 0..LOOPS {
                    let v = arr.load(0, Relaxed);
                    arr.store(0, v + 1, Relaxed);
                }
                0
            });
        }
        children.wait_all_ok();
        let total = arr.load(0, Relaxed);
        assert!(
            total <= u64::from(PROCS) * LOOPS,
            "more increments than made"
        );
        if total < u64::from(PROCS) * LOOPS {
            return;
        }
    }
    panic!("in {ATTEMPTS} rounds no update was lost: the processes never overlapped");
}

/// Compare-exchange loops and the other read-modify-writes, from many processes at once:
/// `fetch_update` and a `compare_exchange_weak` loop count exactly; `fetch_xor` toggles
/// lose no toggle; `fetch_max`/`fetch_min` end at the extreme any process offered.
#[test]
fn compare_exchange_loops_and_bitwise_ops_across_processes() {
    const PROCS: u32 = 4;
    const LOOPS: u32 = 5_001; // odd: each process's xor bit ends set
    let counts = SharedArray::<u32>::new(2).unwrap();
    let bits = SharedArray::<u16>::new(1).unwrap();
    let extremes = SharedArray::<i64>::new(2).unwrap();
    let line = SharedArray::<u32>::new(1).unwrap();
    let mut children = Children::new();
    for p in 0..PROCS {
        let (counts, bits, extremes, line) = (&counts, &bits, &extremes, &line);
        children.fork(move || {
            if !start_line(line, PROCS) {
                return NEVER_STARTED;
            }
            for k in 0..LOOPS {
                if counts
                    .fetch_update(0, AcqRel, Acquire, |x| x.checked_add(1))
                    .is_err()
                {
                    return CHECK_FAILED;
                }
                let mut seen = counts.load(1, Relaxed);
                while let Err(now) =
                    counts.compare_exchange_weak(1, seen, seen + 1, AcqRel, Relaxed)
                {
                    seen = now;
                }
                bits.fetch_xor(0, 1 << p, AcqRel);
                let offer = i64::from(k * PROCS + p);
                extremes.fetch_max(0, offer, AcqRel);
                extremes.fetch_min(1, -offer, AcqRel);
            }
            0
        });
    }
    children.wait_all_ok();
    assert_eq!(counts.to_vec(), [PROCS * LOOPS; 2]);
    assert_eq!(bits.load(0, Relaxed), (1 << PROCS) - 1);
    let most = i64::from(PROCS * LOOPS - 1);
    assert_eq!(extremes.to_vec(), [most, -most]);
}

/// Each process writes, many times over, only its own index range, with plain atomic stores
/// and no lock, and checks that its range keeps what it wrote; the parent then finds every
/// element holding the value its owner wrote last. Ranges of odd length meet inside a
/// machine word and a cache line, so a store that clobbered its neighbours would show.
fn disjoint_ranges<T: shmarray::Element>(per: usize, value: fn(usize, usize, u32) -> T) {
    const PROCS: usize = 4;
    const ROUNDS: u32 = 200;
    let arr = SharedArray::<T>::new(PROCS * per).unwrap();
    let line = SharedArray::<u32>::new(1).unwrap();
    let mut children = Children::new();
    for p in 0..PROCS {
        let (arr, line) = (&arr, &line);
        children.fork(move || {
            if !start_line(line, PROCS as u32) {
                return NEVER_STARTED;
            }
            let mine = p * per..(p + 1) * per;
            for round in 0..ROUNDS {
                for i in mine.clone() {
                    arr.store(i, value(p, i, round), Relaxed);
                }
                if mine
                    .clone()
                    .any(|i| arr.load(i, Relaxed) != value(p, i, round))
                {
                    return CHECK_FAILED;
                }
            }
            0
        });
    }
    children.wait_all_ok();
    for (i, got) in arr.iter().enumerate() {
        let owner = i / per;
        assert_eq!(
            got,
            value(owner, i, ROUNDS - 1),
            "element {i}, owned by {owner}"
        );
    }
}

#[test]
fn disjoint_ranges_of_bytes_written_by_different_processes() {
    // Odd, so never the zero an unwritten element holds.
    disjoint_ranges::<u8>(37, |p, i, round| (p * 61 + i + round as usize) as u8 | 1);
}

#[test]
fn disjoint_ranges_of_u64_written_by_different_processes() {
    disjoint_ranges::<u64>(1_001, |p, i, round| {
        ((p as u64 + 1) << 48) | ((round as u64) << 24) | i as u64
    });
}

/// Wrapping arithmetic across processes: i8 cells wrap as `AtomicI8::fetch_add` does.
#[test]
fn i8_fetch_add_wraps_across_processes() {
    const PROCS: u32 = 3;
    const LOOPS: i32 = 1_001; // 3 × 1001 = 3003 = 11 × 256 + 187
    let arr = SharedArray::<i8>::new(2).unwrap();
    let line = SharedArray::<u32>::new(1).unwrap();
    let mut children = Children::new();
    for _ in 0..PROCS {
        children.fork(|| {
            if !start_line(&line, PROCS) {
                return NEVER_STARTED;
            }
            for _ in 0..LOOPS {
                arr.fetch_add(0, 1, Relaxed);
                arr.fetch_sub(1, 1, Relaxed);
            }
            0
        });
    }
    children.wait_all_ok();
    // The sums wrap eleven times; the model is i8's own wrapping addition, once per add.
    const { assert!(PROCS as i32 * LOOPS > 2 * 256) };
    let wrapped = (0..PROCS as i32 * LOOPS).fold(0i8, |acc, _| acc.wrapping_add(1));
    assert_eq!(arr.to_vec(), [wrapped, wrapped.wrapping_neg()]);
}

/// Float `fetch_add` is a compare-exchange loop: exact across processes for values whose
/// sums are exactly representable (small integers and halves as f64).
#[test]
fn f64_fetch_add_is_exact_across_processes() {
    const PROCS: u32 = 3;
    const LOOPS: u32 = 20_000;
    let arr = SharedArray::<f64>::new(4).unwrap();
    let line = SharedArray::<u32>::new(1).unwrap();
    let mut children = Children::new();
    for _ in 0..PROCS {
        children.fork(|| {
            if !start_line(&line, PROCS) {
                return NEVER_STARTED;
            }
            for k in 0..LOOPS {
                arr.fetch_add(0, 1.0, Relaxed);
                arr.fetch_add(1, 0.5, Relaxed);
                arr.fetch_sub(2, 2.0, Relaxed);
                arr.fetch_max(3, f64::from(k), Relaxed);
            }
            0
        });
    }
    children.wait_all_ok();
    let n = f64::from(PROCS * LOOPS);
    assert_eq!(arr.to_vec(), [n, n / 2.0, -2.0 * n, f64::from(LOOPS - 1)]);
}

/// A separately started test binary, killed and reaped if the test fails before waiting
/// for it.
struct Attached(Option<Child>);

impl Attached {
    /// Runs this test binary again, running only `test`, in `role` with `arg`.
    fn start(test: &str, role: &str, arg: &str) -> Attached {
        Attached(Some(reexec(test, role, arg)))
    }

    /// Polls `ready` until it holds; fails at once if the child exits first (it crashed, or
    /// ran no test at all), and at the deadline if it hangs.
    fn wait_until(&mut self, what: &str, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + DEADLINE;
        while !ready() {
            if let Some(status) = self.exited() {
                panic!("the child exited ({status}) before {what}");
            }
            assert!(Instant::now() < deadline, "the child never got to {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        let child = self.0.as_mut().expect("the child is not yet waited for");
        child.try_wait().expect("try_wait")
    }

    /// Waits (bounded) for the child to exit, and asserts it succeeded.
    fn wait_ok(mut self) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.exited() {
                self.0 = None;
                assert!(status.success(), "the child failed: {status}");
                return;
            }
            assert!(Instant::now() < deadline, "the child never exited");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

/// Elements of the attach tests' array: what the parent wrote before starting the child,
/// the counter both increment, the child's "done" flag and the parent's acknowledgement.
const PARENT_FIRST: usize = 0;
const PARENT_SECOND: usize = 1;
const COUNTER: usize = 2;
const CHILD_DONE: usize = 3;
const ACK: usize = 4;
const ATTACH_LEN: usize = 5;
const INCREMENTS: i64 = 10_000;

/// The child side of the attach tests: checks what the parent wrote, increments the shared
/// counter while the parent does too, says so, then waits for the parent's acknowledgement
/// and answers it: every exchange through the array, between two unrelated processes.
fn attached_child(arr: SharedArray<i64>) {
    assert_eq!(arr.len(), ATTACH_LEN);
    // Acquire: pairs with the parent's Release store of PARENT_FIRST, its last write before
    // starting us, so PARENT_SECOND is visible too.
    assert_eq!(arr.load(PARENT_FIRST, Acquire), 41, "the parent's write");
    assert_eq!(arr.get(PARENT_SECOND), Some(-7), "the parent's write");
    for _ in 0..INCREMENTS {
        arr.fetch_add(COUNTER, 1, Relaxed);
    }
    // Release: publishes the increments above to the parent's Acquire load of CHILD_DONE.
    arr.store(CHILD_DONE, 1, Release);
    let deadline = Instant::now() + DEADLINE;
    // AcqRel: the acknowledgement is a Release store by the parent, our answer read by its
    // Acquire load.
    while arr.compare_exchange(ACK, 1, 2, AcqRel, Acquire).is_err() {
        assert!(Instant::now() < deadline, "the parent never acknowledged");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The parent side: writes, starts a separate process running `test` in `role`, increments
/// the counter alongside it, then checks the child's writes while both have the array open.
fn attached_parent(arr: &SharedArray<i64>, test: &str, role: &str, arg: &str) {
    arr.store(PARENT_SECOND, -7, Relaxed);
    // Release: pairs with the child's Acquire load of PARENT_FIRST.
    arr.store(PARENT_FIRST, 41, Release);
    let mut child = Attached::start(test, role, arg);
    for _ in 0..INCREMENTS {
        arr.fetch_add(COUNTER, 1, Relaxed);
    }
    // Acquire: pairs with the child's Release store of CHILD_DONE.
    child.wait_until("its increments", || arr.load(CHILD_DONE, Acquire) == 1);
    assert_eq!(
        arr.load(COUNTER, Relaxed),
        2 * INCREMENTS,
        "the parent does not see the child's increments, or one was lost"
    );
    // Release: pairs with the child's compare-exchange.
    arr.store(ACK, 1, Release);
    child.wait_ok();
    assert_eq!(arr.load(ACK, Acquire), 2, "the child's answer was not seen");
}

/// The child's check that a region records its element type across processes too.
fn assert_wrong_type(opened: Result<SharedArray<u64>, OpenError>) {
    match opened {
        Err(OpenError::WrongType {
            expected, found, ..
        }) => {
            assert_eq!((expected, found), (TypeCode::U64, u32::from(b'q')));
        }
        other => panic!("an i64 region opened as u64 gave {other:?}"),
    }
}

#[test]
fn separate_process_attaches_by_name() {
    const TEST: &str = "separate_process_attaches_by_name";
    if let Some((role, name)) = role() {
        assert_eq!(role, "open-by-name");
        assert_wrong_type(SharedArray::<u64>::open(&name));
        attached_child(SharedArray::<i64>::open(&name).expect("child open"));
        return;
    }
    // Declared first so that it is dropped last: the name is unlinked even on failure.
    let name = TempName::new("attach");
    let arr = SharedArray::<i64>::create(&name.0, ATTACH_LEN).unwrap();
    attached_parent(&arr, TEST, "open-by-name", &name.0);
}

#[test]
fn separate_process_attaches_by_file() {
    const TEST: &str = "separate_process_attaches_by_file";
    if let Some((role, path)) = role() {
        assert_eq!(role, "open-by-file");
        assert_wrong_type(SharedArray::<u64>::open_file(&path));
        attached_child(SharedArray::<i64>::open_file(&path).expect("child open_file"));
        return;
    }
    // Declared first so that it is dropped last: the file is removed even on failure.
    let path = TempPath::new("attach-file");
    let arr = SharedArray::<i64>::create_file(&path.0, ATTACH_LEN).unwrap();
    attached_parent(&arr, TEST, "open-by-file", path.0.to_str().unwrap());
}

/// Initial values given to `create_from_slice` are what a separate process sees first: the
/// region is published only once they are written. The child answers with their sum, so a
/// child that ran no test cannot pass.
#[test]
fn separate_process_sees_initial_values() {
    const TEST: &str = "separate_process_sees_initial_values";
    const INITIAL: [u16; 5] = [3, 1, 4, 1, 5];
    if let Some((role, name)) = role() {
        assert_eq!(role, "initial");
        let arr = SharedArray::<u16>::open(&name).expect("child open");
        let seen = arr.to_vec();
        assert_eq!(seen, INITIAL);
        arr.store(0, seen.iter().sum(), Release);
        return;
    }
    let name = TempName::new("initial");
    let arr = SharedArray::create_from_slice(&name.0, &INITIAL).unwrap();
    Attached::start(TEST, "initial", &name.0).wait_ok();
    assert_eq!(arr.load(0, Acquire), INITIAL.iter().sum::<u16>());
}
