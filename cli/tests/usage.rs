//! Bad input for every command exits 2 with clap's message; `--help` works everywhere.

mod common;

use common::run;

const COMMANDS: [&str; 10] = [
    "list", "inspect", "dump", "watch", "get", "set", "add", "create", "rm", "gc",
];

#[test]
fn every_command_has_help() {
    let top = run(&["--help"]);
    assert_eq!(top.code, 0);
    for command in COMMANDS {
        assert!(
            top.stdout.contains(&format!("  {command} ")),
            "{command} missing"
        );
        let out = run(&[command, "--help"]);
        assert_eq!(out.code, 0, "{command} --help: {out:?}");
        assert!(
            out.stdout.contains(&format!("Usage: shmarray {command}")),
            "{command}: {}",
            out.stdout
        );
    }
}

#[test]
fn bad_input_for_each_command_is_a_usage_error() {
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["list", "extra"],
        &["list", "--json=maybe"],
        &["inspect"],
        &["inspect", "a", "--file", "/tmp/x"],
        &["dump"],
        &["dump", "x", "--format", "xml"],
        &["dump", "x", "--range", "5..2"],
        &["dump", "x", "--range", "five"],
        &["watch"],
        &["watch", "x", "--interval", "0"],
        &["watch", "x", "--interval", "-1"],
        &["watch", "x", "--count", "many"],
        &["get", "x"],
        &["get", "x", "-1"],
        &["set", "x", "0"],
        &["add", "x", "zero", "1"],
        &["create", "x", "--len", "3"],
        &["create", "x", "--type", "u128", "--len", "3"],
        &["create", "x", "--type", "u8", "--len", "-3"],
        &["create", "x", "--type", "u8", "--len", "3", "--mode", "999"],
        &[
            "create",
            "x",
            "--type",
            "u8",
            "--len",
            "3",
            "--striped",
            "--no-seqlock",
        ],
        &["rm"],
        &["rm", "a", "b"],
        &["gc", "--now"],
    ];
    for args in cases {
        let out = run(args);
        assert_eq!(out.code, 2, "shmarray {args:?}: {out:?}");
        assert!(
            out.stderr.starts_with("error: ") || out.stderr.contains("Usage: shmarray"),
            "shmarray {args:?}: {}",
            out.stderr
        );
        assert_eq!(out.stdout, "");
    }
}

#[test]
fn a_region_that_does_not_exist_is_an_error_naming_it_for_each_command() {
    let name = "shmarray-test-cli-absent";
    for args in [
        vec!["inspect", name],
        vec!["dump", name],
        vec!["watch", name, "--count", "1"],
        vec!["get", name, "0"],
        vec!["set", name, "0", "1"],
        vec!["add", name, "0", "1"],
        vec!["rm", name],
        vec!["rm", "--force", name],
    ] {
        let line = common::fails(&args, 1, name);
        assert!(line.contains("no region named"), "{args:?}: {line}");
    }
    let line = common::fails(
        &["create", "bad/name", "--type", "u8", "--len", "1"],
        1,
        "bad/name",
    );
    assert!(line.contains("invalid shared memory name"), "{line}");
}
