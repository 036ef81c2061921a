//! Compile-fail tests for `#[vigil::main]` and `#[vigil::test]` (and for the
//! syntax of `select!`, `join!` and `try_join!`): each file in
//! `tests/ui/` must fail to compile with exactly the diagnostics in the
//! `.stderr` file next to it (which checks that errors point at the right
//! tokens).
//!
//! To regenerate the snapshots after an intended change in a message, run
//! `TRYBUILD=overwrite cargo test -p vigil --test macros_ui` and review the
//! diff. The snapshots are tied to the compiler's diagnostic format, so a new
//! toolchain may need them regenerated too.
#![cfg(feature = "macros")]

#[test]
fn macros_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
