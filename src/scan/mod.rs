//! QR decoding from pixels: luma in, texts out.
//!
//! rxing (a port of ZXing) reads first; rqrr is the fallback for what it
//! misses and the reader of several codes in one image. The live scanning
//! pipeline on a worker thread builds on these functions.

pub mod batch;
pub mod gun;
pub mod worker;

use std::path::Path;

use image::{GrayImage, RgbImage};
use rxing::{BarcodeFormat, DecodeHints};

/// Errors reading an image to decode.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("无法读取图像 {path}：{reason} / cannot read image {path}: {reason}")]
    Image { path: String, reason: String },
    #[error("图像中未找到二维码 / no QR code found in the image")]
    NoCode,
}

impl crate::text::Bilingual for ScanError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Image { path, reason } => {
                Text::new(format!("无法读取图像 {path}：{reason}"), format!("cannot read image {path}: {reason}"))
            }
            Self::NoCode => Text::new("图像中未找到二维码", "no QR code found in the image"),
        }
    }
}

/// Decodes every QR code found in an 8-bit grey image; empty when none.
pub fn decode_luma(luma: &[u8], width: u32, height: u32) -> Vec<String> {
    if width == 0 || height == 0 || luma.len() < width as usize * height as usize {
        return Vec::new();
    }
    if let Some(text) = decode_rxing(luma, width, height) {
        return vec![text];
    }
    decode_rqrr(luma, width, height)
}

/// Luma of an RGB frame, halved in each dimension (2×2 mean) when `half`.
pub fn frame_luma(rgb: &RgbImage, half: bool) -> GrayImage {
    let luma = |p: &[u8]| ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8;
    let (w, h) = rgb.dimensions();
    let raw = rgb.as_raw();
    if !half {
        return GrayImage::from_fn(w, h, |x, y| {
            let i = (y as usize * w as usize + x as usize) * 3;
            image::Luma([luma(&raw[i..i + 3])])
        });
    }
    let (hw, hh) = (w / 2, h / 2);
    GrayImage::from_fn(hw, hh, |x, y| {
        let mut sum = 0u32;
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let i = ((2 * y + dy) as usize * w as usize + (2 * x + dx) as usize) * 3;
            sum += u32::from(luma(&raw[i..i + 3]));
        }
        image::Luma([(sum / 4) as u8])
    })
}

/// Decodes a live camera frame, both passes: large frames are read at half
/// resolution first (a phone held up fills plenty of pixels), then at full
/// resolution. rxing only: on live frames rqrr read nothing rxing missed
/// (README table), at four times the cost.
pub fn decode_frame(rgb: &RgbImage) -> Vec<String> {
    let first = decode_frame_pass(rgb, 0);
    if !first.is_empty() || rgb.width() <= 1280 {
        return first;
    }
    decode_frame_pass(rgb, 1)
}

/// One pass of the live decoder for the `n`th frame: frames wider than 1280
/// are read at half resolution on even frames and at full resolution on odd
/// ones, so no frame costs both passes and a code is read within two frames.
pub fn decode_frame_pass(rgb: &RgbImage, n: u64) -> Vec<String> {
    let half = rgb.width() > 1280 && n % 2 == 0;
    let luma = frame_luma(rgb, half);
    decode_rxing(luma.as_raw(), luma.width(), luma.height()).into_iter().collect()
}

/// Decodes a grey image.
pub fn decode_gray(img: &GrayImage) -> Vec<String> {
    decode_luma(img.as_raw(), img.width(), img.height())
}

/// Loads an image file (PNG, JPEG, GIF, BMP) and decodes it.
pub fn decode_file(path: &Path) -> Result<Vec<String>, ScanError> {
    let img =
        image::open(path).map_err(|e| ScanError::Image { path: path.display().to_string(), reason: e.to_string() })?;
    Ok(decode_gray(&img.to_luma8()))
}

/// Runs a third-party decoder so that a panic inside it (rqrr 0.10 and 0.11
/// assert on some perspective fits) costs one frame, never the scanner thread.
fn contained<T: Default>(what: &str, decode: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)) {
        Ok(v) => v,
        Err(_) => {
            tracing::warn!("{what} panicked on a frame; frame skipped");
            T::default()
        }
    }
}

/// rxing alone (measurements compare the decoders).
pub fn decode_rxing(luma: &[u8], width: u32, height: u32) -> Option<String> {
    if width == 0 || height == 0 || luma.len() < width as usize * height as usize {
        return None;
    }
    contained("rxing", || {
        let mut hints = DecodeHints::default().with(rxing::DecodeHintValue::TryHarder(true));
        rxing::helpers::detect_in_luma_slice_with_hints(luma, width, height, Some(BarcodeFormat::QR_CODE), &mut hints)
            .ok()
            .map(|r| r.getText().to_string())
    })
}

/// rqrr alone (measurements compare the decoders).
pub fn decode_rqrr(luma: &[u8], width: u32, height: u32) -> Vec<String> {
    if width == 0 || height == 0 || luma.len() < width as usize * height as usize {
        return Vec::new();
    }
    let (w, h) = (width as usize, height as usize);
    contained("rqrr", || {
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
        prepared.detect_grids().into_iter().filter_map(|grid| grid.decode().ok().map(|(_, text)| text)).collect()
    })
}

/// One row of a decode measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct RateRow {
    pub condition: String,
    pub width: u32,
    pub height: u32,
    pub decoder: &'static str,
    pub read: usize,
    pub total: usize,
    pub median_ms: f64,
}

/// Decodes `frames_per_condition` synthetic webcam frames of a phone showing
/// a capture code, per condition and resolution, with each decoder: the
/// table in the README. Deterministic frames; the times are this machine's.
pub fn measure_synthetic(frames_per_condition: usize) -> Vec<RateRow> {
    use crate::camera::synth::{phone_frame, webcam_conditions};
    let payload = {
        let s = crate::code::drill::DrillStudent {
            xh: "2021010101".into(),
            xm: "欧**娜".into(),
            zjhm: "123X".into(),
            class: "汉语言文学(公费师范)2101".into(),
            college: "文学院".into(),
            level: "本科".into(),
        };
        crate::code::drill::drill_code(&s, "10697", 1_700_000_000_000).to_payload()
    };
    let mut rows = Vec::new();
    for (width, height, module_px) in [(1280u32, 720u32, 4.0), (1920, 1080, 6.0)] {
        for (name, shot) in webcam_conditions(module_px) {
            let frames: Vec<RgbImage> = (0..frames_per_condition as u64)
                .filter_map(|seed| phone_frame(&payload, width, height, shot, seed * 7 + 1).ok())
                .map(|g| image::DynamicImage::ImageLuma8(g).to_rgb8())
                .collect();
            type Decoder = fn(&RgbImage) -> Vec<String>;
            let decoders: [(&'static str, Decoder); 3] = [
                ("live (half-res, then full)", decode_frame),
                ("rxing, full-res", |f| {
                    let l = frame_luma(f, false);
                    decode_rxing(l.as_raw(), l.width(), l.height()).into_iter().collect()
                }),
                ("rqrr, full-res", |f| {
                    let l = frame_luma(f, false);
                    decode_rqrr(l.as_raw(), l.width(), l.height())
                }),
            ];
            for (decoder, decode) in decoders {
                let mut times = Vec::new();
                let mut read = 0;
                for f in &frames {
                    let t = std::time::Instant::now();
                    let texts = decode(f);
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                    read += usize::from(texts.contains(&payload));
                }
                times.sort_by(f64::total_cmp);
                let median_ms = times.get(times.len() / 2).copied().unwrap_or(0.0);
                rows.push(RateRow {
                    condition: name.to_string(),
                    width,
                    height,
                    decoder,
                    read,
                    total: frames.len(),
                    median_ms,
                });
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::synth::{phone_frame, PhoneShot};
    use crate::code::drill::QrMatrix;

    #[test]
    fn decodes_a_rendered_code() {
        let img = QrMatrix::encode("gradcap 学历照片").unwrap().to_luma(4);
        assert_eq!(decode_gray(&img), vec!["gradcap 学历照片".to_string()]);
    }

    #[test]
    fn decodes_a_synthetic_webcam_frame_of_a_phone() {
        let payload = "eyJzamMiOiIxNzAwMDAwMDAwMDAwIiwiY2ptIjoiQUJDIn0=".repeat(4);
        let shot = PhoneShot { module_px: 4.5, brightness: 0.8, noise: 8, shear: 0.05, ..PhoneShot::clean(4.5) };
        let frame = phone_frame(&payload, 1280, 720, shot, 11).unwrap();
        assert_eq!(decode_gray(&frame), vec![payload]);
    }

    /// Every synthetic webcam condition at both resolutions, through every
    /// decoder: no frame may panic (rqrr 0.11 does on some of these).
    #[test]
    fn no_decoder_panics_on_the_synthetic_conditions() {
        let rows = measure_synthetic(2);
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| r.total == 2));
    }

    #[test]
    fn a_panicking_decoder_costs_one_frame_not_the_thread() {
        let out: Vec<String> = contained("test", || panic!("decoder bug"));
        assert!(out.is_empty());
    }

    #[test]
    fn finds_nothing_in_a_blank_frame_and_survives_bad_sizes() {
        let blank = GrayImage::from_pixel(640, 480, image::Luma([128]));
        assert!(decode_gray(&blank).is_empty());
        assert!(decode_luma(&[0u8; 10], 100, 100).is_empty());
        assert!(decode_luma(&[], 0, 0).is_empty());
    }
}
