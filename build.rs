//! Only for `.ci/loom-mutants.sh`: `SHMARRAY_MUTANT=<name>` switches on one deliberate defect
//! (`cfg(shmarray_mutant = "<name>")`, declared in Cargo.toml) in this crate alone, so that
//! the mutation check rebuilds neither the dependencies nor anything else. Unset, as in
//! every normal build, it does nothing.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SHMARRAY_MUTANT");
    match std::env::var("SHMARRAY_MUTANT") {
        Ok(mutant) if !mutant.is_empty() => {
            println!("cargo:rustc-cfg=shmarray_mutant=\"{mutant}\"");
        }
        _ => {}
    }
}
