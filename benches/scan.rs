//! QR decoding: accuracy tables and timings. Run: `cargo bench --bench scan`.
//!
//! First prints the decode rate and median time per decoder on (a) the ZXing
//! photos in ../shared/testdata/zxing-qrcode and (b) synthetic 1280×720 and
//! 1920×1080 webcam frames of a phone showing a capture code under each
//! degradation; then divan times the live decoder on a typical 1080p frame.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use std::hint::black_box;
use std::path::Path;

use gradcap::camera::synth::{phone_frame, PhoneShot};

fn main() {
    print_zxing_table();
    print_synthetic_table();
    divan::main();
}

fn print_zxing_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/zxing-qrcode");
    let Ok(dirs) = std::fs::read_dir(&root) else {
        println!("(no {}: skipping the ZXing table)", root.display());
        return;
    };
    let mut files: Vec<_> = dirs
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("png" | "jpg" | "gif")))
        .collect();
    files.sort();
    let norm = |s: &str| s.replace("\r\n", "\n").trim().to_string();
    for (name, decode) in [("gradcap (all stages)", 0), ("rxing alone", 1), ("rqrr alone", 2)] {
        let (mut ok, mut times) = (0, Vec::new());
        for f in &files {
            let expected = std::fs::read_to_string(f.with_extension("txt")).map(|s| norm(&s)).unwrap_or_default();
            let luma = image::open(f).expect("image").to_luma8();
            let t = std::time::Instant::now();
            let texts: Vec<String> = match decode {
                0 => gradcap::scan::decode_gray(&luma),
                1 => gradcap::scan::decode_rxing(luma.as_raw(), luma.width(), luma.height()).into_iter().collect(),
                _ => gradcap::scan::decode_rqrr(luma.as_raw(), luma.width(), luma.height()),
            };
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            ok += usize::from(texts.iter().any(|t| norm(t) == expected));
        }
        times.sort_by(f64::total_cmp);
        println!("zxing-qrcode | {name} | {ok}/{} | median {:.2} ms", files.len(), times[times.len() / 2]);
    }
}

fn print_synthetic_table() {
    println!("| frame | condition | decoder | read | median ms |");
    println!("|---|---|---|---|---|");
    for r in gradcap::scan::measure_synthetic(20) {
        println!(
            "| {}×{} | {} | {} | {}/{} | {:.1} |",
            r.width, r.height, r.condition, r.decoder, r.read, r.total, r.median_ms
        );
    }
}

fn payload() -> String {
    let s = gradcap::code::drill::DrillStudent {
        xh: "2021010101".into(),
        xm: "欧**娜".into(),
        zjhm: "123X".into(),
        class: "法学 2101".into(),
        college: "法学院".into(),
        level: "本科".into(),
    };
    gradcap::code::drill::drill_code(&s, "10697", 1_700_000_000_000).to_payload()
}

fn frame(width: u32, height: u32, module_px: f64) -> image::RgbImage {
    let shot = PhoneShot { noise: 6, shear: 0.05, brightness: 0.85, ..PhoneShot::clean(module_px) };
    image::DynamicImage::ImageLuma8(phone_frame(&payload(), width, height, shot, 3).expect("frame")).to_rgb8()
}

#[divan::bench(sample_count = 40)]
fn live_decode_1080p(bencher: divan::Bencher) {
    let f = frame(1920, 1080, 6.0);
    bencher.bench(|| gradcap::scan::decode_frame(black_box(&f)));
}

#[divan::bench(sample_count = 40)]
fn live_decode_720p(bencher: divan::Bencher) {
    let f = frame(1280, 720, 4.0);
    bencher.bench(|| gradcap::scan::decode_frame(black_box(&f)));
}

/// What the scanner thread spends on a frame with no code in it (most
/// frames): the half-resolution pass, the region search and the crop.
#[divan::bench(sample_count = 40)]
fn live_decode_1080p_no_code(bencher: divan::Bencher) {
    let f = gradcap::camera::synth::portrait(1920, 1080, 2);
    bencher.bench(|| gradcap::scan::decode_frame(black_box(&f)));
}

#[divan::bench(sample_count = 40)]
fn live_decode_720p_no_code(bencher: divan::Bencher) {
    let f = gradcap::camera::synth::portrait(1280, 720, 2);
    bencher.bench(|| gradcap::scan::decode_frame(black_box(&f)));
}
