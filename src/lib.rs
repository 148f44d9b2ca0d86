//! gradcap: the capture station for campus diploma-photo days (学历照片采集).
//!
//! The library behind the `gradcap` binary. Dependency direction:
//! `station` → `store` / `photo` / `scan` / `code`; nothing here draws UI.

pub mod app;
pub mod assets;
pub mod camera;
pub mod cli;
pub mod code;
pub mod export;
pub mod frame;
pub mod paths;
pub mod pdf;
pub mod photo;
pub mod roster;
pub mod scan;
pub mod settings;
pub mod simulate;
pub mod sound;
pub mod station;
pub mod store;
pub mod task;
pub mod text;
pub mod ui;
pub mod worker;

/// Version line for `gradcap --version`: version, git commit, build date.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("GRADCAP_GIT_COMMIT"),
    ", built ",
    env!("GRADCAP_BUILD_DATE"),
    ")"
);

static PROCESS_START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// The moment `main` first asked (start-up timing); call early in `main`.
pub fn process_start() -> std::time::Instant {
    *PROCESS_START.get_or_init(std::time::Instant::now)
}
