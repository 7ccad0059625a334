//! Child processes for the integration tests: forked workers and re-executed test binaries.
//!
//! The test harness is multi-threaded, so a forked child only touches memory mapped before
//! the fork (atomics and the robust mutex), sleeps, and leaves with `_exit`: no return into
//! the harness. Every wait is bounded: a child that does not finish in time is killed and
//! the test fails, so no bug can hang CI.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// How long any test waits for a child.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Forks a child that runs `body` and exits with the code it returns (101 if it panics).
pub fn spawn(body: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: fork has no memory-safety preconditions; the child below never returns into
    // the (multi-threaded) harness: it runs `body` on memory mapped before the fork and
    // leaves through `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(101);
        // SAFETY: _exit ends the child at once, running no destructors or atexit handlers
        // that belong to the parent's state.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// How a child ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// Waits for `pid`, at most until `deadline`; kills it and fails the test past that.
pub fn wait(pid: libc::pid_t, deadline: Instant) -> Exit {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer; `pid` is our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(r >= 0, "waitpid: {}", std::io::Error::last_os_error());
        if r == pid {
            return if libc::WIFEXITED(status) {
                Exit::Code(libc::WEXITSTATUS(status))
            } else {
                Exit::Signal(libc::WTERMSIG(status))
            };
        }
        if Instant::now() > deadline {
            kill(pid);
            panic!("child {pid} still running at the deadline: killed");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits for every child in `pids` and asserts each exited with code 0.
pub fn wait_all_ok(pids: impl IntoIterator<Item = libc::pid_t>) {
    let deadline = Instant::now() + DEADLINE;
    for pid in pids {
        assert_eq!(wait(pid, deadline), Exit::Code(0), "child {pid} failed");
    }
}

/// SIGKILLs our child `pid`.
pub fn kill(pid: libc::pid_t) {
    // SAFETY: sending a signal to our own child has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// Waits until `flags[index]` is non-zero (set by a child), bounded by `deadline`.
pub fn wait_flag(flags: &shmarray::SharedArray<u64>, index: usize, deadline: Instant) {
    // Acquire: pairs with the child's Release store of the flag.
    while flags.load(index, std::sync::atomic::Ordering::Acquire) == 0 {
        assert!(Instant::now() < deadline, "child never raised flag {index}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// In a child: raise a flag, then wait to be killed.
pub fn raise_and_wait(flags: &shmarray::SharedArray<u64>, index: usize) -> ! {
    // Release: pairs with the Acquire load in `wait_flag`.
    flags.store(index, 1, std::sync::atomic::Ordering::Release);
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Kills a child at a point it signals with flag 0, and checks it died by SIGKILL.
pub fn kill_at_flag(flags: &shmarray::SharedArray<u64>, pid: libc::pid_t) {
    wait_flag(flags, 0, Instant::now() + DEADLINE);
    kill_child(pid);
}

/// Forks a child that takes `array`'s lock, stores `write` (if any) at index 0 under it, and
/// waits holding the lock to be killed; returns once the child holds it.
pub fn lock_in_child(array: &shmarray::SharedArray<u64>, write: Option<u64>) -> libc::pid_t {
    let flags = shmarray::SharedArray::<u64>::new(1).expect("flag array");
    let pid = spawn(|| {
        let guard = array.lock().map_err(|_| ()).expect("child lock");
        if let Some(value) = write {
            guard.set(0, value);
        }
        raise_and_wait(&flags, 0)
    });
    wait_flag(&flags, 0, Instant::now() + DEADLINE);
    pid
}

/// SIGKILLs our child `pid` and checks it died of it.
pub fn kill_child(pid: libc::pid_t) {
    kill(pid);
    assert_eq!(
        wait(pid, Instant::now() + DEADLINE),
        Exit::Signal(libc::SIGKILL)
    );
}

/// The environment variable that tells a re-executed test binary which role to play.
pub const ROLE: &str = "SHMARRAY_TEST_ROLE";

/// Starts this test binary again, running only `test` with `role` (and `arg`) in its
/// environment: a separate process, not a fork, as an unrelated program would be.
pub fn reexec(test: &str, role: &str, arg: &str) -> Child {
    Command::new(std::env::current_exe().expect("current_exe"))
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env("SHMARRAY_TEST_ARG", arg)
        // The child harness's own summary would read like a second test run: keep only its
        // stderr, where a failure's panic message goes.
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn the test binary")
}

/// The role this process was re-executed for, and its argument, if any.
pub fn role() -> Option<(String, String)> {
    let role = std::env::var(ROLE).ok()?;
    Some((role, std::env::var("SHMARRAY_TEST_ARG").unwrap_or_default()))
}

/// Waits for a re-executed child, bounded, and asserts it succeeded.
pub fn wait_child_ok(mut child: Child) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            assert!(status.success(), "child failed: {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("child still running at the deadline: killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Serialises the tests of one binary that fork long-lived children with those that need
/// to see a region unused. A forked child inherits every descriptor the process has open at
/// the fork, those of regions other tests made on other threads included, and with them
/// those regions' "in use" `flock`: a region dropped by its test can then still look in use
/// (or an opener cannot be its only user) until that child ends. Tests that take this run
/// one at a time; a test that failed while holding it does not block the others.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A unique name for a named region, removed again when dropped (even if the test fails).
pub struct TempName(pub String);

impl TempName {
    pub fn new(tag: &str) -> TempName {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        TempName(format!(
            "shmarray-test-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

impl Drop for TempName {
    fn drop(&mut self) {
        let _ = shmarray::SharedArray::<u8>::unlink(&self.0);
    }
}

/// A unique path for a region file, removed again when dropped.
pub struct TempPath(pub std::path::PathBuf);

impl TempPath {
    pub fn new(tag: &str) -> TempPath {
        let name = TempName::new(tag);
        let path = std::env::temp_dir().join(&name.0);
        std::mem::forget(name);
        TempPath(path)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
