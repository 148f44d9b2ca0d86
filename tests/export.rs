//! End-of-day export through the real binary: a verified bundle, incremental
//! runs, a tampered bundle, and a full target that changes nothing and is
//! completed by running the export again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gradcap");

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).env_remove("GRADCAP_DATA_DIR").output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn bundles(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    v.sort();
    v
}

fn exports_in_db(db: &Path) -> usize {
    gradcap::store::Store::open_read_only(db).unwrap().export_history().unwrap().len()
}

#[test]
fn an_export_is_complete_verified_and_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "12", "--date", "2026-06-01", "--seed", "2"]));
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    let first = bundles(&usb);
    assert_eq!(first.len(), 1);
    let b = &first[0];
    assert!(b.file_name().unwrap().to_string_lossy().ends_with("_B001"));
    for f in ["manifest.csv", "manifest.xlsx", "manifest.json", "SHA256SUMS", "说明.txt"] {
        assert!(b.join(f).exists(), "{f}");
    }
    assert!(std::fs::read(b.join("manifest.csv")).unwrap().starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
    let photographed = gradcap::store::Store::open_read_only(&db).unwrap().verify().unwrap().photographed as usize;
    assert_eq!(std::fs::read_dir(b.join("photos")).unwrap().count(), photographed);
    let img = image::open(std::fs::read_dir(b.join("photos")).unwrap().next().unwrap().unwrap().path()).unwrap();
    assert_eq!((img.width(), img.height()), (480, 640));
    ok(&run(&db, &["verify-bundle", b.to_str().unwrap()]));
    if let Ok(out) = Command::new("sha256sum").args(["-c", "--quiet", "SHA256SUMS"]).current_dir(b).output() {
        assert!(out.status.success(), "sha256sum -c: {}", String::from_utf8_lossy(&out.stdout));
    }
    // Nothing new: refused. New students: only they go out.
    assert_eq!(run(&db, &["export", "--to", usb.to_str().unwrap()]).status.code(), Some(1));
    ok(&run(&db, &["simulate", "--students", "3", "--date", "2026-06-01", "--seed", "3"]));
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    let second = bundles(&usb);
    assert_eq!(second.len(), 2);
    let now = gradcap::store::Store::open_read_only(&db).unwrap().verify().unwrap().photographed as usize;
    assert_eq!(std::fs::read_dir(second[1].join("photos")).unwrap().count(), now - photographed);
    ok(&run(&db, &["export", "--full", "--to", usb.to_str().unwrap()]));
    assert_eq!(std::fs::read_dir(bundles(&usb)[2].join("photos")).unwrap().count(), now);
    ok(&run(&db, &["verify"]));
}

#[test]
fn verify_bundle_finds_a_changed_a_missing_and_a_stray_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "4", "--seed", "4"]));
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    let b = bundles(&usb).remove(0);
    let photos: Vec<_> = std::fs::read_dir(b.join("photos")).unwrap().flatten().map(|e| e.path()).collect();
    std::fs::write(&photos[0], b"not the photo").unwrap();
    std::fs::remove_file(b.join("originals").join(photos[1].file_name().unwrap())).unwrap();
    std::fs::write(b.join("photos").join("stray.jpg"), b"x").unwrap();
    let out = run(&db, &["verify-bundle", b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("content differs") && text.contains("missing") && text.contains("stray.jpg"), "{text}");
    assert_eq!(run(&db, &["verify-bundle", dir.path().to_str().unwrap()]).status.code(), Some(1), "not a bundle");
}

/// A full drive: a 512 KiB tmpfs (needs root, as CI runs). The database is
/// unchanged, the half-written folder is named `.partial`, and the export
/// completes once there is room.
#[test]
fn a_full_target_changes_nothing_and_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "10", "--seed", "6"]));
    let Some(fs) = common::Tmpfs::mount(dir.path(), "usb", "512k") else { return };
    let usb = fs.0.clone();
    let out = run(&db, &["export", "--to", usb.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("磁盘已满") && err.contains("database is unchanged"), "{err}");
    assert_eq!(exports_in_db(&db), 0, "nothing marked exported");
    let left = bundles(&usb);
    assert!(left.iter().all(|p| p.to_string_lossy().ends_with(".partial")), "{left:?}");
    fs.grow("64m");
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    assert_eq!(exports_in_db(&db), 1);
    let done = bundles(&usb);
    assert_eq!(done.len(), 1, "the .partial folder was replaced: {done:?}");
    ok(&run(&db, &["verify-bundle", done[0].to_str().unwrap()]));
}

/// A write-protected drive: a clear error, nothing recorded; writable again, the export completes.
#[test]
fn a_read_only_target_is_refused_clearly_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "4", "--seed", "8"]));
    let Some(fs) = common::Tmpfs::mount(dir.path(), "usb", "64m") else { return };
    fs.set_read_only(true);
    let out = run(&db, &["export", "--to", fs.0.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("database is unchanged") && err.contains("数据库未改动"), "{err}");
    assert_eq!(exports_in_db(&db), 0);
    fs.set_read_only(false);
    ok(&run(&db, &["export", "--to", fs.0.to_str().unwrap()]));
    assert_eq!(exports_in_db(&db), 1);
}
