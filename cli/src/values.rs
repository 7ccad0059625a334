//! The commands that read or write values: `dump`, `get`, `set`, `add`, and `create`.

use crate::elements::{type_name, with_element, Value};
use crate::region;
use crate::Failure;
use serde_json::json;
use shmarray::{Layout, Origin, SharedArray, StripedArray, TypeCode};

/// `dump --format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `INDEX VALUE` per line, aligned.
    Plain,
    /// `index,value` with a header line.
    Csv,
    /// One object: the region, its type, the first index and the values.
    Json,
}

/// `--range A..B`: either end may be left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    start: Option<usize>,
    end: Option<usize>,
}

/// Parses `A..B`, `A..`, `..B` or `..`.
pub fn parse_range(s: &str) -> Result<Range, String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("{s:?} is not a range A..B"))?;
    let end = |part: &str| -> Result<Option<usize>, String> {
        if part.is_empty() {
            return Ok(None);
        }
        part.parse()
            .map(Some)
            .map_err(|_| format!("{part:?} in {s:?} is not an index"))
    };
    let range = Range {
        start: end(a)?,
        end: end(b)?,
    };
    if let (Some(a), Some(b)) = (range.start, range.end) {
        if a > b {
            return Err(format!("range {s:?} ends before it starts"));
        }
    }
    Ok(range)
}

impl Range {
    /// The range within an array of `len` elements, or why it does not fit.
    fn within(self, len: usize) -> Result<std::ops::Range<usize>, String> {
        let (start, end) = (self.start.unwrap_or(0), self.end.unwrap_or(len));
        if end > len || start > end {
            return Err(format!("range {start}..{end} is outside 0..{len}"));
        }
        Ok(start..end)
    }
}

/// `--mode`: octal permission bits.
pub fn parse_mode(s: &str) -> Result<u32, String> {
    match u32::from_str_radix(s, 8) {
        Ok(mode) if mode <= 0o7777 => Ok(mode),
        _ => Err(format!("{s:?} is not an octal mode such as 640")),
    }
}

/// `dump`.
pub fn dump(origin: &Origin, format: Format, range: Option<Range>) -> Result<(), Failure> {
    let info = region::inspect(origin)?;
    let range = range.unwrap_or(Range {
        start: None,
        end: None,
    });
    with_element!(info.type_code, origin, |T| dump_as::<T>(
        origin,
        info.layout,
        format,
        range
    ))
}

fn dump_as<T: Value>(
    origin: &Origin,
    layout: Layout,
    format: Format,
    range: Range,
) -> Result<(), Failure> {
    let array = region::open_as::<T>(origin, layout)?;
    let range = range
        .within(array.len())
        .map_err(|e| Failure::about(origin, e))?;
    let values = array.values(origin)?;
    let values = &values[range.clone()];
    let mut out = String::new();
    match format {
        Format::Plain => {
            let width = range.end.saturating_sub(1).to_string().len();
            for (i, v) in range.clone().zip(values) {
                out += &format!("{i:>width$}  {v}\n");
            }
        }
        Format::Csv => {
            out += "index,value\n";
            for (i, v) in range.clone().zip(values) {
                out += &format!("{i},{v}\n");
            }
        }
        Format::Json => {
            let values: Vec<serde_json::Value> = values.iter().map(|&v| v.into()).collect();
            let doc = json!({
                "name": origin.name(),
                "path": origin.path(),
                "type": type_name(T::TYPE_CODE),
                "layout": layout.to_string(),
                "len": array.len(),
                "start": range.start,
                "values": values,
            });
            out = format!("{doc}\n");
        }
    }
    print!("{out}");
    Ok(())
}

/// Opens the named region as its own element type, checks `index`, and runs `body` on it.
fn at_index(
    name: &str,
    index: usize,
    body: impl FnOnce(&Origin, TypeCode, Layout) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let origin = Origin::Named(name.to_owned());
    let info = region::inspect(&origin)?;
    if index >= info.len {
        return Err(Failure::about(
            &origin,
            format!("index {index} is out of bounds: the length is {}", info.len),
        ));
    }
    body(&origin, info.type_code, info.layout)
}

/// Parses `text` as the region's element type.
fn parse<T: Value>(origin: &Origin, text: &str) -> Result<T, Failure> {
    text.parse().map_err(|_| {
        Failure::usage(
            origin,
            format!(
                "{text:?} is not a value of the region's type {}",
                type_name(T::TYPE_CODE)
            ),
        )
    })
}

/// `get`.
pub fn get(name: &str, index: usize) -> Result<(), Failure> {
    at_index(name, index, |origin, code, layout| {
        with_element!(code, origin, |T| {
            println!("{}", region::open_as::<T>(origin, layout)?.get(index));
            Ok(())
        })
    })
}

/// `set`.
pub fn set(name: &str, index: usize, value: &str) -> Result<(), Failure> {
    at_index(name, index, |origin, code, layout| {
        with_element!(code, origin, |T| {
            let value: T = parse(origin, value)?;
            region::open_as::<T>(origin, layout)?.set(origin, index, value)
        })
    })
}

/// `add`.
pub fn add(name: &str, index: usize, delta: &str) -> Result<(), Failure> {
    at_index(name, index, |origin, code, layout| {
        with_element!(code, origin, |T| {
            let delta: T = parse(origin, delta)?;
            let array = region::open_as::<T>(origin, layout)?;
            array.add(index, delta);
            // The new value, read back: another process may have added in between, and the
            // sum of floats is not computed here twice.
            println!("{}", array.get(index));
            Ok(())
        })
    })
}

/// `create`.
///
/// `striped`: `None` for a dense array, `Some(stripes)` for a striped one (`None` inside:
/// the library's default count).
pub fn create(
    name: &str,
    type_code: TypeCode,
    len: usize,
    mode: u32,
    striped: Option<Option<usize>>,
    seqlock: bool,
) -> Result<(), Failure> {
    let origin = Origin::Named(name.to_owned());
    with_element!(type_code, &origin, |T| {
        let created = match striped {
            None => SharedArray::<T>::options()
                .mode(mode)
                .seqlock(seqlock)
                .create(name, len)
                .map(drop),
            Some(stripes) => {
                let options = StripedArray::<T>::options().mode(mode);
                match stripes {
                    Some(n) => options.stripes(n),
                    None => options,
                }
                .create(name, len)
                .map(drop)
            }
        };
        created.map_err(|e| Failure::error(&e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_fit() {
        let r = |s| parse_range(s).unwrap();
        assert_eq!(r("2..5").within(10), Ok(2..5));
        assert_eq!(r("..5").within(10), Ok(0..5));
        assert_eq!(r("7..").within(10), Ok(7..10));
        assert_eq!(r("..").within(10), Ok(0..10));
        assert_eq!(r("10..").within(10), Ok(10..10));
        assert!(r("..11").within(10).is_err());
        assert!(r("12..").within(10).is_err());
        for bad in ["5", "a..b", "5..2", "-1..2", "1...2"] {
            assert!(parse_range(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn modes_are_octal() {
        assert_eq!(parse_mode("640"), Ok(0o640));
        assert_eq!(parse_mode("0600"), Ok(0o600));
        assert!(parse_mode("9").is_err());
        assert!(parse_mode("77777").is_err());
    }
}
