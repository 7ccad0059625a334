//! `shmarray rm` and `shmarray gc`: stale regions go, regions in use and other programs'
//! files stay.

mod common;

use common::{fails, hold_open, json, kill_child, ok, prefix, shm_path, TempName};
use shmarray::SharedArray;

#[test]
fn rm_removes_a_stale_region_and_refuses_one_in_use_unless_forced() {
    let _serial = common::serial();
    let stale = TempName::new("cli-rm");
    drop(SharedArray::<u8>::create(&stale.0, 1).unwrap());
    assert_eq!(ok(&["rm", &stale.0]), "");
    assert!(!shm_path(&stale.0).exists());
    let line = fails(&["rm", &stale.0], 1, &stale.0);
    assert!(line.contains("no region named"), "{line}");

    let busy = TempName::new("cli-rm");
    let array = SharedArray::<u8>::create(&busy.0, 1).unwrap();
    let child = hold_open(&array);
    drop(array);
    let line = fails(&["rm", &busy.0], 1, &busy.0);
    assert!(line.contains("in use"), "{line}");
    assert!(shm_path(&busy.0).exists());
    ok(&["rm", "--force", &busy.0]);
    assert!(!shm_path(&busy.0).exists());
    kill_child(child);
}

#[test]
fn rm_never_removes_another_programs_file() {
    let _serial = common::serial();
    let foreign = TempName::new("cli-rm-foreign");
    std::fs::write(shm_path(&foreign.0), [3u8; 4096]).unwrap();
    for args in [vec!["rm", &foreign.0], vec!["rm", "--force", &foreign.0]] {
        let line = fails(&args, 1, &foreign.0);
        assert!(line.contains("not a shmarray region"), "{line}");
        assert_eq!(std::fs::read(shm_path(&foreign.0)).unwrap(), [3u8; 4096]);
    }
}

#[test]
fn gc_removes_every_stale_region_and_nothing_else() {
    let _serial = common::serial();
    let tag = "cli-gc";
    let stale: Vec<TempName> = (0..3).map(|_| TempName::new(tag)).collect();
    for name in &stale {
        drop(SharedArray::<u32>::create(&name.0, 2).unwrap());
    }
    let live = TempName::new(tag);
    let live_array = SharedArray::<u32>::create(&live.0, 2).unwrap();
    let held = TempName::new(tag);
    let held_array = SharedArray::<u32>::create(&held.0, 2).unwrap();
    let child = hold_open(&held_array);
    drop(held_array);
    let foreign = TempName::new(tag);
    std::fs::write(shm_path(&foreign.0), [5u8; 4096]).unwrap();
    let p = prefix(tag);

    let mut expected: Vec<String> = stale
        .iter()
        .map(|n| format!("would remove {}", n.0))
        .collect();
    expected.sort();
    let dry = ok(&["gc", "--dry-run", "--prefix", &p]);
    assert_eq!(dry.lines().collect::<Vec<_>>(), expected);
    assert!(
        stale.iter().all(|n| shm_path(&n.0).exists()),
        "dry run removed"
    );

    let done = ok(&["gc", "--prefix", &p]);
    let expected: Vec<String> = expected
        .iter()
        .map(|l| l.replace("would remove", "removed"))
        .collect();
    assert_eq!(done.lines().collect::<Vec<_>>(), expected);
    assert!(stale.iter().all(|n| !shm_path(&n.0).exists()));
    assert!(shm_path(&live.0).exists() && shm_path(&held.0).exists());
    assert_eq!(std::fs::read(shm_path(&foreign.0)).unwrap(), [5u8; 4096]);
    let rows = json(&["list", "--json", "--prefix", &p]);
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");

    assert_eq!(ok(&["gc", "--prefix", &p]), "", "nothing left to remove");
    kill_child(child);
    drop(live_array);
}
