//! `shmarray`: look at, change and clean up the shared arrays of the `shmarray` crate from a
//! shell.
//!
//! | file | what |
//! |---|---|
//! | `main.rs` | the commands and their arguments (clap), errors and exit codes |
//! | `region.rs` | which region a command names: `NAME` or `--file PATH` |
//! | `elements.rs` | dispatch on a region's element type to typed code, one arm per type |
//! | `show.rs` | a region's description as aligned text or JSON (`list`, `inspect`) |
//! | `scan.rs` | walking `/dev/shm` (`list`, `gc`) |
//! | `values.rs` | `dump`, `get`, `set`, `add`, `create` |
//! | `watch.rs` | `watch`: values and rates, redrawn in place |
//! | `remove.rs` | `rm` and `gc` |
//!
//! Errors go to stderr as `shmarray: ` and a message that names the region, with exit
//! status 1; usage errors (clap's, and values that do not parse as the region's type) exit
//! with 2.

mod elements;
mod region;
mod remove;
mod scan;
mod show;
mod values;
mod watch;

use clap::{Parser, Subcommand};
use region::Target;
use std::fmt;
use std::process::ExitCode;

/// Look at, change and clean up shmarray shared arrays (regions in /dev/shm or files).
#[derive(Parser, Debug)]
#[command(name = "shmarray", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every shmarray region in /dev/shm: name, layout, type, length, size, mode,
    /// owner, whether any process has it open, and its lock.
    ///
    /// Files that are not regions of this crate are skipped; regions that cannot be read are
    /// listed with the reason.
    List {
        /// One JSON array of objects instead of a table.
        #[arg(long)]
        json: bool,
        /// Only names that start with this.
        #[arg(long, value_name = "PREFIX", default_value = "")]
        prefix: String,
    },
    /// Show everything a region's header and live state say, without changing anything.
    Inspect {
        #[command(flatten)]
        target: Target,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print a consistent snapshot of a region's values (for a striped array, the sums of
    /// its stripes). Gives up after 5 seconds behind a lock holder that does not finish its
    /// write.
    Dump {
        #[command(flatten)]
        target: Target,
        /// Output format.
        #[arg(long, value_enum, default_value_t = values::Format::Plain)]
        format: values::Format,
        /// Only the elements A..B (either end may be left out: `..10`, `5..`).
        #[arg(long, value_name = "A..B", value_parser = values::parse_range)]
        range: Option<values::Range>,
    },
    /// Show a region's values and their change per second, refreshed every interval:
    /// redrawn in place on a terminal, one line per refresh otherwise.
    Watch {
        #[command(flatten)]
        target: Target,
        /// Seconds between refreshes.
        #[arg(long, default_value_t = 1.0, value_name = "SECONDS", value_parser = watch::parse_interval)]
        interval: f64,
        /// Stop after this many refreshes (for scripts); run until interrupted without it.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// Print element INDEX.
    Get {
        /// The region's name in /dev/shm.
        name: String,
        /// The element's index.
        index: usize,
    },
    /// Store VALUE into element INDEX (dense arrays only).
    Set {
        /// The region's name in /dev/shm.
        name: String,
        /// The element's index.
        index: usize,
        /// The value, parsed as the region's element type.
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Add DELTA to element INDEX atomically and print the new value.
    Add {
        /// The region's name in /dev/shm.
        name: String,
        /// The element's index.
        index: usize,
        /// The amount, parsed as the region's element type (integers wrap on overflow).
        #[arg(allow_hyphen_values = true)]
        delta: String,
    },
    /// Create a named region of zeros, dense or striped. It stays in /dev/shm until removed
    /// (`rm`).
    Create {
        /// The new region's name.
        name: String,
        /// Element type: i8, u8, i16, u16, i32, u32, i64, u64, isize, usize, f32, f64 (or
        /// its Python type code letter, such as Q).
        #[arg(long = "type", value_name = "TYPE", value_parser = elements::parse_type)]
        type_code: shmarray::TypeCode,
        /// Number of elements.
        #[arg(long)]
        len: usize,
        /// Permission bits, in octal.
        #[arg(long, default_value = "600", value_parser = values::parse_mode)]
        mode: u32,
        /// A striped array (counters for many writers: one stripe per CPU, summed on read).
        #[arg(long)]
        striped: bool,
        /// Stripes of a striped array: a power of two up to 1024 (default: one per CPU this
        /// process may run on, at most 64).
        #[arg(long, requires = "striped", value_name = "S")]
        stripes: Option<usize>,
        /// A dense array whose locked writes keep no seqlock counter: locking is cheaper,
        /// snapshots take the lock (recorded in the region; every opener follows it).
        #[arg(long, conflicts_with = "striped")]
        no_seqlock: bool,
    },
    /// Remove a region nobody has open. A region in use is refused unless --force.
    Rm {
        /// The region's name in /dev/shm.
        name: String,
        /// Remove the name even while processes have the region open (they keep their
        /// mapping; nobody new can open it). Files that are not regions are still refused.
        #[arg(long)]
        force: bool,
    },
    /// Remove every region in /dev/shm that no process has open.
    Gc {
        /// Only say what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Only names that start with this (a service's own regions).
        #[arg(long, value_name = "PREFIX", default_value = "")]
        prefix: String,
    },
}

/// Why a command failed, in words that name the region.
#[derive(Debug)]
pub struct Failure {
    /// The message, the region named in it.
    pub message: String,
    /// A usage error (exit 2) rather than a failure (exit 1).
    pub usage: bool,
}

impl Failure {
    /// A library error, which names its region, followed by the errors that caused it (the
    /// OS error of a failed call).
    pub fn error(err: &(dyn std::error::Error + 'static)) -> Failure {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        Failure {
            message,
            usage: false,
        }
    }

    /// A failure concerning `what` (a region's [`Origin`](shmarray::Origin), or a place),
    /// for an error that does not name it itself.
    pub fn about(what: impl fmt::Display, err: impl fmt::Display) -> Failure {
        Failure {
            message: format!("{what}: {err}"),
            usage: false,
        }
    }

    /// A usage error concerning `what`.
    pub fn usage(what: impl fmt::Display, err: impl fmt::Display) -> Failure {
        Failure {
            usage: true,
            ..Failure::about(what, err)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::List { json, prefix } => scan::list(json, &prefix),
        Command::Inspect { target, json } => show::inspect(&target.origin(), json),
        Command::Dump {
            target,
            format,
            range,
        } => values::dump(&target.origin(), format, range),
        Command::Watch {
            target,
            interval,
            count,
        } => watch::watch(&target.origin(), interval, count),
        Command::Get { name, index } => values::get(&name, index),
        Command::Set { name, index, value } => values::set(&name, index, &value),
        Command::Add { name, index, delta } => values::add(&name, index, &delta),
        Command::Create {
            name,
            type_code,
            len,
            mode,
            striped,
            stripes,
            no_seqlock,
        } => values::create(
            &name,
            type_code,
            len,
            mode,
            striped.then_some(stripes),
            !no_seqlock,
        ),
        Command::Rm { name, force } => remove::rm(&name, force),
        Command::Gc { dry_run, prefix } => remove::gc(dry_run, &prefix),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("shmarray: {}", failure.message);
            ExitCode::from(if failure.usage { 2 } else { 1 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
