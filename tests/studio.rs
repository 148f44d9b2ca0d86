//! The studio camera against a fake tethering program (scripts/fake_tether.py,
//! Pillow's JPEGs with real EXIF): files in pieces, renamed from `.tmp`,
//! RAW+JPEG, a burst, no one at the head, during a review, 24 MP, corrupt,
//! not an image, sideways. The station runs as the window runs it: a file
//! database, the watcher thread, the photo worker thread. Every case ends as
//! specified, nothing is lost, nothing is bound to the wrong record.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use gradcap::code::drill::DrillStudent;
use gradcap::station::ingest::{IngestConfig, StudioCamera};
use gradcap::station::shutter::Shutter;
use gradcap::station::{Event, Outcome, Station, StationConfig};
use gradcap::store::{CameraFileStatus, RecordId, SessionInfo, Store};

fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/portraits/obama.jpg")
}

/// Pillow is there (CI installs it; elsewhere the test says it is skipped).
fn pillow() -> bool {
    let ok = Command::new("python3").args(["-c", "import PIL"]).output().is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("CI").is_some() {
        panic!("CI needs python3 with Pillow (.ci/run installs it)");
    }
    if !ok {
        eprintln!("skipped: python3 with Pillow is not installed (pip install pillow)");
    }
    ok
}

struct Rig {
    _dir: tempfile::TempDir,
    shots: PathBuf,
    db: PathBuf,
    station: Station,
    shutter: Shutter,
    camera: StudioCamera,
    outcomes: Vec<Outcome>,
    errors: Vec<String>,
}

impl Rig {
    fn new(config: IngestConfig) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let shots = dir.path().join("EOS");
        std::fs::create_dir(&shots).unwrap();
        let db = dir.path().join("station.sqlite");
        let info = SessionInfo {
            school_name: "测试大学".into(),
            school_code: "10697".into(),
            station: "3".into(),
            date: "2026-06-01".into(),
            operator: "op".into(),
        };
        let station = Station::open(Store::open_training(&db).unwrap(), &info, StationConfig::default()).unwrap();
        let shutter = Shutter::start(Box::new(|| {})).unwrap();
        let camera = StudioCamera::start(&shots, &station, config, Box::new(|| {})).unwrap();
        Rig { _dir: dir, shots, db, station, shutter, camera, outcomes: Vec::new(), errors: Vec::new() }
    }

    /// The next student walks to the stool: longer than a burst, so a file
    /// now is theirs, not the tail of the last student's burst.
    fn next_student_sits(&self) {
        std::thread::sleep(Duration::from_millis(IngestConfig::default().burst_ms + 200));
    }

    fn scan(&mut self, i: usize) -> RecordId {
        let text = DrillStudent::example(&format!("00310{i:05}")).example_payload();
        match self.station.handle(Event::CodeScanned { text, frame: None }).unwrap() {
            Outcome::Queued(r) | Outcome::AlreadyWaiting(r) => r.id,
            other => panic!("{other:?}"),
        }
    }

    /// Runs the fake tethering program; the files it wrote and their hashes.
    fn tether(&self, scenario: &str, stem: &str, seed: u32) -> Vec<(String, String)> {
        let out = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fake_tether.py"))
            .args(["--dir"])
            .arg(&self.shots)
            .args(["--scenario", scenario, "--name", stem, "--seed", &seed.to_string(), "--source"])
            .arg(source())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let (name, sha) = l.split_once(' ').unwrap();
                (name.to_string(), sha.to_string())
            })
            .collect()
    }

    /// Runs the station's loop (as the window's frames do) until `done`
    /// holds for the outcomes so far, or `secs` pass.
    fn pump(&mut self, secs: u64, done: impl Fn(&[Outcome]) -> bool) -> bool {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let mut results = self.camera.poll(&mut self.station, &mut self.shutter);
            results.extend(self.shutter.collect(&mut self.station));
            for r in results {
                match r {
                    Ok(o) => self.outcomes.push(o),
                    Err(e) => self.errors.push(e.to_string()),
                }
            }
            if done(&self.outcomes) {
                return true;
            }
            if Instant::now() > until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn takes(&self) -> Vec<(RecordId, i64)> {
        self.outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::TakeReady { take, .. } => Some((take.record_id, take.take_no)),
                _ => None,
            })
            .collect()
    }

    fn held(&self) -> Vec<(String, CameraFileStatus, String)> {
        self.outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::ShotHeld(row) => Some((row.name.clone(), row.status, row.reason.clone())),
                _ => None,
            })
            .collect()
    }

    /// The take bound to the camera file of this hash, with its original's bytes.
    fn original_of(&self, sha: &str) -> Option<(RecordId, Vec<u8>)> {
        let row = self.station.store().camera_file_by_hash(sha).unwrap()?;
        let take = row.take_id?;
        let record = self.station.store().take(take).unwrap().record_id;
        Some((record, self.station.store().take_images(take).unwrap().0))
    }
}

fn kind(o: &Outcome) -> String {
    match o {
        Outcome::TakeReady { take, .. } => format!("take {}#{}", take.record_id, take.take_no),
        Outcome::ShotHeld(row) => format!("held {} {:?} {}", row.name, row.status, row.reason),
        other => format!("{other:?}").chars().take(40).collect(),
    }
}

fn took(n: usize) -> impl Fn(&[Outcome]) -> bool {
    move |o| o.iter().filter(|o| matches!(o, Outcome::TakeReady { .. })).count() >= n
}

fn held(n: usize) -> impl Fn(&[Outcome]) -> bool {
    move |o| o.iter().filter(|o| matches!(o, Outcome::ShotHeld(_))).count() >= n
}

#[test]
fn files_in_pieces_and_renamed_from_tmp_become_takes_of_the_head_byte_for_byte() {
    if !pillow() {
        return;
    }
    let mut rig = Rig::new(IngestConfig::default());
    let first = rig.scan(1);
    let written = rig.tether("chunks", "IMG_0001", 1);
    assert!(rig.pump(30, took(1)), "{:?} {:?}", rig.outcomes, rig.errors);
    let (record, original) = rig.original_of(&written[0].1).unwrap();
    assert_eq!(record, first);
    assert_eq!(original, std::fs::read(rig.shots.join("IMG_0001.JPG")).unwrap(), "byte for byte");
    rig.station.handle(Event::Accept).unwrap();
    rig.next_student_sits();
    let second = rig.scan(2);
    let written = rig.tether("tmp", "IMG_0002", 2);
    assert!(rig.pump(30, took(2)), "{:?} {:?}", rig.outcomes, rig.errors);
    assert_eq!(rig.original_of(&written[0].1).unwrap().0, second);
    assert!(rig.errors.is_empty(), "{:?}", rig.errors);
    assert!(rig.held().is_empty(), "nothing went to the tray: {:?}", rig.held());
    rig.station.handle(Event::Accept).unwrap();
    assert!(rig.station.store().verify().unwrap().findings.is_empty());
}

#[test]
fn raw_jpeg_pairs_bursts_and_sideways_shots() {
    if !pillow() {
        return;
    }
    let mut rig = Rig::new(IngestConfig::default());
    rig.scan(3);
    let written = rig.tether("rawjpeg", "IMG_0100", 3);
    assert!(rig.pump(30, took(1)), "{:?} {:?}", rig.outcomes, rig.errors);
    let row = rig.station.store().camera_file_by_hash(&written[1].1).unwrap().unwrap();
    let raw = row.raw.expect("the RAW is recorded with its JPEG");
    assert_eq!((raw.name.as_str(), raw.sha256.as_str()), ("IMG_0100.CR3", written[0].1.as_str()));
    rig.station.handle(Event::Accept).unwrap();

    rig.next_student_sits();
    let b = rig.scan(4);
    let next = rig.scan(5);
    let written = rig.tether("burst", "IMG_0200", 4);
    assert_eq!(written.len(), 3);
    assert!(rig.pump(40, took(4)), "{:?} {:?}", rig.outcomes, rig.errors);
    assert_eq!(rig.takes()[1..], [(b, 1), (b, 2), (b, 3)], "a burst stays with its student");
    let last = rig.station.store().camera_file_by_hash(&written[2].1).unwrap().unwrap().take_id;
    assert_eq!(rig.station.take_under_review().map(|t| t.id), last, "review shows the last");
    rig.station.handle(Event::Accept).unwrap();

    rig.next_student_sits();
    let written = rig.tether("orient6", "IMG_0300", 5);
    assert!(rig.pump(30, took(5)), "{:?} {:?}", rig.outcomes, rig.errors);
    match rig.outcomes.iter().rev().find(|o| matches!(o, Outcome::TakeReady { .. })) {
        Some(Outcome::TakeReady { take, record, .. }) => {
            assert_eq!(record.id, next, "the next student, not the burst's");
            assert_eq!((take.original_width, take.original_height), (1200, 1800), "turned upright");
            assert_eq!(take.original_sha256, written[0].1);
        }
        other => panic!("{other:?}"),
    }
    assert!(rig.errors.is_empty(), "{:?}", rig.errors);
}

#[test]
fn files_with_no_one_at_the_head_during_a_review_corrupt_or_not_images_are_never_bound() {
    if !pillow() {
        return;
    }
    let mut rig = Rig::new(IngestConfig::default());
    rig.tether("chunks", "IMG_0400", 6);
    assert!(rig.pump(30, held(1)), "{:?} {:?}", rig.outcomes, rig.errors);
    assert_eq!(rig.held()[0], ("IMG_0400.JPG".into(), CameraFileStatus::Unbound, "no_student".into()));

    let head = rig.scan(7);
    rig.tether("tmp", "IMG_0401", 7);
    assert!(rig.pump(30, took(1)), "{:?} {:?}", rig.outcomes, rig.errors);
    // Well after the shot, the photo still under review: to the tray.
    std::thread::sleep(Duration::from_millis(3000));
    rig.tether("tmp", "IMG_0402", 8);
    assert!(rig.pump(30, held(2)), "{:?} {:?}", rig.outcomes, rig.errors);
    assert_eq!(rig.held()[1], ("IMG_0402.JPG".into(), CameraFileStatus::Unbound, "review_pending".into()));
    rig.station.handle(Event::Accept).unwrap();

    rig.scan(8);
    rig.tether("corrupt", "IMG_0403", 9);
    assert!(rig.pump(30, held(3)), "{:?} {:?}", rig.outcomes.iter().map(kind).collect::<Vec<_>>(), rig.errors);
    assert_eq!(rig.held()[2].0, "IMG_0403.JPG");
    assert_eq!(rig.held()[2].1, CameraFileStatus::Unreadable);
    rig.tether("notimage", "IMG_0404", 10);
    let ignored = |rig: &Rig| rig.camera.status().ignored.len();
    let until = Instant::now() + Duration::from_secs(10);
    while ignored(&rig) < 2 && Instant::now() < until {
        rig.pump(0, |_| true);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(ignored(&rig), 2, "the sidecars are named, not taken");

    // Nothing but IMG_0401 is a take, and it is the first student's.
    assert_eq!(rig.takes(), [(head, 1)]);
    let tray: Vec<String> = rig.station.unbound_camera_files().unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(tray, ["IMG_0400.JPG", "IMG_0402.JPG"]);
    // The operator binds IMG_0400 to the student now at the head, by hand.
    let id = rig.station.unbound_camera_files().unwrap()[0].id;
    let now_head = rig.station.head().unwrap().unwrap().id;
    rig.camera.bind_held(id, &mut rig.station, &mut rig.shutter).unwrap();
    assert!(rig.pump(30, took(2)), "{:?} {:?}", rig.outcomes, rig.errors);
    assert_eq!(rig.takes()[1], (now_head, 1));
    // Every file is still in the folder, as the camera wrote it.
    let names: std::collections::BTreeSet<String> =
        std::fs::read_dir(&rig.shots).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    for name in ["IMG_0400.JPG", "IMG_0401.JPG", "IMG_0402.JPG", "IMG_0403.JPG", "IMG_0404.txt", "IMG_0404.xmp"] {
        assert!(names.contains(name), "{name} stays in the folder");
    }
    assert!(rig.errors.is_empty(), "{:?}", rig.errors);
}

#[test]
fn a_24_megapixel_shot_and_a_restart_that_finds_it_again() {
    if !pillow() {
        return;
    }
    let mut rig = Rig::new(IngestConfig::default());
    let head = rig.scan(9);
    let written = rig.tether("big", "IMG_0500", 11);
    assert!(rig.pump(60, took(1)), "{:?} {:?}", rig.outcomes, rig.errors);
    match rig.outcomes.iter().find(|o| matches!(o, Outcome::TakeReady { .. })) {
        Some(Outcome::TakeReady { take, record, .. }) => {
            assert_eq!(record.id, head);
            assert_eq!((take.original_width, take.original_height), (6000, 4000));
            assert_eq!(take.original_sha256, written[0].1);
        }
        other => panic!("{other:?}"),
    }
    rig.station.handle(Event::Accept).unwrap();
    // A file that came while the station was down, and the restart.
    rig.tether("tmp", "IMG_0501", 12);
    let Rig { _dir, shots, db, station, .. } = rig;
    drop(station);
    let info = SessionInfo {
        school_name: "测试大学".into(),
        school_code: "10697".into(),
        station: "3".into(),
        date: "2026-06-01".into(),
        operator: "op".into(),
    };
    let station = Station::open(Store::open_training(&db).unwrap(), &info, StationConfig::default()).unwrap();
    let camera = StudioCamera::start(&shots, &station, IngestConfig::default(), Box::new(|| {})).unwrap();
    let mut rig = Rig {
        _dir,
        shots,
        db,
        station,
        shutter: Shutter::start(Box::new(|| {})).unwrap(),
        camera,
        outcomes: Vec::new(),
        errors: Vec::new(),
    };
    rig.scan(10);
    assert!(rig.pump(30, held(1)), "{:?} {:?}", rig.outcomes, rig.errors);
    // The 24 MP file is known (not read again, never bound twice); the new
    // one was not seen arriving: it waits in the tray.
    assert_eq!(rig.held(), [("IMG_0501.JPG".into(), CameraFileStatus::Unbound, "found_at_start".into())]);
    assert!(rig.takes().is_empty());
    assert!(rig.errors.is_empty(), "{:?}", rig.errors);
}

#[test]
fn a_file_whose_record_could_not_be_written_is_held_in_the_tray_once_it_can() {
    let mut rig = Rig::new(IngestConfig::default());
    // Another program holds the database's write lock (a backup tool, a second station).
    let blocker = rusqlite::Connection::open(&rig.db).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let bytes =
        gradcap::camera::synth::camera_jpeg_noted(&gradcap::camera::synth::portrait(960, 720, 3), 1, 92, "late")
            .unwrap();
    std::fs::write(rig.shots.join("IMG_0900.JPG.tmp"), &bytes).unwrap();
    std::fs::rename(rig.shots.join("IMG_0900.JPG.tmp"), rig.shots.join("IMG_0900.JPG")).unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    while rig.errors.is_empty() && Instant::now() < until {
        rig.pump(0, |_| true);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!rig.errors.is_empty(), "the failed write is said");
    blocker.execute_batch("ROLLBACK").unwrap();
    assert!(rig.pump(30, held(1)), "{:?} {:?}", rig.outcomes.iter().map(kind).collect::<Vec<_>>(), rig.errors);
    assert_eq!(rig.held(), [("IMG_0900.JPG".into(), CameraFileStatus::Unbound, "late".into())]);
}

#[test]
fn a_take_made_but_not_stored_leaves_its_file_in_the_tray_not_lost() {
    let mut rig = Rig::new(IngestConfig::default());
    let head = rig.scan(40);
    let bytes = gradcap::camera::synth::camera_jpeg(&gradcap::camera::synth::portrait(6000, 4000, 40), 1, 90).unwrap();
    std::fs::write(rig.shots.join("IMG_0950.JPG.tmp"), &bytes).unwrap();
    std::fs::rename(rig.shots.join("IMG_0950.JPG.tmp"), rig.shots.join("IMG_0950.JPG")).unwrap();
    // Bound to the head and being made into a take (24 MP: a while)...
    let until = Instant::now() + Duration::from_secs(30);
    while !rig.shutter.busy() && Instant::now() < until {
        for r in rig.camera.poll(&mut rig.station, &mut rig.shutter) {
            r.unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(rig.shutter.busy(), "the file was bound");
    // ...when another program takes the database's write lock.
    let blocker = rusqlite::Connection::open(&rig.db).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while rig.errors.is_empty() && Instant::now() < until {
        rig.pump(0, |_| true);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!rig.errors.is_empty(), "the failed write is said");
    assert_eq!(rig.shutter.unsaved(), 1, "kept to be written");
    blocker.execute_batch("ROLLBACK").unwrap();
    assert!(rig.pump(30, held(1)), "{:?} {:?}", rig.outcomes.iter().map(kind).collect::<Vec<_>>(), rig.errors);
    assert_eq!(rig.held(), [("IMG_0950.JPG".into(), CameraFileStatus::Unbound, "not_stored".into())]);
    assert!(rig.station.store().takes(head).unwrap().is_empty());
    assert_eq!(rig.station.unbound_camera_files().unwrap().len(), 1, "in the tray, to bind or discard");
}
