//! Faults from the environment: other processes truncating, holding or racing for regions, a
//! full filesystem, symbolic links, permissions, bad names, and stale segments.
//!
//! Behaviour that involves another process is tested with real processes: forked children
//! that do only async-signal-safe work (the harness is multi-threaded), or this test binary
//! re-executed in a role (`Helper`). Every wait for a child is bounded by `DEADLINE`; a child
//! still running when its test ends (passing or failing) is killed and reaped by `Helper`'s
//! `Drop`, and a re-executed child also gives up on its own if its parent goes away.
//!
//! # No leaks
//! Every name and path a test here uses comes from its own [`Scope`]: a prefix made of this
//! process's id, a per-process counter and the test's tag. No other test (in this binary,
//! in another test binary, or in a concurrent run) can make or remove entries with that
//! prefix, so each test can check for its own leaks without depending on the order in which
//! tests run. Each test ends with [`Scope::assert_nothing_left`], after it has dropped its
//! arrays and cleaned up through the crate (`unlink`, `remove_stale`, `remove_file`): that
//! lists `/dev/shm` and the temporary directory for the prefix. A test that fails before
//! that point still removes its entries (the scope's `Drop`), so one failure leaves nothing
//! behind for later runs. Leaks from the other test files are `.ci/leaks.sh`'s to find.

mod common;

use common::{reexec, role, spawn, wait, Exit, DEADLINE};
use shmarray::{remove_stale, remove_stale_file, CreateError, OpenError, SharedArray};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::time::{Duration, Instant};

const DEV_SHM: &str = "/dev/shm";

// ---------------------------------------------------------------------------------------------
// Test scaffolding: names, cleanup, helper processes.

/// The names and paths of one test, all under one prefix; see the module documentation.
struct Scope {
    prefix: String,
}

impl Scope {
    fn new(tag: &str) -> Scope {
        use std::sync::atomic::AtomicU32;
        static NEXT: AtomicU32 = AtomicU32::new(0);
        Scope {
            prefix: format!(
                "shmarray-test-env-{}-{}-{tag}-",
                std::process::id(),
                NEXT.fetch_add(1, Relaxed)
            ),
        }
    }

    /// A shared memory name.
    fn name(&self, what: &str) -> String {
        format!("{}{what}", self.prefix)
    }

    /// A path in the temporary directory.
    fn path(&self, what: &str) -> PathBuf {
        std::env::temp_dir().join(self.name(what))
    }

    /// Where the named object `name` shows in the filesystem.
    fn shm_path(name: &str) -> PathBuf {
        Path::new(DEV_SHM).join(name.trim_start_matches('/'))
    }

    /// Every entry under the prefix in `/dev/shm` and the temporary directory.
    fn left(&self) -> Vec<PathBuf> {
        [PathBuf::from(DEV_SHM), std::env::temp_dir()]
            .iter()
            .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten().flatten())
            .filter(|e| e.file_name().as_bytes().starts_with(self.prefix.as_bytes()))
            .map(|e| e.path())
            .collect()
    }

    /// Fails the test if anything under the prefix is left: called last, after the test's
    /// own cleanup.
    fn assert_nothing_left(&self) {
        let left = self.left();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        for path in self.left() {
            let _ = std::fs::remove_file(&path).or_else(|_| std::fs::remove_dir(&path));
        }
    }
}

/// This test binary re-executed in a role: killed and reaped when dropped, so a failing test
/// leaves no process behind.
struct Helper {
    child: Child,
}

impl Helper {
    fn start(test: &str, role: &str, arg: &str) -> Helper {
        Helper {
            child: reexec(test, role, arg),
        }
    }

    /// Polls `done` until it holds; fails if the helper exits first or the deadline passes.
    fn wait_for(&mut self, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + DEADLINE;
        while !done() {
            self.assert_running(what);
            assert!(Instant::now() < deadline, "helper never got to: {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Fails if the helper has exited.
    fn assert_running(&mut self, what: &str) {
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            panic!("helper exited ({status}) before: {what}");
        }
    }

    /// Waits, bounded, for the helper to end; kills it and fails past the deadline.
    fn finish(&mut self) -> ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("helper still running at the deadline: killed");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// SIGKILLs the helper and reaps it.
    fn kill(&mut self) {
        self.child.kill().expect("kill the helper");
        let status = self.finish();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGKILL)
        );
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let deadline = Instant::now() + DEADLINE;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

/// In a helper: waits until killed, giving up (exit 3) if the parent test process goes away
/// or the deadline passes, so that no helper outlives its test.
fn hold_until_killed() -> ! {
    let parent = std::os::unix::process::parent_id();
    let end = Instant::now() + DEADLINE;
    while Instant::now() < end && std::os::unix::process::parent_id() == parent {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::process::exit(3)
}

/// In a helper: spins until `cond` holds; exits (code 4) if the parent goes away or the
/// deadline passes.
fn helper_wait(mut cond: impl FnMut() -> bool) {
    let parent = std::os::unix::process::parent_id();
    let end = Instant::now() + DEADLINE;
    while !cond() {
        if Instant::now() > end || std::os::unix::process::parent_id() != parent {
            std::process::exit(4);
        }
        std::thread::yield_now();
    }
}

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).expect("no NUL in a temp path")
}

/// What a file looks like from outside: to check that something was not touched.
#[derive(Debug, PartialEq, Eq)]
struct Fingerprint {
    bytes: Vec<u8>,
    ino: u64,
    mode: u32,
    len: u64,
    mtime: (i64, i64),
}

fn fingerprint(path: &Path) -> Fingerprint {
    let meta = std::fs::symlink_metadata(path).expect("stat");
    Fingerprint {
        bytes: std::fs::read(path).expect("read"),
        ino: meta.ino(),
        mode: meta.mode(),
        len: meta.len(),
        mtime: (meta.mtime(), meta.mtime_nsec()),
    }
}

// ---------------------------------------------------------------------------------------------
// Truncation and sealing.

/// A region file truncated by another process after it was opened. Touching a page past
/// the new end raises SIGBUS in every process that maps it (documented in `region.rs`: a
/// library cannot catch it on its users' behalf). Each access is made in a forked child: the
/// one touching a page that is gone must die of exactly SIGBUS; one touching a page that is
/// still there reads it; and a new opener gets an error, not a signal.
#[test]
fn truncated_region_file_raises_sigbus_where_the_pages_are_gone() {
    let scope = Scope::new("truncate");
    let path = scope.path("region");
    // 384 header bytes + 2048 × 8: five pages. Element 2000 starts the fifth.
    let arr = SharedArray::<u64>::create_file(&path, 2048).unwrap();
    arr.store(0, 7, Relaxed);
    arr.store(2000, 9, Relaxed);

    let cpath = c_path(&path);
    let truncator = spawn(|| {
        // SAFETY: open and ftruncate are async-signal-safe; `cpath` was made before the fork.
        unsafe {
            let fd = libc::open(cpath.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 || libc::ftruncate(fd, 4096) != 0 {
                return 1;
            }
        }
        0
    });
    let deadline = Instant::now() + DEADLINE;
    assert_eq!(wait(truncator, deadline), Exit::Code(0));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 4096);

    let still_there = spawn(|| if arr.load(0, Relaxed) == 7 { 0 } else { 1 });
    assert_eq!(wait(still_there, deadline), Exit::Code(0));
    let gone = spawn(|| if arr.load(2000, Relaxed) == 9 { 0 } else { 2 });
    assert_eq!(wait(gone, deadline), Exit::Signal(libc::SIGBUS));

    assert!(matches!(
        SharedArray::<u64>::open_file_timeout(&path, Duration::ZERO),
        Err(OpenError::TooShort { size: 4096, .. })
    ));
    drop(arr);
    std::fs::remove_file(&path).unwrap();
    scope.assert_nothing_left();
}

/// Anonymous arrays live in a memfd named `shmarray`, sealed so that nobody can shrink or
/// grow it, nor change its seals. The test finds this array's memfd through `/proc/self/fd`
/// (reopening each `/memfd:shmarray` entry and recognising ours by a marker written into the
/// array, so that other tests' descriptors cannot be mistaken for it), checks it is the file
/// mapped in `/proc/self/maps`, and that `ftruncate` on it fails with EPERM.
#[test]
fn anonymous_arrays_are_sealed_memfds_that_refuse_truncation() {
    let arr = SharedArray::<u64>::new(512).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let marker = [
        0x5348_4d41_5252_4159 ^ u64::from(std::process::id()),
        now.as_nanos() as u64,
    ];
    arr.store(100, marker[0], Relaxed);
    arr.store(101, marker[1], Relaxed);
    let needle: Vec<u8> = marker.iter().flat_map(|m| m.to_ne_bytes()).collect();

    let mut memfd = None;
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue; // closed meanwhile by another test's thread
        };
        if !target
            .as_os_str()
            .as_bytes()
            .starts_with(b"/memfd:shmarray")
        {
            continue;
        }
        let Ok(file) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(entry.path())
        else {
            continue;
        };
        let mut bytes = vec![0; file.metadata().unwrap().len() as usize];
        file.read_exact_at(&mut bytes, 0).unwrap();
        if bytes.windows(needle.len()).any(|w| w == needle) {
            memfd = Some(file);
            break;
        }
    }
    let memfd = memfd.expect("no /memfd:shmarray descriptor holds this array");
    let meta = memfd.metadata().unwrap();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(
        maps.lines().any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() >= 6
                && fields[4] == meta.ino().to_string()
                && fields[5].starts_with("/memfd:shmarray")
        }),
        "the memfd is not mapped"
    );

    let size = meta.len();
    for len in [0, size - 1, size + 1, 1 << 30] {
        let err = memfd.set_len(len).expect_err("a sealed memfd was resized");
        assert_eq!(err.raw_os_error(), Some(libc::EPERM), "ftruncate to {len}");
    }
    // SAFETY: fcntl on a descriptor we own; F_GET_SEALS and F_ADD_SEALS take an int.
    let (seals, add, add_errno) = unsafe {
        use std::os::fd::AsRawFd;
        let seals = libc::fcntl(memfd.as_raw_fd(), libc::F_GET_SEALS);
        let add = libc::fcntl(memfd.as_raw_fd(), libc::F_ADD_SEALS, libc::F_SEAL_WRITE);
        (seals, add, std::io::Error::last_os_error().raw_os_error())
    };
    let want = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;
    assert_eq!(seals & want, want, "seals {seals:#x}");
    assert_eq!(add, -1, "the seals could still be changed");
    assert_eq!(add_errno, Some(libc::EPERM));

    assert_eq!(memfd.metadata().unwrap().len(), size);
    assert_eq!(arr.load(100, Relaxed), marker[0]);
    arr.store(511, 1, Relaxed); // the last page is still there
}

// ---------------------------------------------------------------------------------------------
// Out of space.

/// A tmpfs mounted for one test; unmounted (and its directory removed) when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (a mount option, e.g. "1m") on a new directory at `dir`, or
    /// says why it cannot.
    fn mount(dir: PathBuf, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir(&dir).map_err(|e| format!("mkdir: {e}"))?;
        let cdir = c_path(&dir);
        let opts = CString::new(format!("size={size},mode=0700")).unwrap();
        // SAFETY: every pointer is a NUL-terminated string that outlives the call.
        let r = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                cdir.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                opts.as_ptr().cast(),
            )
        };
        if r != 0 {
            let e = std::io::Error::last_os_error();
            let _ = std::fs::remove_dir(&dir);
            return Err(format!("mount(2) of a tmpfs is not permitted here: {e}"));
        }
        Ok(Tmpfs { dir })
    }

    fn free_bytes(&self) -> u64 {
        statvfs(&self.dir).1
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let cdir = c_path(&self.dir);
        // SAFETY: a NUL-terminated path; MNT_DETACH so a busy mount still goes away.
        unsafe { libc::umount2(cdir.as_ptr(), libc::MNT_DETACH) };
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// (total, available) bytes of the filesystem at `path`.
fn statvfs(path: &Path) -> (u64, u64) {
    let cpath = c_path(path);
    // SAFETY: statvfs writes into the zeroed struct we pass; `cpath` is NUL-terminated.
    let st = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        assert_eq!(libc::statvfs(cpath.as_ptr(), &mut st), 0, "statvfs");
        st
    };
    #[allow(clippy::unnecessary_cast)] // the field types differ between targets
    let (frsize, blocks, avail) = (st.f_frsize as u64, st.f_blocks as u64, st.f_bavail as u64);
    (blocks * frsize, avail * frsize)
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A filesystem without room for the region: `create_file` says OutOfSpace at once (the
/// space is reserved at creation, so the alternative would be a SIGBUS later) and leaves
/// nothing behind: no file, and no space held. Runs on a private 1 MiB tmpfs, which needs
/// the right to mount (root); without it the test says so and skips.
#[test]
fn full_filesystem_is_out_of_space_and_leaves_nothing() {
    let scope = Scope::new("fullfs");
    let fs = match Tmpfs::mount(scope.path("mnt"), "1m") {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("SKIPPED full_filesystem_is_out_of_space_and_leaves_nothing: {why}");
            return;
        }
    };
    let empty = fs.free_bytes();

    // Far bigger than the filesystem.
    let huge = SharedArray::<u64>::create_file(fs.dir.join("huge"), 1 << 20);
    assert!(
        matches!(huge, Err(CreateError::OutOfSpace { .. })),
        "{huge:?}"
    );
    assert_eq!(entries(&fs.dir), Vec::<String>::new());
    assert_eq!(fs.free_bytes(), empty);

    // One region that fits, then one that would partly fit in what is left.
    let first = SharedArray::<u8>::create_file(fs.dir.join("first"), 700 << 10).unwrap();
    first.store(0, 1, Relaxed);
    let after_first = fs.free_bytes();
    let second = SharedArray::<u8>::create_file(fs.dir.join("second"), 700 << 10);
    assert!(
        matches!(second, Err(CreateError::OutOfSpace { .. })),
        "{second:?}"
    );
    assert_eq!(entries(&fs.dir), ["first"], "a half-made region was left");
    assert_eq!(fs.free_bytes(), after_first, "a failed region kept space");
    assert_eq!(first.load(0, Relaxed), 1);

    drop(first);
    std::fs::remove_file(fs.dir.join("first")).unwrap();
    drop(fs);
    scope.assert_nothing_left();
}

/// A named region larger than the whole of `/dev/shm` (its size and free space from
/// statvfs): OutOfSpace at create time, not SIGBUS later, and no segment left behind. The
/// request exceeds the filesystem's total size, which tmpfs refuses before allocating any
/// page, so the test does not eat the machine's shared memory while it runs.
#[test]
fn named_region_larger_than_dev_shm_is_out_of_space_and_leaves_nothing() {
    let scope = Scope::new("huge");
    let (total, free) = statvfs(Path::new(DEV_SHM));
    if total == 0 {
        eprintln!(
            "SKIPPED named_region_larger_than_dev_shm_is_out_of_space_and_leaves_nothing: \
             /dev/shm has no size limit"
        );
        return;
    }
    let name = scope.name("region");
    let bytes = total.max(free) + (1 << 30);
    let result = SharedArray::<u64>::create(&name, (bytes / 8) as usize);
    assert!(
        matches!(result, Err(CreateError::OutOfSpace { .. })),
        "{result:?}"
    );
    assert!(
        !Scope::shm_path(&name).exists(),
        "a half-made segment was left"
    );
    scope.assert_nothing_left();
}

// ---------------------------------------------------------------------------------------------
// Existing names, links, permissions, names.

/// A region another live process created and holds: `create` of its name or path fails
/// with AlreadyExists and changes nothing (bytes, inode, mode, size, mtime), nor does it
/// after that process is killed (a stale region is not silently replaced either).
#[test]
fn create_never_touches_an_existing_region_of_another_process() {
    const TEST: &str = "create_never_touches_an_existing_region_of_another_process";
    if let Some((_, arg)) = role() {
        let (name, path) = arg.split_once('\n').unwrap();
        let named = SharedArray::<u32>::create_from_slice(name, &[11, 22, 33, 0]).unwrap();
        let file = SharedArray::<u32>::create_file(path, 4).unwrap();
        for (i, v) in [44, 55, 66].into_iter().enumerate() {
            file.store(i, v, Relaxed);
        }
        named.store(3, 1, SeqCst); // both made
        hold_until_killed();
    }
    let scope = Scope::new("exists");
    let name = scope.name("named");
    let path = scope.path("file");
    let mut holder = Helper::start(TEST, "create", &format!("{name}\n{}", path.display()));
    holder.wait_for("creating both regions", || {
        SharedArray::<u32>::open(&name).is_ok_and(|a| a.load(3, SeqCst) == 1)
    });
    let shm = Scope::shm_path(&name);
    let (named_before, file_before) = (fingerprint(&shm), fingerprint(&path));

    let attempts = |when: &str| {
        for result in [
            SharedArray::<u32>::create(&name, 9).map(drop),
            SharedArray::<u32>::create_from_slice(&name, &[1]).map(drop),
            SharedArray::<u8>::create(&format!("/{name}"), 1).map(drop),
            SharedArray::<u32>::create_file(&path, 9).map(drop),
            SharedArray::<f64>::create_file(&path, 1).map(drop),
        ] {
            assert!(
                matches!(result, Err(CreateError::AlreadyExists { .. })),
                "{when}: {result:?}"
            );
        }
        assert_eq!(
            fingerprint(&shm),
            named_before,
            "{when}: named region touched"
        );
        assert_eq!(
            fingerprint(&path),
            file_before,
            "{when}: region file touched"
        );
    };
    attempts("creator alive");
    holder.kill();
    attempts("creator dead");
    assert_eq!(
        SharedArray::<u32>::open(&name).unwrap().to_vec(),
        [11, 22, 33, 1]
    );
    assert_eq!(
        SharedArray::<u32>::open_file(&path).unwrap().to_vec(),
        [44, 55, 66, 0]
    );

    SharedArray::<u32>::unlink(&name).unwrap();
    std::fs::remove_file(&path).unwrap();
    scope.assert_nothing_left();
}

/// A symbolic link where a region should be is never followed, whether it points to a file
/// or to nothing (the classic trick: a link to a file the victim would create). Creating,
/// opening and removing-if-stale through it fail; link and target stay as they were.
#[test]
fn symbolic_links_are_never_followed() {
    let scope = Scope::new("symlink");
    let target = scope.path("target");
    std::fs::write(&target, b"precious").unwrap();
    let missing = scope.path("would-be-created");

    let file_link = scope.path("file-link");
    let dangling = scope.path("dangling");
    let shm_name = scope.name("shm-link");
    let shm_link = Scope::shm_path(&shm_name);
    std::os::unix::fs::symlink(&target, &file_link).unwrap();
    std::os::unix::fs::symlink(&missing, &dangling).unwrap();
    std::os::unix::fs::symlink(&target, &shm_link).unwrap();

    let is_eloop = |e: &OpenError| matches!(e, OpenError::Io { source, .. } if source.raw_os_error() == Some(libc::ELOOP));
    for link in [&file_link, &dangling] {
        let created = SharedArray::<u64>::create_file(link, 4);
        assert!(
            matches!(created, Err(CreateError::AlreadyExists { .. })),
            "{created:?}"
        );
        let opened = SharedArray::<u64>::open_file(link).unwrap_err();
        assert!(is_eloop(&opened), "{opened:?}");
        let removed = remove_stale_file(link).unwrap_err();
        assert!(is_eloop(&removed), "{removed:?}");
    }
    let created = SharedArray::<u64>::create(&shm_name, 4);
    assert!(
        matches!(created, Err(CreateError::AlreadyExists { .. })),
        "{created:?}"
    );
    let opened = SharedArray::<u64>::open(&shm_name).unwrap_err();
    assert!(is_eloop(&opened), "{opened:?}");
    let removed = remove_stale(&shm_name).unwrap_err();
    assert!(is_eloop(&removed), "{removed:?}");

    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    assert!(!missing.exists(), "created through a dangling link");
    for link in [&file_link, &dangling, &shm_link] {
        assert!(std::fs::symlink_metadata(link).unwrap().is_symlink());
        std::fs::remove_file(link).unwrap();
    }
    std::fs::remove_file(&target).unwrap();
    scope.assert_nothing_left();
}

/// Regions are created with mode 0600 and owned by the creator: named and file, with this
/// process's umask and with a umask of 0 (in a helper process, since the umask belongs to
/// the whole process), so the mode does not depend on the umask being strict.
#[test]
fn regions_are_private_0600_whatever_the_umask() {
    const TEST: &str = "regions_are_private_0600_whatever_the_umask";
    if let Some((_, arg)) = role() {
        let (name, path) = arg.split_once('\n').unwrap();
        // SAFETY: umask has no memory-safety preconditions.
        unsafe { libc::umask(0) };
        SharedArray::<u8>::create(name, 1).unwrap();
        SharedArray::<u8>::create_file(path, 1).unwrap();
        return;
    }
    let scope = Scope::new("mode");
    let check = |name: &str, path: &Path| {
        for p in [Scope::shm_path(name), path.to_owned()] {
            let meta = std::fs::metadata(&p).unwrap();
            assert_eq!(meta.permissions().mode() & 0o7777, 0o600, "{p:?}");
            // SAFETY: geteuid has no preconditions.
            assert_eq!(meta.uid(), unsafe { libc::geteuid() }, "{p:?}");
        }
    };

    let (name, path) = (scope.name("here"), scope.path("here"));
    let named = SharedArray::<u8>::create(&name, 1).unwrap();
    let file = SharedArray::<u8>::create_file(&path, 1).unwrap();
    check(&name, &path);
    drop((named, file));
    SharedArray::<u8>::unlink(&name).unwrap();
    std::fs::remove_file(&path).unwrap();

    let (name, path) = (scope.name("umask0"), scope.path("umask0"));
    let mut helper = Helper::start(TEST, "umask0", &format!("{name}\n{}", path.display()));
    assert!(helper.finish().success(), "the umask-0 helper failed");
    check(&name, &path);
    SharedArray::<u8>::unlink(&name).unwrap();
    std::fs::remove_file(&path).unwrap();
    scope.assert_nothing_left();
}

/// Names that are not POSIX shared memory names are refused with InvalidName by every
/// function that takes a name, before anything is made; the longest name the filesystem
/// takes (255 bytes) works end to end, with or without its leading slash.
#[test]
fn names_are_checked_by_every_named_entry_point() {
    let scope = Scope::new("names");
    let too_long = "x".repeat(256);
    let too_long_slash = format!("/{too_long}");
    for name in [
        "",
        "/",
        "a/b",
        "/a/b",
        "a/",
        ".",
        "..",
        "/..",
        "nul\0byte",
        &too_long,
        &too_long_slash,
    ] {
        let invalid = |e: &OpenError| matches!(e, OpenError::InvalidName(n) if n.name == name);
        let created = SharedArray::<u8>::create(name, 1).unwrap_err();
        assert!(
            matches!(&created, CreateError::InvalidName(n) if n.name == name && !n.reason.is_empty()),
            "create({name:?}): {created:?}"
        );
        let created = SharedArray::<u8>::create_from_slice(name, &[1]).unwrap_err();
        assert!(
            matches!(created, CreateError::InvalidName(_)),
            "{created:?}"
        );
        for result in [
            SharedArray::<u8>::open(name).map(drop),
            SharedArray::<u8>::open_timeout(name, Duration::ZERO).map(drop),
            SharedArray::<u8>::unlink(name),
            remove_stale(name).map(drop),
        ] {
            assert!(
                result.as_ref().is_err_and(invalid),
                "{name:?} accepted: {result:?}"
            );
        }
    }

    let mut longest = scope.name("");
    longest.push_str(&"x".repeat(255 - longest.len()));
    let arr = SharedArray::<u16>::create(&longest, 2).unwrap();
    arr.store(1, 7, Relaxed);
    assert!(Scope::shm_path(&longest).exists());
    let slashed = format!("/{longest}");
    assert_eq!(SharedArray::<u16>::open(&slashed).unwrap().to_vec(), [0, 7]);
    drop(arr);
    assert!(remove_stale(&slashed).unwrap());
    assert!(matches!(
        SharedArray::<u16>::open(&longest),
        Err(OpenError::NotFound { .. })
    ));
    scope.assert_nothing_left();
}

// ---------------------------------------------------------------------------------------------
// remove_stale.

/// A helper that opens the region `arg` ("named:NAME" or "file:PATH"), says so in element 0,
/// and holds it until killed.
fn hold_region(arg: &str) -> ! {
    let arr = match arg.split_once(':').unwrap() {
        ("named", name) => SharedArray::<u64>::open(name).expect("helper: open"),
        (_, path) => SharedArray::<u64>::open_file(path).expect("helper: open_file"),
    };
    arr.store(0, 1, SeqCst);
    hold_until_killed()
}

/// The life of a region for `remove_stale`: kept while this process has it open, kept while
/// only a separately started live process has it open, removed once that process is
/// SIGKILLed (the kernel drops its lock), and then gone for openers and for a second call.
fn stale_lifecycle(
    test: &str,
    region: &str,
    arr: SharedArray<u64>,
    remove: impl Fn() -> Result<bool, OpenError>,
    open: impl Fn() -> Result<SharedArray<u64>, OpenError>,
    exists: impl Fn() -> bool,
) {
    let mut holder = Helper::start(test, "hold", region);
    holder.wait_for("opening the region", || arr.load(0, SeqCst) == 1);
    assert!(!remove().unwrap(), "removed while this process has it open");
    drop(arr);
    assert!(!remove().unwrap(), "removed while the holder lives");
    assert!(exists());
    assert_eq!(open().unwrap().load(0, SeqCst), 1);

    holder.kill();
    assert!(remove().unwrap(), "a dead holder's region was kept");
    assert!(!exists());
    assert!(matches!(open(), Err(OpenError::NotFound { .. })));
    assert!(matches!(remove(), Err(OpenError::NotFound { .. })));
}

#[test]
fn remove_stale_spares_a_live_holders_region_and_removes_it_once_killed() {
    const TEST: &str = "remove_stale_spares_a_live_holders_region_and_removes_it_once_killed";
    if let Some((_, arg)) = role() {
        hold_region(&arg);
    }
    let scope = Scope::new("stale-named");
    let name = scope.name("region");
    let arr = SharedArray::<u64>::create(&name, 2).unwrap();
    stale_lifecycle(
        TEST,
        &format!("named:{name}"),
        arr,
        || remove_stale(&name),
        || SharedArray::open(&name),
        || Scope::shm_path(&name).exists(),
    );
    scope.assert_nothing_left();
}

#[test]
fn remove_stale_file_spares_a_live_holders_file_and_removes_it_once_killed() {
    const TEST: &str = "remove_stale_file_spares_a_live_holders_file_and_removes_it_once_killed";
    if let Some((_, arg)) = role() {
        hold_region(&arg);
    }
    let scope = Scope::new("stale-file");
    let path = scope.path("region");
    let arr = SharedArray::<u64>::create_file(&path, 2).unwrap();
    stale_lifecycle(
        TEST,
        &format!("file:{}", path.display()),
        arr,
        || remove_stale_file(&path),
        || SharedArray::open_file(&path),
        || path.exists(),
    );
    scope.assert_nothing_left();
}

/// `remove_stale` removes only this crate's regions: another program's segment or file
/// (which takes no lock, so looks unused) is refused with an error and kept, whether it has
/// other bytes, zeros, or is shorter than a header; an empty one (what a creator makes just
/// before it takes its lock) is left alone; a directory or FIFO is refused without being
/// opened. A real stale region is removed, for contrast.
#[test]
fn remove_stale_removes_only_this_crates_regions() {
    let scope = Scope::new("foreign");
    type Remover = fn(&Scope, &str) -> (PathBuf, Result<bool, OpenError>);
    let named: Remover = |scope, what| {
        let name = scope.name(what);
        (Scope::shm_path(&name), remove_stale(&name))
    };
    let file: Remover = |scope, what| {
        let path = scope.path(what);
        (path.clone(), remove_stale_file(&path))
    };
    for remover in [named, file] {
        let contents: [(&str, Vec<u8>); 4] = [
            ("other", b"SHMARRAX".repeat(512)),
            ("zeros", vec![0; 4096]),
            ("short", b"SHMARRAY".to_vec()),
            ("empty", vec![]),
        ];
        for (what, bytes) in &contents {
            let path = remover(&scope, what).0;
            std::fs::write(&path, bytes).unwrap();
            let before = fingerprint(&path);
            let result = remover(&scope, what).1;
            match *what {
                "other" => assert!(
                    matches!(result, Err(OpenError::BadMagic { found, .. }) if found == u64::from_le_bytes(*b"SHMARRAX")),
                    "{result:?}"
                ),
                "zeros" => assert!(
                    matches!(result, Err(OpenError::BadMagic { found: 0, .. })),
                    "{result:?}"
                ),
                "short" => assert!(
                    matches!(result, Err(OpenError::TooShort { size: 8, .. })),
                    "{result:?}"
                ),
                _ => assert!(matches!(result, Ok(false)), "{result:?}"),
            }
            assert_eq!(fingerprint(&path), before, "{what} was touched");
            std::fs::remove_file(&path).unwrap();
        }
        assert!(matches!(
            remover(&scope, "missing").1,
            Err(OpenError::NotFound { .. })
        ));
    }

    let dir = scope.path("dir");
    std::fs::create_dir(&dir).unwrap();
    let fifo = scope.path("fifo");
    let cfifo = c_path(&fifo);
    // SAFETY: a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(cfifo.as_ptr(), 0o600) }, 0);
    for special in [&dir, &fifo] {
        let result = remove_stale_file(special);
        assert!(
            matches!(&result, Err(OpenError::Io { source, .. }) if source.kind() == std::io::ErrorKind::InvalidInput),
            "{result:?}"
        );
        assert!(special.exists());
    }
    std::fs::remove_dir(&dir).unwrap();
    std::fs::remove_file(&fifo).unwrap();

    let name = scope.name("real");
    drop(SharedArray::<i8>::create(&name, 3).unwrap());
    assert!(remove_stale(&name).unwrap());
    let path = scope.path("real");
    drop(SharedArray::<i8>::create_file(&path, 3).unwrap());
    assert!(remove_stale_file(&path).unwrap());
    scope.assert_nothing_left();
}

// Rounds of `remove_stale` in this process racing a helper process over one region name.
// Each round starts both at once; this process calls `remove_stale` again and again until
// the helper has finished its part, so the calls cover every step of the helper's open or
// create, and the helper keeps what it got until the round is checked. The control array
// holds the round to play, the round the helper finished, and the helper's result.
const ROUND: usize = 0;
const DONE: usize = 1;
const RESULT: usize = 2;
const ROUNDS: u64 = 100;
const OPENED: u64 = 1;
const NOT_FOUND: u64 = 2;
const CREATED: u64 = 3;
const CREATED_BUT_NAME_GONE: u64 = 4;
const OTHER: u64 = 5;

/// The helper's side of `race`: in round `i`, open or create the round's region, report,
/// and hold what it got until the parent starts the next round.
fn race_helper(arg: &str) {
    let (ctl, rest) = arg.split_once('\n').unwrap();
    let (mode, prefix) = rest.split_once('\n').unwrap();
    let ctl = SharedArray::<u64>::open(ctl).expect("helper: open control");
    let mut held = None;
    for i in 1..=ROUNDS {
        helper_wait(|| ctl.load(ROUND, SeqCst) == i);
        drop(held.take()); // the parent has checked round i - 1
        let name = format!("{prefix}{i}");
        let result = if mode == "open" {
            match SharedArray::<u64>::open(&name) {
                Ok(arr) => {
                    held = Some(arr);
                    OPENED
                }
                Err(OpenError::NotFound { .. }) => NOT_FOUND,
                Err(_) => OTHER,
            }
        } else {
            match SharedArray::<u64>::create(&name, 1) {
                Ok(arr) => {
                    held = Some(arr);
                    match SharedArray::<u64>::open_timeout(&name, Duration::ZERO) {
                        Ok(_) => CREATED,
                        Err(_) => CREATED_BUT_NAME_GONE,
                    }
                }
                Err(_) => OTHER,
            }
        };
        ctl.store(RESULT, result, SeqCst);
        ctl.store(DONE, i, SeqCst);
    }
    helper_wait(|| ctl.load(ROUND, SeqCst) > ROUNDS);
}

/// What the `remove_stale` calls of one round returned.
#[derive(Debug, Default)]
struct Tally {
    removed: u32,
    kept: u32,
    not_found: u32,
    other: Vec<String>,
}

/// The parent's side: `prepare(name)` before each round, then `remove_stale` until the
/// helper is done; `check(tally, helper_result, name)` after it.
fn race(test: &str, mode: &str, prepare: impl Fn(&str), check: impl Fn(&Tally, u64, &str)) {
    let scope = Scope::new(mode);
    let ctl_name = scope.name("ctl");
    let ctl = SharedArray::<u64>::create(&ctl_name, 3).unwrap();
    let prefix = scope.name("round-");
    let mut helper = Helper::start(test, mode, &format!("{ctl_name}\n{mode}\n{prefix}"));
    let mut seen = std::collections::BTreeMap::new();
    for i in 1..=ROUNDS {
        let name = format!("{prefix}{i}");
        prepare(&name);
        let mut tally = Tally::default();
        let deadline = Instant::now() + DEADLINE;
        ctl.store(ROUND, i, SeqCst);
        loop {
            let helper_done = ctl.load(DONE, SeqCst) == i;
            match remove_stale(&name) {
                Ok(true) => tally.removed += 1,
                Ok(false) => tally.kept += 1,
                Err(OpenError::NotFound { .. }) => tally.not_found += 1,
                Err(e) => tally.other.push(format!("{e:?}")),
            }
            if helper_done {
                break;
            }
            helper.assert_running("finishing a round");
            assert!(Instant::now() < deadline, "helper never finished round {i}");
        }
        let got = ctl.load(RESULT, SeqCst);
        check(&tally, got, &name);
        let kind = (tally.removed > 0, tally.kept > 0, tally.not_found > 0, got);
        *seen.entry(format!("{kind:?}")).or_insert(0) += 1;
        let _ = SharedArray::<u64>::unlink(&name);
    }
    ctl.store(ROUND, ROUNDS + 1, SeqCst);
    assert!(helper.finish().success(), "the racing helper failed");
    // Which interleavings this run met: information only, the split depends on timing.
    eprintln!("{test}: (removed, kept, not found, helper) over {ROUNDS} rounds: {seen:?}");
    drop(ctl);
    SharedArray::<u64>::unlink(&ctl_name).unwrap();
    scope.assert_nothing_left();
}

/// An opener racing `remove_stale` for a stale region: either the region is removed (by
/// exactly one call) and the opener finds nothing, or the opener gets it and it is kept.
/// Never both.
#[test]
fn remove_stale_never_removes_a_region_an_opener_got() {
    const TEST: &str = "remove_stale_never_removes_a_region_an_opener_got";
    if let Some((_, arg)) = role() {
        return race_helper(&arg);
    }
    race(
        TEST,
        "open",
        |name| drop(SharedArray::<u64>::create(name, 1).unwrap()),
        |tally, got, name| {
            assert!(tally.other.is_empty(), "{tally:?}");
            match got {
                NOT_FOUND => assert_eq!(tally.removed, 1, "{tally:?}"),
                OPENED => {
                    assert_eq!(tally.removed, 0, "removed what an opener got: {tally:?}");
                    assert!(Scope::shm_path(name).exists());
                }
                other => panic!("the opener got {other}"),
            }
        },
    );
}

/// A creator racing `remove_stale` for a new name: the creator's region is never removed,
/// not even between its creating the object and taking its lock. `remove_stale` finds
/// nothing yet, or leaves it alone.
///
/// The window between creating and locking is a few instructions wide, so a run rarely
/// lands a call inside it: the deterministic check of that state (an empty object, which
/// is what a creator has made before it locks) is the "empty" case of
/// `remove_stale_removes_only_this_crates_regions`.
#[test]
fn remove_stale_never_removes_a_region_being_created() {
    const TEST: &str = "remove_stale_never_removes_a_region_being_created";
    if let Some((_, arg)) = role() {
        return race_helper(&arg);
    }
    race(
        TEST,
        "create",
        |_| {},
        |tally, got, _| {
            assert!(tally.other.is_empty(), "{tally:?}");
            assert_eq!(
                tally.removed, 0,
                "removed a region being created: {tally:?}"
            );
            assert_eq!(got, CREATED, "the creator's region lost its name");
        },
    );
}
