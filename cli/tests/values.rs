//! `shmarray create`, `get`, `set`, `add`, `dump` and `watch` on real regions, every
//! element type.

mod common;

use common::{fails, json, ok, shm_path, TempName, TempPath};
use serde_json::json;
use shmarray::SharedArray;
use std::sync::atomic::Ordering::Relaxed;

#[test]
fn create_then_set_add_get_and_dump_every_element_type() {
    for ty in [
        "i8", "u8", "i16", "u16", "i32", "u32", "isize", "usize", "i64", "u64", "f32", "f64",
    ] {
        let name = TempName::new("cli-types");
        ok(&["create", &name.0, "--type", ty, "--len", "3"]);
        let info = json(&["inspect", &name.0, "--json"]);
        assert_eq!(
            (info["type"].clone(), info["len"].clone()),
            (json!(ty), json!(3))
        );
        assert_eq!(info["in_use"], json!(false), "create does not keep it open");
        ok(&["set", &name.0, "1", "100"]);
        assert_eq!(ok(&["add", &name.0, "1", "20"]), "120\n", "{ty}");
        assert_eq!(ok(&["get", &name.0, "1"]), "120\n", "{ty}");
        let doc = json(&["dump", &name.0, "--format", "json"]);
        assert_eq!(doc["type"], json!(ty));
        let values: Vec<f64> = doc["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(values, [0.0, 120.0, 0.0], "{ty}");
    }
}

#[test]
fn values_follow_their_type() {
    let name = TempName::new("cli-wrap");
    let array = SharedArray::<i8>::create(&name.0, 2).unwrap();
    ok(&["set", &name.0, "0", "127"]);
    assert_eq!(ok(&["add", &name.0, "0", "1"]), "-128\n", "integers wrap");
    ok(&["set", &name.0, "1", "-5"]);
    assert_eq!(
        array.load(1, Relaxed),
        -5,
        "a negative value is a value, not a flag"
    );
    let line = fails(&["set", &name.0, "0", "128"], 2, &name.0);
    assert!(
        line.contains("is not a value of the region's type i8"),
        "{line}"
    );
    fails(&["add", &name.0, "0", "1.5"], 2, &name.0);
    let line = fails(&["get", &name.0, "2"], 1, &name.0);
    assert!(line.contains("out of bounds: the length is 2"), "{line}");

    let name = TempName::new("cli-float");
    let array = SharedArray::<f64>::create(&name.0, 1).unwrap();
    ok(&["set", &name.0, "0", "0.25"]);
    assert_eq!(ok(&["add", &name.0, "0", "-1.5"]), "-1.25\n");
    assert_eq!(array.load(0, Relaxed), -1.25);
}

#[test]
fn dump_formats_and_ranges() {
    let name = TempName::new("cli-dump");
    let array = SharedArray::<u32>::create(&name.0, 12).unwrap();
    for i in 0..12 {
        array.store(i, 100 + i as u32, Relaxed);
    }
    let plain = ok(&["dump", &name.0]);
    let lines: Vec<&str> = plain.lines().collect();
    assert_eq!(lines.len(), 12);
    assert_eq!(lines[0], " 0  100", "indices aligned to the widest");
    assert_eq!(lines[11], "11  111");

    let csv = ok(&["dump", &name.0, "--format", "csv", "--range", "2..4"]);
    assert_eq!(csv, "index,value\n2,102\n3,103\n");

    let doc = json(&["dump", &name.0, "--format", "json", "--range", "10.."]);
    assert_eq!(doc["name"], json!(name.0));
    assert_eq!(doc["path"], json!(null));
    assert_eq!(doc["type"], json!("u32"));
    assert_eq!(doc["len"], json!(12));
    assert_eq!(doc["start"], json!(10));
    assert_eq!(doc["values"], json!([110, 111]));

    let doc = json(&["dump", &name.0, "--format", "json", "--range", "..0"]);
    assert_eq!(doc["values"], json!([]));
    let line = fails(&["dump", &name.0, "--range", "5..13"], 1, &name.0);
    assert!(line.contains("outside 0..12"), "{line}");
}

#[test]
fn dump_of_a_file_region() {
    let path = TempPath::new("cli-dump-file");
    let array = SharedArray::<i64>::create_file(&path.0, 2).unwrap();
    array.store(1, -7, Relaxed);
    let p = path.0.to_str().unwrap();
    assert_eq!(
        ok(&["dump", "--file", p, "--format", "csv"]),
        "index,value\n0,0\n1,-7\n"
    );
}

#[test]
fn dump_refuses_data_a_dead_writer_left_half_written() {
    let name = TempName::new("cli-dump-died");
    let array = SharedArray::<u64>::create(&name.0, 2).unwrap();
    common::kill_child(common::lock_in_child(&array, Some(1)));
    let line = fails(&["dump", &name.0], 1, &name.0);
    assert!(line.contains("died"), "{line}");
    // get reads one element, which needs no consistency: it works.
    assert_eq!(ok(&["get", &name.0, "0"]), "1\n");
}

#[test]
fn dump_gives_up_behind_a_live_holder_in_mid_write() {
    let name = TempName::new("cli-dump-held");
    let array = SharedArray::<u64>::create(&name.0, 2).unwrap();
    let holder = common::lock_in_child(&array, Some(1));
    let line = fails(&["dump", &name.0], 1, &name.0);
    assert!(line.contains("timed out"), "{line}");
    common::kill_child(holder);
}

#[test]
fn create_sets_the_mode_and_refuses_an_existing_name() {
    let name = TempName::new("cli-create");
    ok(&[
        "create", &name.0, "--type", "Q", "--len", "8", "--mode", "640",
    ]);
    let info = json(&["inspect", &name.0, "--json"]);
    assert_eq!(info["mode"], json!("0640"));
    assert_eq!(info["type"], json!("u64"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(shm_path(&name.0))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o640);
    let line = fails(
        &["create", &name.0, "--type", "u8", "--len", "1"],
        1,
        &name.0,
    );
    assert!(line.contains("already exists"), "{line}");
    assert_eq!(json(&["inspect", &name.0, "--json"])["type"], json!("u64"));
}

#[test]
fn watch_prints_one_line_per_refresh_when_piped() {
    let name = TempName::new("cli-watch");
    let array = SharedArray::<u16>::create(&name.0, 3).unwrap();
    array.store(2, 9, Relaxed);
    let out = ok(&["watch", &name.0, "--interval", "0.01", "--count", "3"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (i, line) in lines.iter().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(words[0].parse::<f64>().is_ok(), "{line}");
        assert_eq!(words[1..5], ["values", "0", "0", "9"], "{line}");
        assert_eq!(words[5], "per-second", "{line}");
        let expected = if i == 0 { "-" } else { "0.0" };
        assert_eq!(words[6..], [expected; 3], "nothing changed: {line}");
    }
}
