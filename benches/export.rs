//! Export throughput. Run: `cargo bench --bench export`.
//!
//! 1 000 photographed students (480×640 deliverable ≈ 30 KB and 1280×720
//! original ≈ 150 KB each) exported with `gradcap::export::export` (write,
//! fsync, read back, verify, rename, record) and checked with
//! `verify_bundle`, against `cp -r` of the same two folders plus
//! `sha256sum` of every copied file, on the same disk. Target: ≥ 0.8× the
//! throughput of cp + sha256sum.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use std::process::Command;
use std::time::Instant;

use gradcap::camera::synth::portrait;
use gradcap::code::drill::DrillStudent;
use gradcap::station::{Event, Station, StationConfig};
use gradcap::store::{sha256_hex, SessionInfo, Store};

const STUDENTS: usize = 1000;

fn main() {
    let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| "/tmp".into())).unwrap();
    let db = dir.path().join("station.sqlite");
    let info = SessionInfo {
        school_name: "测试大学".into(),
        school_code: "10697".into(),
        station: "1".into(),
        date: "2026-06-01".into(),
        operator: String::new(),
    };
    {
        let mut st = Station::open(Store::open_training(&db).unwrap(), &info, StationConfig::default()).unwrap();
        st.handle(Event::CodeScanned { text: DrillStudent::example("0").example_payload(), frame: None }).unwrap();
    }
    let deliverables: Vec<Vec<u8>> =
        (0..8).map(|i| gradcap::photo::encode_jpeg(&portrait(480, 640, i), 85).unwrap()).collect();
    let originals: Vec<Vec<u8>> =
        (0..8).map(|i| gradcap::photo::encode_jpeg(&portrait(1280, 720, i), 92).unwrap()).collect();
    let mut conn = rusqlite::Connection::open(&db).unwrap();
    let tx = conn.transaction().unwrap();
    for i in 0..STUDENTS {
        let (d, o) = (&deliverables[i % 8], &originals[i % 8]);
        tx.execute(
            "INSERT INTO records (session_id, seq, cjm, sjc, yxdm, zjhm, xh, xm, bh, payload, scanned_at, status, status_at)
             VALUES (1, ?1, ?2, '1700000000000', '10697', '123X', ?3, '欧**娜', '法学 2101', 'x', '2026-06-01T09:00:00+08:00',
                     'photographed', '2026-06-01T09:00:10+08:00')",
            rusqlite::params![i as i64 + 2, format!("BENCH{i}"), format!("2021{i:06}")],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO takes (record_id, take_no, is_primary, original_jpeg, original_sha256, original_bytes, original_width,
                                original_height, deliverable_jpeg, deliverable_sha256, deliverable_bytes, deliverable_quality, captured_at)
             VALUES (?1, 1, 1, ?2, ?3, ?4, 1280, 720, ?5, ?6, ?7, 85, '2026-06-01T09:00:05+08:00')",
            rusqlite::params![tx.last_insert_rowid(), o, sha256_hex(o), o.len() as i64, d, sha256_hex(d), d.len() as i64],
        )
        .unwrap();
    }
    tx.execute("UPDATE sessions SET next_seq = ?1", [STUDENTS as i64 + 2]).unwrap();
    tx.commit().unwrap();
    drop(conn);

    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let mut store = Store::open(&db).unwrap();
    let t = Instant::now();
    let report = gradcap::export::export(&mut store, &usb, false, "2026-06-01T18:00:00+08:00").unwrap();
    let exported = t.elapsed().as_secs_f64();
    let check = gradcap::export::verify_bundle(&report.bundle).unwrap();
    let ours = t.elapsed().as_secs_f64();
    println!("export (write, fsync, read back, record) {exported:.2} s, then verify-bundle {:.2} s", ours - exported);
    assert!(check.ok());
    let mb = report.bytes as f64 / 1e6;

    // The same files with cp -r and sha256sum on the same disk.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    let t = Instant::now();
    let cp = Command::new("cp")
        .arg("-r")
        .arg(report.bundle.join("photos"))
        .arg(report.bundle.join("originals"))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(cp.success());
    let mut files: Vec<_> = ["photos", "originals"]
        .iter()
        .flat_map(|d| std::fs::read_dir(copy.join(d)).unwrap().flatten().map(|e| e.path()))
        .collect();
    files.sort();
    for chunk in files.chunks(500) {
        let out = Command::new("sha256sum").args(chunk).output().unwrap();
        assert!(out.status.success());
    }
    let theirs = t.elapsed().as_secs_f64();

    println!("export + verify of {STUDENTS} students ({mb:.0} MB): {ours:.2} s = {:.0} MB/s", mb / ours);
    println!("cp -r + sha256sum of the same files:              {theirs:.2} s = {:.0} MB/s", mb / theirs);
    println!("ratio (ours / cp+sha256sum throughput): {:.2}", theirs / ours);
}
