//! QR decoding from pixels: luma in, texts out.
//!
//! rxing (a port of ZXing) reads first; rqrr is the fallback for what it
//! misses and the reader of several codes in one image. The live scanning
//! pipeline on a worker thread builds on these functions.

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

/// Decodes a live camera frame: large frames are read at half resolution
/// first (a phone held up fills plenty of pixels), then at full resolution.
pub fn decode_frame(rgb: &RgbImage) -> Vec<String> {
    if rgb.width() > 1280 {
        let found = decode_gray(&frame_luma(rgb, true));
        if !found.is_empty() {
            return found;
        }
    }
    decode_gray(&frame_luma(rgb, false))
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

fn decode_rxing(luma: &[u8], width: u32, height: u32) -> Option<String> {
    let mut hints = DecodeHints::default().with(rxing::DecodeHintValue::TryHarder(true));
    rxing::helpers::detect_in_luma_slice_with_hints(luma, width, height, Some(BarcodeFormat::QR_CODE), &mut hints)
        .ok()
        .map(|r| r.getText().to_string())
}

fn decode_rqrr(luma: &[u8], width: u32, height: u32) -> Vec<String> {
    let (w, h) = (width as usize, height as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
    prepared.detect_grids().into_iter().filter_map(|grid| grid.decode().ok().map(|(_, text)| text)).collect()
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
        let shot = PhoneShot { module_px: 4.5, brightness: 0.8, noise: 8, shear: 0.05 };
        let frame = phone_frame(&payload, 1280, 720, shot, 11).unwrap();
        assert_eq!(decode_gray(&frame), vec![payload]);
    }

    #[test]
    fn finds_nothing_in_a_blank_frame_and_survives_bad_sizes() {
        let blank = GrayImage::from_pixel(640, 480, image::Luma([128]));
        assert!(decode_gray(&blank).is_empty());
        assert!(decode_luma(&[0u8; 10], 100, 100).is_empty());
        assert!(decode_luma(&[], 0, 0).is_empty());
    }
}
