//! Walking `/dev/shm` for the crate's regions (`list`; `gc` uses [`regions`] too).

use crate::elements::type_name;
use crate::show;
use crate::Failure;
use serde_json::json;
use shmarray::{OpenError, RegionInfo};

/// Where POSIX shared memory objects live on Linux.
pub const SHM_DIR: &str = "/dev/shm";

/// What was found under one name.
pub enum Found {
    /// A region of this crate.
    Region(RegionInfo),
    /// Something that may be a region but could not be read, and why.
    Unreadable(OpenError),
}

/// Every name in `/dev/shm` starting with `prefix` that is or may be a region of this
/// crate, sorted by name.
/// Files that are surely not (another program's segment, a file shorter than a header, a
/// name that is not UTF-8) are left out.
pub fn regions(prefix: &str) -> Result<Vec<(String, Found)>, Failure> {
    let entries = std::fs::read_dir(SHM_DIR).map_err(|e| Failure::about(SHM_DIR, e))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Failure::about(SHM_DIR, e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !name.starts_with(prefix) {
            continue;
        }
        match shmarray::inspect(&name) {
            Ok(info) => found.push((name, Found::Region(info))),
            Err(OpenError::BadMagic { .. } | OpenError::TooShort { .. }) => {}
            // A directory, a socket, or a name that vanished meanwhile.
            Err(OpenError::NotFound { .. }) => {}
            Err(OpenError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::InvalidInput => {}
            Err(e) => found.push((name, Found::Unreadable(e))),
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// `list`.
pub fn list(as_json: bool, prefix: &str) -> Result<(), Failure> {
    let found = regions(prefix)?;
    if as_json {
        let rows: Vec<_> = found
            .iter()
            .map(|(name, found)| match found {
                Found::Region(info) => show::to_json(info),
                Found::Unreadable(e) => {
                    json!({"name": name, "error": Failure::error(e).message})
                }
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    let mut table = vec![[
        "NAME", "LAYOUT", "TYPE", "LEN", "BYTES", "MODE", "OWNER", "STATE", "LOCK",
    ]
    .map(String::from)];
    let mut problems = Vec::new();
    for (name, found) in &found {
        match found {
            Found::Region(info) => table.push([
                name.clone(),
                info.layout.to_string(),
                type_name(info.type_code),
                info.len.to_string(),
                info.bytes.to_string(),
                show::mode(info.mode),
                show::owner(info.uid),
                show::in_use(info.in_use).to_owned(),
                show::lock(info.lock),
            ]),
            Found::Unreadable(e) => problems.push(Failure::error(e).message),
        }
    }
    print_table(&table);
    for problem in problems {
        println!("unreadable: {problem}");
    }
    Ok(())
}

/// Prints rows as columns aligned on the widest cell; numbers right-aligned.
fn print_table<const N: usize>(rows: &[[String; N]]) {
    let mut widths = [0; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                let numeric = cell.chars().all(|c| c.is_ascii_digit()) && !cell.is_empty();
                if numeric && i > 0 {
                    format!("{cell:>w$}")
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
}
