//! The tool on striped arrays: created, inspected, summed, added to, watched.

mod common;

use common::{fails, json, ok, prefix, TempName};
use serde_json::json;
use shmarray::StripedArray;

#[test]
fn a_striped_region_from_create_to_dump() {
    let name = TempName::new("cli-striped");
    ok(&[
        "create",
        &name.0,
        "--type",
        "u64",
        "--len",
        "3",
        "--striped",
        "--stripes",
        "4",
    ]);
    let v = json(&["inspect", &name.0, "--json"]);
    assert_eq!(v["layout"], json!("striped"));
    assert_eq!(v["stripes"], json!(4));
    assert_eq!(v["type"], json!("u64"));
    assert_eq!(v["len"], json!(3));
    assert_eq!(
        v["bytes"],
        json!(384 + 4 * 128),
        "four 128-byte stripe blocks"
    );
    assert_eq!(v["in_use"], json!(false));

    // Adds from this process and from children on whatever CPUs they run on.
    let array = StripedArray::<u64>::open(&name.0).unwrap();
    let children: Vec<_> = (0..3)
        .map(|_| {
            common::spawn(|| {
                for _ in 0..1000 {
                    array.add(1, 1);
                }
                0
            })
        })
        .collect();
    common::wait_all_ok(children);
    array.add(2, 5);
    let doc = json(&["dump", &name.0, "--format", "json"]);
    assert_eq!(doc["layout"], json!("striped"));
    assert_eq!(
        doc["values"],
        json!([0, 3000, 5]),
        "the sums of the stripes"
    );
    assert_eq!(ok(&["add", &name.0, "2", "10"]), "15\n");
    assert_eq!(ok(&["get", &name.0, "1"]), "3000\n");
    assert_eq!(array.sum(2), 15);
    let line = fails(&["set", &name.0, "0", "1"], 1, &name.0);
    assert!(line.contains("cannot be set"), "{line}");

    let out = ok(&["watch", &name.0, "--interval", "0.01", "--count", "2"]);
    let last: Vec<&str> = out.lines().last().unwrap().split_whitespace().collect();
    assert_eq!(last[1..5], ["values", "0", "3000", "15"]);

    let rows = json(&["list", "--json", "--prefix", &prefix("cli-striped")]);
    let row = &rows.as_array().unwrap()[0];
    assert_eq!(
        (row["name"].clone(), row["layout"].clone()),
        (json!(name.0), json!("striped"))
    );
    assert_eq!(row["in_use"], json!(true), "this test has it open");
}

#[test]
fn a_stripe_count_that_is_not_a_power_of_two_is_refused() {
    let name = TempName::new("cli-striped-bad");
    let line = fails(
        &[
            "create",
            &name.0,
            "--type",
            "u8",
            "--len",
            "1",
            "--striped",
            "--stripes",
            "3",
        ],
        1,
        &name.0,
    );
    assert!(line.contains("3"), "{line}");
    assert!(!common::shm_path(&name.0).exists());
    // --stripes without --striped is a usage error.
    let out = common::run(&[
        "create",
        &name.0,
        "--type",
        "u8",
        "--len",
        "1",
        "--stripes",
        "4",
    ]);
    assert_eq!(out.code, 2, "{out:?}");
}
