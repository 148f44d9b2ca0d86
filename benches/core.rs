//! Station-core benchmarks (divan). Run: `cargo bench --bench core`.
//!
//! - `parse_payload`: a capture-code payload → `CaptureCode` (target ≤ 0.1 ms).
//! - `capture_to_committed_1080p`: a 1920×1080 frame → deliverable + original
//!   JPEG → take stored with fsync (target ≤ 150 ms).
//! - the stages of `simulate`: synthetic frames, decode, deliverable.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark aborts on a broken setup

use std::hint::black_box;

use gradcap::camera::synth::{phone_frame, portrait, PhoneShot};
use gradcap::code::drill::DrillStudent;
use gradcap::photo::{self, SizeRange};
use gradcap::station::{prepare_take, Event, Station, StationConfig};
use gradcap::store::{SessionInfo, Store};

fn main() {
    divan::main();
}

fn student(i: usize) -> DrillStudent {
    DrillStudent::example(&format!("2026{i:06}"))
}

fn payload(i: usize) -> String {
    student(i).example_payload()
}

#[divan::bench]
fn parse_payload(bencher: divan::Bencher) {
    let p = payload(1);
    bencher.bench(|| gradcap::code::parse(black_box(&p)));
}

#[divan::bench(sample_count = 30)]
fn deliverable_1080p(bencher: divan::Bencher) {
    let frame = portrait(1920, 1080, 1);
    let thresholds = gradcap::photo::checks::Thresholds::default();
    bencher.bench(|| photo::make_checked(black_box(&frame), &thresholds, SizeRange::default(), Some(85)));
}

#[divan::bench(sample_count = 30)]
fn original_jpeg_1080p(bencher: divan::Bencher) {
    let frame = portrait(1920, 1080, 1);
    bencher.bench(|| photo::encode_original(black_box(&frame)));
}

/// Frame in, take committed to a WAL database with synchronous=FULL.
#[divan::bench(sample_count = 30)]
fn capture_to_committed_1080p(bencher: divan::Bencher) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_training(&dir.path().join("bench.sqlite")).expect("store");
    let info = SessionInfo {
        school_name: "bench".into(),
        school_code: "10697".into(),
        station: "1".into(),
        date: "2026-06-01".into(),
        operator: "bench".into(),
    };
    let mut station = Station::open(store, &info, StationConfig::default()).expect("station");
    station.handle(Event::CodeScanned { text: payload(1), frame: None }).expect("scan");
    let head = station.head().expect("head").expect("a student");
    let frame = portrait(1920, 1080, 1);
    bencher.bench_local(|| {
        let prepared =
            prepare_take(head.id, &frame, None, &StationConfig::default(), station.quality_hint()).expect("prepare");
        station.handle(Event::TakePrepared(prepared)).expect("commit");
        station.handle(Event::Reshoot).expect("reshoot")
    });
}

#[divan::bench(sample_count = 30)]
fn decode_phone_frame_720p(bencher: divan::Bencher) {
    let shot = PhoneShot { brightness: 0.9, noise: 6, shear: 0.04, ..PhoneShot::clean(5.0) };
    let frame = phone_frame(&payload(1), 1280, 720, shot, 1).expect("frame");
    bencher.bench(|| gradcap::scan::decode_gray(black_box(&frame)));
}

#[divan::bench(sample_count = 20)]
fn synth_portrait_720p() -> image::RgbImage {
    portrait(1280, 720, 3)
}

#[divan::bench(sample_count = 20)]
fn synth_phone_frame_720p() -> image::GrayImage {
    let shot = PhoneShot { brightness: 0.9, noise: 6, shear: 0.04, ..PhoneShot::clean(5.0) };
    phone_frame(&payload(2), 1280, 720, shot, 2).expect("frame")
}
