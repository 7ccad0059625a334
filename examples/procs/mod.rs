//! Child processes for the examples: waiting for forked children within a deadline, and
//! killing them if one fails or hangs, so that no example can hang CI.
#![allow(dead_code)] // each example uses a different part of this module

use std::time::{Duration, Instant};

/// How long a parent waits for its children before killing them: a bug must not hang CI.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Waits for every child, at most until [`DEADLINE`]; kills them all if one fails or hangs.
pub fn wait_all(children: &[libc::pid_t]) -> Result<(), String> {
    let deadline = Instant::now() + DEADLINE;
    let mut running = children.to_vec();
    while !running.is_empty() {
        let mut i = 0;
        while i < running.len() {
            let mut status = 0;
            // SAFETY: `status` is a valid out-pointer, and `running[i]` is our own child,
            // not yet reaped.
            let r = unsafe { libc::waitpid(running[i], &mut status, libc::WNOHANG) };
            if r == 0 {
                i += 1;
                continue;
            }
            let pid = running.swap_remove(i);
            let ok = r == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
            if !ok {
                kill_all(&running);
                return Err(format!("child {pid} failed (wait status {status:#x})"));
            }
        }
        if Instant::now() > deadline {
            kill_all(&running);
            return Err(format!(
                "children {running:?} still running after {DEADLINE:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// SIGKILLs and reaps `pids`, our children.
pub fn kill_all(pids: &[libc::pid_t]) {
    for &pid in pids {
        // SAFETY: signalling and reaping our own child have no memory-safety preconditions;
        // `status` is a valid out-pointer. A SIGKILLed child exits at once, so the blocking
        // wait is short.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
        }
    }
}
