//! Auto-crop + every photo check on a 1080p frame, on one core (the target
//! is ≤ 60 ms with the face mesh and the student's checks). Run pinned to
//! one core: `taskset -c 0 cargo bench --bench photo`. Prints a per-stage
//! table first (detection, face mesh, the student's measures, crop and all
//! checks, JPEG size search), then divan times the whole of
//! `photo::check_frame` and `photo::make_checked`, and the mesh alone.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use gradcap::photo::checks::Thresholds;
use gradcap::photo::{self, SizeRange};

fn frame() -> image::RgbImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/portraits/obama-1080p.jpg");
    image::open(&path).expect("../shared/testdata/portraits/obama-1080p.jpg").to_rgb8()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let frame = frame();
    let t = Thresholds::default();
    let (mut detect, mut checks, mut encode) = (Vec::new(), Vec::new(), Vec::new());
    let (mut mesh, mut measures) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        let a = Instant::now();
        let faces = photo::face::detect_for_photo(&frame).unwrap();
        let b = Instant::now();
        let checked = photo::checked_with_faces(&frame, &faces, &t).unwrap();
        let c = Instant::now();
        black_box(photo::encode_in_range(&checked.image, SizeRange::default(), Some(80)).unwrap());
        let d = Instant::now();
        // The parts of "crop + all checks" that are new with the mesh.
        let main = photo::checks::main_face(&faces).unwrap();
        let e = Instant::now();
        let m = photo::mesh::landmarks(&frame, main).unwrap();
        let f = Instant::now();
        black_box(photo::quality::measure(&frame, &m));
        let g = Instant::now();
        detect.push((b - a).as_secs_f64() * 1e3);
        checks.push((c - b).as_secs_f64() * 1e3);
        encode.push((d - c).as_secs_f64() * 1e3);
        mesh.push((f - e).as_secs_f64() * 1e3);
        measures.push((g - f).as_secs_f64() * 1e3);
    }
    println!("1920×1080, the station's path (whole frame + the photo's region), median of 15:");
    println!("  face + landmarks     {:7.1} ms", median(detect.clone()));
    println!("  crop + all checks    {:7.1} ms", median(checks.clone()));
    println!("    of which the mesh  {:7.1} ms (its start detection + 468 points)", median(mesh.clone()));
    println!("    and its measures   {:7.1} ms", median(measures.clone()));
    println!("  JPEG size search     {:7.1} ms", median(encode.clone()));
    let framing: Vec<f64> = (0..9)
        .map(|_| {
            let a = Instant::now();
            black_box(photo::framing::frame_framing(&frame, &t));
            a.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    println!("  live framing hints   {:7.1} ms (the framing worker's work per frame, every 250 ms)", median(framing));
    divan::main();
}

#[divan::bench(sample_count = 20)]
fn autocrop_and_checks_1080p(bencher: divan::Bencher) {
    let frame = frame();
    let t = Thresholds::default();
    bencher.bench_local(|| black_box(photo::check_frame(black_box(&frame), &t).unwrap()));
}

/// No face in the frame (an empty backdrop): the whole-frame look finds
/// nothing, the tiled search runs, then the centred crop and its checks.
#[divan::bench(sample_count = 10)]
fn autocrop_and_checks_1080p_no_face(bencher: divan::Bencher) {
    let frame = image::RgbImage::from_fn(1920, 1080, |x, y| {
        let n = ((x * 7 + y * 13) % 9) as u8;
        image::Rgb([96 + n, 190 + n, 250])
    });
    let t = Thresholds::default();
    bencher.bench_local(|| black_box(photo::check_frame(black_box(&frame), &t).unwrap()));
}

#[divan::bench(sample_count = 20)]
fn deliverable_with_checks_1080p(bencher: divan::Bencher) {
    let frame = frame();
    let t = Thresholds::default();
    bencher
        .bench_local(|| black_box(photo::make_checked(black_box(&frame), &t, SizeRange::default(), Some(80)).unwrap()));
}

#[divan::bench(args = [(0, false, false), (0, true, false), (1, true, false), (1, true, true)], sample_count = 10)]
fn detector_1080p(bencher: divan::Bencher, (levels, refine, pupil): (u32, bool, bool)) {
    let frame = frame();
    let config = photo::face::DetectorConfig { tile_levels: levels, refine, pupil_refine: pupil, ..Default::default() };
    let detector = photo::face::FaceDetector::with_config(config).unwrap();
    bencher.bench_local(|| black_box(detector.detect(black_box(&frame)).unwrap()));
}

/// The face mesh alone: MediaPipe's start detection (one BlazeFace view)
/// and the 192×192 landmark network.
#[divan::bench(sample_count = 20)]
fn face_mesh_1080p(bencher: divan::Bencher) {
    let frame = frame();
    let faces = photo::face::detect_for_photo(&frame).unwrap();
    let main = *photo::checks::main_face(&faces).unwrap();
    bencher.bench_local(|| black_box(photo::mesh::landmarks(black_box(&frame), &main).unwrap()));
}
