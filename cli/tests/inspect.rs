//! `shmarray inspect` and `shmarray list` on real regions: held open by another process,
//! locked by one, left by one killed holding the lock, a file region, and files that are
//! not regions. JSON is parsed and checked field by field.

mod common;

use common::{
    fails, hold_open, json, kill_child, lock_in_child, ok, prefix, shm_path, TempName, TempPath,
};
use serde_json::{json, Value};
use shmarray::SharedArray;

/// The fields of `inspect --json` that do not depend on the live state.
fn check_static(v: &Value, name: &str, ty: &str, code: &str, len: u64) {
    assert_eq!(v["name"], json!(name));
    assert_eq!(v["path"], json!(shm_path(name).display().to_string()));
    assert_eq!(v["layout"], json!("dense"));
    assert_eq!(v["type"], json!(ty));
    assert_eq!(v["type_code"], json!(code));
    assert_eq!(v["len"], json!(len));
    assert_eq!(v["stripes"], json!(1));
    let bytes = std::fs::metadata(shm_path(name)).unwrap().len();
    assert_eq!(v["bytes"], json!(bytes));
    assert_eq!(v["seqlock"], json!(true));
    assert_eq!(v["version"], json!(3));
    assert_eq!(v["mode"], json!("0600"));
    // SAFETY: geteuid has no preconditions.
    assert_eq!(v["uid"], json!(unsafe { libc::geteuid() }));
}

#[test]
fn a_region_created_without_the_seqlock_says_so() {
    let name = TempName::new("cli-no-seqlock");
    ok(&[
        "create",
        &name.0,
        "--type",
        "u32",
        "--len",
        "2",
        "--no-seqlock",
    ]);
    assert_eq!(
        json(&["inspect", &name.0, "--json"])["seqlock"],
        json!(false)
    );
    assert!(!shmarray::SharedArray::<u32>::open(&name.0)
        .unwrap()
        .has_seqlock());
}

#[test]
fn a_region_held_open_by_another_process() {
    let _serial = common::serial();
    let name = TempName::new("cli-held-open");
    let array = SharedArray::<i32>::create(&name.0, 5).unwrap();
    let child = hold_open(&array);
    drop(array); // only the child has it open now

    let v = json(&["inspect", &name.0, "--json"]);
    check_static(&v, &name.0, "i32", "i", 5);
    assert_eq!(v["in_use"], json!(true));
    assert_eq!(
        v["lock"],
        json!({"state": "free", "held": false, "holder": null})
    );
    assert_eq!(v["seq"], json!(0));
    assert_eq!(v["write_open"], json!(false));

    let text = ok(&["inspect", &name.0]);
    assert!(text.contains("\nin use:          yes\n"), "{text}");
    assert!(text.contains("\nlock:            free\n"), "{text}");

    kill_child(child);
    let v = json(&["inspect", &name.0, "--json"]);
    assert_eq!(v["in_use"], json!(false), "the holder is gone");
}

#[test]
fn a_lock_held_by_another_process_names_it() {
    let _serial = common::serial();
    let name = TempName::new("cli-locked");
    let array = SharedArray::<u64>::create(&name.0, 2).unwrap();
    let child = lock_in_child(&array, None);
    let v = json(&["inspect", &name.0, "--json"]);
    assert_eq!(v["lock"]["state"], json!("held"));
    assert_eq!(v["lock"]["held"], json!(true));
    if cfg!(target_env = "gnu") {
        assert_eq!(v["lock"]["holder"], json!(child));
        let text = ok(&["inspect", &name.0]);
        assert!(
            text.contains(&format!("\nlock:            held by thread {child}\n")),
            "{text}"
        );
    }
    assert_eq!(
        v["write_open"],
        json!(true),
        "a guard opens a seqlock write"
    );
    assert_eq!(v["seq"].as_u64().unwrap() % 2, 1);
    kill_child(child);
}

#[test]
fn a_holder_killed_holding_the_lock_shows_as_a_death() {
    let _serial = common::serial();
    let name = TempName::new("cli-died");
    let array = SharedArray::<u64>::create(&name.0, 2).unwrap();
    kill_child(lock_in_child(&array, Some(1)));

    let v = json(&["inspect", &name.0, "--json"]);
    check_static(&v, &name.0, "u64", "Q", 2);
    assert_eq!(v["in_use"], json!(true), "this test still has it open");
    assert_eq!(
        v["lock"],
        json!({"state": "owner_died", "held": false, "holder": null})
    );
    assert_eq!(
        v["write_open"],
        json!(true),
        "the dead writer's write stays open"
    );
    let text = ok(&["inspect", &name.0]);
    assert!(
        text.contains("\nlock:            owner died, not repaired\n"),
        "{text}"
    );
    assert!(text.contains(" (write open)\n"), "{text}");
    // Looking changed nothing: the library still reports the death.
    assert!(matches!(
        array.snapshot(),
        Err(shmarray::SnapshotError::OwnerDied)
    ));
    // list shows the same.
    let rows = json(&["list", "--json", "--prefix", &prefix("cli-died")]);
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == json!(name.0))
        .expect("listed");
    assert_eq!(row["lock"]["state"], json!("owner_died"));
}

#[test]
fn a_file_region_by_path() {
    let _serial = common::serial();
    let path = TempPath::new("cli-file");
    let _array = SharedArray::<f64>::create_file(&path.0, 3).unwrap();
    let p = path.0.to_str().unwrap();
    let v = json(&["inspect", "--file", p, "--json"]);
    assert_eq!(v["name"], json!(null));
    assert_eq!(v["path"], json!(p));
    assert_eq!(v["type"], json!("f64"));
    assert_eq!(v["type_code"], json!("d"));
    assert_eq!(v["len"], json!(3));
    assert_eq!(v["in_use"], json!(true));
    let text = ok(&["inspect", "--file", p]);
    assert!(text.starts_with("name:            -\n"), "{text}");
}

#[test]
fn list_shows_regions_and_unreadable_ones_and_skips_other_files() {
    let _serial = common::serial();
    let tag = "cli-list";
    let live = TempName::new(tag);
    let _live = SharedArray::<u16>::create(&live.0, 10).unwrap();
    let stale = TempName::new(tag);
    drop(SharedArray::<i8>::create(&stale.0, 1).unwrap());
    let foreign = TempName::new(tag);
    std::fs::write(shm_path(&foreign.0), [1u8; 4096]).unwrap();
    let short = TempName::new(tag);
    std::fs::write(shm_path(&short.0), b"sem").unwrap();
    // A region whose header was damaged: its length changed, the checksum no longer fits.
    let corrupt = TempName::new(tag);
    drop(SharedArray::<u64>::create(&corrupt.0, 4).unwrap());
    let mut bytes = std::fs::read(shm_path(&corrupt.0)).unwrap();
    bytes[32] ^= 1; // `len`
    std::fs::write(shm_path(&corrupt.0), bytes).unwrap();

    let rows = json(&["list", "--json", "--prefix", &prefix(tag)]);
    let rows = rows.as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    let mut expected = vec![live.0.as_str(), stale.0.as_str(), corrupt.0.as_str()];
    expected.sort();
    assert_eq!(
        names, expected,
        "sorted; the foreign and short files skipped"
    );
    let row = |n: &str| rows.iter().find(|r| r["name"] == json!(n)).unwrap();
    assert_eq!(row(&live.0)["in_use"], json!(true));
    assert_eq!(row(&live.0)["type"], json!("u16"));
    assert_eq!(row(&live.0)["len"], json!(10));
    assert_eq!(row(&stale.0)["in_use"], json!(false));
    assert_eq!(row(&stale.0)["type"], json!("i8"));
    let error = row(&corrupt.0)["error"].as_str().unwrap();
    assert!(error.contains("checksum"), "{error}");

    let table = ok(&["list", "--prefix", &prefix(tag)]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{table}");
    let line = |n: &str| *lines.iter().find(|l| l.starts_with(n)).unwrap();
    let cols: Vec<&str> = line(&live.0).split_whitespace().collect();
    assert_eq!(cols[1..6], ["dense", "u16", "10", "404", "0600"]);
    assert_eq!(cols[7..], ["in", "use", "free"]);
    let cols: Vec<&str> = line(&stale.0).split_whitespace().collect();
    assert_eq!(cols[7..], ["stale", "free"]);
    assert!(
        table.contains(&format!("unreadable: region {:?} (", corrupt.0)),
        "{table}"
    );
    assert!(!table.contains(&foreign.0) && !table.contains(&short.0));
}

#[test]
fn list_without_a_prefix_sees_every_region() {
    let _serial = common::serial();
    let name = TempName::new("cli-list-all");
    let _array = SharedArray::<u8>::create(&name.0, 1).unwrap();
    let rows = json(&["list", "--json"]);
    assert!(rows
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == json!(name.0) && r["in_use"] == json!(true)));
}

#[test]
fn inspecting_what_is_not_a_region_fails_naming_it() {
    let _serial = common::serial();
    let foreign = TempName::new("cli-inspect-foreign");
    std::fs::write(shm_path(&foreign.0), [9u8; 4096]).unwrap();
    let line = fails(&["inspect", &foreign.0], 1, &foreign.0);
    assert!(line.contains("not a shmarray region"), "{line}");
    assert_eq!(std::fs::read(shm_path(&foreign.0)).unwrap(), [9u8; 4096]);

    let missing = "shmarray-test-cli-no-such-region";
    let line = fails(&["inspect", missing, "--json"], 1, missing);
    assert!(line.contains("no region named"), "{line}");
    fails(&["inspect", "a/b"], 1, "a/b");
    let dir = std::env::temp_dir();
    fails(
        &["inspect", "--file", dir.to_str().unwrap()],
        1,
        dir.to_str().unwrap(),
    );
}
