//! Two processes each add 1 to every element of one shared array, many times, with
//! `fetch_add` and no lock; the array must end with every element exactly 2 × LOOPS.
//!
//! This is the workload users of Python's `multiprocessing.Array` know, where it needs
//! `with arr.get_lock():` around every `+= 1` to come out right.
//!
//! ```text
//! cargo run --release --example increment_all [LOOPS] [N]     (default 100000 10)
//! ```

use shmarray::SharedArray;
use std::sync::atomic::Ordering::Relaxed;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| {
        a.parse::<usize>()
            .unwrap_or_else(|_| panic!("{a:?} is not a whole number"))
    });
    let loops = args.next().unwrap_or(100_000);
    let n = args.next().unwrap_or(10);

    let arr = SharedArray::<i64>::new(n).expect("create the shared array");
    let mut children = Vec::new();
    for _ in 0..2 {
        // SAFETY: this program is single-threaded, so the child may do anything; it leaves
        // through `_exit` without returning into `main`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            for _ in 0..loops {
                for i in 0..arr.len() {
                    arr.fetch_add(i, 1, Relaxed);
                }
            }
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(0) };
        }
        children.push(pid);
    }
    for pid in children {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer and `pid` our child.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(waited == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    }

    let values = arr.to_vec();
    let expected = 2 * loops as i64;
    let exact = values.iter().all(|&x| x == expected);
    println!("{values:?}");
    println!(
        "{} (every element should be 2 x {loops} = {expected})",
        if exact { "exact" } else { "NOT EXACT" }
    );
    if !exact {
        std::process::exit(1);
    }
}
