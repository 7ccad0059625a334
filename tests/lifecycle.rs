//! The lifecycle of named regions across real processes: `open_or_create` from processes
//! started together (exactly one creates, all share its region), permission bits under a
//! restrictive umask, and removal on drop by the creating handle only.
//!
//! The racers are this test binary run again with a role (separate programs, as unrelated
//! services would be), meeting at a start gate in a named region before they race.

mod common;

use common::{reexec, role, wait_child_ok, TempName, TempPath, DEADLINE};
use shmarray::{OpenError, Origin, SharedArray};
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

/// Processes racing to open or create one region.
const RACERS: u32 = 6;
/// Rounds to run until the racers' calls are seen to overlap.
const ROUNDS: usize = 40;
/// Length of the raced-for region.
const LEN: usize = 3;

// Slots of the gate region.
/// Racers that have arrived at the gate.
const ARRIVED: usize = 0;
/// Set to 1 by the parent once all have arrived.
const GO: usize = 1;
/// Racers whose handle says it created the region.
const CREATED: usize = 2;
/// Racers inside `open_or_create` right now.
const INSIDE: usize = 3;
/// Set to 1 when a racer entered `open_or_create` while another was inside it.
const OVERLAPPED: usize = 4;

/// One racer: meet the others at the gate, then open or create the region, record whether
/// this handle created it, and add 1 to its element 0.
fn racer(arg: &str) {
    let mut parts = arg.split(' ');
    let (kind, gate, target) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let gate = SharedArray::<u32>::open(gate).unwrap();
    gate.fetch_add(ARRIVED, 1, SeqCst);
    let deadline = Instant::now() + DEADLINE;
    while gate.load(GO, SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the gate never opened");
        std::hint::spin_loop();
    }
    if gate.fetch_add(INSIDE, 1, SeqCst) > 0 {
        gate.store(OVERLAPPED, 1, SeqCst);
    }
    // Generous: the racers share two cores with everything else on the machine.
    let opts = SharedArray::<u64>::options().open_timeout(Duration::from_secs(20));
    let arr = match kind {
        "shm" => opts.open_or_create(target, LEN),
        _ => opts.open_or_create_file(target, LEN),
    }
    .unwrap();
    gate.fetch_sub(INSIDE, 1, SeqCst);
    assert_eq!(arr.len(), LEN);
    if arr.created() {
        gate.fetch_add(CREATED, 1, SeqCst);
    }
    arr.fetch_add(0, 1, SeqCst);
}

/// Runs rounds of `RACERS` processes racing on a fresh target made by `target`, until one
/// round shows their calls overlapping; checks every round.
fn race(test: &str, kind: &str, target: impl Fn() -> (String, Box<dyn FnOnce()>)) {
    for _ in 0..ROUNDS {
        let gate_name = TempName::new("gate");
        let gate = SharedArray::<u32>::create(&gate_name.0, 5).unwrap();
        let (target, cleanup) = target();
        let arg = format!("{kind} {} {target}", gate_name.0);
        let children: Vec<_> = (0..RACERS).map(|_| reexec(test, "racer", &arg)).collect();
        let deadline = Instant::now() + DEADLINE;
        while gate.load(ARRIVED, SeqCst) < RACERS {
            assert!(Instant::now() < deadline, "the racers never all arrived");
            std::thread::sleep(Duration::from_millis(1));
        }
        gate.store(GO, 1, SeqCst);
        children.into_iter().for_each(wait_child_ok);
        assert_eq!(
            gate.load(CREATED, SeqCst),
            1,
            "not exactly one racer created"
        );
        let arr = match kind {
            "shm" => SharedArray::<u64>::open(&target),
            _ => SharedArray::<u64>::open_file(&target),
        }
        .unwrap();
        assert_eq!(
            arr.load(0, SeqCst),
            u64::from(RACERS),
            "the racers did not all get the same region"
        );
        drop(arr);
        cleanup();
        if gate.load(OVERLAPPED, SeqCst) == 1 {
            return;
        }
    }
    panic!("in {ROUNDS} rounds no two racers were inside open_or_create at once");
}

#[test]
fn open_or_create_by_name_from_processes_started_together_creates_once() {
    const TEST: &str = "open_or_create_by_name_from_processes_started_together_creates_once";
    if let Some((_, arg)) = role() {
        return racer(&arg);
    }
    race(TEST, "shm", || {
        let name = TempName::new("race");
        (name.0.clone(), Box::new(move || drop(name)))
    });
}

#[test]
fn open_or_create_file_from_processes_started_together_creates_once() {
    const TEST: &str = "open_or_create_file_from_processes_started_together_creates_once";
    if let Some((_, arg)) = role() {
        return racer(&arg);
    }
    race(TEST, "file", || {
        let path = TempPath::new("race");
        let shown = path.0.to_str().unwrap().to_owned();
        (shown, Box::new(move || drop(path)))
    });
}

#[test]
fn open_or_create_refuses_a_region_of_another_type_or_length() {
    let name = TempName::new("ooc-mismatch");
    let _arr = SharedArray::<u64>::create(&name.0, 4).unwrap();
    let err = SharedArray::<i64>::open_or_create(&name.0, 4).unwrap_err();
    assert!(matches!(err, OpenError::WrongType { .. }), "{err:?}");
    let err = SharedArray::<u64>::open_or_create(&name.0, 5).unwrap_err();
    assert!(
        matches!(
            err,
            OpenError::WrongLength {
                expected: 5,
                found: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.region(), Some(&Origin::Named(name.0.clone())));
}

fn mode_of(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Under a umask that would strip group bits, `.mode(0o660)` still gives 0o660; by default
/// the region is 0o600. Run in a child: the umask is the whole process's.
#[test]
fn mode_is_applied_whatever_the_umask() {
    const TEST: &str = "mode_is_applied_whatever_the_umask";
    if let Some((_, arg)) = role() {
        // SAFETY: umask has no memory-safety preconditions.
        unsafe { libc::umask(0o077) };
        let (name, path) = arg.split_once(' ').unwrap();
        let opts = SharedArray::<u8>::options().mode(0o660);
        let _named = opts.create(name, 1).unwrap();
        assert_eq!(mode_of(&std::path::Path::new("/dev/shm").join(name)), 0o660);
        let _file = opts.create_file(path, 1).unwrap();
        assert_eq!(mode_of(std::path::Path::new(path)), 0o660);
        let default = TempPath::new("mode-default");
        let _default = SharedArray::<u8>::create_file(&default.0, 1).unwrap();
        assert_eq!(mode_of(&default.0), 0o600);
        return;
    }
    let name = TempName::new("mode");
    let path = TempPath::new("mode");
    let arg = format!("{} {}", name.0, path.0.display());
    wait_child_ok(reexec(TEST, "mode", &arg));
    // The child has exited; its regions stay, with their modes.
    assert_eq!(mode_of(&path.0), 0o660);
    assert_eq!(
        mode_of(&std::path::Path::new("/dev/shm").join(&name.0)),
        0o660
    );
}

#[test]
fn only_the_creating_handle_removes_the_name_on_drop() {
    let name = TempName::new("unlink-on-drop");
    let opts = SharedArray::<u32>::options().unlink_on_drop(true);
    let creator = opts.open_or_create(&name.0, 2).unwrap();
    let opener = opts.open_or_create(&name.0, 2).unwrap();
    assert!(creator.created() && !opener.created());
    drop(opener);
    assert!(
        SharedArray::<u32>::open(&name.0).is_ok(),
        "an opener removed the name"
    );
    let survivor = SharedArray::<u32>::open(&name.0).unwrap();
    drop(creator);
    assert!(matches!(
        SharedArray::<u32>::open(&name.0),
        Err(OpenError::NotFound { .. })
    ));
    // Handles still open keep working on the unlinked region.
    survivor.fetch_add(1, 5, SeqCst);
    assert_eq!(survivor.load(1, SeqCst), 5);
}

#[test]
fn a_name_taken_over_after_unlink_is_not_removed_by_the_old_creator() {
    let name = TempName::new("unlink-replaced");
    let old = SharedArray::<u8>::options()
        .unlink_on_drop(true)
        .create(&name.0, 1)
        .unwrap();
    SharedArray::<u8>::unlink(&name.0).unwrap();
    let new = SharedArray::<u8>::create(&name.0, 1).unwrap();
    drop(old);
    assert!(
        SharedArray::<u8>::open(&name.0).is_ok(),
        "dropping the old creator removed another region of the same name"
    );
    drop(new);
}

#[test]
fn unlink_on_drop_removes_a_created_file() {
    let path = TempPath::new("unlink-file");
    let arr = SharedArray::<u8>::options()
        .unlink_on_drop(true)
        .open_or_create_file(&path.0, 1)
        .unwrap();
    assert!(path.0.exists());
    drop(arr);
    assert!(!path.0.exists());
}
