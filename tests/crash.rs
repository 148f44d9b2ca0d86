//! Crash safety, by killing the real process: `gradcap simulate` is killed
//! with SIGKILL at random moments and restarted on the same database, 22
//! times. After every kill `gradcap verify` must pass, no sequence number may
//! be reused for another student, and no photographed record may lose or
//! change its photo.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use gradcap::camera::synth::SeededRng;
use gradcap::store::{RecordStatus, Store};

const BIN: &str = env!("CARGO_BIN_EXE_gradcap");
const ROUNDS: usize = 22;

/// What must never change once seen: seq → student, photographed record → photo.
#[derive(Default)]
struct Seen {
    seq_to_cjm: HashMap<i64, String>,
    photo_of_record: HashMap<i64, String>,
    next_seq: i64,
}

fn check_invariants(db: &Path, seen: &mut Seen, round: usize) {
    let store = Store::open_read_only(db).unwrap();
    let sessions = store.sessions().unwrap();
    assert!(sessions.len() <= 1, "one session for one station and date");
    let Some(session) = sessions.first() else { return };
    assert!(session.next_seq >= seen.next_seq, "round {round}: the seq counter went back");
    seen.next_seq = session.next_seq;
    for record in store.records(session.id).unwrap() {
        let cjm = seen.seq_to_cjm.entry(record.seq).or_insert_with(|| record.code.cjm.clone());
        assert_eq!(*cjm, record.code.cjm, "round {round}: seq {} was reused", record.seq);
        if record.status == RecordStatus::Photographed {
            let primary = store.primary_take(record.id).unwrap().expect("photographed has a primary take");
            let sha = seen.photo_of_record.entry(record.id).or_insert_with(|| primary.deliverable_sha256.clone());
            assert_eq!(*sha, primary.deliverable_sha256, "round {round}: record {} changed its photo", record.id);
        }
    }
    for (&record_id, _) in seen.photo_of_record.iter() {
        let record = store.record(record_id).unwrap();
        assert_eq!(record.status, RecordStatus::Photographed, "round {round}: record {record_id} lost its photo");
    }
}

fn verify(db: &Path, round: usize) {
    let out = Command::new(BIN).args(["verify", "--db"]).arg(db).output().unwrap();
    assert!(
        out.status.success(),
        "round {round}: verify failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sigkill_at_random_moments_never_corrupts_reuses_or_loses() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.sqlite");
    let mut rng = SeededRng::new(2026);
    let mut seen = Seen::default();
    let mut killed_while_running = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(BIN)
            .args(["simulate", "--students", "500", "--station", "5", "--date", "2026-06-01", "--seed"])
            .arg(round.to_string())
            .arg("--db")
            .arg(&db)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Early kills land in start-up and migration; later ones mid-capture.
        let wait_ms = if round < 3 { rng.range(5.0, 80.0) } else { rng.range(150.0, 1500.0) };
        std::thread::sleep(Duration::from_millis(wait_ms as u64));
        if child.try_wait().unwrap().is_none() {
            killed_while_running += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if !db.exists() {
            continue;
        }
        verify(&db, round);
        check_invariants(&db, &mut seen, round);
    }
    assert!(killed_while_running >= ROUNDS - 2, "only {killed_while_running} kills hit a running process");
    assert!(seen.photo_of_record.len() >= 20, "the runs made progress: {} photographed", seen.photo_of_record.len());

    // After all that, the session still completes normally.
    let out = Command::new(BIN)
        .args(["simulate", "--students", "5", "--station", "5", "--date", "2026-06-01", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["students"], 5);
    verify(&db, ROUNDS);
    check_invariants(&db, &mut seen, ROUNDS);
    let store = Store::open_read_only(&db).unwrap();
    let session = &store.sessions().unwrap()[0];
    assert_eq!(store.counts(session.id).unwrap().waiting, 0, "the queue drained");
}

/// Every camera file in the folder, by name, with its hash.
fn folder_files(dir: &Path) -> HashMap<String, (String, Vec<u8>)> {
    let mut files = HashMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".JPG") {
            let bytes = std::fs::read(entry.path()).unwrap();
            files.insert(name, (gradcap::camera::folder::sha256_hex(&bytes), bytes));
        }
    }
    files
}

#[test]
fn sigkill_during_hot_folder_ingest_leaves_each_file_a_take_or_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("studio.sqlite");
    let shots = dir.path().join("EOS");
    let mut rng = SeededRng::new(2027);
    let mut first_seen: HashMap<String, String> = HashMap::new();
    let (mut bound_total, mut untouched_total) = (0, 0);
    for round in 0..10 {
        let mut child = Command::new(BIN)
            .args(["simulate", "--students", "300", "--station", "6", "--date", "2026-06-01", "--seed"])
            .arg(round.to_string())
            .arg("--shots-folder")
            .arg(&shots)
            .arg("--db")
            .arg(&db)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.range(400.0, 3000.0) as u64));
        child.kill().unwrap(); // SIGKILL, often while a file is being taken in
        child.wait().unwrap();
        if !db.exists() || !shots.exists() {
            continue;
        }
        verify(&db, round);
        let store = Store::open_read_only(&db).unwrap();
        let (mut bound, mut untouched) = (0, 0);
        for (name, (sha, bytes)) in folder_files(&shots) {
            // The station never writes, renames or deletes a camera file.
            let was = first_seen.entry(name.clone()).or_insert_with(|| sha.clone());
            assert_eq!(*was, sha, "round {round}: {name} changed in the folder");
            match store.camera_file_by_hash(&sha).unwrap() {
                Some(row) if row.status == gradcap::store::CameraFileStatus::Bound => {
                    let take = row.take_id.unwrap();
                    let (original, _) = store.take_images(take).unwrap();
                    assert_eq!(original, bytes, "round {round}: {name}'s take holds its bytes");
                    bound += 1;
                }
                // In the tray (found after a restart) or not yet seen: the file is as it was.
                _ => untouched += 1,
            }
        }
        // No file is a take twice: each take's original is one file's hash at most once.
        let sessions = store.sessions().unwrap();
        let mut originals = HashMap::new();
        for session in &sessions {
            for record in store.records(session.id).unwrap() {
                for take in store.takes(record.id).unwrap() {
                    let n = originals.entry(take.original_sha256.clone()).or_insert(0);
                    *n += 1;
                    assert_eq!(*n, 1, "round {round}: one camera file became two takes");
                }
            }
        }
        bound_total += bound;
        untouched_total += untouched;
    }
    assert!(bound_total > 10, "the runs made progress: {bound_total} files bound");
    eprintln!("studio crash test: {bound_total} file sightings bound, {untouched_total} untouched");
}
