//! A fixed-length array of numbers shared between processes, with lock-free atomic
//! operations on every element.
//!
//! Every element of a [`SharedArray`] is a native atomic cell (`AtomicU64` for `u64`,
//! `AtomicI32` for `i32`, ...) in a `MAP_SHARED` memory region, so an increment from any
//! process is one `fetch_add`: no lock, no system call, no allocation. When a whole loop must
//! be atomic there is a cross-process lock that survives its holder's death, and a seqlock
//! gives readers consistent whole-array snapshots without making them wait for each other.
//!
//! ```
//! use shmarray::SharedArray;
//! use std::sync::atomic::Ordering::Relaxed;
//!
//! let counts = SharedArray::<u64>::new(4)?;          // shared with children after fork()
//! counts.fetch_add(1, 10, Relaxed);                   // lock-free, from any process
//! {
//!     let guard = counts.lock()?;                         // all-or-nothing to snapshots
//!     for i in 0..guard.len() {
//!         guard.add(i, 1);
//!     }
//! }
//! assert_eq!(counts.snapshot()?, [1, 11, 1, 1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Access paths and what each guarantees
//!
//! | path | how | guarantees | costs | checked by (loom model in `tests/loom.rs`) |
//! |---|---|---|---|---|
//! | lock-free op | `arr.fetch_add(i, 1, Relaxed)` | no lost update, per element; lock-free progress | one atomic instruction | `lock_free_fetch_add_loses_no_update`; contrast `unlocked_load_then_store_loses_an_update` |
//! | lock per op | `arr.lock()?.add(i, 1)` | no lost update; each op atomic to snapshots | lock + unlock per element | `lock_per_op_loses_no_update` |
//! | lock whole loop | `let g = arr.lock()?; for i.. { g.add(i, 1) }` | the loop is all-or-nothing to snapshots and exclusive among lock users | lock + unlock once | `locked_loop_is_all_or_nothing_to_snapshots`; contrast `lock_free_loop_is_seen_half_done` |
//! | bulk update | `arr.lock()?.update_each(\|v\| v + 1)` | as lock whole loop; but a lock-free write racing with it can be lost | lock + unlock once; a Relaxed load + store per element | `tests/loom_bulk.rs`: `bulk_update_is_all_or_nothing_to_snapshots`, `bulk_update_beside_locked_writers_loses_nothing`; contrast `bulk_update_loses_a_racing_lock_free_add` |
//! | snapshot | `arr.snapshot()?` | consistent w.r.t. every locked write; readers never block each other; bounded retries, then the lock; never torn data after a writer's death (an error instead) | one pass of loads per try | `snapshot_never_returns_an_unfinished_write`, `dead_writer_is_repaired_and_readers_do_not_spin` |
//! | `to_vec`, `iter`, `get` | per-element Acquire loads | each element atomic; **not** a consistent snapshot | one pass of loads | (per-element atomicity is the hardware's) |
//!
//! Lock-free operations do not take part in the seqlock: a snapshot taken while lock-free
//! writers run is per-element atomic only. Mix the paths knowingly: a guard's element
//! operations ([`ArrayGuard::add`], [`ArrayGuard::sub`], ...) are atomic read-modify-writes,
//! so they never lose a concurrent lock-free update, but a lock-free writer is not excluded
//! by the lock. The guard's bulk updates ([`ArrayGuard::update_each`],
//! [`ArrayGuard::update_range`]) are a Relaxed load and store per element, at the speed of
//! a raw mutex around a plain loop: right when every writer locks, and able to lose a
//! lock-free write that lands between an element's load and store.
//!
//! An array created with [`ArrayOptions::seqlock`]`(false)` keeps no sequence counter: its
//! guards touch only the lock and the data, and its snapshots take the lock. The choice is
//! recorded in the region, so every process that opens it follows the creator.
//!
//! # Differences from Python's `multiprocessing.Array`
//!
//! - **Atomic read-modify-write.** `arr[i] += 1` in Python is a read and a write; without
//!   `get_lock()` updates are lost. Here [`SharedArray::fetch_add`] is one atomic instruction.
//! - **The lock survives a dead holder.** Python's lock hangs every other process forever if
//!   its holder dies. Here lockers get [`LockError::OwnerDied`] until one takes the lock with
//!   [`SharedArray::lock_for_repair`], repairs, and calls [`ArrayGuard::make_consistent`].
//! - **Relocking is an error.** Python's default lock is recursive; here a second
//!   [`lock`](SharedArray::lock) on the same thread is [`LockError::Deadlock`].
//! - **Unrelated processes can attach** by name ([`SharedArray::create`] /
//!   [`SharedArray::open`]) or by file ([`SharedArray::create_file`]), and the region records
//!   its element type, so opening it as another type is an error ([`OpenError::WrongType`]).
//! - **Consistent snapshots** without stopping writers: [`SharedArray::snapshot`].
//! - Same type codes (`'q'`, `'d'`, ...: [`TypeCode`]), same creation from a length or a
//!   slice. No resizing, no slicing assignment, no `lock=False` switch: lock-free access is
//!   always available and the lock is only taken when asked for.
//!
//! # Differences from `std::sync::atomic`
//!
//! The element operations have the same names, arguments, orderings and results as
//! `AtomicU64` and friends, with an index in front. The differences: the memory is shared
//! between processes; floats have atomic `fetch_add`/`fetch_sub`/`fetch_max`/`fetch_min` (as
//! compare-exchange loops) and compare by bit pattern; an index out of bounds panics, as
//! slice indexing does.
//!
//! # Where things are
//!
//! | file | what |
//! |---|---|
//! | `array.rs` | [`SharedArray`]: constructors and lock-free element operations |
//! | `options.rs` | [`ArrayOptions`]: the builder behind every constructor (the seqlock choice, the heap terminals, and those of `region_options.rs`) |
//! | `region_options.rs` | what every kind's builder shares: mode, unlink on drop, open timeout, race-free `open_or_create` |
//! | `origin.rs` | [`Origin`]: where a region lives, as `name()`/`path()` and errors report it |
//! | `striped.rs` | [`StripedArray`]: per-CPU stripes of counters, summed on read |
//! | `striped_options.rs` | [`StripedOptions`] and `StripedArray`'s constructors |
//! | `cpu.rs` | which stripe the calling CPU adds to; the default stripe count |
//! | `guard.rs` | [`ArrayGuard`] and `lock`/`try_lock`/`lock_timeout`/`lock_for_repair` |
//! | `arc_guard.rs` | [`ArcArrayGuard`]: the lock held through an `Arc`, for owners that cannot hold a borrow |
//! | `guard_bulk.rs` | the guard's one-walk bulk operations: `update_each`, `update_range`, `fill`, `copy_to_slice` |
//! | `guard_ops.rs` | the guard's element read-modify-writes: `sub`, `swap`, `fetch_max`, `compare_exchange`, ... |
//! | `snapshot.rs` | `snapshot`/`snapshot_into`: the seqlock read side |
//! | `element.rs` | [`Element`], [`Integer`], [`TypeCode`]: element types and their cell operations |
//! | `error.rs` | [`CreateError`], [`OpenError`], [`LockError`], [`SnapshotError`] |
//! | `control.rs` | the control block: lock + seqlock counter, and what an owner's death means |
//! | `pid.rs` | this process's ID, cached, so a guard inherited through `fork` knows it is a copy |
//! | `seqlock.rs` | the seqlock counter and its orderings |
//! | `raw_lock/` | the raw lock: a robust pthread mutex, or its loom model |
//! | `header.rs` | the region header: fields, publication, validation |
//! | `layout.rs` | [`Layout`]: the dense and striped payloads and their sizes |
//! | `region.rs` | mapping a region (`memmap2::MmapRaw`) |
//! | `backing.rs` | memfd, POSIX shared memory and files |
//! | `memory.rs` | how much memory the system can give: huge memory-backed regions are refused |
//! | `storage.rs` | where an array's memory lives: the heap or a mapped region |
//! | `heap.rs` | heap storage, for loom, miri, property tests and single-process use |
//! | `stale.rs` | [`remove_stale`], [`remove_stale_file`]: removing regions nobody uses |
//! | `inspect.rs` | [`inspect`], [`inspect_file`], [`RegionInfo`]: a region's header and live state, read-only |
//! | `sync.rs` | the only import of atomics: switches to loom under `--cfg loom` |
//!
//! # Model checking
//!
//! Built with `RUSTFLAGS="--cfg loom"`, every atomic comes from loom and arrays live on the
//! heap ([`SharedArray::new_heap`]); `tests/loom.rs` then runs the crate's own cell, lock and
//! seqlock code under the model checker. The robust pthread mutex cannot run under loom; it
//! is replaced by a model of its contract (mutual exclusion with acquire/release ordering,
//! and an "owner died" report for the next locker after a holder dies). The model does not
//! cover the kernel's robust-list handling, timeouts or `EDEADLK`: real-process tests in
//! `tests/` cover those. `.ci/loom-mutants.sh` checks that the models catch deliberate
//! defects (missing fences, a counter never made odd, no death on panic).
//!
//! Miri runs the heap arrays' unit tests (`heap_*`) on the same model of the mutex, which
//! under miri also reports `EDEADLK` and honours timeouts (`.ci/miri.sh`).
//!
//! # Platform
//!
//! Linux only: the robust pthread mutex functions the lock relies on are bound by `libc` on
//! Linux only, anonymous arrays are sealed `memfd`s, and the timed lock uses
//! `pthread_mutex_clocklock` (glibc 2.30 or later).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
#![cfg(unix)]

mod arc_guard;
mod array;
mod control;
mod cpu;
mod element;
mod error;
mod guard;
mod guard_bulk;
mod guard_ops;
mod heap;
mod layout;
mod origin;
mod pid;
mod raw_lock;
mod seqlock;
mod snapshot;
mod storage;
mod striped;
mod striped_options;
mod sync;

#[cfg(not(loom))]
mod backing;
#[cfg(not(loom))]
mod header;
#[cfg(not(loom))]
mod inspect;
#[cfg(not(loom))]
mod memory;
mod options;
#[cfg(not(loom))]
mod region;
#[cfg(not(loom))]
mod region_options;
#[cfg(not(loom))]
mod stale;

pub use arc_guard::ArcArrayGuard;
pub use array::{SharedArray, DEFAULT_OPEN_TIMEOUT};
pub use element::{Element, Integer, TypeCode};
pub use error::{CreateError, InvalidName, LockError, OpenError, SnapshotError};
pub use guard::ArrayGuard;
#[cfg(not(loom))]
pub use inspect::{inspect, inspect_file, LockState, RegionInfo};
pub use layout::Layout;
pub use options::ArrayOptions;
pub use origin::Origin;
#[cfg(not(loom))]
pub use stale::{remove_stale, remove_stale_file};
pub use striped::StripedArray;
pub use striped_options::StripedOptions;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
