//! Embeds the version, the git commit and the build date for `gradcap --version`.
use std::process::Command;

fn main() {
    // A build from a copy of the sources without `.git` (the Windows build
    // in its chroot) is told the commit by the environment.
    if let Ok(commit) = std::env::var("GRADCAP_GIT_COMMIT") {
        if !commit.is_empty() {
            println!("cargo:rustc-env=GRADCAP_GIT_COMMIT={commit}");
            println!("cargo:rustc-env=GRADCAP_BUILD_DATE={}", build_date());
            println!("cargo:rerun-if-env-changed=GRADCAP_GIT_COMMIT");
            return;
        }
    }
    println!("cargo:rerun-if-env-changed=GRADCAP_GIT_COMMIT");
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    let date = build_date();
    let commit = if dirty { format!("{commit}-dirty") } else { commit };
    println!("cargo:rustc-env=GRADCAP_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=GRADCAP_BUILD_DATE={date}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
    println!("cargo:rerun-if-changed=build.rs");
}

fn build_date() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}
