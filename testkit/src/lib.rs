//! Helpers every test suite of the workspace shares (a dev-dependency
//! only; nothing here ships).
//!
//! - [`shared`]: where the shared real-data folder is, and the one rule
//!   for its absence.

use std::path::{Path, PathBuf};

/// The shared real-data folder (`QUEUELAKE_SHARED`, default `../shared`
/// beside the checkout), when it holds `must_hold`. `None` when absent
/// outside CI (the test is skipped, and says so); under `CI=true` a
/// missing folder fails the test instead.
pub fn shared(must_hold: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("QUEUELAKE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    if dir.join(must_hold).exists() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {} is missing",
        dir.join(must_hold).display()
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "{} not found; real-data checks skipped outside CI",
            dir.join(must_hold).display()
        );
    }
    None
}
