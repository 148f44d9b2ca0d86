//! The studio camera (divan). Run: `cargo bench --bench studio`.
//!
//! - `folder_24mp_to_review`: a 6000×4000 camera JPEG (a real portrait,
//!   EXIF, quality 95) renamed into the watched folder → the photo under
//!   review with its checks, through the real watcher thread, photo worker
//!   and a WAL database with fsync (target ≤ 500 ms on the 2-core machine).
//! - its stages: the strict decode with orientation, and the whole take made
//!   from the file's bytes (marker check, decode, crop, checks, JPEG).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark aborts on a broken setup

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gradcap::camera::synth;
use gradcap::code::drill::DrillStudent;
use gradcap::station::ingest::{IngestConfig, StudioCamera};
use gradcap::station::shutter::Shutter;
use gradcap::station::{prepare_file_take, Event, Outcome, Station, StationConfig};
use gradcap::store::{CameraFile, CameraShot, SessionInfo, Store};

fn main() {
    divan::main();
}

/// A real portrait as a 24-megapixel camera file; `note` makes its bytes its own.
fn camera_file(note: &str) -> Vec<u8> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/portraits/obama.jpg");
    let img = image::open(source).unwrap().to_rgb8();
    let big = image::imageops::resize(&img, 6000, 4000, image::imageops::FilterType::Triangle);
    synth::camera_jpeg_noted(&big, 1, 95, note).unwrap()
}

fn station(dir: &Path) -> Station {
    let info = SessionInfo {
        school_name: "bench".into(),
        school_code: "10697".into(),
        station: "1".into(),
        date: "2026-06-01".into(),
        operator: "bench".into(),
    };
    Station::open(Store::open_training(&dir.join("bench.sqlite")).unwrap(), &info, StationConfig::default()).unwrap()
}

fn scan(st: &mut Station, i: usize) {
    let text = DrillStudent::example(&format!("2026{i:06}")).example_payload();
    st.handle(Event::CodeScanned { text, frame: None }).unwrap();
}

#[divan::bench(sample_count = 8)]
fn folder_24mp_to_review(bencher: divan::Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let shots = dir.path().join("EOS");
    std::fs::create_dir(&shots).unwrap();
    let st = std::cell::RefCell::new(station(dir.path()));
    let mut shutter = Shutter::start(Box::new(|| {})).unwrap();
    let mut camera = StudioCamera::start(&shots, &st.borrow(), IngestConfig::default(), Box::new(|| {})).unwrap();
    let mut n = 0usize;
    let base = camera_file("base");
    bencher
        .with_inputs(|| {
            // The last photo decided, the next student scanned, the next
            // file written beside the folder (appearing = its rename).
            let mut st = st.borrow_mut();
            if st.take_under_review().is_some() {
                st.handle(Event::Accept).unwrap();
            }
            n += 1;
            scan(&mut st, n);
            let mut bytes = base.clone();
            // Unique bytes: a comment segment after SOI.
            let note = format!("shot {n}");
            let mut segment = vec![0xFF, 0xFE];
            segment.extend(u16::try_from(note.len() + 2).unwrap().to_be_bytes());
            segment.extend(note.as_bytes());
            bytes.splice(2..2, segment);
            let tmp: PathBuf = shots.join(format!("IMG_{n:04}.JPG.tmp"));
            std::fs::write(&tmp, &bytes).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            tmp
        })
        .bench_local_values(|tmp| {
            std::fs::rename(&tmp, tmp.with_extension("")).unwrap();
            let until = Instant::now() + Duration::from_secs(30);
            let mut st = st.borrow_mut();
            loop {
                let mut results = camera.poll(&mut st, &mut shutter);
                results.extend(shutter.collect(&mut st));
                if results.into_iter().any(|r| matches!(r, Ok(Outcome::TakeReady { .. }))) {
                    break;
                }
                assert!(Instant::now() < until, "the file never became a take");
                std::thread::sleep(Duration::from_millis(2));
            }
        });
}

#[divan::bench(sample_count = 8)]
fn decode_24mp_upright(bencher: divan::Bencher) {
    let bytes = camera_file("decode");
    bencher.bench(|| gradcap::photo::decode_camera_jpeg(&bytes).unwrap());
}

#[divan::bench(sample_count = 8)]
fn take_from_24mp_file(bencher: divan::Bencher) {
    let bytes = camera_file("take");
    let file = CameraFile {
        name: "IMG_0001.JPG".into(),
        sha256: gradcap::camera::folder::sha256_hex(&bytes),
        bytes: bytes.len() as u64,
        modified_at: None,
        raw: None,
    };
    bencher.bench(|| {
        let shot = CameraShot { file: file.clone(), by_operator: false };
        prepare_file_take(1, bytes.clone(), shot, &StationConfig::default(), Some(85)).unwrap()
    });
}
