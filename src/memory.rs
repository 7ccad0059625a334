//! How much memory the system can still give, so that a region too large for it is refused
//! up front instead of being filled until the kernel's out-of-memory killer ends the process.
//!
//! Only memory-backed files are checked: an anonymous `memfd`, a POSIX shared memory object
//! in `/dev/shm`, and a file on any other `tmpfs`. Their pages are RAM (or swap), and a
//! `memfd` lives on an internal mount with no size limit at all, so `posix_fallocate` on it
//! keeps taking pages until the machine runs out. Files on disk are limited by their
//! filesystem, which answers `ENOSPC` at once, and are not checked here.
//!
//! What counts as available: `MemAvailable` plus `SwapFree` from `/proc/meminfo` (the
//! kernel's own estimate of what can be allocated without pushing the system into
//! reclaiming everything), or, where that file cannot be read, `sysinfo(2)`'s free RAM,
//! buffer RAM and free swap. The check is made once, when a region is created; it cannot
//! promise that the memory is still there a moment later (another process may take it),
//! but it turns an impossible size into an error within milliseconds.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// `f_type` of a `tmpfs` (and of the internal shmem mount that backs a `memfd`).
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// True if `file` lives in memory (a `tmpfs` or a `memfd`).
pub(crate) fn is_memory_backed(file: &File) -> io::Result<bool> {
    let mut stat = core::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `file` is an open descriptor; `stat` is valid for writes of a `statfs`.
    if unsafe { libc::fstatfs(file.as_raw_fd(), stat.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstatfs returned 0, so it filled `stat`.
    let stat = unsafe { stat.assume_init() };
    #[allow(clippy::unnecessary_cast)] // `f_type`'s width differs between targets
    Ok(stat.f_type as i64 == TMPFS_MAGIC)
}

/// Bytes of memory the system can still give: RAM available for new allocations plus free
/// swap.
pub(crate) fn available() -> io::Result<u64> {
    match std::fs::read_to_string("/proc/meminfo") {
        Ok(text) => from_meminfo(&text).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "/proc/meminfo has no MemAvailable or SwapFree line",
            )
        }),
        Err(_) => from_sysinfo(),
    }
}

/// `MemAvailable + SwapFree` from the text of `/proc/meminfo`, in bytes.
fn from_meminfo(text: &str) -> Option<u64> {
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let rest = line[name.len()..].trim_start_matches(':').trim();
        let kib: u64 = rest.strip_suffix("kB")?.trim().parse().ok()?;
        kib.checked_mul(1024)
    };
    field("MemAvailable")?.checked_add(field("SwapFree")?)
}

/// Free RAM, buffer RAM and free swap from `sysinfo(2)`, in bytes.
fn from_sysinfo() -> io::Result<u64> {
    let mut info = core::mem::MaybeUninit::<libc::sysinfo>::uninit();
    // SAFETY: `info` is valid for writes of a `sysinfo` struct.
    if unsafe { libc::sysinfo(info.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: sysinfo returned 0, so it filled `info`.
    let info = unsafe { info.assume_init() };
    let unit = u64::from(info.mem_unit.max(1));
    #[allow(clippy::unnecessary_cast)] // the fields' widths differ between targets
    let units = (info.freeram as u64)
        .saturating_add(info.bufferram as u64)
        .saturating_add(info.freeswap as u64);
    Ok(units.saturating_mul(unit))
}

/// Refuses to reserve `bytes` of a memory-backed `file` when the system cannot give them.
/// Returns the error to report (`ENOMEM`, with the figures) or `None` if the size fits or
/// the file is not memory-backed.
pub(crate) fn refuse_if_unavailable(file: &File, bytes: usize) -> Option<io::Error> {
    if !is_memory_backed(file).unwrap_or(false) {
        return None;
    }
    let available = available().ok()?;
    (bytes as u64 > available).then(|| {
        io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!("the system has {available} bytes of memory and swap available"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_sums_available_memory_and_free_swap() {
        let text = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   2000 kB\n\
                    SwapTotal: 0 kB\nSwapFree:          30 kB\n";
        assert_eq!(from_meminfo(text), Some(2030 * 1024));
        assert_eq!(from_meminfo("MemAvailable: 5 kB\n"), None);
        assert_eq!(from_meminfo("MemAvailable: x kB\nSwapFree: 0 kB\n"), None);
    }

    #[test]
    fn this_machine_reports_some_memory() {
        assert!(available().unwrap() > 0);
        assert!(from_sysinfo().unwrap() > 0);
    }

    #[test]
    fn memfd_and_dev_shm_are_memory_backed_and_a_disk_file_is_not() {
        let memfd = crate::backing::anonymous(4096).unwrap();
        assert!(is_memory_backed(&memfd).unwrap());
        let tmp = std::env::current_exe().unwrap();
        let exe = File::open(tmp).unwrap();
        // The test binary sits under target/, on the checkout's disk.
        if !is_memory_backed(&exe).unwrap() {
            assert!(refuse_if_unavailable(&exe, usize::MAX).is_none());
        }
        assert!(refuse_if_unavailable(&memfd, usize::MAX).is_some());
        assert!(refuse_if_unavailable(&memfd, 4096).is_none());
    }
}
