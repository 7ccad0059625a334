//! Every example answers `--help` with its usage line (exit 0) and a bad argument with what
//! is wrong and the usage line (exit 2), never with a panic. Runs the example binaries that
//! `cargo test` builds beside the test binaries.

use std::path::PathBuf;
use std::process::{Command, Output};

const EXAMPLES: [&str; 6] = [
    "bench_report",
    "callgrind_ops",
    "granularity",
    "hot_counter",
    "increment_all",
    "partitioned",
];

/// The example's binary: `target/<profile>/examples/<name>`, this test being in
/// `target/<profile>/deps`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let path = dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo test` (which builds the examples) or `cargo build --examples`",
        path.display()
    );
    path
}

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name))
        .args(args)
        .output()
        .expect("run the example")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_prints_the_usage_line_and_exits_0() {
    for name in EXAMPLES {
        for flag in ["--help", "-h"] {
            let out = run(name, &[flag]);
            let stdout = text(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "{name} {flag}: {out:?}");
            assert!(
                stdout.starts_with(&format!("usage: {name}")),
                "{name} {flag}: {stdout:?}"
            );
        }
    }
}

#[test]
fn bad_arguments_print_the_usage_line_and_exit_2() {
    let cases: [(&str, &[&str]); 16] = [
        ("bench_report", &["--bogus"]),
        ("bench_report", &["--scaling-csv"]),
        ("hot_counter", &["x"]),
        ("hot_counter", &["0"]),
        ("hot_counter", &["2", "3", "4"]),
        ("bench_report", &["--python-mops"]),
        ("bench_report", &["--python-mops", "fast"]),
        ("callgrind_ops", &["--slow"]),
        ("callgrind_ops", &["run", "no_such_case", "ours", "10"]),
        ("callgrind_ops", &["run", "fetch_add", "ours", "many"]),
        ("granularity", &["2", "x", "5"]),
        ("granularity", &["2"]),
        (
            "granularity",
            &["99999999999", "99999999999", "99999999999"],
        ),
        ("increment_all", &["-5"]),
        ("increment_all", &["1", "2", "3"]),
        ("partitioned", &["0"]),
    ];
    for (name, args) in cases {
        let out = run(name, args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("usage: {name}")),
            "{name} {args:?}: {stderr:?}"
        );
        assert!(!stderr.contains("panicked"), "{name} {args:?}: {stderr}");
    }
}

#[test]
fn an_array_too_large_to_make_is_an_error_message_not_a_panic() {
    let out = run("increment_all", &["1", &usize::MAX.to_string()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("cannot create the shared array: "),
        "{stderr:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
