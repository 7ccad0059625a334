//! Several processes write disjoint index ranges of one shared array at once, with plain
//! atomic stores and no lock at all: each element has exactly one writer, so there is
//! nothing to serialise.
//!
//! ```text
//! cargo run --release --example partitioned [PROCS] [PER_PROCESS]     (default 4 5)
//! ```

use shmarray::SharedArray;
use std::sync::atomic::Ordering::Relaxed;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| {
        a.parse::<usize>()
            .unwrap_or_else(|_| panic!("{a:?} is not a whole number"))
    });
    let procs = args.next().unwrap_or(4);
    let per = args.next().unwrap_or(5);

    let arr = SharedArray::<u64>::new(procs * per).expect("create the shared array");
    let mut children = Vec::new();
    for p in 0..procs {
        // SAFETY: this program is single-threaded, so the child may do anything; it leaves
        // through `_exit` without returning into `main`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            for i in p * per..(p + 1) * per {
                arr.store(i, (p as u64 + 1) * 100 + i as u64, Relaxed);
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
    println!("{values:?}");
    let wrong: Vec<usize> = (0..values.len())
        .filter(|&i| values[i] != (i / per) as u64 * 100 + 100 + i as u64)
        .collect();
    if wrong.is_empty() {
        println!("every range holds exactly what its process wrote");
    } else {
        println!("elements not as their process wrote them: {wrong:?}");
        std::process::exit(1);
    }
}
