//! Argument handling shared by the examples: `--help` prints the usage line and exits 0; a
//! bad argument prints what is wrong and the usage line, and exits 2. Never a panic.
#![allow(dead_code)] // each example uses a different part of this module

use std::fmt::Display;
use std::process::ExitCode;
use std::str::FromStr;

/// The command-line arguments after the program name, given to `parse`; or, for `--help`
/// or a bad argument, the exit code to leave with (after printing the usage line).
pub fn parse<T>(
    usage: &str,
    parse: impl FnOnce(&[String]) -> Result<T, String>,
) -> Result<T, ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{usage}");
        return Err(ExitCode::SUCCESS);
    }
    parse(&args).map_err(|msg| {
        eprintln!("{msg}\n{usage}");
        ExitCode::from(2)
    })
}

/// The argument `name`, read from `text` (`default` if absent).
pub fn value<T: FromStr>(name: &str, text: Option<&String>, default: T) -> Result<T, String>
where
    T::Err: Display,
{
    match text {
        None => Ok(default),
        Some(t) => t.parse().map_err(|e| format!("{name} {t:?}: {e}")),
    }
}

/// Reports a failure that is not the arguments' fault (the array could not be made, a child
/// failed) with the whole error chain, and gives the exit code 1.
pub fn fail(what: &str, err: &dyn std::error::Error) -> ExitCode {
    let mut text = format!("{what}: {err}");
    let mut next = err.source();
    while let Some(e) = next {
        text.push_str(&format!(": {e}"));
        next = e.source();
    }
    eprintln!("{text}");
    ExitCode::FAILURE
}
