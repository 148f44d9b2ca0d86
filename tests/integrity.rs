//! Issue 17, attack by attack: damage below SQLite, the masking guard, bundles
//! as data, the pulled drive, concurrent first opens. Each test reproduces
//! what the adversarial run did and checks the refusal or the right result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use gradcap::code::drill::DrillStudent;
use gradcap::station::{Event, Outcome, Station, StationConfig};
use gradcap::store::{SessionInfo, Store, StoreError};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_gradcap");

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).env_remove("GRADCAP_DATA_DIR").output().unwrap()
}

fn info() -> SessionInfo {
    SessionInfo {
        school_name: "测试大学".into(),
        school_code: "10697".into(),
        station: "1".into(),
        date: "2026-06-01".into(),
        operator: String::new(),
    }
}

fn scan(st: &mut Station, i: usize) -> Outcome {
    let payload = DrillStudent::example(&format!("2021{i:06}")).example_payload();
    st.handle(Event::CodeScanned { text: payload, frame: Some(gradcap::camera::synth::portrait(320, 240, i as u64)) })
        .unwrap()
}

/// A lost `-wal` (a copy without it) silently rolled back committed scans and
/// the next run reissued their numbers. Now the copy is behind its witness:
/// refused for writing, `verify` fails, and only `accept-restore` goes on.
#[test]
fn a_database_that_lost_its_wal_is_behind_its_witness_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    let mut st = Station::open(Store::open_training(&db).unwrap(), &info(), StationConfig::default()).unwrap();
    for i in 0..4 {
        scan(&mut st, i);
    }
    // Checkpoint what is there, then commit three more that stay in the -wal.
    rusqlite::Connection::open(&db).unwrap().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    for i in 4..7 {
        scan(&mut st, i);
    }
    assert!(std::fs::metadata(dir.path().join("station.sqlite-wal")).unwrap().len() > 0, "commits in the WAL");
    // The careless copy: the database file and its witness, not the -wal.
    let copy_dir = dir.path().join("copy");
    std::fs::create_dir(&copy_dir).unwrap();
    let copy = copy_dir.join("station.sqlite");
    std::fs::copy(&db, &copy).unwrap();
    std::fs::copy(dir.path().join("station.sqlite.witness"), copy_dir.join("station.sqlite.witness")).unwrap();
    drop(st);
    let err = Store::open(&copy).unwrap_err();
    assert!(matches!(err, StoreError::BehindWitness { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("behind its witness") && text.contains("见证") && text.contains("numbers 5–7"), "{text}");
    // The writing commands refuse it too, and verify fails.
    let out = run(&copy, &["simulate", "--students", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report = Store::open_read_only(&copy).unwrap().verify().unwrap();
    assert!(report.findings.iter().any(|f| f.check == "witness"), "{:?}", report.findings);
    assert_eq!(run(&copy, &["verify"]).status.code(), Some(1));
    // Accepting the restore on purpose records the loss and lets the day go on.
    let out = run(&copy, &["accept-restore"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = Store::open(&copy).unwrap();
    assert!(store.audit_log().unwrap().iter().any(|a| a.action == "restore_accepted" && a.detail.contains("5–7")));
    assert!(store.verify().unwrap().ok());
}

/// Byte damage that `verify` rejects no longer lets a writing command run.
#[test]
fn byte_damage_stops_every_writing_command_before_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    assert!(run(&db, &["simulate", "--students", "30", "--seed", "3"]).status.success());
    // Damage the pages of the records table (checkpointed into the file first).
    common::damage_root_page(&db, "records", 64, 0x5A);
    let before = std::fs::read(&db).unwrap();
    let out = run(&db, &["simulate", "--students", "2", "--seed", "4"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("damaged") && err.to_lowercase().contains("restore the latest backup"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "nothing was written");
    assert_eq!(run(&db, &["verify"]).status.code(), Some(1));
}

/// A damaged `records_queue` index turned new students away as "already
/// photographed". `quick_check` does not see an index that disagrees with
/// its table; the check before writing does.
#[test]
fn a_damaged_queue_index_is_found_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    {
        let mut st = Station::open(Store::open_training(&db).unwrap(), &info(), StationConfig::default()).unwrap();
        for i in 0..5 {
            scan(&mut st, i);
        }
    }
    // Change the status stored in the index pages only ('waiting' → 'waitinh').
    let root = common::root_page(&db, "records_queue");
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096usize;
    let start = (root - 1) * page;
    let slice = &mut bytes[start..start + page];
    let mut changed = 0;
    for i in 0..slice.len() - 7 {
        if &slice[i..i + 7] == b"waiting" {
            slice[i + 6] = b'h';
            changed += 1;
        }
    }
    assert!(changed > 0, "the index page holds the statuses");
    std::fs::write(&db, &bytes).unwrap();
    let err = Store::open(&db).unwrap_err();
    assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
}

/// Damage inside a scan thumbnail is found like damage inside a take.
#[test]
fn a_damaged_scan_thumbnail_is_found_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    {
        let mut st = Station::open(Store::open_training(&db).unwrap(), &info(), StationConfig::default()).unwrap();
        scan(&mut st, 1);
    }
    assert!(Store::open_read_only(&db).unwrap().verify().unwrap().ok());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER records_thumb_immutable;
         UPDATE records SET scan_thumb_jpeg = CAST(substr(scan_thumb_jpeg, 1, 200) || x'00' || substr(scan_thumb_jpeg, 202) AS BLOB);",
    )
    .unwrap();
    drop(conn);
    let report = Store::open_read_only(&db).unwrap().verify().unwrap();
    assert!(report.findings.iter().any(|f| f.check == "images" && f.message.contains("scan thumbnail")), "{report:?}");
}

/// Killed backups left their `.partial` files behind (951 MB once); the next
/// backup removes what no running backup holds.
#[test]
fn a_killed_backups_partial_is_removed_by_the_next_backup() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    assert!(run(&db, &["simulate", "--students", "2", "--seed", "5"]).status.success());
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let stale = backups.join("gradcap-backup-20260601-100000.sqlite.partial");
    std::fs::write(&stale, vec![0u8; 1 << 20]).unwrap();
    std::fs::write(backups.join("gradcap-backup-20260601-100000.sqlite.partial.lock"), b"").unwrap();
    // One that a running backup holds stays.
    let held = backups.join("gradcap-backup-20260601-110000.sqlite.partial");
    std::fs::write(&held, b"x").unwrap();
    let lock = gradcap::paths::PartialLock::take(&held).unwrap();
    let out = run(&db, &["backup", "--to", backups.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!stale.exists(), "the killed backup's partial is gone");
    assert!(held.exists(), "a running backup's partial is kept");
    drop(lock);
}

/// Two processes opening a new database at once: one failed with the raw
/// "table sessions already exists". Now they take turns.
#[test]
fn two_processes_creating_one_database_at_once_both_succeed() {
    for round in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("new.sqlite");
        let children: Vec<_> =
            (0..2).map(|_| Command::new(BIN).arg("--db").arg(&db).args(["report", "--json"]).output()).collect();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || Store::open(&db).map(|_| ()))
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        for c in children {
            let out = c.unwrap();
            assert!(!String::from_utf8_lossy(&out.stderr).contains("already exists"), "round {round}");
        }
    }
}

/// `decode --json DIR` on a folder without images said nothing and exited 0.
#[test]
fn decoding_a_folder_without_images_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    let out = Command::new(BIN).args(["decode", "--json"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no images to decode"));
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A repeated key or an extra key with a clear name or ID number went into
/// the records, `lookup` and backups. Now: refused, or dropped; what is
/// stored is the checked fields; `verify` checks what is stored.
#[test]
fn the_masking_guard_has_no_way_round() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    let mut st = Station::open(Store::open_training(&db).unwrap(), &info(), StationConfig::default()).unwrap();
    let base = r#""sjc":"1700000000000","cjm":"DRILLX1","yxdm":"10697","zjhm":"0021","xh":"2021000001","xm":"张*丰""#;
    for extra in [r#","xm":"张三丰""#, r#","zjhm":"110105194912310021""#, r#","note":"110105194912310021""#] {
        let text = b64(&format!("{{{base}{extra}}}"));
        match st.handle(Event::CodeScanned { text, frame: None }).unwrap() {
            Outcome::Rejected(e) => {
                let msg = e.to_string();
                assert!(!msg.contains("张三丰") && !msg.contains("110105194912310021"), "{msg}");
            }
            other => panic!("{extra}: {other:?}"),
        }
    }
    // An unknown key holding a clear name: the code is taken, the key is not.
    let text = b64(&format!(r#"{{{base},"name":"张三丰","app":"2.1"}}"#));
    assert!(matches!(st.handle(Event::CodeScanned { text, frame: None }).unwrap(), Outcome::Queued(_)));
    drop(st);
    let raw = std::fs::read(&db).unwrap();
    let wal = std::fs::read(dir.path().join("station.sqlite-wal")).unwrap_or_default();
    let clear = "张三丰".as_bytes();
    assert!(!raw.windows(clear.len()).any(|w| w == clear) && !wal.windows(clear.len()).any(|w| w == clear));
    let out = run(&db, &["lookup", "2021000001", "--json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2.1") && !text.contains("张三丰"), "{text}");
    assert!(Store::open_read_only(&db).unwrap().verify().unwrap().ok());
    // What an earlier build stored: the raw payload with a repeated key. Verify names it.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let payload = b64(&format!(r#"{{{base},"xm":"张三丰"}}"#));
    conn.execute_batch("DROP TRIGGER records_identity_immutable").unwrap();
    conn.execute("UPDATE records SET payload = ?1", [payload]).unwrap();
    drop(conn);
    let report = Store::open_read_only(&db).unwrap().verify().unwrap();
    assert!(
        report.findings.iter().any(|f| f.check == "masking" && f.message.contains("refused by the guard")),
        "{report:?}"
    );
}

/// Issue 26, item 2: what an earlier build let through — an ID in fullwidth
/// or Arabic-Indic digits, split by zero-width spaces, dots or NBSP, an extra
/// key holding it as a JSON float — and a control character: `verify` reads
/// them by the guard's rule and names each record.
#[test]
fn verify_reads_a_stored_id_number_in_any_form() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    let mut st = Station::open(Store::open_training(&db).unwrap(), &info(), StationConfig::default()).unwrap();
    let forms = [
        ("xh", "'１１０１０５１９４９１２３１００２１'"),
        ("fy", "'١١٠١٠٥١٩٤٩١٢٣١٠٠٢١'"),
        ("bh", "'110105' || char(8203) || '19491231' || char(8203) || '0021'"),
        ("xh", "'110105.19491231.0021'"),
        ("fy", "'110105' || char(160) || '19491231' || char(160) || '0021'"),
        ("extra_json", "'{\"n\":1.1010519491231002e+17}'"),
        ("fy", "'A' || char(27) || ']0;x' || char(7)"),
    ];
    for n in 0..forms.len() {
        let text = b64(&format!(
            r#"{{"sjc":"1700000000000","cjm":"DRILLX{n}","yxdm":"10697","zjhm":"0021","xh":"202100000{n}","xm":"张*丰"}}"#
        ));
        assert!(matches!(st.handle(Event::CodeScanned { text, frame: None }).unwrap(), Outcome::Queued(_)));
    }
    drop(st);
    assert!(Store::open_read_only(&db).unwrap().verify().unwrap().ok());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("DROP TRIGGER records_identity_immutable").unwrap();
    for (i, (column, value)) in forms.iter().enumerate() {
        conn.execute_batch(&format!("UPDATE records SET {column} = {value} WHERE cjm = 'DRILLX{i}'")).unwrap();
    }
    drop(conn);
    let report = Store::open_read_only(&db).unwrap().verify().unwrap();
    let masking: Vec<&str> =
        report.findings.iter().filter(|f| f.check == "masking").map(|f| f.message.as_str()).collect();
    let ids = masking.iter().filter(|m| m.contains("holds a full ID number")).count();
    let controls = masking.iter().filter(|m| m.contains("control character")).count();
    assert_eq!((ids, controls), (forms.len() - 1, 1), "{masking:?}");

    // The roster table too (a helper's attack: verify never read it), by row
    // id: the value itself is never echoed.
    let csv = dir.path().join("名单.csv");
    std::fs::write(
        &csv,
        "学号,姓名,身份证号,班级,学院,专业,层次\n0021010101,欧阳娜娜,36010219990101123x,法学 2101,法学院,法学,本科\n",
    )
    .unwrap();
    let out = run(&db, &["roster", "import", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE roster SET major = ?1", ["110105\u{3164}19491231\u{3164}0021"]).unwrap();
    drop(conn);
    let report = Store::open_read_only(&db).unwrap().verify().unwrap();
    let roster: Vec<&str> =
        report.findings.iter().filter(|f| f.message.starts_with("roster row")).map(|f| f.message.as_str()).collect();
    assert_eq!(roster.len(), 1, "{:?}", report.findings);
    assert!(roster[0].contains("full ID number") && !roster[0].contains("110105"), "{roster:?}");
}

/// A symlinked photo or `photos/` folder was followed, and a FIFO or a link
/// to `/dev/zero` hung the check. Only regular files inside the bundle are read.
#[cfg(unix)]
#[test]
fn bundles_are_data_not_paths() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    assert!(run(&db, &["simulate", "--students", "2", "--seed", "6"]).status.success());
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    assert!(run(&db, &["export", "--to", usb.to_str().unwrap()]).status.success());
    let bundle = std::fs::read_dir(&usb).unwrap().flatten().map(|e| e.path()).find(|p| p.is_dir()).unwrap();
    let photo = std::fs::read_dir(bundle.join("photos")).unwrap().flatten().next().unwrap().path();
    let outside = dir.path().join("outside.jpg");
    let check = |what: &str| {
        let started = std::time::Instant::now();
        let report = gradcap::export::verify_bundle(&bundle).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{what}: no hang");
        assert!(!report.ok(), "{what}: refused");
        report
    };
    // A photo replaced by a link to a copy of itself outside the bundle.
    std::fs::copy(&photo, &outside).unwrap();
    std::fs::remove_file(&photo).unwrap();
    std::os::unix::fs::symlink(&outside, &photo).unwrap();
    let report = check("a symlinked photo");
    assert!(report.findings.iter().any(|f| f.contains("symbolic link")), "{report:?}");
    let merged = dir.path().join("merged");
    std::fs::create_dir(&merged).unwrap();
    let out = Command::new(BIN).arg("merge").arg(&bundle).arg("--to").arg(&merged).output().unwrap();
    assert!(!out.status.success(), "merge refuses a bundle with a link");
    // A link to /dev/zero, then a FIFO.
    std::fs::remove_file(&photo).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &photo).unwrap();
    check("a link to /dev/zero");
    std::fs::remove_file(&photo).unwrap();
    assert!(Command::new("mkfifo").arg(&photo).status().unwrap().success());
    let report = check("a FIFO");
    assert!(report.findings.iter().any(|f| f.contains("not a regular file")), "{report:?}");
    // A symlinked photos/ folder.
    std::fs::remove_file(&photo).unwrap();
    std::fs::copy(&outside, &photo).unwrap();
    assert!(gradcap::export::verify_bundle(&bundle).unwrap().ok(), "repaired");
    let real = dir.path().join("real-photos");
    std::fs::rename(bundle.join("photos"), &real).unwrap();
    std::os::unix::fs::symlink(&real, bundle.join("photos")).unwrap();
    check("a symlinked photos folder");
}

/// A pulled drive leaves its mount point as an empty folder on the internal
/// disk: the bundle went there and the export was recorded. Now a missing
/// target is never created, a target on another device than the one chosen
/// is refused, and nothing is recorded.
#[test]
fn a_pulled_drive_is_never_exported_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    assert!(run(&db, &["simulate", "--students", "2", "--seed", "7"]).status.success());
    let missing = dir.path().join("no-such-drive");
    let out = run(&db, &["export", "--to", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    assert!(!missing.exists(), "no folder was created");
    let Some(usb) = common::Tmpfs::mount(dir.path(), "usb", "64m") else { return };
    let chosen = gradcap::paths::device_id(&usb.0);
    let mount_point = usb.0.clone();
    drop(usb); // pulled: the mount point stays as an empty folder on this disk
    assert!(mount_point.is_dir());
    assert_ne!(gradcap::paths::device_id(&mount_point), chosen);
    let mut store = Store::open(&db).unwrap();
    let options = gradcap::export::ExportOptions { device: chosen, ..Default::default() };
    let err =
        gradcap::export::export_with(&mut store, &mount_point, &options, "2026-06-01T18:00:00+08:00", &mut |_| {})
            .unwrap_err();
    assert!(matches!(err, gradcap::export::ExportError::WrongDevice(_)), "{err}");
    assert!(std::fs::read_dir(&mount_point).unwrap().next().is_none(), "nothing written to the internal disk");
    assert!(store.export_history().unwrap().is_empty(), "nothing recorded");
}

/// Damage in the image store's pages (the takes table) stops a writing
/// command too: it is checked before writing, where the station checks it on
/// a worker after opening.
#[test]
fn damage_in_the_image_store_stops_a_writing_command() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    assert!(run(&db, &["simulate", "--students", "6", "--seed", "8"]).status.success());
    common::damage_root_page(&db, "takes", 48, 0x33);
    let out = run(&db, &["simulate", "--students", "1", "--seed", "9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("damaged"), "{}", String::from_utf8_lossy(&out.stderr));
    let store = Store::open_read_only(&db).unwrap();
    assert!(store.check_image_store().is_err(), "what the station's worker runs finds it too");
}
