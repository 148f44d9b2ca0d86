//! Mid-day backup while the station writes, and the correction lookup (勘误),
//! through the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gradcap");

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).env_remove("GRADCAP_DATA_DIR").output().unwrap()
}

#[test]
fn a_backup_taken_while_the_station_writes_is_consistent_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    assert!(run(&db, &["simulate", "--students", "5", "--date", "2026-06-01"]).status.success());
    // The station keeps capturing while the backups are made.
    let mut busy = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .args(["simulate", "--students", "150", "--date", "2026-06-01"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let backups = dir.path().join("backups");
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(300));
        let out = run(&db, &["backup", "--to", backups.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(1100)); // a new second, a new file name
    }
    busy.kill().unwrap();
    busy.wait().unwrap();
    let files: Vec<_> = std::fs::read_dir(&backups).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(files.len(), 3, "{files:?}");
    for f in &files {
        assert_eq!(f.extension().and_then(|e| e.to_str()), Some("sqlite"), "no .partial left behind");
        let out = Command::new(BIN).args(["verify", "--db"]).arg(f).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }
    assert!(run(&db, &["verify"]).status.success(), "the station's database is unharmed");
}

#[test]
fn a_backup_to_an_unusable_folder_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    assert!(run(&db, &["simulate", "--students", "2"]).status.success());
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let out = run(&db, &["backup", "--to", blocker.join("sub").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error"));
    let missing = dir.path().join("none.sqlite");
    assert_eq!(run(&missing, &["backup", "--to", dir.path().to_str().unwrap()]).status.code(), Some(1));
}

#[test]
fn lookup_finds_a_student_by_any_key_and_exports_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, "学号,姓名,班级\n0021010101,欧阳娜娜,法学 2101\n0021010102,王喆,法学 2101\n").unwrap();
    let sim = run(
        &db,
        &[
            "simulate",
            "--students",
            "2",
            "--roster",
            roster.to_str().unwrap(),
            "--station",
            "2",
            "--school-code",
            "10697",
            "--seed",
            "11",
        ],
    );
    assert!(sim.status.success());
    let out = run(&db, &["lookup", "0021010101", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(v["xh"], "0021010101");
    assert_eq!(v["xm"], "欧**娜");
    assert_eq!(v["seq"], "2-0001");
    assert_eq!(v["station"], "2");
    assert!(v["audit"].as_array().unwrap().iter().any(|a| a["action"] == "scanned"));
    let cjm = v["cjm"].as_str().unwrap().to_string();
    for key in [cjm.as_str(), "2-0001", "1"] {
        let out = run(&db, &["lookup", key, "--json"]);
        assert!(out.status.success(), "lookup by {key}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("0021010101"), "lookup by {key}");
    }
    // By masked name: 欧**娜 is one student; 王* the other.
    let out = run(&db, &["lookup", "欧**娜", "--json"]);
    assert!(out.status.success(), "lookup by masked name");
    let found: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["xh"], "0021010101");
    assert_eq!(run(&db, &["lookup", "nobody"]).status.code(), Some(1));

    let export = dir.path().join("correction");
    let out = run(&db, &["lookup", "0021010101", "--export", export.to_str().unwrap()]);
    assert!(out.status.success());
    let names: Vec<String> =
        std::fs::read_dir(&export).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    if v["status"] == "photographed" {
        assert!(names.iter().any(|n| n.ends_with("_deliverable.jpg")), "{names:?}");
        assert!(names.iter().any(|n| n.ends_with("_original.jpg")), "{names:?}");
        let deliverable = export.join(names.iter().find(|n| n.ends_with("take1_deliverable.jpg")).unwrap());
        let img = image::open(deliverable).unwrap();
        assert_eq!((img.width(), img.height()), (480, 640));
    }
    assert!(names.iter().any(|n| n == "2-0001_0021010101.json"), "{names:?}");
}
