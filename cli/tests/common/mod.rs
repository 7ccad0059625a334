//! Running the built `shmarray` binary, and the crate's own process helpers (forked
//! children, killing, unique region names) from the library's `tests/common`.
#![allow(dead_code)] // each test binary uses a different part of this module

#[path = "../../../tests/common/mod.rs"]
mod process;
pub use process::*;

use std::path::PathBuf;
use std::process::Command;

/// What a run of the binary printed, and how it ended.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `shmarray ARGS...` to completion, its output captured (so never on a terminal).
pub fn run(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_shmarray"))
        .args(args)
        .output()
        .expect("run the shmarray binary");
    Out {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// Runs `shmarray ARGS...`, asserts it succeeded, and returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.code, 0, "shmarray {args:?} failed: {out:?}");
    assert_eq!(out.stderr, "", "shmarray {args:?} wrote to stderr");
    out.stdout
}

/// Runs `shmarray ARGS...` and parses its stdout as one JSON document.
pub fn json(args: &[&str]) -> serde_json::Value {
    let stdout = ok(args);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Runs `shmarray ARGS...`, asserts it failed with `code` and that its one stderr line
/// names `region` (quoted, as the crate's errors name regions); returns that line.
pub fn fails(args: &[&str], code: i32, region: &str) -> String {
    let out = run(args);
    assert_eq!(out.code, code, "shmarray {args:?}: {out:?}");
    assert_eq!(out.stdout, "", "shmarray {args:?} printed on failure");
    assert!(
        out.stderr.starts_with("shmarray: ") && out.stderr.contains(&format!("{region:?}")),
        "shmarray {args:?}: the error does not name {region}: {}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
    out.stderr
}

/// The prefix every `TempName::new(tag)` of this process starts with, for `--prefix`.
pub fn prefix(tag: &str) -> String {
    format!("shmarray-test-{tag}-{}-", std::process::id())
}

/// Where the named region `name` is.
pub fn shm_path(name: &str) -> PathBuf {
    PathBuf::from("/dev/shm").join(name)
}

/// A child that keeps the array's region open (its descriptor and "in use" lock came with
/// the fork) until killed; waits until it runs.
pub fn hold_open<T: shmarray::Element>(_array: &shmarray::SharedArray<T>) -> libc::pid_t {
    let flags = shmarray::SharedArray::<u64>::new(1).unwrap();
    let pid = spawn(|| raise_and_wait(&flags, 0));
    wait_flag(&flags, 0, std::time::Instant::now() + DEADLINE);
    pid
}
