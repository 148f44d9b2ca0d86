//! The order guard for studio camera files, case by case, on real SQLite
//! databases, through the same shutter and commit path as the window.

use std::time::{Duration, Instant};

use super::*;
use crate::camera::folder::{sha256_hex, ArrivedFile, ArrivedRaw};
use crate::camera::synth;
use crate::code::drill::DrillStudent;
use crate::station::shutter::Shutter;
use crate::station::{Event, Outcome, Station, StationConfig};
use crate::store::{CameraFileStatus, SessionInfo, Store};

fn station() -> Station {
    let info = SessionInfo {
        school_name: "测试大学".into(),
        school_code: "10697".into(),
        station: "2".into(),
        date: "2026-06-01".into(),
        operator: "op".into(),
    };
    Station::open(Store::open_in_memory_training().unwrap(), &info, StationConfig::default()).unwrap()
}

fn scan(st: &mut Station, i: usize) -> RecordId {
    let text = DrillStudent::example(&format!("00210{i:05}")).example_payload();
    match st.handle(Event::CodeScanned { text, frame: None }).unwrap() {
        Outcome::Queued(r) | Outcome::AlreadyWaiting(r) => r.id,
        other => panic!("{other:?}"),
    }
}

fn shot_bytes(seed: u64) -> Vec<u8> {
    synth::camera_jpeg(&synth::portrait(960, 720, seed), 1, 92).unwrap()
}

fn arrived(name: &str, bytes: Vec<u8>, at_start: bool) -> ArrivedFile {
    let complete =
        crate::camera::folder::jpeg_completeness(&bytes) == crate::camera::folder::JpegCompleteness::Complete;
    ArrivedFile {
        path: PathBuf::from("/camera").join(name),
        name: name.into(),
        sha256: sha256_hex(&bytes),
        bytes,
        modified: None,
        at_start,
        complete,
        found_at: Instant::now(),
        rewritten: false,
    }
}

/// What the window does with a file: decide, then bind (through the
/// shutter) or hold; then collect what the worker made.
fn ingest(
    st: &mut Station,
    shutter: &mut Shutter,
    ing: &mut ShotIngest,
    file: ArrivedFile,
    now: Instant,
) -> (Decision, Vec<Outcome>) {
    let decision = ing.decide(st, shutter.shot_for(), shutter.busy(), &file, now).unwrap();
    let mut outcomes = Vec::new();
    match &decision {
        Decision::Bind(record) => {
            let cf = ing.camera_file(&file);
            shutter
                .press_file(st, *record, crate::store::CameraShot { file: cf, by_operator: false }, file.bytes)
                .unwrap();
            ing.bound(*record, now);
            outcomes.extend(shutter.collect(st).into_iter().map(Result::unwrap));
        }
        Decision::Hold(reason) => {
            let cf = ing.camera_file(&file);
            outcomes.push(crate::station::shutter::hold(st, &cf, CameraFileStatus::Unbound, reason.code()).unwrap());
        }
        Decision::Unreadable => {
            let cf = ing.camera_file(&file);
            outcomes.push(crate::station::shutter::hold(st, &cf, CameraFileStatus::Unreadable, "cut_short").unwrap());
        }
        Decision::Known(_) => {}
    }
    (decision, outcomes)
}

fn take_ready(outcomes: &[Outcome]) -> &crate::store::Take {
    match outcomes.last() {
        Some(Outcome::TakeReady { take, .. }) => take,
        other => panic!("expected a take, got {other:?}"),
    }
}

#[test]
fn a_file_becomes_a_take_of_the_head_its_bytes_kept_as_the_original() {
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(IngestConfig::default()));
    let head = scan(&mut st, 1);
    let bytes = shot_bytes(1);
    let (decision, outcomes) =
        ingest(&mut st, &mut shutter, &mut ing, arrived("IMG_0001.JPG", bytes.clone(), false), Instant::now());
    assert_eq!(decision, Decision::Bind(head));
    let take = take_ready(&outcomes).clone();
    assert_eq!(take.record_id, head);
    assert_eq!(take.original_sha256, sha256_hex(&bytes));
    let (original, deliverable) = st.store().take_images(take.id).unwrap();
    assert_eq!(original, bytes, "the camera's file byte for byte");
    assert_eq!(crate::photo::decode_jpeg(&deliverable).unwrap().dimensions(), (480, 640));
    let row = st.store().camera_file_of_take(take.id).unwrap().unwrap();
    assert_eq!((row.status, row.name.as_str()), (CameraFileStatus::Bound, "IMG_0001.JPG"));
    st.handle(Event::Accept).unwrap();
    assert!(st.store().verify().unwrap().findings.is_empty());
}

#[test]
fn files_with_no_student_during_a_review_or_found_at_start_go_to_the_tray() {
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(IngestConfig::default()));
    let t0 = Instant::now();
    let (d, _) = ingest(&mut st, &mut shutter, &mut ing, arrived("IMG_0001.JPG", shot_bytes(2), false), t0);
    assert_eq!(d, Decision::Hold(HoldReason::NoStudent));
    let head = scan(&mut st, 2);
    let (d, _) = ingest(&mut st, &mut shutter, &mut ing, arrived("IMG_0002.JPG", shot_bytes(3), true), t0);
    assert_eq!(d, Decision::Hold(HoldReason::FoundAtStart), "not seen arriving: never bound on its own");
    let (d, _) = ingest(&mut st, &mut shutter, &mut ing, arrived("IMG_0003.JPG", shot_bytes(4), false), t0);
    assert_eq!(d, Decision::Bind(head));
    // Long after the shot (no burst), with the photo still under review.
    let later = t0 + Duration::from_secs(30);
    let (d, _) = ingest(&mut st, &mut shutter, &mut ing, arrived("IMG_0004.JPG", shot_bytes(5), false), later);
    assert_eq!(d, Decision::Hold(HoldReason::ReviewPending));
    let tray: Vec<String> = st.unbound_camera_files().unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(tray, ["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0004.JPG"]);
    assert_eq!(st.store().takes(head).unwrap().len(), 1, "only IMG_0003 is a take");
}

#[test]
fn a_burst_of_three_is_three_takes_of_one_student_and_review_shows_the_last() {
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(IngestConfig::default()));
    let head = scan(&mut st, 3);
    scan(&mut st, 4);
    let t0 = Instant::now();
    for (i, seed) in [10u64, 11, 12].into_iter().enumerate() {
        let at = t0 + Duration::from_millis(400 * i as u64);
        let (d, outcomes) =
            ingest(&mut st, &mut shutter, &mut ing, arrived(&format!("IMG_{i}.JPG"), shot_bytes(seed), false), at);
        assert_eq!(d, Decision::Bind(head), "shot {i}");
        assert_eq!(take_ready(&outcomes).take_no, i as i64 + 1);
    }
    let takes = st.store().takes(head).unwrap();
    assert_eq!(takes.len(), 3);
    assert_eq!(st.take_under_review().unwrap().id, takes[2].id, "review shows the last");
    match st.handle(Event::Accept).unwrap() {
        Outcome::Accepted(r) => assert_eq!(r.id, head),
        other => panic!("{other:?}"),
    }
    assert_eq!(st.store().primary_take(head).unwrap().unwrap().id, takes[2].id);
}

#[test]
fn a_file_is_never_bound_twice_after_a_restart_and_a_discarded_one_never_at_all() {
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(IngestConfig::default()));
    let head = scan(&mut st, 5);
    let bytes = shot_bytes(20);
    ingest(&mut st, &mut shutter, &mut ing, arrived("IMG_1.JPG", bytes.clone(), false), Instant::now());
    st.handle(Event::Accept).unwrap();
    scan(&mut st, 6);
    // The station restarts: new rules, the same database; the camera's
    // utility saves the same shot again under another name.
    let mut ing = ShotIngest::new(IngestConfig::default());
    let (d, outcomes) =
        ingest(&mut st, &mut shutter, &mut ing, arrived("IMG_1 (copy).JPG", bytes, false), Instant::now());
    assert!(matches!(d, Decision::Known(row) if row.status == CameraFileStatus::Bound));
    assert!(outcomes.is_empty());
    assert_eq!(st.store().takes(head).unwrap().len(), 1);
    // Binding the same bytes by hand is refused by the store too.
    let row = st.store().camera_file_by_hash(&sha256_hex(&shot_bytes(20))).unwrap().unwrap();
    let file = crate::store::CameraFile {
        name: row.name.clone(),
        sha256: row.sha256.clone(),
        bytes: row.bytes,
        modified_at: None,
        raw: None,
    };
    shutter.bind_held(&mut st, file, shot_bytes(20)).unwrap();
    let results = shutter.collect(&mut st);
    assert!(
        matches!(&results[..], [Err(StationError::Store(crate::store::StoreError::CameraFileKnown { .. }))]),
        "{results:?}"
    );
    // A file set aside stays aside.
    let t = Instant::now() + Duration::from_secs(60);
    st.handle(Event::Skip { reason: "left".into() }).unwrap();
    let (d, _) = ingest(&mut st, &mut shutter, &mut ing, arrived("X.JPG", shot_bytes(21), false), t);
    assert_eq!(d, Decision::Hold(HoldReason::NoStudent));
    let tray = st.unbound_camera_files().unwrap();
    st.discard_camera_file(tray[0].id).unwrap();
    assert!(st.unbound_camera_files().unwrap().is_empty());
    scan(&mut st, 7);
    let (d, _) = ingest(&mut st, &mut shutter, &mut ing, arrived("X.JPG", shot_bytes(21), false), t);
    assert!(matches!(d, Decision::Known(row) if row.status == CameraFileStatus::Discarded));
    let actions: Vec<String> = st.store().audit_log().unwrap().into_iter().map(|a| a.action).collect();
    assert!(
        actions.contains(&"camera_file_held".to_string()) && actions.contains(&"camera_file_discarded".to_string())
    );
}

#[test]
fn binding_from_the_tray_is_the_operators_choice_and_audited_as_such() {
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(IngestConfig::default()));
    let bytes = shot_bytes(30);
    ingest(&mut st, &mut shutter, &mut ing, arrived("IMG_7.JPG", bytes.clone(), true), Instant::now());
    let row = st.unbound_camera_files().unwrap().remove(0);
    let file = crate::store::CameraFile {
        name: row.name.clone(),
        sha256: row.sha256.clone(),
        bytes: row.bytes,
        modified_at: None,
        raw: None,
    };
    // No student: refused, nothing changes.
    assert!(shutter.bind_held(&mut st, file.clone(), bytes.clone()).is_err());
    let head = scan(&mut st, 8);
    shutter.bind_held(&mut st, file, bytes).unwrap();
    let outcomes: Vec<Outcome> = shutter.collect(&mut st).into_iter().map(Result::unwrap).collect();
    let take = take_ready(&outcomes);
    assert_eq!(take.record_id, head);
    assert!(st.unbound_camera_files().unwrap().is_empty());
    assert_eq!(st.store().camera_file(row.id).unwrap().take_id, Some(take.id), "the tray's row is bound");
    let audit = st.store().audit_for_record(head).unwrap();
    let captured = audit.iter().find(|a| a.action == "take_captured").unwrap();
    assert!(captured.detail.contains("\"by_operator\":true"), "{}", captured.detail);
}

#[test]
fn with_the_station_triggering_only_files_within_the_window_bind() {
    let config = IngestConfig { trigger: ShotTrigger::Station, window_ms: 5000, burst_ms: 1000 };
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(config));
    let head = scan(&mut st, 9);
    let t0 = Instant::now();
    let (d, _) = ingest(&mut st, &mut shutter, &mut ing, arrived("A.JPG", shot_bytes(40), false), t0);
    assert_eq!(d, Decision::Hold(HoldReason::NotTriggered), "no key pressed");
    ing.arm(head, t0);
    let (d, _) =
        ingest(&mut st, &mut shutter, &mut ing, arrived("B.JPG", shot_bytes(41), false), t0 + Duration::from_secs(2));
    assert_eq!(d, Decision::Bind(head));
    st.handle(Event::Reshoot).unwrap();
    ing.arm(head, t0 + Duration::from_secs(10));
    let (d, _) =
        ingest(&mut st, &mut shutter, &mut ing, arrived("C.JPG", shot_bytes(42), false), t0 + Duration::from_secs(16));
    assert_eq!(d, Decision::Hold(HoldReason::NotTriggered), "6 s after the key: too late");
}

#[test]
fn a_take_whose_student_left_the_head_while_it_was_made_goes_to_the_tray() {
    let mut st = station();
    let mut shutter = Shutter::start(Box::new(|| {})).unwrap();
    let ing = ShotIngest::new(IngestConfig::default());
    let first = scan(&mut st, 10);
    scan(&mut st, 11);
    let file = arrived("IMG_9.JPG", synth::camera_jpeg(&synth::portrait(3000, 2000, 50), 1, 92).unwrap(), false);
    let Decision::Bind(record) = ing.decide(&st, None, false, &file, Instant::now()).unwrap() else { panic!() };
    assert_eq!(record, first);
    let mut ing = ing;
    let cf = ing.camera_file(&file);
    shutter.press_file(&mut st, record, crate::store::CameraShot { file: cf, by_operator: false }, file.bytes).unwrap();
    // The operator skips the student while the photo is being made.
    st.handle(Event::Skip { reason: "left".into() }).unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    let mut results = Vec::new();
    while results.is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
        results = shutter.collect(&mut st);
    }
    match &results[..] {
        [Ok(Outcome::ShotHeld(row))] => assert_eq!(row.reason, "head_changed"),
        other => panic!("{other:?}"),
    }
    assert!(st.store().takes(first).unwrap().is_empty());
    assert_eq!(st.unbound_camera_files().unwrap().len(), 1, "nothing lost");
}

#[test]
fn a_corrupt_jpeg_is_recorded_unreadable_and_never_bound() {
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(IngestConfig::default()));
    let head = scan(&mut st, 12);
    // Whole by its markers, a block of garbage inside (a transfer error):
    // the strict decoder refuses it where a lenient one paints it grey.
    let mut bytes = shot_bytes(60);
    let sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
    let mid = sos + (bytes.len() - sos) / 3;
    let mut rng = synth::SeededRng::new(60);
    for b in &mut bytes[mid..mid + 4096] {
        *b = rng.next_u64() as u8;
    }
    let (d, outcomes) = ingest(&mut st, &mut shutter, &mut ing, arrived("BAD.JPG", bytes, false), Instant::now());
    assert_eq!(d, Decision::Bind(head));
    match &outcomes[..] {
        [Outcome::ShotHeld(row)] => assert_eq!(row.status, CameraFileStatus::Unreadable),
        other => panic!("{other:?}"),
    }
    assert!(st.store().takes(head).unwrap().is_empty());
    assert!(st.unbound_camera_files().unwrap().is_empty(), "not offered for binding");
    // Cut short: recorded unreadable without being decoded.
    let cut = shot_bytes(61);
    let (d, _) = ingest(
        &mut st,
        &mut shutter,
        &mut ing,
        arrived("CUT.JPG", cut[..cut.len() / 2].to_vec(), false),
        Instant::now(),
    );
    assert_eq!(d, Decision::Unreadable);
}

#[test]
fn a_sideways_file_is_turned_upright_and_its_bytes_kept_as_they_are() {
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(IngestConfig::default()));
    scan(&mut st, 13);
    // An upright 720x960 portrait, stored sideways by a camera on its side (tag 6).
    let upright = synth::portrait(720, 960, 70);
    let stored = image::imageops::rotate270(&upright);
    let bytes = synth::camera_jpeg(&stored, 6, 92).unwrap();
    let (_, outcomes) =
        ingest(&mut st, &mut shutter, &mut ing, arrived("IMG_6.JPG", bytes.clone(), false), Instant::now());
    let take = take_ready(&outcomes);
    assert_eq!((take.original_width, take.original_height), (720, 960), "upright size recorded");
    assert_eq!(st.store().take_images(take.id).unwrap().0, bytes);
}

#[test]
fn raw_files_are_recorded_with_their_jpeg_whichever_comes_first() {
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(IngestConfig::default()));
    scan(&mut st, 14);
    let raw = |name: &str, fill: u8| ArrivedRaw {
        path: PathBuf::from("/camera").join(name),
        name: name.into(),
        sha256: sha256_hex(&[fill; 100]),
        bytes: 100,
    };
    // RAW first (Canon writes the CR3 before the JPEG).
    assert!(!ing.raw_arrived(&mut st, raw("IMG_0100.CR3", 1)).unwrap());
    let bytes = shot_bytes(80);
    let (_, outcomes) =
        ingest(&mut st, &mut shutter, &mut ing, arrived("IMG_0100.JPG", bytes.clone(), false), Instant::now());
    let take = take_ready(&outcomes).id;
    let row = st.store().camera_file_of_take(take).unwrap().unwrap();
    assert_eq!(row.raw.as_ref().map(|r| r.name.as_str()), Some("IMG_0100.CR3"));
    st.handle(Event::Accept).unwrap();
    // JPEG first, RAW after.
    scan(&mut st, 15);
    let (_, outcomes) = ingest(
        &mut st,
        &mut shutter,
        &mut ing,
        arrived("IMG_0101.JPG", shot_bytes(81), false),
        Instant::now() + Duration::from_secs(60),
    );
    let take = take_ready(&outcomes).id;
    assert!(ing.raw_arrived(&mut st, raw("IMG_0101.NEF", 2)).unwrap());
    let row = st.store().camera_file_of_take(take).unwrap().unwrap();
    assert_eq!(row.raw.map(|r| (r.name, r.sha256)), Some(("IMG_0101.NEF".into(), sha256_hex(&[2; 100]))));
    assert_eq!(ing.raw_waiting(), 0);
}

#[test]
fn an_export_that_asks_for_raw_files_copies_them_checked_beside_the_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let (shots, usb) = (dir.path().join("EOS"), dir.path().join("USB"));
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::create_dir_all(&usb).unwrap();
    let db = dir.path().join("station.sqlite");
    let info = SessionInfo {
        school_name: "测试大学".into(),
        school_code: "10697".into(),
        station: "2".into(),
        date: "2026-06-01".into(),
        operator: "op".into(),
    };
    let mut st = Station::open(Store::open_training(&db).unwrap(), &info, StationConfig::default()).unwrap();
    let (mut shutter, mut ing) = (Shutter::inline(), ShotIngest::new(IngestConfig::default()));
    let raw_bytes: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(shots.join("IMG_0001.CR3"), &raw_bytes).unwrap();
    for (i, name) in [(1, "IMG_0001"), (2, "IMG_0002")] {
        scan(&mut st, 20 + i);
        if i == 1 {
            let raw = ArrivedRaw {
                path: shots.join("IMG_0001.CR3"),
                name: "IMG_0001.CR3".into(),
                sha256: sha256_hex(&raw_bytes),
                bytes: raw_bytes.len() as u64,
            };
            ing.raw_arrived(&mut st, raw).unwrap();
        }
        let at = Instant::now() + Duration::from_secs(10 * i as u64);
        ingest(&mut st, &mut shutter, &mut ing, arrived(&format!("{name}.JPG"), shot_bytes(90 + i as u64), false), at);
        st.handle(Event::Accept).unwrap();
    }
    drop(st);
    let mut store = Store::open_training(&db).unwrap();
    // Renamed in the folder since (or its name replaced at capture): found by size and hash.
    std::fs::rename(shots.join("IMG_0001.CR3"), shots.join("renamed.CR3")).unwrap();
    let options = crate::export::ExportOptions { raw_from: Some(shots.clone()), ..Default::default() };
    let report =
        crate::export::export_with(&mut store, &usb, &options, "2026-06-01T18:00:00+08:00", &mut |_| {}).unwrap();
    assert_eq!((report.raw_files, report.raw_missing.len()), (1, 0), "{report}");
    let raws: Vec<_> = std::fs::read_dir(report.bundle.join("originals"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "CR3"))
        .map(|e| e.path())
        .collect();
    assert_eq!(raws.len(), 1);
    assert_eq!(std::fs::read(&raws[0]).unwrap(), raw_bytes);
    assert!(crate::export::verify_bundle(&report.bundle).unwrap().ok(), "SHA256SUMS lists the RAW");
    // The RAW changed in the folder since it was shot: not exported, said so.
    std::fs::remove_file(shots.join("renamed.CR3")).unwrap();
    std::fs::write(shots.join("IMG_0001.CR3"), b"edited").unwrap();
    let options = crate::export::ExportOptions { full: true, raw_from: Some(shots), ..Default::default() };
    let report =
        crate::export::export_with(&mut store, &usb, &options, "2026-06-01T19:00:00+08:00", &mut |_| {}).unwrap();
    assert_eq!(report.raw_files, 0);
    assert_eq!(report.raw_missing.len(), 1);
    assert!(report.to_string().contains("IMG_0001.CR3"));
    // Without asking, no RAW file goes out.
    let report = crate::export::export_with(
        &mut store,
        &usb,
        &crate::export::ExportOptions { full: true, ..Default::default() },
        "2026-06-01T20:00:00+08:00",
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((report.raw_files, report.raw_missing.len()), (0, 0));
}

#[test]
fn the_tail_of_a_burst_after_a_fast_accept_is_held_never_given_to_the_next_student() {
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(IngestConfig::default()));
    let first = scan(&mut st, 30);
    let second = scan(&mut st, 31);
    let t0 = Instant::now();
    let (d, _) = ingest(&mut st, &mut shutter, &mut ing, arrived("IMG_3000.JPG", shot_bytes(300), false), t0);
    assert_eq!(d, Decision::Bind(first));
    st.handle(Event::Accept).unwrap();
    // The camera's buffer still writes the burst's last frame: the second
    // student is at the head now, and it is not theirs.
    let (d, _) = ingest(
        &mut st,
        &mut shutter,
        &mut ing,
        arrived("IMG_3001.JPG", shot_bytes(301), false),
        t0 + Duration::from_millis(400),
    );
    assert_eq!(d, Decision::Hold(HoldReason::BurstOfPrevious));
    assert!(st.store().takes(second).unwrap().is_empty());
    // Past the burst time, a shot is the second student's.
    let (d, _) = ingest(
        &mut st,
        &mut shutter,
        &mut ing,
        arrived("IMG_3002.JPG", shot_bytes(302), false),
        t0 + Duration::from_secs(5),
    );
    assert_eq!(d, Decision::Bind(second));
    let held: Vec<_> = st.unbound_camera_files().unwrap().into_iter().map(|r| (r.name, r.reason)).collect();
    assert_eq!(held, [("IMG_3001.JPG".to_string(), "burst_of_previous".to_string())]);
}

#[test]
fn a_shutter_press_is_for_its_student_only_a_skip_closes_it() {
    let config = IngestConfig { trigger: ShotTrigger::Station, window_ms: 5000, burst_ms: 1000 };
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(config));
    let first = scan(&mut st, 32);
    let second = scan(&mut st, 33);
    let t0 = Instant::now();
    ing.arm(first, t0);
    // The camera did not fire; the operator skips the student.
    st.handle(Event::Skip { reason: "left".into() }).unwrap();
    let (d, _) = ingest(
        &mut st,
        &mut shutter,
        &mut ing,
        arrived("IMG_3300.JPG", shot_bytes(330), false),
        t0 + Duration::from_secs(1),
    );
    assert_eq!(d, Decision::Hold(HoldReason::NotTriggered), "pressed for the student who left");
    assert!(st.store().takes(second).unwrap().is_empty());
    ing.arm(second, t0 + Duration::from_secs(2));
    let (d, _) = ingest(
        &mut st,
        &mut shutter,
        &mut ing,
        arrived("IMG_3301.JPG", shot_bytes(331), false),
        t0 + Duration::from_secs(3),
    );
    assert_eq!(d, Decision::Bind(second));
}

#[test]
fn a_file_the_camera_software_rewrote_goes_to_the_tray() {
    let (mut st, mut shutter, mut ing) = (station(), Shutter::inline(), ShotIngest::new(IngestConfig::default()));
    let head = scan(&mut st, 34);
    let mut file = arrived("IMG_3400.JPG", shot_bytes(340), false);
    file.rewritten = true;
    let (d, _) = ingest(&mut st, &mut shutter, &mut ing, file, Instant::now());
    assert_eq!(d, Decision::Hold(HoldReason::Rewritten));
    assert!(st.store().takes(head).unwrap().is_empty());
    assert_eq!(st.unbound_camera_files().unwrap()[0].reason, "rewritten");
}

#[test]
fn a_raw_that_comes_while_its_jpeg_is_being_made_into_a_take_is_recorded_after() {
    let mut st = station();
    let mut shutter = Shutter::start(Box::new(|| {})).unwrap();
    let mut ing = ShotIngest::new(IngestConfig::default());
    let head = scan(&mut st, 35);
    let file = arrived("IMG_3500.JPG", synth::camera_jpeg(&synth::portrait(3000, 2000, 350), 1, 92).unwrap(), false);
    let Decision::Bind(record) = ing.decide(&st, None, false, &file, Instant::now()).unwrap() else { panic!() };
    assert_eq!(record, head);
    let cf = ing.camera_file(&file);
    shutter.press_file(&mut st, record, crate::store::CameraShot { file: cf, by_operator: false }, file.bytes).unwrap();
    let raw = ArrivedRaw {
        path: PathBuf::from("/camera/IMG_3500.CR3"),
        name: "IMG_3500.CR3".into(),
        sha256: sha256_hex(&[5; 100]),
        bytes: 100,
    };
    assert!(!ing.raw_arrived(&mut st, raw.clone()).unwrap(), "its JPEG is not stored yet");
    assert_eq!(ing.raw_waiting(), 1);
    let until = Instant::now() + Duration::from_secs(60);
    let mut results = Vec::new();
    while results.is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
        results = shutter.collect(&mut st);
    }
    let take = match &results[..] {
        [Ok(Outcome::TakeReady { take, .. })] => take.id,
        other => panic!("{other:?}"),
    };
    assert_eq!(ing.attach_waiting_raw(&mut st).unwrap(), 1);
    assert_eq!(ing.raw_waiting(), 0);
    let row = st.store().camera_file_of_take(take).unwrap().unwrap();
    assert_eq!(row.raw.map(|r| r.name), Some("IMG_3500.CR3".into()));
    // After a restart the same RAW is known: nothing waits for it.
    assert!(!ing.raw_arrived(&mut st, raw).unwrap());
    assert_eq!(ing.raw_waiting(), 0);
}
