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
    // What a Mac or Windows leaves on a stick by itself is not a fault.
    std::fs::write(b.join(".DS_Store"), b"x").unwrap();
    std::fs::write(b.join("photos").join("._2021.jpg"), b"x").unwrap();
    std::fs::write(b.join("Thumbs.db"), b"x").unwrap();
    ok(&run(&db, &["verify-bundle", b.to_str().unwrap()]));
    for f in [b.join(".DS_Store"), b.join("photos").join("._2021.jpg"), b.join("Thumbs.db")] {
        std::fs::remove_file(f).unwrap();
    }
    // The photo checks of each take go out with it.
    for row in gradcap::export::read_manifest(b).unwrap() {
        assert!(["green", "amber", "red"].contains(&row["check_level"].as_str()), "{row:?}");
        assert!(row["check_values"].contains("eye_height=") && row["check_values"].contains("sharpness="), "{row:?}");
        // The student's checks too (eyes, lips, pose, light, glare, clothing).
        for name in gradcap::photo::checks::STUDENT_CHECKS {
            assert!(row["check_values"].contains(&format!("{name}=")), "{name}: {row:?}");
        }
        assert_eq!(row["checks_failed"].is_empty(), row["check_level"] != "red", "{row:?}");
    }
    let csv_header =
        String::from_utf8_lossy(&std::fs::read(b.join("manifest.csv")).unwrap()).lines().next().unwrap().to_string();
    assert!(csv_header.ends_with("check_level,checks_failed,accepted_failed,check_values"), "{csv_header}");
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

/// A bundle must be whole, not only self-consistent: a manifest removed
/// together with its SHA256SUMS line, a stray file at the top, or a path
/// that leaves the bundle (`../`) are findings.
#[test]
fn verify_bundle_requires_the_manifests_and_paths_inside_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "3", "--seed", "5"]));
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    let b = bundles(&usb).remove(0);
    let sums = std::fs::read_to_string(b.join("SHA256SUMS")).unwrap();
    let without_csv: String = sums.lines().filter(|l| !l.ends_with("manifest.csv")).map(|l| format!("{l}\n")).collect();
    std::fs::write(b.join("SHA256SUMS"), &without_csv).unwrap();
    std::fs::remove_file(b.join("manifest.csv")).unwrap();
    std::fs::write(b.join("notes.txt"), "x").unwrap();
    std::fs::write(dir.path().join("outside.jpg"), "secret").unwrap();
    let outside = format!("{}  ../../outside.jpg\n", gradcap::store::sha256_hex(b"secret"));
    std::fs::write(b.join("SHA256SUMS"), format!("{without_csv}{outside}")).unwrap();
    let out = run(&db, &["verify-bundle", "--json", b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].to_string();
    assert!(findings.contains("manifest.csv: missing"), "{findings}");
    assert!(findings.contains("notes.txt: not part of a bundle"), "{findings}");
    assert!(findings.contains("not a path inside the bundle"), "{findings}");
}

/// Exporting twice never gives one record two different files: a full
/// export after incremental ones names every record as before, also when
/// the template gives several records the same name.
#[test]
fn a_record_keeps_its_file_name_from_export_to_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let names = |b: &std::path::Path| -> std::collections::BTreeMap<String, String> {
        gradcap::export::read_manifest(b)
            .unwrap()
            .into_iter()
            .map(|r| (r["seq"].clone(), r["photo_file"].clone()))
            .collect()
    };
    ok(&run(&db, &["simulate", "--students", "3", "--seed", "71"]));
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap(), "--name-template", "{bh}"]));
    ok(&run(&db, &["simulate", "--students", "3", "--seed", "72"]));
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap(), "--name-template", "{bh}"]));
    let mut before = names(&bundles(&usb)[0]);
    before.extend(names(&bundles(&usb)[1]));
    assert!(before.len() >= 4, "{before:?}");
    ok(&run(&db, &["export", "--full", "--to", usb.to_str().unwrap(), "--name-template", "{bh}"]));
    let full = names(&bundles(&usb)[2]);
    assert_eq!(full, before);
    let distinct: std::collections::BTreeSet<_> = full.values().collect();
    assert_eq!(distinct.len(), full.len(), "{full:?}");
    // A new template is a new naming: every record is named by it.
    ok(&run(&db, &["export", "--full", "--to", usb.to_str().unwrap(), "--name-template", "{xh}"]));
    let store = gradcap::store::Store::open_read_only(&db).unwrap();
    let xh: std::collections::BTreeMap<String, String> =
        store.export_items(true).unwrap().into_iter().map(|i| (i.record.display_seq(), i.record.code.xh)).collect();
    for (seq, file) in names(&bundles(&usb)[3]) {
        assert_eq!(file, format!("photos/{}.jpg", xh[&seq]), "{seq}");
    }
}

/// `{date}` in a file name is each record's own shooting day, also when one
/// export takes two days' records.
#[test]
fn the_date_in_a_file_name_is_the_records_own_day() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    for (day, first) in [("2026-06-01", 1), ("2026-06-02", 3)] {
        let roster = dir.path().join(format!("{day}.csv"));
        let rows: String = (first..first + 2).map(|n| format!("20210{n},王{n}明,法学 2101\n")).collect();
        std::fs::write(&roster, format!("学号,姓名,班级\n{rows}")).unwrap();
        let roster = roster.to_str().unwrap();
        ok(&run(&db, &["simulate", "--students", "2", "--roster", roster, "--date", day, "--seed", "75"]));
    }
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap(), "--name-template", "{date}_{xh}"]));
    let b = bundles(&usb).remove(0);
    assert!(b.to_string_lossy().contains("2026-06-02_B001"), "{b:?}");
    let rows = gradcap::export::read_manifest(&b).unwrap();
    let days: std::collections::BTreeSet<&str> = rows.iter().map(|r| &r["photo_file"][7..17]).collect();
    assert_eq!(days.into_iter().collect::<Vec<_>>(), ["2026-06-01", "2026-06-02"], "{rows:?}");
}

/// A finished bundle already on the drive under the next batch's name (the
/// database was restored from an earlier backup) is never replaced: the new
/// export takes the next free batch number.
#[test]
fn an_existing_bundle_on_the_drive_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "3", "--seed", "73"]));
    let backup_dir = dir.path().join("backup");
    std::fs::create_dir(&backup_dir).unwrap();
    ok(&run(&db, &["backup", "--to", backup_dir.to_str().unwrap()]));
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    let first = bundles(&usb).remove(0);
    let first_sums = std::fs::read(first.join("SHA256SUMS")).unwrap();
    // The station's database is lost; the backup from before the export is used.
    let restored = bundles(&backup_dir).remove(0);
    ok(&run(&restored, &["simulate", "--students", "2", "--seed", "74"]));
    ok(&run(&restored, &["export", "--to", usb.to_str().unwrap()]));
    let all = bundles(&usb);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(std::fs::read(first.join("SHA256SUMS")).unwrap(), first_sums, "the first bundle is untouched");
    assert!(all[1].to_string_lossy().ends_with("_B002"), "{all:?}");
    ok(&run(&db, &["verify-bundle", first.to_str().unwrap()]));
    ok(&run(&db, &["verify-bundle", all[1].to_str().unwrap()]));
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

fn fail(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Encryption round trip: the drive holds only ciphertext (no 学号, no
/// JPEG), verify-bundle checks it, the right identity restores a bundle
/// verify-bundle accepts with the photos as captured; a wrong identity and
/// a damaged archive are refused and leave nothing behind.
#[test]
fn an_encrypted_export_reveals_nothing_and_decrypts_to_a_verified_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "5", "--date", "2026-06-01", "--seed", "11"]));
    let key = dir.path().join("office-key.txt");
    let recipient = ok(&run(&db, &["keygen", "--out", key.to_str().unwrap()])).trim().to_string();
    assert!(recipient.starts_with("age1"), "{recipient}");
    assert_eq!(run(&db, &["keygen", "--out", key.to_str().unwrap()]).status.code(), Some(1), "never overwritten");
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let bad = fail(&run(&db, &["export", "--to", usb.to_str().unwrap(), "--encrypt-to", "age1notakey"]));
    assert!(bad.contains("age recipient"), "{bad}");
    assert!(bundles(&usb).is_empty(), "a bad key writes nothing");
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap(), "--encrypt-to", &recipient]));
    let b = bundles(&usb).remove(0);
    let mut names: Vec<String> =
        std::fs::read_dir(&b).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["SHA256SUMS", "bundle.tar.age", "说明.txt"]);
    let store = gradcap::store::Store::open_read_only(&db).unwrap();
    let items = store.export_items(true).unwrap();
    // A piece of every photo's bytes (its first 64, then 64 from the middle):
    // ciphertext is random, so a short signature could turn up by chance.
    let pieces: Vec<Vec<u8>> = items
        .iter()
        .flat_map(|item| {
            let (original, deliverable) = store.take_images(item.take.id).unwrap();
            [original, deliverable]
        })
        .flat_map(|jpeg| [jpeg[..64].to_vec(), jpeg[jpeg.len() / 2..jpeg.len() / 2 + 64].to_vec()])
        .collect();
    for name in &names {
        let bytes = std::fs::read(b.join(name)).unwrap();
        for piece in &pieces {
            assert!(!contains(&bytes, piece), "{name}: no JPEG in the clear");
        }
        for item in &items {
            assert!(!contains(&bytes, item.record.code.xh.as_bytes()), "{name}: no 学号 in the clear");
            assert!(!contains(&bytes, item.record.code.cjm.as_bytes()), "{name}: no code in the clear");
        }
    }
    let out = ok(&run(&db, &["verify-bundle", "--json", b.to_str().unwrap()]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["encrypted"], true);

    let restored = dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    ok(&run(
        &db,
        &["decrypt", b.to_str().unwrap(), "--identity", key.to_str().unwrap(), "--to", restored.to_str().unwrap()],
    ));
    let plain = bundles(&restored).remove(0);
    assert_eq!(plain.file_name(), b.file_name());
    ok(&run(&db, &["verify-bundle", plain.to_str().unwrap()]));
    for item in &items {
        let photo = std::fs::read(plain.join("photos").join(format!("{}.jpg", item.record.code.xh))).unwrap();
        assert_eq!(gradcap::store::sha256_hex(&photo), item.take.deliverable_sha256);
    }
    // The same archive opens with the standard age tool too, where installed.
    if let Ok(out) = Command::new("age").args(["-d", "-i"]).arg(&key).arg(b.join("bundle.tar.age")).output() {
        if out.status.success() {
            let std_dir = dir.path().join("std");
            std::fs::create_dir(&std_dir).unwrap();
            let mut tar = Command::new("tar")
                .arg("-x")
                .current_dir(&std_dir)
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(tar.stdin.as_mut().unwrap(), &out.stdout).unwrap();
            drop(tar.stdin.take());
            assert!(tar.wait().unwrap().success());
            ok(&run(&db, &["verify-bundle", bundles(&std_dir)[0].to_str().unwrap()]));
        }
    }

    // A second decrypt into the same place does not overwrite.
    let again = fail(&run(
        &db,
        &["decrypt", b.to_str().unwrap(), "--identity", key.to_str().unwrap(), "--to", restored.to_str().unwrap()],
    ));
    assert!(again.contains("already exists"), "{again}");
    // Someone else's key: refused, nothing written.
    let other = dir.path().join("other-key.txt");
    ok(&run(&db, &["keygen", "--out", other.to_str().unwrap()]));
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let wrong = fail(&run(
        &db,
        &["decrypt", b.to_str().unwrap(), "--identity", other.to_str().unwrap(), "--to", elsewhere.to_str().unwrap()],
    ));
    assert!(wrong.contains("cannot decrypt"), "{wrong}");
    assert!(bundles(&elsewhere).is_empty());
    // A damaged archive: verify-bundle fails, decrypt refuses.
    let archive = b.join("bundle.tar.age");
    let mut bytes = std::fs::read(&archive).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&archive, &bytes).unwrap();
    fail(&run(&db, &["verify-bundle", b.to_str().unwrap()]));
    let damaged = fail(&run(
        &db,
        &["decrypt", b.to_str().unwrap(), "--identity", key.to_str().unwrap(), "--to", elsewhere.to_str().unwrap()],
    ));
    assert!(damaged.contains("damaged"), "{damaged}");
    // Even past the checksum (the .age file given directly) the AEAD refuses it.
    let direct = fail(&run(
        &db,
        &[
            "decrypt",
            archive.to_str().unwrap(),
            "--identity",
            key.to_str().unwrap(),
            "--to",
            elsewhere.to_str().unwrap(),
        ],
    ));
    assert!(direct.contains("decrypt"), "{direct}");
    assert!(
        !bundles(&elsewhere).iter().any(|p| !p.to_string_lossy().ends_with(".partial")),
        "no bundle from a damaged archive"
    );
}

/// Merge: stations with different students merge into one verified bundle
/// keeping station and seq; the same students at two stations are refused
/// and listed, or kept and listed with --keep-duplicates; an incremental and
/// a full export of one station are one record each, not duplicates.
#[test]
fn merges_keep_station_and_seq_and_refuse_or_list_the_same_student_twice() {
    let dir = tempfile::tempdir().unwrap();
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let out = dir.path().join("merged");
    std::fs::create_dir(&out).unwrap();
    let a = dir.path().join("a.sqlite");
    let b = dir.path().join("b.sqlite");
    let c = dir.path().join("c.sqlite");
    ok(&run(&a, &["simulate", "--students", "4", "--date", "2026-06-01", "--seed", "21", "--station", "1"]));
    // Another school's students at station 2 (the drill students repeat per session otherwise).
    ok(&run(
        &b,
        &[
            "simulate",
            "--students",
            "3",
            "--date",
            "2026-06-01",
            "--seed",
            "22",
            "--station",
            "2",
            "--school-code",
            "10002",
        ],
    ));
    // Station 3 photographs station 1's students again (same seed: same people).
    ok(&run(&c, &["simulate", "--students", "2", "--date", "2026-06-01", "--seed", "21", "--station", "3"]));
    for db in [&a, &b, &c] {
        ok(&run(db, &["export", "--to", usb.to_str().unwrap()]));
    }
    // Station 1 again, in full: the same records as its first bundle.
    ok(&run(&a, &["export", "--full", "--to", usb.to_str().unwrap()]));
    let all = bundles(&usb);
    let of = |station: &str, batch: &str| {
        all.iter().find(|p| p.to_string_lossy().ends_with(&format!("_{station}_2026-06-01_{batch}"))).unwrap().clone()
    };
    let (a1, a2, b1, c1) = (of("1", "B001"), of("1", "B002"), of("2", "B001"), of("3", "B001"));

    let text = ok(&run(
        &a,
        &[
            "merge",
            a1.to_str().unwrap(),
            a2.to_str().unwrap(),
            b1.to_str().unwrap(),
            "--to",
            out.to_str().unwrap(),
            "--json",
        ],
    ));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let merged = std::path::PathBuf::from(report["bundle"].as_str().unwrap());
    ok(&run(&a, &["verify-bundle", merged.to_str().unwrap()]));
    let rows = gradcap::export::read_manifest(&merged).unwrap();
    let count = |db: &Path| gradcap::store::Store::open_read_only(db).unwrap().export_items(true).unwrap().len();
    assert_eq!(rows.len(), count(&a) + count(&b));
    assert_eq!(report["superseded"].as_u64().unwrap() as usize, count(&a), "the full export repeats station 1");
    let stations: std::collections::BTreeSet<_> = rows.iter().map(|r| r["station"].clone()).collect();
    assert_eq!(stations.into_iter().collect::<Vec<_>>(), ["1", "2"]);
    assert!(rows.iter().all(|r| r["seq"].starts_with(&format!("{}-", r["station"]))));

    let refused = fail(&run(
        &a,
        &["merge", a1.to_str().unwrap(), b1.to_str().unwrap(), c1.to_str().unwrap(), "--to", out.to_str().unwrap()],
    ));
    assert!(refused.contains("not merged"), "{refused}");
    let c_items = gradcap::store::Store::open_read_only(&c).unwrap().export_items(true).unwrap();
    for item in &c_items {
        assert!(refused.contains(&item.record.code.cjm) || refused.contains(&item.record.code.xh), "{refused}");
        assert!(refused.contains(&item.record.display_seq()), "{refused}");
    }
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "nothing written by a refused merge");

    std::thread::sleep(std::time::Duration::from_millis(1100)); // a new merge name (its time, to the second)
    let text = ok(&run(
        &a,
        &[
            "merge",
            a1.to_str().unwrap(),
            b1.to_str().unwrap(),
            c1.to_str().unwrap(),
            "--to",
            out.to_str().unwrap(),
            "--keep-duplicates",
            "--json",
        ],
    ));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["duplicates"].as_array().unwrap().len(), c_items.len(), "{report}");
    let kept = std::path::PathBuf::from(report["bundle"].as_str().unwrap());
    ok(&run(&a, &["verify-bundle", kept.to_str().unwrap()]));
    let rows = gradcap::export::read_manifest(&kept).unwrap();
    assert_eq!(rows.len(), count(&a) + count(&b) + c_items.len());
    let files: std::collections::HashSet<_> = rows.iter().map(|r| r["photo_file"].clone()).collect();
    assert_eq!(files.len(), rows.len(), "one file per record, clashes renamed");
    let encrypted_usb = dir.path().join("enc");
    std::fs::create_dir(&encrypted_usb).unwrap();
    let key = dir.path().join("k.txt");
    let recipient = ok(&run(&a, &["keygen", "--out", key.to_str().unwrap()])).trim().to_string();
    ok(&run(&a, &["export", "--full", "--to", encrypted_usb.to_str().unwrap(), "--encrypt-to", &recipient]));
    let enc = fail(&run(&a, &["merge", bundles(&encrypted_usb)[0].to_str().unwrap(), "--to", out.to_str().unwrap()]));
    assert!(enc.contains("decrypt"), "{enc}");
}

/// File names from a template: fields filled in, unsafe characters
/// replaced, and a template that gives everyone the same name still gives
/// one file per record.
#[test]
fn photo_names_follow_the_template_and_never_collide() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "5", "--seed", "31"]));
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let bad = fail(&run(&db, &["export", "--to", usb.to_str().unwrap(), "--name-template", "{name}.jpg"]));
    assert!(bad.contains("template"), "{bad}");
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap(), "--name-template", "{yxdm}_{xh}_{xm}"]));
    let b = bundles(&usb).remove(0);
    let store = gradcap::store::Store::open_read_only(&db).unwrap();
    for item in store.export_items(true).unwrap() {
        let c = &item.record.code;
        let name = format!("{}_{}_{}.jpg", c.yxdm, c.xh, c.xm.replace('*', "_"));
        assert!(b.join("photos").join(&name).exists(), "{name}");
    }
    ok(&run(&db, &["export", "--full", "--to", usb.to_str().unwrap(), "--name-template", "same"]));
    let b2 = bundles(&usb).remove(1);
    let n = store.export_items(true).unwrap().len();
    assert_eq!(std::fs::read_dir(b2.join("photos")).unwrap().count(), n);
    assert!(b2.join("photos").join("same.jpg").exists());
    ok(&run(&db, &["verify-bundle", b2.to_str().unwrap()]));
}

/// The target disappears mid-way (the folder removed; a drive pulled, by
/// lazily unmounting a tmpfs): a clear error, nothing recorded, and the
/// export completes once the drive is back. Progress counts up to the total.
#[test]
fn a_target_removed_mid_way_changes_nothing_and_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "6", "--seed", "41"]));
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let mut store = gradcap::store::Store::open(&db).unwrap();
    let options = gradcap::export::ExportOptions::default();
    let now = "2026-06-01T18:00:00+08:00";
    let err = gradcap::export::export_with(&mut store, &usb, &options, now, &mut |p| {
        if p.files_done == 4 && usb.exists() {
            std::fs::remove_dir_all(&usb).unwrap();
        }
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("database is unchanged") && msg.contains("drive removed"), "{msg}");
    assert!(store.export_history().unwrap().is_empty());
    std::fs::create_dir(&usb).unwrap();
    let mut seen: Vec<gradcap::export::Progress> = Vec::new();
    let report = gradcap::export::export_with(&mut store, &usb, &options, now, &mut |p| seen.push(p.clone())).unwrap();
    assert_eq!(store.export_history().unwrap().len(), 1);
    let writing: Vec<_> = seen.iter().filter(|p| p.phase == gradcap::export::Phase::Writing).collect();
    let verifying: Vec<_> = seen.iter().filter(|p| p.phase == gradcap::export::Phase::Verifying).collect();
    assert!(writing.windows(2).all(|w| w[0].files_done <= w[1].files_done && w[0].bytes_done <= w[1].bytes_done));
    let last = writing.last().unwrap();
    assert_eq!((last.files_done, last.bytes_done), (last.files_total, last.bytes_total));
    assert_eq!(last.bytes_total, report.bytes);
    let last = verifying.last().unwrap();
    assert_eq!(last.files_done, last.files_total);
    assert!(last.bytes_done >= report.bytes, "every photo read back");
    drop(store);

    // A drive pulled: the tmpfs goes away under the running export.
    ok(&run(&db, &["simulate", "--students", "3", "--seed", "42"]));
    let Some(fs) = common::Tmpfs::mount(dir.path(), "stick", "64m") else { return };
    let mut store = gradcap::store::Store::open(&db).unwrap();
    let stick = fs.0.clone();
    let err = gradcap::export::export_with(&mut store, &stick, &options, now, &mut |p| {
        if p.files_done == 2 && p.phase == gradcap::export::Phase::Writing {
            assert!(Command::new("umount").arg("-l").arg(&stick).status().unwrap().success());
        }
    })
    .unwrap_err();
    assert!(err.to_string().contains("database is unchanged"), "{err}");
    assert_eq!(store.export_history().unwrap().len(), 1, "nothing recorded");
    let Some(fs2) = common::Tmpfs::mount(dir.path(), "stick", "64m") else { return };
    let report = gradcap::export::export(&mut store, &fs2.0, false, now).unwrap();
    assert!(gradcap::export::verify_bundle(&report.bundle).unwrap().ok());
    assert_eq!(store.export_history().unwrap().len(), 2);
    drop(fs);
}

/// The operator PIN, set in the station database (where the station keeps it).
/// Issue 17: a PIN in a settings file (the old place, or a self-made
/// `settings.json` in another data folder) unlocks nothing.
fn settings_pin(data_dir: &Path) {
    let json = r#"{"pin_hash":"9f0c4a8d2e0b6b0b","pin_salt":"00"}"#;
    std::fs::write(data_dir.join(gradcap::settings::SETTINGS_FILE_NAME), json).unwrap();
}

fn run_in(data_dir: &Path, db: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("GRADCAP_PIN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), stdin.as_bytes()).unwrap();
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// Purge after handover: PIN and confirmation required; only verified-
/// exported records of earlier days lose their images; records, hashes and
/// the audit log stay, the file shrinks and verify still passes.
#[test]
fn purge_deletes_only_exported_images_behind_pin_and_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "6", "--date", "2026-06-01", "--seed", "51"]));
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    // Shot after the export (not handed over yet) and on a later day.
    ok(&run(&db, &["simulate", "--students", "2", "--date", "2026-06-01", "--seed", "52"]));
    ok(&run(&db, &["simulate", "--students", "2", "--date", "2026-06-03", "--seed", "53", "--school-code", "10003"]));
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    ok(&run(&db, &["simulate", "--students", "2", "--date", "2026-06-01", "--seed", "54"]));
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let purge = ["purge", "--before", "2026-06-02"];

    settings_pin(&data);
    let no_pin = fail(&run_in(&data, &db, &[&purge[..], &["--pin", "0000", "--yes"]].concat(), ""));
    assert!(no_pin.contains("no operator PIN"), "a settings file brings no PIN: {no_pin}");
    // Set from the command line (`gradcap pin set`): no GUI needed on a fresh data folder.
    let mismatch = run_in(&data, &db, &["pin", "set"], "1234\n1243\n");
    assert_eq!(mismatch.status.code(), Some(1), "two different PINs set nothing");
    assert!(String::from_utf8_lossy(&mismatch.stderr).contains("differ"));
    let short = run_in(&data, &db, &["pin", "set"], "12\n12\n");
    assert_eq!(short.status.code(), Some(1), "too short");
    let set = run_in(&data, &db, &["pin", "set"], "1234\n1234\n");
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    assert!(String::from_utf8_lossy(&set.stdout).contains("PIN set"));
    // Changing it asks for the old one.
    let wrong_old = run_in(&data, &db, &["pin", "set"], "0000\n5678\n5678\n");
    assert_eq!(wrong_old.status.code(), Some(1));
    let changed = run_in(&data, &db, &["pin", "set"], "1234\n1234\n1234\n");
    assert!(changed.status.success(), "{}", String::from_utf8_lossy(&changed.stderr));
    assert!(String::from_utf8_lossy(&changed.stdout).contains("PIN changed"));
    let wrong = fail(&run_in(&data, &db, &[&purge[..], &["--pin", "9999", "--yes"]].concat(), ""));
    assert!(wrong.contains("wrong PIN"), "{wrong}");
    let out = run_in(&data, &db, &purge, "1234\nno\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cancelled"));
    let store = gradcap::store::Store::open_read_only(&db).unwrap();
    let before: Vec<_> = store.sessions().unwrap().iter().flat_map(|s| store.records(s.id).unwrap()).collect();
    assert!(before.iter().flat_map(|r| store.takes(r.id).unwrap()).all(|t| t.purged_at.is_none()), "nothing yet");
    let audit_rows = store.audit_log().unwrap().len();
    drop(store);
    let size_before = std::fs::metadata(&db).unwrap().len();

    ok(&run_in(&data, &db, &purge, "1234\nyes\n"));
    let size_after = std::fs::metadata(&db).unwrap().len();
    assert!(size_after * 2 < size_before, "VACUUM gave the space back: {size_before} → {size_after}");
    let store = gradcap::store::Store::open_read_only(&db).unwrap();
    let exported: std::collections::HashSet<String> = std::fs::read_dir(&usb)
        .unwrap()
        .flatten()
        .flat_map(|b| gradcap::export::read_manifest(&b.path()).unwrap())
        .map(|r| r["cjm"].clone())
        .collect();
    let mut purged = 0;
    let mut purged_records = std::collections::HashSet::new();
    let mut photographed = 0;
    for s in store.sessions().unwrap() {
        for r in store.records(s.id).unwrap() {
            photographed += usize::from(r.status == gradcap::store::RecordStatus::Photographed);
            for t in store.takes(r.id).unwrap() {
                let should = s.info.date.as_str() < "2026-06-02"
                    && r.status == gradcap::store::RecordStatus::Photographed
                    && exported.contains(&r.code.cjm);
                assert_eq!(t.purged_at.is_some(), should, "{} take {}", r.display_seq(), t.take_no);
                if should {
                    purged += 1;
                    purged_records.insert(r.id);
                    assert!(matches!(store.take_images(t.id), Err(gradcap::store::StoreError::Purged { .. })));
                    assert!(!t.deliverable_sha256.is_empty(), "hashes stay");
                } else {
                    assert!(store.take_images(t.id).is_ok());
                }
            }
        }
    }
    assert!(purged >= purged_records.len());
    assert_eq!(store.audit_log().unwrap().len(), audit_rows + 1, "one audit row, none removed");
    assert!(store.verify().unwrap().ok());
    drop(store);
    ok(&run(&db, &["verify"]));
    // The database itself refuses to empty a take that never went out.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let unexported: i64 = conn
        .query_row("SELECT id FROM takes WHERE record_id NOT IN (SELECT record_id FROM exported) LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let refused = conn.execute(
        "UPDATE takes SET original_jpeg = X'', deliverable_jpeg = X'', purged_at = 'x' WHERE id = ?1",
        [unexported],
    );
    assert!(refused.is_err(), "trigger");
    let purged_id: i64 =
        conn.query_row("SELECT id FROM takes WHERE purged_at IS NOT NULL LIMIT 1", [], |r| r.get(0)).unwrap();
    assert!(conn.execute("UPDATE takes SET original_jpeg = X'01' WHERE id = ?1", [purged_id]).is_err(), "final");
    drop(conn);
    // Unexported and later records still export; purged ones are not offered.
    let again = dir.path().join("usb2");
    std::fs::create_dir(&again).unwrap();
    ok(&run(&db, &["export", "--full", "--to", again.to_str().unwrap()]));
    let rows = gradcap::export::read_manifest(&bundles(&again)[0]).unwrap();
    assert_eq!(rows.len(), photographed - purged_records.len());
    assert!(purged_records.len() >= 5 && photographed > purged_records.len() + 3, "{photographed}");
}

/// A photo that is not what was captured (damaged in the database behind
/// the triggers' backs) is caught before anything is recorded, and named as
/// the database's fault, not the drive's: the plain export finds it when the
/// bundle reads back different, the encrypted one before encrypting. The
/// database stays unchanged.
#[test]
fn a_photo_damaged_in_the_database_is_refused_and_nothing_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "3", "--seed", "61"]));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER takes_images_immutable;
         UPDATE takes SET deliverable_jpeg =
             CAST(substr(deliverable_jpeg, 1, length(deliverable_jpeg) - 10) || zeroblob(10) AS BLOB)
         WHERE id = (SELECT MIN(id) FROM takes WHERE is_primary = 1);",
    )
    .unwrap();
    drop(conn);
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let err = fail(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    assert!(err.contains("does not match its checksum from capture") && err.contains("run gradcap verify"), "{err}");
    assert_eq!(exports_in_db(&db), 0);
    assert!(!bundles(&usb).is_empty());
    assert!(bundles(&usb).iter().all(|p| p.to_string_lossy().ends_with(".partial")));
    let key = dir.path().join("k.txt");
    let recipient = ok(&run(&db, &["keygen", "--out", key.to_str().unwrap()])).trim().to_string();
    let err = fail(&run(&db, &["export", "--to", usb.to_str().unwrap(), "--encrypt-to", &recipient]));
    assert!(err.contains("does not match its checksum from capture"), "{err}");
    assert_eq!(exports_in_db(&db), 0);
}

/// A drive that hands back other bytes than were written (here: a file is
/// changed on the target while the export is still writing) fails the
/// read-back: a clear error naming the file, nothing recorded, the folder
/// left as `.partial`; the next export completes and verifies.
#[test]
fn a_file_that_reads_back_different_fails_the_export_and_a_rerun_completes() {
    use gradcap::export::{export_with, ExportOptions, Phase};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    ok(&run(&db, &["simulate", "--students", "4", "--seed", "62"]));
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let mut store = gradcap::store::Store::open(&db).unwrap();
    let mut corrupted = None;
    let err = export_with(&mut store, &usb, &ExportOptions::default(), "2026-06-01T18:00:00+08:00", &mut |p| {
        // After the third file: flip a byte of the first photo on the "drive".
        if p.phase == Phase::Writing && p.files_done == 3 && corrupted.is_none() {
            let partial = bundles(&usb).into_iter().find(|b| b.to_string_lossy().ends_with(".partial")).unwrap();
            let photo = std::fs::read_dir(partial.join("photos")).unwrap().next().unwrap().unwrap().path();
            let mut bytes = std::fs::read(&photo).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0xff;
            std::fs::write(&photo, bytes).unwrap();
            corrupted = Some(photo);
        }
    })
    .unwrap_err()
    .to_string();
    let corrupted = corrupted.expect("the test changed a file");
    let name = corrupted.file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains("reads back different") && err.contains(&name), "{err}");
    assert!(err.contains("database is unchanged"), "{err}");
    drop(store);
    assert_eq!(exports_in_db(&db), 0);
    assert!(bundles(&usb).iter().all(|p| p.to_string_lossy().ends_with(".partial")));
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    assert_eq!(exports_in_db(&db), 1);
    let done: Vec<_> = bundles(&usb).into_iter().filter(|b| !b.to_string_lossy().ends_with(".partial")).collect();
    assert_eq!(done.len(), 1);
    ok(&run(&db, &["verify-bundle", done[0].to_str().unwrap()]));
}

/// A photo whose checks failed and that the operator accepted anyway goes
/// out with that on its manifest row: level red, the failed checks, and the
/// same list as accepted.
#[test]
fn an_accepted_failed_check_goes_out_in_the_manifest() {
    use gradcap::station::{Event, Station, StationConfig};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    let info = gradcap::store::SessionInfo {
        school_name: "测试大学".into(),
        school_code: "10697".into(),
        station: "1".into(),
        date: "2026-06-01".into(),
        operator: String::new(),
    };
    {
        let store = gradcap::store::Store::open_training(&db).unwrap();
        let mut st = Station::open(store, &info, StationConfig::default()).unwrap();
        let payload = gradcap::code::drill::DrillStudent::example("7").example_payload();
        st.handle(Event::CodeScanned { text: payload, frame: None }).unwrap();
        // A blank grey frame: no face, the wrong background.
        let frame = image::RgbImage::from_pixel(960, 720, image::Rgb([128, 128, 128]));
        gradcap::station::shutter::shoot_inline(&mut st, frame).unwrap();
        st.handle(Event::Accept).unwrap();
    }
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    let rows = gradcap::export::read_manifest(&bundles(&usb)[0]).unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["check_level"], "red");
    assert!(row["checks_failed"].contains("face_count") && row["checks_failed"].contains("background"), "{row:?}");
    assert_eq!(row["accepted_failed"], row["checks_failed"], "{row:?}");
}

/// Prints from the station database and, the same, from the exported
/// bundle on a USB stick: JPEG sheets at the paper's size with 300 dpi,
/// one PDF, bad packages and papers refused with a message.
#[test]
fn prints_come_from_the_database_or_from_the_bundle_alike() {
    let dir = tempfile::tempdir().unwrap();
    let (db, data) = (dir.path().join("station.sqlite"), dir.path().join("data"));
    std::fs::create_dir(&data).unwrap();
    ok(&run(&db, &["simulate", "--students", "4", "--date", "2026-06-01", "--seed", "61"]));
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    ok(&run(&db, &["export", "--to", usb.to_str().unwrap()]));
    let bundle = bundles(&usb).pop().unwrap();
    let class = "演练 1班";
    let photographed = gradcap::export::read_manifest(&bundle).unwrap().len();
    assert!(photographed >= 2, "{photographed}");

    let from_db = dir.path().join("prints-db");
    let args = ["prints", "--class", class, "--to", from_db.to_str().unwrap(), "--format", "jpg", "--paper", "5寸"];
    let out = ok(&run_in(&data, &db, &args, ""));
    assert!(out.contains(&format!("{photographed} 人 / students, {} 张相纸", 2 * photographed)), "{out}");
    let mut sheets: Vec<_> = std::fs::read_dir(&from_db).unwrap().flatten().map(|e| e.path()).collect();
    sheets.sort();
    assert_eq!(sheets.len(), 2 * photographed, "8×二寸 on 5寸: two sheets a student");
    for sheet in &sheets {
        let bytes = std::fs::read(sheet).unwrap();
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!((img.width(), img.height()), (1051, 1500), "5寸 at 300 dpi");
        let jfif = bytes.windows(5).position(|w| w == b"JFIF\0").unwrap();
        assert_eq!(&bytes[jfif + 7..jfif + 12], &[1, 0x01, 0x2C, 0x01, 0x2C], "300 dpi in the file");
    }

    let from_stick = dir.path().join("prints-usb");
    let bundle_arg = bundle.to_str().unwrap();
    let args = [
        "prints",
        "--class",
        class,
        "--to",
        from_stick.to_str().unwrap(),
        "--format",
        "jpg",
        "--paper",
        "5寸",
        "--bundle",
        bundle_arg,
    ];
    ok(&run_in(&data, &dir.path().join("no-database-here.sqlite"), &args, ""));
    let mut stick: Vec<_> = std::fs::read_dir(&from_stick)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    stick.sort();
    let names: Vec<_> = sheets.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(stick, names, "the same sheets from the stick");

    let pdf_dir = dir.path().join("prints-pdf");
    let args =
        ["prints", "--class", class, "--to", pdf_dir.to_str().unwrap(), "--package", "4×二寸+8×一寸", "--paper", "A4"];
    ok(&run_in(&data, &db, &args, ""));
    let pdf = std::fs::read(pdf_dir.join(format!("{class}-冲印.pdf"))).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    // 2480 × 3508 px at 300 dpi: A4 to the pixel.
    assert!(contains(&pdf, b"/MediaBox [0 0 595.2 841.92]"), "A4 pages");

    for (flag, value, says) in
        [("--package", "8×三寸", "三寸"), ("--paper", "7寸", "7寸"), ("--package", "many", "8×二寸")]
    {
        let args = ["prints", "--class", class, "--to", pdf_dir.to_str().unwrap(), flag, value];
        let err = fail(&run_in(&data, &db, &args, ""));
        assert!(err.contains(says), "{err}");
    }
    let err = fail(&run_in(&data, &db, &["prints", "--class", "无此班", "--to", pdf_dir.to_str().unwrap()], ""));
    assert!(err.contains("no photographed students"), "{err}");
}
