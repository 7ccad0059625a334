//! `watch`: a region's values and their change per second, refreshed every interval.
//!
//! On a terminal the table is redrawn in place (cursor up, clear to the end of the screen);
//! otherwise each refresh is one line, `SECONDS  values V0 V1 ...  per-second R0 R1 ...`,
//! with `-` for rates on the first line, so that a script can read it.

use crate::elements::{with_element, Value};
use crate::region;
use crate::Failure;
use shmarray::Origin;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// `--interval`: a positive, finite number of seconds.
pub fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= 86_400.0 => Ok(x),
        _ => Err(format!("{s:?} is not a number of seconds above 0")),
    }
}

/// `watch`.
pub fn watch(origin: &Origin, interval: f64, count: Option<u64>) -> Result<(), Failure> {
    let info = region::inspect(origin)?;
    with_element!(info.type_code, origin, |T| watch_as::<T>(
        origin,
        info.layout,
        Duration::from_secs_f64(interval),
        count
    ))
}

fn watch_as<T: Value>(
    origin: &Origin,
    layout: shmarray::Layout,
    interval: Duration,
    count: Option<u64>,
) -> Result<(), Failure> {
    let array = region::open_as::<T>(origin, layout)?;
    let terminal = std::io::stdout().is_terminal();
    let start = Instant::now();
    let mut previous: Option<(Instant, Vec<T>)> = None;
    let mut drawn_lines = 0;
    let mut refreshes = 0;
    loop {
        let values = array.values(origin)?;
        let now = Instant::now();
        let rates: Vec<Option<f64>> = match &previous {
            Some((then, old)) => {
                let seconds = now.duration_since(*then).as_secs_f64().max(1e-9);
                values
                    .iter()
                    .zip(old)
                    .map(|(&v, &o)| Some((v.as_f64() - o.as_f64()) / seconds))
                    .collect()
            }
            None => vec![None; values.len()],
        };
        let elapsed = now.duration_since(start).as_secs_f64();
        let mut out = std::io::stdout().lock();
        let written = if terminal {
            let frame = frame(origin, elapsed, &values, &rates);
            // Up over the previous frame, then clear from there to the end of the screen.
            if drawn_lines > 0 {
                let _ = write!(out, "\x1b[{drawn_lines}A\x1b[J");
            }
            drawn_lines = frame.lines().count();
            write!(out, "{frame}")
        } else {
            writeln!(out, "{}", line(elapsed, &values, &rates))
        };
        // A closed pipe (`| head`) ends the watch quietly.
        if written.and_then(|()| out.flush()).is_err() {
            return Ok(());
        }
        drop(out);
        refreshes += 1;
        if count.is_some_and(|n| refreshes >= n) {
            return Ok(());
        }
        previous = Some((now, values));
        std::thread::sleep(interval);
    }
}

fn rate(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{r:.1}"),
        None => "-".into(),
    }
}

/// One refresh as one line, for a pipe.
fn line<T: Value>(elapsed: f64, values: &[T], rates: &[Option<f64>]) -> String {
    let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    let rates: Vec<String> = rates.iter().map(|&r| rate(r)).collect();
    format!(
        "{elapsed:.3}  values {}  per-second {}",
        values.join(" "),
        rates.join(" ")
    )
}

/// One refresh as a table, for a terminal.
fn frame<T: Value>(origin: &Origin, elapsed: f64, values: &[T], rates: &[Option<f64>]) -> String {
    let cells: Vec<(String, String)> = values
        .iter()
        .zip(rates)
        .map(|(v, &r)| (v.to_string(), rate(r)))
        .collect();
    let iw = values.len().saturating_sub(1).to_string().len().max(5);
    let vw = cells.iter().map(|c| c.0.len()).max().unwrap_or(0).max(5);
    let rw = cells.iter().map(|c| c.1.len()).max().unwrap_or(0).max(10);
    let mut out = format!("{origin}  {elapsed:.1}s\n");
    out += &format!(
        "{:>iw$}  {:>vw$}  {:>rw$}\n",
        "index", "value", "per second"
    );
    for (i, (v, r)) in cells.iter().enumerate() {
        out += &format!("{i:>iw$}  {v:>vw$}  {r:>rw$}\n");
    }
    out
}
