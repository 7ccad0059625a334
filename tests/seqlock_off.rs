//! Arrays made without the seqlock (`options().seqlock(false)`), with real processes: every
//! opener follows the creator's choice, snapshots stay consistent by taking the lock, and
//! a holder's death is recorded with no counter to judge it by, when the holder is killed
//! and when a copied file's stale lock is reclaimed.
#![cfg(not(loom))]

mod common;

use common::{kill_child, lock_in_child, reexec, role, spawn, wait_all_ok, wait_child_ok};
use common::{TempName, TempPath};
use shmarray::{LockError, SharedArray, SnapshotError};
use std::time::Duration;

fn without_seqlock() -> shmarray::ArrayOptions<u64> {
    SharedArray::<u64>::options().seqlock(false)
}

/// The re-executed opener of the first test: an unrelated process opening the name with a
/// builder that asks for the seqlock, which must not matter.
#[test]
fn the_creators_choice_is_in_the_header_and_every_opener_follows_it() {
    if let Some((r, name)) = role() {
        assert_eq!(r, "opener");
        let arr = SharedArray::<u64>::options()
            .seqlock(true)
            .open(&name)
            .expect("opener: open");
        assert!(
            !arr.has_seqlock(),
            "the opener's builder overrode the header"
        );
        arr.lock().expect("opener: lock").update_each(|v| v + 1);
        return;
    }
    let name = TempName::new("seqlock-off-header");
    let arr = without_seqlock().create(&name.0, 3).unwrap();
    assert!(!arr.has_seqlock());
    wait_child_ok(reexec(
        "the_creators_choice_is_in_the_header_and_every_opener_follows_it",
        "opener",
        &name.0,
    ));
    assert_eq!(arr.snapshot().unwrap(), [1, 1, 1]);

    // The default is on, and an opener asking for it off gets it on.
    let on = TempPath::new("seqlock-on-header");
    drop(SharedArray::<u64>::create_file(&on.0, 1).unwrap());
    assert!(without_seqlock().open_file(&on.0).unwrap().has_seqlock());
}

/// Without a counter, a snapshot is consistent because it takes the lock: processes that
/// each set every element to one value under one guard are never seen half done, and
/// lock per op loses no increment.
#[test]
fn snapshots_take_the_lock_and_never_see_a_locked_loop_half_done() {
    const N: usize = 64;
    const PASSES: u64 = 2_000;
    let _serial = common::serial();
    let arr = without_seqlock().anonymous(N).unwrap();
    let counter = without_seqlock().anonymous(1).unwrap();
    let writers: Vec<_> = (1..=2u64)
        .map(|w| {
            let (arr, counter) = (&arr, &counter);
            spawn(move || {
                for pass in 0..PASSES {
                    arr.lock().expect("writer lock").fill(w * 1_000_000 + pass);
                    counter.lock().expect("counter lock").add(0, 1);
                }
                0
            })
        })
        .collect();
    let mut out = [0u64; N];
    let mut seen = 0;
    while counter.snapshot().unwrap()[0] < 2 * PASSES {
        arr.snapshot_into(&mut out).unwrap();
        assert!(out.iter().all(|&v| v == out[0]), "torn snapshot {out:?}");
        seen += 1;
    }
    wait_all_ok(writers);
    assert!(seen > 0, "no snapshot was taken while the writers ran");
    assert_eq!(counter.snapshot().unwrap(), [2 * PASSES]);
}

/// A writer killed mid-write is a death: lockers are told, snapshots refuse the data until
/// a holder repairs it, and the repair is reported once.
#[test]
fn a_writer_killed_holding_the_lock_is_a_death() {
    let _serial = common::serial();
    let arr = without_seqlock().anonymous(2).unwrap();
    kill_child(lock_in_child(&arr, Some(7)));

    assert!(matches!(arr.snapshot(), Err(SnapshotError::OwnerDied)));
    assert!(matches!(arr.lock(), Err(LockError::OwnerDied)));
    let mut guard = arr.lock_for_repair().unwrap();
    assert!(guard.owner_died());
    assert_eq!(
        guard.get(0),
        7,
        "the dead writer's store is there to repair"
    );
    guard.set(0, 0);
    guard.make_consistent();
    drop(guard);
    assert_eq!(arr.snapshot().unwrap(), [0, 0]);
    assert!(!arr.lock().unwrap().owner_died());
}

/// A file copied while its lock was held is reclaimed by its first opener, and with no
/// counter to say whether a write was open, the held lock word counts as one: a death. A
/// copy made while nobody held the lock opens healthy.
#[test]
fn a_reclaimed_copy_reports_a_held_lock_as_a_death_and_a_free_one_as_none() {
    let _serial = common::serial();
    let path = TempPath::new("seqlock-off-original");
    let arr = without_seqlock().create_file(&path.0, 2).unwrap();

    let free_copy = TempPath::new("seqlock-off-free-copy");
    std::fs::copy(&path.0, &free_copy.0).unwrap();
    let copied = SharedArray::<u64>::open_file(&free_copy.0).unwrap();
    let guard = copied.try_lock().expect("a copy of a free lock is healthy");
    assert!(!guard.owner_died());
    drop(guard);

    let holder = lock_in_child(&arr, Some(5));
    let locked_copy = TempPath::new("seqlock-off-locked-copy");
    std::fs::copy(&path.0, &locked_copy.0).unwrap();
    let copied = SharedArray::<u64>::open_file(&locked_copy.0).unwrap();
    match copied.lock_timeout(Duration::from_secs(1)) {
        Err(LockError::OwnerDied) => {}
        Ok(_) => panic!("the held lock in the copy was not reported as a death"),
        Err(e) => panic!("the copy's stale lock was not reclaimed: {e:?}"),
    }
    assert!(matches!(copied.snapshot(), Err(SnapshotError::OwnerDied)));
    kill_child(holder);
}
