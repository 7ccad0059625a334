//! The model of a `StripedArray`, shared by the property test (`tests/model.rs`) and the
//! `ops_model` fuzz target: one `Vec` per stripe, and the thread pinned to a known CPU so
//! that the model knows which stripe each add lands on.
//!
//! Knowing the stripe is what makes the model exact for floats too: a sum adds the stripes
//! in stripe order, starting from `+0.0`, and float addition is not associative, so the
//! model must add the same numbers in the same order. [`StripedOp::MoveTo`] moves the
//! thread to another CPU it may run on (`sched_setaffinity`, which migrates the caller
//! before returning), so adds spread over several stripes.

use super::Model;
use shmarray::StripedArray;

#[derive(Clone, Debug)]
pub enum StripedOp<T> {
    Add(usize, T),
    Sub(usize, T),
    Sum(usize),
    Sums,
    /// `sums_into` a buffer of the right length.
    SumsInto,
    Take(usize),
    TakeAll,
    /// Pin the thread to CPU number `n` (modulo their number) of those it may run on.
    MoveTo(usize),
}

/// The CPUs the calling thread may run on.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the kernel fills it in.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid for the size passed; pid 0 is the calling thread.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    assert_eq!(
        rc,
        0,
        "sched_getaffinity: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `set` is initialised.
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

/// Pins the calling thread to `cpus` (all of them, or one).
fn pin(cpus: &[usize]) {
    // SAFETY: as in `allowed_cpus`.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in cpus {
        // SAFETY: `c` came from `allowed_cpus`, below CPU_SETSIZE.
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
    assert_eq!(
        rc,
        0,
        "sched_setaffinity: {}",
        std::io::Error::last_os_error()
    );
}

/// The thread pinned to one CPU at a time; its original affinity is restored on drop.
pub struct Pinned {
    allowed: Vec<usize>,
    cpu: usize,
}

impl Pinned {
    pub fn new() -> Pinned {
        let allowed = allowed_cpus();
        let cpu = allowed[0];
        pin(&[cpu]);
        Pinned { allowed, cpu }
    }

    fn move_to(&mut self, n: usize) {
        self.cpu = self.allowed[n % self.allowed.len()];
        pin(&[self.cpu]);
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        pin(&self.allowed);
    }
}

/// Applies `op` to `arr` and to `model` (one `Vec` per stripe); panics on a difference.
pub fn striped_step<T: Model>(
    arr: &StripedArray<T>,
    model: &mut [Vec<T>],
    pinned: &mut Pinned,
    op: &StripedOp<T>,
) {
    let stripes = model.len();
    let mine = pinned.cpu & (stripes - 1);
    let sum = |model: &[Vec<T>], i: usize| {
        model
            .iter()
            .fold(T::default(), |acc, stripe| T::add(acc, stripe[i]))
    };
    let check = |got: T, want: T, what: &str| {
        assert!(
            T::same(got, want),
            "{what}: array gave {got:?}, model {want:?}"
        );
    };
    let len = arr.len();
    match *op {
        StripedOp::Add(i, v) => {
            arr.add(i, v);
            model[mine][i] = T::add(model[mine][i], v);
        }
        StripedOp::Sub(i, v) => {
            arr.sub(i, v);
            model[mine][i] = T::sub(model[mine][i], v);
        }
        StripedOp::Sum(i) => check(arr.sum(i), sum(model, i), "sum"),
        StripedOp::Sums | StripedOp::SumsInto => {
            let got = if matches!(op, StripedOp::Sums) {
                arr.sums()
            } else {
                let mut out = vec![T::default(); len];
                arr.sums_into(&mut out);
                out
            };
            for (i, &g) in got.iter().enumerate() {
                check(g, sum(model, i), "sums");
            }
        }
        StripedOp::Take(i) => {
            check(arr.take(i), sum(model, i), "take");
            model.iter_mut().for_each(|stripe| stripe[i] = T::default());
        }
        StripedOp::TakeAll => {
            let got = arr.take_all();
            assert_eq!(got.len(), len);
            for (i, &g) in got.iter().enumerate() {
                check(g, sum(model, i), "take_all");
            }
            model
                .iter_mut()
                .for_each(|stripe| stripe.fill(T::default()));
        }
        StripedOp::MoveTo(n) => pinned.move_to(n),
    }
    // Every element's sum after every step (any two NaNs agree: see `Model::same`).
    for i in 0..len {
        check(arr.sum(i), sum(model, i), "sum after the step");
    }
}

/// Runs `ops` (indices already in range) on a heap array and a mapped (memfd) array of
/// `len` elements and `stripes` stripes, each against its own model, on a pinned thread.
pub fn run_striped<T: Model>(len: usize, stripes: usize, ops: &[StripedOp<T>]) {
    let mut pinned = Pinned::new();
    let options = StripedArray::<T>::options().stripes(stripes);
    let heap = options.heap(len).unwrap();
    let mapped = options.anonymous(len).unwrap();
    for arr in [&heap, &mapped] {
        assert_eq!((arr.len(), arr.stripes()), (len, stripes));
        pinned.move_to(0);
        let mut model = vec![vec![T::default(); len]; stripes];
        for op in ops {
            striped_step(arr, &mut model, &mut pinned, op);
        }
    }
}
