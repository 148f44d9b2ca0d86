//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A small tmpfs mounted at `dir/name` (a real "full disk"); unmounted on drop.
/// `None` when mounting is not allowed (not root): the caller skips.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    pub fn mount(dir: &Path, name: &str, size: &str) -> Option<Tmpfs> {
        let mnt = dir.join(name);
        std::fs::create_dir_all(&mnt).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&mnt)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("skipped: mounting a tmpfs needs root");
            return None;
        }
        Some(Tmpfs(mnt))
    }

    /// Remounts read-only (a write-protected drive) or read-write again.
    pub fn set_read_only(&self, ro: bool) {
        let opt = if ro { "remount,ro" } else { "remount,rw" };
        let ok = Command::new("mount").args(["-o", opt]).arg(&self.0).status().unwrap();
        assert!(ok.success());
    }

    /// Gives the filesystem more room ("space returns").
    pub fn grow(&self, size: &str) {
        let ok = Command::new("mount").args(["-o", &format!("remount,size={size}")]).arg(&self.0).status().unwrap();
        assert!(ok.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// The first page of a table or index, after the WAL is checkpointed into the file.
pub fn root_page(db: &Path, name: &str) -> usize {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let root: i64 = conn.query_row("SELECT rootpage FROM sqlite_schema WHERE name = ?1", [name], |r| r.get(0)).unwrap();
    root as usize
}

/// Damage below SQLite: XORs the first `len` bytes of `name`'s root page in the file.
pub fn damage_root_page(db: &Path, name: &str, len: usize, xor: u8) {
    let at = (root_page(db, name) - 1) * 4096;
    let mut bytes = std::fs::read(db).unwrap();
    for b in &mut bytes[at..at + len] {
        *b ^= xor;
    }
    std::fs::write(db, &bytes).unwrap();
}

/// An X server of our own, so xdotool and the window under test share it:
/// the first free display from `first`, a screen of `screen` ("1920x1080x24").
pub struct Xvfb {
    child: std::process::Child,
    pub display: String,
}

impl Xvfb {
    pub fn start(first: u32, screen: &str) -> Xvfb {
        use std::time::{Duration, Instant};
        for n in first..first + 60 {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let display = format!(":{n}");
            let child = Command::new("Xvfb")
                .args([display.as_str(), "-screen", "0", screen, "-nolisten", "tcp"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("Xvfb (CI installs xvfb)");
            let started = Instant::now();
            while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                assert!(started.elapsed() < Duration::from_secs(10), "Xvfb did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
            return Xvfb { child, display };
        }
        panic!("no free X display");
    }

    pub fn xdotool(&self, args: &[&str]) -> std::process::Output {
        Command::new("xdotool").args(args).env("DISPLAY", &self.display).output().expect("xdotool (CI installs it)")
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
