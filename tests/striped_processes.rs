//! [`StripedArray`] across real processes: adders and a taker, each a separate run of this
//! test binary (`common::reexec`) attaching by name, as unrelated programs would.
//!
//! The claim checked: while P processes each add 1 to every element L times and another
//! process calls `take_all` in a loop, nothing is lost and nothing is counted twice: the
//! taker's totals plus the final sums are P × L for every element, exactly.
//!
//! The check only means something if takes ran while adds did. The taker reads the adders'
//! "done" count before each `take_all` and counts the takes that found something while an
//! adder had not finished; a round with fewer than [`MIN_OVERLAPPING`] is run again, and the
//! test fails if none of [`ATTEMPTS`] rounds overlapped that much. (A take made of a load
//! and a store instead of a swap fails this test.)

mod common;

use common::{reexec, role, wait_child_ok, TempName, DEADLINE};
use shmarray::{SharedArray, StripedArray};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::Instant;

const ADDERS: u64 = 3;
const LOOPS: u64 = 200_000;
const LEN: usize = 8;
const STRIPES: usize = 4;
const ATTEMPTS: usize = 5;
/// Takes that must find something while an adder runs for a round to count.
const MIN_OVERLAPPING: u64 = 10;

/// Elements of the control array (a dense `SharedArray<u64>`).
const STARTED: usize = 0;
const ADDERS_DONE: usize = 1;
const OVERLAPPING_TAKES: usize = 2;
const CONTROL_LEN: usize = 3;

/// Holds each process until all `ADDERS + 1` have arrived, so that they run together.
fn start_line(control: &SharedArray<u64>) {
    // Relaxed: a rendezvous only.
    control.fetch_add(STARTED, 1, Relaxed);
    let deadline = Instant::now() + DEADLINE;
    while control.load(STARTED, Relaxed) < ADDERS + 1 {
        assert!(Instant::now() < deadline, "the others never started");
        std::thread::yield_now();
    }
}

fn adder(counts: &StripedArray<u64>, control: &SharedArray<u64>) {
    start_line(control);
    for _ in 0..LOOPS {
        for i in 0..LEN {
            counts.add(i, 1);
        }
    }
    // Release: pairs with the taker's Acquire load (only the overlap count depends on it;
    // the exact totals need no ordering).
    control.fetch_add(ADDERS_DONE, 1, Release);
}

/// Takes in a loop until every adder is done; leaves its totals in `taken`.
fn taker(counts: &StripedArray<u64>, control: &SharedArray<u64>, taken: &SharedArray<u64>) {
    start_line(control);
    let mut totals = [0u64; LEN];
    let mut overlapping = 0;
    loop {
        // Acquire: pairs with the adders' Release increments.
        let done = control.load(ADDERS_DONE, Acquire) == ADDERS;
        let took = counts.take_all();
        if !done && took.iter().any(|&n| n > 0) {
            overlapping += 1;
        }
        for (t, n) in totals.iter_mut().zip(took) {
            *t += n;
        }
        if done {
            break;
        }
    }
    for (i, t) in totals.into_iter().enumerate() {
        taken.store(i, t, Relaxed);
    }
    control.store(OVERLAPPING_TAKES, overlapping, Relaxed);
}

#[test]
fn takes_plus_final_sums_are_every_add_across_processes() {
    const TEST: &str = "takes_plus_final_sums_are_every_add_across_processes";
    if let Some((role, names)) = role() {
        let names: Vec<&str> = names.split(' ').collect();
        let counts = StripedArray::<u64>::open(names[0]).expect("open counts");
        assert_eq!(counts.stripes(), STRIPES, "the creator's stripe count");
        let control = SharedArray::<u64>::open(names[1]).expect("open control");
        match role.as_str() {
            "adder" => adder(&counts, &control),
            "taker" => {
                let taken = SharedArray::<u64>::open(names[2]).expect("open taken");
                taker(&counts, &control, &taken);
            }
            other => panic!("unknown role {other}"),
        }
        return;
    }
    for _ in 0..ATTEMPTS {
        let names = [
            TempName::new("striped-counts"),
            TempName::new("striped-control"),
            TempName::new("striped-taken"),
        ];
        let counts = StripedArray::<u64>::options()
            .stripes(STRIPES)
            .create(&names[0].0, LEN)
            .unwrap();
        let control = SharedArray::<u64>::create(&names[1].0, CONTROL_LEN).unwrap();
        let taken = SharedArray::<u64>::create(&names[2].0, LEN).unwrap();
        let arg = names
            .iter()
            .map(|n| n.0.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let mut children: Vec<_> = (0..ADDERS).map(|_| reexec(TEST, "adder", &arg)).collect();
        children.push(reexec(TEST, "taker", &arg));
        for child in children {
            wait_child_ok(child);
        }
        // The children have exited: their writes are visible after waitpid.
        let left = counts.sums();
        for (i, left) in left.into_iter().enumerate() {
            let taken = taken.load(i, Relaxed);
            assert_eq!(
                taken + left,
                ADDERS * LOOPS,
                "element {i}: taken {taken} + left {left}"
            );
        }
        if control.load(OVERLAPPING_TAKES, Relaxed) >= MIN_OVERLAPPING {
            return;
        }
    }
    panic!("in {ATTEMPTS} rounds too few takes overlapped the adds: the check proved nothing");
}
