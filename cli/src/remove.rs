//! `rm` and `gc`: removing regions, by default only those nobody has open.
//!
//! The decision to remove is the library's [`shmarray::remove_stale`], which takes the
//! region's lock exclusively first, so a process opening the region at that moment is never
//! left with a removed one. `rm --force` unlinks a region in use; the processes that have it
//! open keep their mapping, and nobody new can open it.

use crate::scan::{self, Found};
use crate::Failure;
use shmarray::{OpenError, Origin, SharedArray};

/// `rm`.
pub fn rm(name: &str, force: bool) -> Result<(), Failure> {
    if force {
        // Even forced, only what is (or may be) a region of this crate is unlinked: a file
        // that starts with another magic number belongs to another program.
        if let Err(
            e @ (OpenError::BadMagic { found: 1.., .. }
            | OpenError::TooShort { .. }
            | OpenError::NotFound { .. }
            | OpenError::InvalidName(_)),
        ) = shmarray::inspect(name)
        {
            return Err(Failure::error(&e));
        }
        return SharedArray::<u8>::unlink(name).map_err(|e| Failure::error(&e));
    }
    match shmarray::remove_stale(name) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Failure::about(
            Origin::Named(name.to_owned()),
            "in use by a live process (or being created); `rm --force` unlinks it anyway",
        )),
        Err(e) => Err(Failure::error(&e)),
    }
}

/// `gc`.
pub fn gc(dry_run: bool, prefix: &str) -> Result<(), Failure> {
    let mut failed = 0;
    for (name, found) in scan::regions(prefix)? {
        match found {
            Found::Region(info) if !info.in_use => {
                if dry_run {
                    println!("would remove {name}");
                    continue;
                }
                match shmarray::remove_stale(&name) {
                    Ok(true) => println!("removed {name}"),
                    // Opened since it was looked at: kept.
                    Ok(false) => {}
                    Err(e) => {
                        eprintln!("shmarray: {}", Failure::error(&e).message);
                        failed += 1;
                    }
                }
            }
            Found::Region(_) => {}
            Found::Unreadable(e) => eprintln!("shmarray: skipped: {}", Failure::error(&e).message),
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(Failure::about(
            scan::SHM_DIR,
            format!("{n} stale regions could not be removed"),
        )),
    }
}
