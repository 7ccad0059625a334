//! [`RegionOptions`]: the settings every array kind's builder shares (permission bits,
//! unlink on drop, open timeout), and the race-free open-or-create they drive.

use crate::array::DEFAULT_OPEN_TIMEOUT;
use crate::error::{CreateError, OpenError};
use std::time::{Duration, Instant};

/// The settings every array kind's builder shares: how a region is created, opened and
/// cleaned up, whatever its payload layout.
#[derive(Clone, Debug)]
pub(crate) struct RegionOptions {
    /// Permission bits of a created name or file.
    pub(crate) mode: u32,
    /// Whether the handle that created a name or file removes it when dropped.
    pub(crate) unlink_on_drop: bool,
    /// How long opening waits for the name to appear and its creator to finish.
    pub(crate) open_timeout: Duration,
}

impl Default for RegionOptions {
    fn default() -> RegionOptions {
        RegionOptions {
            mode: 0o600,
            unlink_on_drop: false,
            open_timeout: DEFAULT_OPEN_TIMEOUT,
        }
    }
}

impl RegionOptions {
    /// Opens an existing region or creates it, race-free against other processes doing the
    /// same: creation is `O_CREAT | O_EXCL`, so exactly one caller creates; every other one
    /// finds the name taken and opens it, waiting (within the open timeout) for the creator
    /// to publish. If the name disappears between the two (removed by its owner), creating is
    /// tried again, until the open timeout runs out.
    ///
    /// `open` is given the time left of the open timeout.
    pub(crate) fn open_or_create<A>(
        &self,
        mut create: impl FnMut() -> Result<A, CreateError>,
        mut open: impl FnMut(Duration) -> Result<A, OpenError>,
    ) -> Result<A, OpenError> {
        let start = Instant::now();
        loop {
            match create() {
                Ok(made) => return Ok(made),
                Err(CreateError::AlreadyExists { .. }) => {}
                Err(e) => return Err(OpenError::Create(e)),
            }
            let left = self.open_timeout.saturating_sub(start.elapsed());
            match open(left) {
                Err(OpenError::NotFound { .. }) if !left.is_zero() => continue,
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::Origin;

    #[test]
    fn open_or_create_reports_a_create_failure_as_create() {
        let err = RegionOptions::default()
            .open_or_create::<()>(
                || {
                    Err(CreateError::TooLarge {
                        region: Origin::Anonymous,
                        len: 1,
                        elem_size: 1,
                    })
                },
                |_| panic!("open must not be tried after a failure other than AlreadyExists"),
            )
            .unwrap_err();
        assert!(matches!(
            err,
            OpenError::Create(CreateError::TooLarge { .. })
        ));
    }

    #[test]
    fn open_or_create_retries_when_the_name_vanishes_between_create_and_open() {
        let mut creates = 0;
        let made = RegionOptions::default().open_or_create(
            || {
                creates += 1;
                if creates < 3 {
                    Err(CreateError::AlreadyExists {
                        region: Origin::Anonymous,
                        source: std::io::Error::from_raw_os_error(libc::EEXIST),
                    })
                } else {
                    Ok("created")
                }
            },
            |_| {
                Err(OpenError::NotFound {
                    region: Origin::Anonymous,
                    source: std::io::Error::from_raw_os_error(libc::ENOENT),
                })
            },
        );
        assert_eq!(made.unwrap(), "created");
        assert_eq!(creates, 3);
    }
}
