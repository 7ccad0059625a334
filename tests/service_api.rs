//! A black-box service written only against the public API a service uses: the options
//! builder, `open_or_create` from several processes started together, `lock()?` and
//! `snapshot()?` in functions returning `Box<dyn Error>`, `lock_for_repair` after a holder
//! was killed, permission bits checked on the file, removal on drop, and error messages
//! that name the region.
//!
//! The service processes are this test binary run again with a role, as separate programs.

mod common;

use common::{reexec, role, wait_child_ok, TempName, DEADLINE};
use shmarray::{LockError, OpenError, SharedArray, SnapshotError};
use std::error::Error;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Service processes started together.
const SERVICES: u32 = 3;
/// Locked passes each service makes over the array.
const PASSES: u64 = 200;
/// Elements of the shared array.
const LEN: usize = 8;
/// Permission bits the services ask for.
const MODE: u32 = 0o640;

// Slots of the gate region the test and its services meet in.
const ARRIVED: usize = 0;
const GO: usize = 1;
const CREATED: usize = 2;
const DONE: usize = 3;
const RELEASE: usize = 4;

fn wait_for(gate: &SharedArray<u32>, slot: usize, value: u32) -> Result<()> {
    let deadline = Instant::now() + DEADLINE;
    while gate.load(slot, SeqCst) < value {
        if Instant::now() > deadline {
            return Err(format!("gate slot {slot} never reached {value}").into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

fn shm_path(name: &str) -> PathBuf {
    PathBuf::from("/dev/shm").join(name)
}

/// What each service does: attach (creating if first), add 1 to every element in locked
/// passes, and keep the region until the test has looked at it.
fn service(gate_name: &str, name: &str) -> Result<()> {
    let gate = SharedArray::<u32>::open(gate_name)?;
    gate.fetch_add(ARRIVED, 1, SeqCst);
    wait_for(&gate, GO, 1)?;
    let counters = SharedArray::<u64>::options()
        .mode(MODE)
        .unlink_on_drop(true)
        .open_timeout(Duration::from_secs(20))
        .open_or_create(name, LEN)?;
    if counters.created() {
        gate.fetch_add(CREATED, 1, SeqCst);
    }
    for _ in 0..PASSES {
        let guard = counters.lock()?;
        for i in 0..guard.len() {
            guard.add(i, 1);
        }
    }
    gate.fetch_add(DONE, 1, SeqCst);
    wait_for(&gate, RELEASE, 1)?;
    Ok(())
}

fn services_share_one_region() -> Result<()> {
    const TEST: &str = "services_started_together_share_one_region_and_clean_it_up";
    let gate_name = TempName::new("svc-gate");
    let name = TempName::new("svc");
    let gate = SharedArray::<u32>::create(&gate_name.0, 5)?;
    let arg = format!("{} {}", gate_name.0, name.0);
    let children: Vec<_> = (0..SERVICES)
        .map(|_| reexec(TEST, "service", &arg))
        .collect();
    wait_for(&gate, ARRIVED, SERVICES)?;
    gate.store(GO, 1, SeqCst);
    wait_for(&gate, DONE, SERVICES)?;

    assert_eq!(
        gate.load(CREATED, SeqCst),
        1,
        "not exactly one service created"
    );
    let mode = std::fs::metadata(shm_path(&name.0))?.permissions().mode() & 0o7777;
    assert_eq!(mode, MODE);
    let seen = SharedArray::<u64>::open(&name.0)?;
    assert!(!seen.created());
    assert_eq!(seen.name(), Some(name.0.as_str()));
    assert_eq!(seen.snapshot()?, vec![u64::from(SERVICES) * PASSES; LEN]);
    drop(seen);

    gate.store(RELEASE, 1, SeqCst);
    children.into_iter().for_each(wait_child_ok);
    // The creating service removed the name when it dropped its handle.
    let err = SharedArray::<u64>::open(&name.0).unwrap_err();
    assert!(matches!(err, OpenError::NotFound { .. }));
    assert_eq!(
        err.to_string(),
        format!("no region named {:?} (/dev/shm/{})", name.0, name.0)
    );
    Ok(())
}

#[test]
fn services_started_together_share_one_region_and_clean_it_up() -> Result<()> {
    if let Some((_, arg)) = role() {
        let (gate, name) = arg.split_once(' ').ok_or("bad argument")?;
        return service(gate, name);
    }
    services_share_one_region()
}

/// Takes the lock, half-writes, and waits to be killed.
fn holder(name: &str) -> Result<()> {
    let counters = SharedArray::<u64>::open(name)?;
    let guard = counters.lock()?;
    guard.add(0, 1);
    guard.add(LEN - 1, 100); // "locked" marker: the parent waits for it
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn repair_after_a_killed_holder() -> Result<()> {
    const TEST: &str = "a_killed_holder_is_reported_until_repaired";
    let name = TempName::new("svc-repair");
    let counters = SharedArray::<u64>::options()
        .unlink_on_drop(true)
        .open_or_create(&name.0, LEN)?;
    let mut child = reexec(TEST, "holder", &name.0);
    let deadline = Instant::now() + DEADLINE;
    while counters.get(LEN - 1) != Some(100) {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the holder never took the lock".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill(); // it may have died already: the wait below says how it ended
    child.wait()?;

    assert!(matches!(counters.lock(), Err(LockError::OwnerDied)));
    assert!(matches!(counters.snapshot(), Err(SnapshotError::OwnerDied)));
    {
        let mut guard = counters.lock_for_repair()?;
        assert!(guard.owner_died());
        guard.set(0, 0); // undo the half-done write
        guard.set(LEN - 1, 0);
        guard.make_consistent();
    }
    let guard = counters.lock()?;
    guard.add(1, 1);
    drop(guard);
    assert_eq!(counters.snapshot()?[..2], [0, 1]);
    Ok(())
}

#[test]
fn a_killed_holder_is_reported_until_repaired() -> Result<()> {
    if let Some((_, arg)) = role() {
        return holder(&arg);
    }
    repair_after_a_killed_holder()
}

#[test]
fn a_region_of_another_type_is_refused_with_both_types_named() -> Result<()> {
    let name = TempName::new("svc-type");
    let _counters = SharedArray::<u64>::options()
        .unlink_on_drop(true)
        .create(&name.0, LEN)?;
    let err = SharedArray::<i64>::options()
        .open_or_create(&name.0, LEN)
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&name.0), "{text}");
    assert!(text.contains("holds u64 elements"), "{text}");
    assert!(text.contains("not i64"), "{text}");
    // In a service, the error passes up with `?` like any other.
    let boxed: Box<dyn Error> = err.into();
    assert!(boxed.to_string().contains(&name.0));
    Ok(())
}
