//! QR decoding from pixels: luma in, texts out.
//!
//! rxing (a port of ZXing) reads in stages, cheapest first: half
//! resolution, the code-like region plain and contrast-stretched, the whole
//! image plain and stretched (`stages.rs` does the pixel work); rqrr is the
//! last fallback of `gradcap decode` and the reader of several codes in one
//! image. The live scanning pipeline on a worker thread runs the same
//! stages but rqrr ([`Effort`]).

pub mod batch;
pub mod gun;
pub mod stages;
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

/// How hard a decode tries once the cheap stages found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// The scanner thread's stages: on a large frame, half resolution and
    /// the code-like region at full resolution (plain and contrast-
    /// stretched); a small frame (short side under 600 px) whole, plain
    /// without and with TryHarder, then stretched. A large frame with no
    /// code, the usual case, costs the first stage, the search and the crop
    /// of what looked most like a code; a small one all three passes.
    Live,
    /// `gradcap decode` and tests: every stage, the whole frame plain and
    /// stretched whatever the region search said, then rqrr, which also
    /// reads several codes in one image.
    Thorough,
}

/// A side at which an image is first read at half resolution and searched
/// for a code-like region: a code held up to a webcam still has two or
/// more pixels a module at half size, and the passes cost a fraction.
const LARGE_MIN_SIDE: u32 = 600;

/// Decodes every QR code found in an 8-bit grey image; empty when none. The
/// stages run cheapest first and the first that reads a code answers:
/// 1. large images (short side ≥ 600 px): half resolution (2×2 mean), then
///    the code-like region ([`stages::code_region`]) cropped at full
///    resolution, plain and contrast-stretched;
/// 2. the whole image (small images, or [`Effort::Thorough`]): plain, then
///    contrast-stretched ([`stages::stretch_contrast`]): a dim screen, a
///    glare band or blur leave the modules a swing in brightness the
///    binarizer takes for flat ground;
/// 3. [`Effort::Thorough`]: rqrr on the whole image.
pub fn decode_luma_with(luma: &[u8], width: u32, height: u32, effort: Effort) -> Vec<String> {
    if width == 0 || height == 0 || luma.len() < width as usize * height as usize {
        return Vec::new();
    }
    let luma = &luma[..width as usize * height as usize];
    let rx = |img: &GrayImage| decode_rxing(img.as_raw(), img.width(), img.height());
    let large = width.min(height) >= LARGE_MIN_SIDE;
    if large {
        // Without TryHarder: as many reads here, in less time; a miss goes on.
        let half = stages::half_luma(luma, width, height);
        if let Some(text) = decode_rxing_with(half.as_raw(), half.width(), half.height(), false) {
            return vec![text];
        }
        if let Some(region) = stages::code_region(&half, width, height) {
            let crop = stages::crop_luma(luma, width, region);
            let stretched = || stages::stretch_contrast(crop.as_raw(), crop.width(), crop.height());
            if let Some(text) = rx(&crop).or_else(|| rx(&stretched())) {
                return vec![text];
            }
        }
    }
    let thorough = effort == Effort::Thorough;
    if !large || thorough {
        // A small image is read first without TryHarder (a scan, a close-up:
        // most read at once), then with it.
        let quick = || if large { None } else { decode_rxing_with(luma, width, height, false) };
        if let Some(text) = quick().or_else(|| decode_rxing(luma, width, height)) {
            return vec![text];
        }
    }
    if !large || thorough {
        if let Some(text) = rx(&stages::stretch_contrast(luma, width, height)) {
            return vec![text];
        }
    }
    match effort {
        Effort::Live => Vec::new(),
        Effort::Thorough => decode_rqrr(luma, width, height),
    }
}

/// Every stage ([`Effort::Thorough`]).
pub fn decode_luma(luma: &[u8], width: u32, height: u32) -> Vec<String> {
    decode_luma_with(luma, width, height, Effort::Thorough)
}

/// Luma of an RGB frame.
pub fn frame_luma(rgb: &RgbImage) -> GrayImage {
    let luma = |p: &[u8]| ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8;
    let (w, h) = rgb.dimensions();
    GrayImage::from_raw(w, h, rgb.as_raw().chunks_exact(3).map(luma).collect()).unwrap_or_default()
}

/// Decodes a live camera frame: the scanner thread's stages ([`Effort::Live`]).
pub fn decode_frame(rgb: &RgbImage) -> Vec<String> {
    let luma = frame_luma(rgb);
    decode_luma_with(luma.as_raw(), luma.width(), luma.height(), Effort::Live)
}

/// Decodes a grey image, every stage.
pub fn decode_gray(img: &GrayImage) -> Vec<String> {
    decode_luma(img.as_raw(), img.width(), img.height())
}

/// Loads an image file (PNG, JPEG, GIF, BMP) and decodes it with `effort`.
pub fn decode_file_with(path: &Path, effort: Effort) -> Result<Vec<String>, ScanError> {
    let luma = read_luma(path)?;
    Ok(decode_luma_with(luma.as_raw(), luma.width(), luma.height(), effort))
}

/// An image file's brightness. A JPEG is decoded straight to its Y channel
/// (no colour conversion: a third of the time of decoding to RGB and
/// converting); anything else, or a JPEG that way refuses, through `image`
/// as before (by its extension, with its messages).
pub fn read_luma(path: &Path) -> Result<GrayImage, ScanError> {
    let unreadable = |reason: String| ScanError::Image { path: path.display().to_string(), reason };
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        use zune_jpeg::zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
        let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::Luma);
        let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(&bytes), options);
        if let (Ok(pixels), Some((w, h))) = (decoder.decode(), decoder.dimensions()) {
            if let Some(luma) = GrayImage::from_raw(w as u32, h as u32, pixels) {
                return Ok(luma);
            }
        }
    }
    // As `image::open` does it (the format from the extension), on the bytes already read.
    let mut reader = image::ImageReader::new(std::io::Cursor::new(&bytes));
    if let Ok(format) = image::ImageFormat::from_path(path) {
        reader.set_format(format);
    }
    let img = reader.decode().map_err(|e| unreadable(e.to_string()))?;
    Ok(img.to_luma8())
}

/// Loads an image file and decodes it, every stage.
pub fn decode_file(path: &Path) -> Result<Vec<String>, ScanError> {
    decode_file_with(path, Effort::Thorough)
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

/// rxing alone, trying harder (measurements compare the decoders).
pub fn decode_rxing(luma: &[u8], width: u32, height: u32) -> Option<String> {
    decode_rxing_with(luma, width, height, true)
}

/// rxing, with or without its TryHarder hint (a finer search for the finder patterns).
fn decode_rxing_with(luma: &[u8], width: u32, height: u32, try_harder: bool) -> Option<String> {
    if width == 0 || height == 0 || luma.len() < width as usize * height as usize {
        return None;
    }
    contained("rxing", || {
        let mut hints = DecodeHints::default().with(rxing::DecodeHintValue::TryHarder(try_harder));
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
                ("live (half, region crop plain/stretched)", decode_frame),
                ("rxing, full-res", |f| {
                    let l = frame_luma(f);
                    decode_rxing(l.as_raw(), l.width(), l.height()).into_iter().collect()
                }),
                ("rqrr, full-res", |f| {
                    let l = frame_luma(f);
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

    /// A dim code under a glare gradient: its modules swing less than the
    /// binarizer's threshold, so the plain passes read nothing, and the
    /// contrast-stretched stage reads it (the live stages included).
    #[test]
    fn a_dim_code_under_a_glare_gradient_is_read_by_the_stretched_stage() {
        let payload = "eyJzamMiOiIxNzAwMDAwMDAwMDAwIiwiY2ptIjoiQUJDIn0=".repeat(3);
        let code = QrMatrix::encode(&payload).unwrap().to_luma(5);
        let (w, h) = (code.width() + 160, code.height() + 100);
        let img = GrayImage::from_fn(w, h, |x, y| {
            let ground = 70.0 + 90.0 * f64::from(x) / f64::from(w);
            let inside = x >= 80 && y >= 50 && x < 80 + code.width() && y < 50 + code.height();
            let dark = inside && code.get_pixel(x - 80, y - 50).0[0] < 128;
            image::Luma([(ground - if dark { 24.0 } else { 0.0 }) as u8])
        });
        assert_eq!(
            decode_rxing(img.as_raw(), w, h),
            None,
            "the plain pass must miss it for this test to mean anything"
        );
        let stretched = stages::stretch_contrast(img.as_raw(), w, h);
        assert_eq!(decode_rxing(stretched.as_raw(), w, h), Some(payload.clone()));
        assert_eq!(decode_luma_with(img.as_raw(), w, h, Effort::Live), vec![payload]);
    }

    /// The region search finds a code wherever it is put on a cluttered
    /// frame, and the crop is under half the frame (a code and its margin).
    #[test]
    fn the_code_region_holds_the_code_wherever_it_is() {
        let code = QrMatrix::encode(&"eyJzamMiOiIxNzAwMDAwMDAwMDAwIiwiY2ptIjoiQUJDIn0=".repeat(5)).unwrap().to_luma(3);
        let side = code.width();
        for (i, (x0, y0)) in [(40u32, 30u32), (900, 400), (500, 120), (1000, 20)].into_iter().enumerate() {
            let (w, h) = (1280u32, 720u32);
            let img = GrayImage::from_fn(w, h, |x, y| {
                if x >= x0 && y >= y0 && x < x0 + side && y < y0 + side {
                    return *code.get_pixel(x - x0, y - y0);
                }
                // A gradient and a few flat boxes: a room, not a texture.
                let boxed = (x / 200 + y / 150 + i as u32).is_multiple_of(3);
                image::Luma([(60 + (x + y) / 20 + if boxed { 60 } else { 0 }).min(255) as u8])
            });
            let half = stages::half_luma(img.as_raw(), w, h);
            let (rx, ry, rw, rh) = stages::code_region(&half, w, h).expect("a region");
            assert!(
                rx <= x0 && ry <= y0 && rx + rw >= x0 + side && ry + rh >= y0 + side,
                "{:?} misses the code at {x0},{y0}",
                (rx, ry, rw, rh)
            );
            assert!(
                u64::from(rw) * u64::from(rh) * 2 < u64::from(w) * u64::from(h),
                "the crop is under half the frame"
            );
            let crop = stages::crop_luma(img.as_raw(), w, (rx, ry, rw, rh));
            assert_eq!(crop.dimensions(), (rw, rh));
        }
    }

    #[test]
    fn stretching_keeps_the_size_and_a_flat_image_mid_grey() {
        for (w, h) in [(0u32, 3u32), (3, 0), (1, 1), (17, 5), (640, 480), (1921, 1081)] {
            let flat = GrayImage::from_pixel(w, h, image::Luma([200]));
            let out = stages::stretch_contrast(flat.as_raw(), w, h);
            if w > 0 && h > 0 {
                assert_eq!(out.dimensions(), (w, h));
            }
            assert!(out.as_raw().iter().all(|v| *v == 128));
            // A box past the image is refused with an empty crop, never a panic.
            assert_eq!(stages::crop_luma(flat.as_raw(), w, (w, 0, 1, 1)).dimensions(), (0, 0));
            assert_eq!(stages::crop_luma(flat.as_raw(), w, (0, h, 1, 1)).dimensions(), (0, 0));
            let half = stages::half_luma(flat.as_raw(), w, h);
            assert_eq!(half.as_raw().len(), (w / 2 * (h / 2)) as usize);
            assert_eq!(stages::code_region(&half, w, h), None, "no region in a flat image");
        }
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
