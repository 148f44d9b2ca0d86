//! Synthetic frames: a student holding up a phone that shows a capture code,
//! and a face-like portrait on the light-blue background. Deterministic for a
//! given seed. They feed `simulate`, the benchmarks and the tests, and the
//! demo camera, so every path runs without hardware.

use image::{GrayImage, Rgb, RgbImage};

use crate::code::drill::QrMatrix;

/// The reference background colour of the spec, RGB (100, 197, 255).
pub const BACKGROUND_RGB: [u8; 3] = [100, 197, 255];

/// A small seeded generator (SplitMix64): reproducible runs without a dependency.
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        SeededRng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// A whole number in `[lo, hi]` (both ends included).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi.saturating_sub(lo) + 1)
    }
}

/// Cheap per-pixel noise in `[-amp, amp]`, a hash of position and seed.
fn noise(x: u32, y: u32, seed: u64, amp: i32) -> i32 {
    let mut h = u64::from(x).wrapping_mul(0x9E37_79B1) ^ u64::from(y).wrapping_mul(0x85EB_CA77) ^ seed;
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    if amp == 0 {
        return 0;
    }
    (h % (2 * amp as u64 + 1)) as i32 - amp
}

fn add(c: u8, d: i32) -> u8 {
    (i32::from(c) + d).clamp(0, 255) as u8
}

fn in_ellipse(x: f64, y: f64, cx: f64, cy: f64, rx: f64, ry: f64) -> bool {
    let dx = (x - cx) / rx;
    let dy = (y - cy) / ry;
    dx * dx + dy * dy <= 1.0
}

/// Geometry of a synthetic portrait, in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PortraitLayout {
    pub face_cx: f64,
    pub face_cy: f64,
    pub face_rx: f64,
    pub face_ry: f64,
    pub eye_y: f64,
    pub eye_dx: f64,
}

/// Where the face of `portrait(width, height, seed)` lies.
pub fn portrait_layout(width: u32, height: u32, seed: u64) -> PortraitLayout {
    let mut rng = SeededRng::new(seed);
    let h = f64::from(height);
    let w = f64::from(width);
    let face_rx = h * rng.range(0.17, 0.20);
    let face_ry = face_rx * 1.3;
    let eye_y = h * rng.range(0.37, 0.41);
    PortraitLayout {
        face_cx: w / 2.0 + h * rng.range(-0.03, 0.03),
        face_cy: eye_y + face_ry * 0.25,
        face_rx,
        face_ry,
        eye_y,
        eye_dx: face_rx * 0.42,
    }
}

/// A face-like portrait on the light-blue background with sensor noise.
pub fn portrait(width: u32, height: u32, seed: u64) -> RgbImage {
    let l = portrait_layout(width, height, seed);
    let skin = [224u8, 186, 158];
    let hair = [35u8, 28, 24];
    let shirt = [40u8, 44, 60];
    let h = f64::from(height);
    RgbImage::from_fn(width, height, |px, py| {
        let (x, y) = (f64::from(px) + 0.5, f64::from(py) + 0.5);
        let shade = ((y / h) * 18.0) as i32; // background a little darker lower down
        let mut c =
            [add(BACKGROUND_RGB[0], -shade), add(BACKGROUND_RGB[1], -shade), add(BACKGROUND_RGB[2], -shade / 2)];
        let shoulders_top = l.face_cy + l.face_ry * 1.05;
        if y > shoulders_top
            && in_ellipse(x, y, l.face_cx, shoulders_top + l.face_ry * 1.6, l.face_rx * 2.6, l.face_ry * 1.6)
        {
            c = shirt;
        }
        if (x - l.face_cx).abs() < l.face_rx * 0.45 && y > l.face_cy && y < shoulders_top + l.face_ry * 0.2 {
            c = [skin[0] - 20, skin[1] - 20, skin[2] - 15]; // neck
        }
        // Hair up to about 0.7 face widths above the eyes, as on a person
        // (the photo spec's head-top band assumes that much forehead).
        if in_ellipse(x, y, l.face_cx, l.face_cy - l.face_ry * 0.18, l.face_rx * 1.12, l.face_ry * 0.98)
            || (y < l.eye_y - l.face_ry * 0.5
                && in_ellipse(x, y, l.face_cx, l.face_cy - l.face_ry * 0.45, l.face_rx * 1.02, l.face_ry * 0.92))
        {
            c = hair;
        }
        if in_ellipse(x, y, l.face_cx, l.face_cy, l.face_rx, l.face_ry) && y > l.face_cy - l.face_ry * 0.62 {
            c = skin;
            let shade = ((x - l.face_cx).abs() / l.face_rx * 25.0) as i32;
            c = [add(c[0], -shade), add(c[1], -shade), add(c[2], -shade)];
        }
        for side in [-1.0, 1.0] {
            let ex = l.face_cx + side * l.eye_dx;
            if in_ellipse(x, y, ex, l.eye_y, l.face_rx * 0.2, l.face_rx * 0.1) {
                // The white of the eye: not a light's white (that would be glare).
                c = [220, 216, 210];
            }
            if in_ellipse(x, y, ex, l.eye_y, l.face_rx * 0.08, l.face_rx * 0.08) {
                c = [30, 25, 20];
            }
            if in_ellipse(x, y, ex, l.eye_y - l.face_rx * 0.22, l.face_rx * 0.22, l.face_rx * 0.04) {
                c = hair; // eyebrow
            }
        }
        if in_ellipse(x, y, l.face_cx, l.eye_y + l.face_ry * 0.62, l.face_rx * 0.32, l.face_rx * 0.07) {
            c = [170, 90, 90];
        }
        let n = noise(px, py, seed, 7);
        Rgb([add(c[0], n), add(c[1], n), add(c[2], n)])
    })
}

/// How a phone shows its code in a synthetic frame, and what the webcam
/// does to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhoneShot {
    /// QR module size in frame pixels.
    pub module_px: f64,
    /// Screen brightness: 1.0 full, lower is dimmer.
    pub brightness: f64,
    /// Sensor noise amplitude (grey levels).
    pub noise: i32,
    /// Horizontal shear of the screen.
    pub shear: f64,
    /// Keystone perspective: the top edge is this much wider than the bottom (0: none).
    pub keystone: f64,
    /// Box-blur radius in pixels (focus, motion).
    pub blur_px: u32,
    /// Strength of a glare spot on the screen, 0..1.
    pub glare: f64,
    /// JPEG compression of the frame (an MJPEG camera, a screenshot).
    pub jpeg_quality: Option<u8>,
}

impl PhoneShot {
    /// A fair phone at arm's length.
    pub fn typical(rng: &mut SeededRng) -> Self {
        PhoneShot {
            module_px: rng.range(4.0, 6.0),
            brightness: rng.range(0.75, 1.0),
            noise: 6,
            shear: rng.range(-0.08, 0.08),
            ..PhoneShot::clean(5.0)
        }
    }

    /// A sharp, bright, square-on screen.
    pub fn clean(module_px: f64) -> Self {
        PhoneShot {
            module_px,
            brightness: 1.0,
            noise: 0,
            shear: 0.0,
            keystone: 0.0,
            blur_px: 0,
            glare: 0.0,
            jpeg_quality: None,
        }
    }
}

/// A grey webcam frame of a phone screen showing the QR code for `payload`.
pub fn phone_frame(
    payload: &str,
    width: u32,
    height: u32,
    shot: PhoneShot,
    seed: u64,
) -> Result<GrayImage, crate::code::drill::DrillError> {
    let qr = QrMatrix::encode(payload)?;
    let mut rng = SeededRng::new(seed);
    let side = qr.side as f64 + 8.0; // with quiet zone
    let code_px = side * shot.module_px;
    let screen_w = code_px * 1.15;
    let screen_h = code_px * 1.9;
    let cx = f64::from(width) / 2.0 + rng.range(-0.15, 0.15) * f64::from(width).min(screen_w * 2.0);
    let cy = f64::from(height) / 2.0 + rng.range(-0.05, 0.05) * f64::from(height);
    let code_x0 = cx - code_px / 2.0;
    let code_y0 = cy - code_px / 2.0;
    let white = (235.0 * shot.brightness) as i32;
    let black = 25 + ((1.0 - shot.brightness) * 30.0) as i32;
    let (glare_x, glare_y) = (cx + rng.range(-0.3, 0.3) * code_px, cy + rng.range(-0.3, 0.3) * code_px);
    let glare_r = code_px * 0.22;
    let mut img = GrayImage::from_fn(width, height, |px, py| {
        let y = f64::from(py) + 0.5;
        // Keystone about the screen centre, then shear.
        let widen = 1.0 + shot.keystone * (cy - y) / screen_h.max(1.0);
        let x = cx + (f64::from(px) + 0.5 - cx) / widen.max(0.2) - shot.shear * (y - cy);
        let mut v: i32 = 110 + ((f64::from(py) / f64::from(height)) * 40.0) as i32; // room
        let in_body = (x - cx).abs() < screen_w / 2.0 + 14.0 && (y - cy).abs() < screen_h / 2.0 + 20.0;
        if in_body {
            v = 30; // phone body
        }
        if (x - cx).abs() < screen_w / 2.0 && (y - cy).abs() < screen_h / 2.0 {
            v = white;
            let mx = ((x - code_x0) / shot.module_px).floor() as isize - 4;
            let my = ((y - code_y0) / shot.module_px).floor() as isize - 4;
            if qr.is_dark(mx, my) {
                v = black;
            }
            if shot.glare > 0.0 {
                let d2 = ((x - glare_x).powi(2) + (y - glare_y).powi(2)) / (glare_r * glare_r);
                v += (shot.glare * 200.0 * (-d2).exp()) as i32;
            }
        }
        image::Luma([(v + noise(px, py, seed, shot.noise)).clamp(0, 255) as u8])
    });
    if shot.blur_px > 0 {
        img = image::imageops::blur(&img, shot.blur_px as f32 * 0.6);
    }
    if let Some(q) = shot.jpeg_quality {
        let rgb = image::DynamicImage::ImageLuma8(img.clone()).to_rgb8();
        if let Ok(jpeg) = degrade_jpeg(&rgb, q) {
            if let Ok(back) = image::load_from_memory(&jpeg) {
                img = back.to_luma8();
            }
        }
    }
    Ok(img)
}

/// A frame through a phone's or a webcam's JPEG at quality `q` (the same
/// encoder as the deliverable's; the camera layer keeps its own call so it
/// does not depend on the image work above it).
fn degrade_jpeg(rgb: &image::RgbImage, q: u8) -> Result<Vec<u8>, jpeg_encoder::EncodingError> {
    let (w, h) = (u16::try_from(rgb.width()).unwrap_or(u16::MAX), u16::try_from(rgb.height()).unwrap_or(u16::MAX));
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, q.clamp(1, 100)).encode(rgb.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)?;
    Ok(out)
}

/// The degradations a station's webcam meets, by name, each on its own and
/// all together: the conditions of the decode measurements.
pub fn webcam_conditions(module_px: f64) -> Vec<(&'static str, PhoneShot)> {
    let base = PhoneShot { noise: 4, ..PhoneShot::clean(module_px) };
    vec![
        ("clean", base),
        ("perspective", PhoneShot { keystone: 0.25, shear: 0.12, ..base }),
        ("blur", PhoneShot { blur_px: 2, ..base }),
        ("glare", PhoneShot { glare: 0.9, ..base }),
        ("dim screen", PhoneShot { brightness: 0.45, ..base }),
        ("sensor noise", PhoneShot { noise: 22, ..base }),
        ("jpeg q40", PhoneShot { jpeg_quality: Some(40), ..base }),
        (
            "all of them",
            PhoneShot {
                keystone: 0.15,
                shear: 0.08,
                blur_px: 1,
                glare: 0.6,
                brightness: 0.6,
                noise: 12,
                jpeg_quality: Some(60),
                ..base
            },
        ),
    ]
}

/// A JPEG as a studio camera writes it: an EXIF APP1 segment right after
/// SOI with the orientation tag (1 upright, 6 turned for a camera held on
/// its side, …) and an embedded thumbnail JPEG (whose own EOI lies inside
/// the segment: a file cut just after it is not whole). `stored` is the
/// image as the sensor stored it.
pub fn camera_jpeg(stored: &RgbImage, orientation: u16, quality: u8) -> Result<Vec<u8>, jpeg_encoder::EncodingError> {
    camera_jpeg_noted(stored, orientation, quality, "")
}

/// [`camera_jpeg`] with a comment segment (a camera's serial and shot
/// count make every real file unique; two shots never share their bytes).
pub fn camera_jpeg_noted(
    stored: &RgbImage,
    orientation: u16,
    quality: u8,
    note: &str,
) -> Result<Vec<u8>, jpeg_encoder::EncodingError> {
    let main = degrade_jpeg(stored, quality)?;
    let thumb_img = image::imageops::thumbnail(stored, 160, 120);
    let thumb = degrade_jpeg(&thumb_img, 70)?;
    // TIFF, big-endian: IFD0 (orientation), IFD1 (the thumbnail's place).
    let mut tiff: Vec<u8> = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, value: u32| {
        tiff.extend(tag.to_be_bytes());
        tiff.extend(kind.to_be_bytes());
        tiff.extend(1u32.to_be_bytes());
        if kind == 3 {
            tiff.extend((value as u16).to_be_bytes());
            tiff.extend([0, 0]);
        } else {
            tiff.extend(value.to_be_bytes());
        }
    };
    tiff.extend(1u16.to_be_bytes());
    entry(&mut tiff, 0x0112, 3, u32::from(orientation));
    let ifd1 = 8 + 2 + 12 + 4;
    tiff.extend((ifd1 as u32).to_be_bytes());
    tiff.extend(2u16.to_be_bytes());
    let thumb_at = ifd1 + 2 + 2 * 12 + 4;
    entry(&mut tiff, 0x0201, 4, thumb_at as u32);
    entry(&mut tiff, 0x0202, 4, thumb.len() as u32);
    tiff.extend(0u32.to_be_bytes());
    tiff.extend(&thumb);
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend(tiff);
    let len = u16::try_from(app1.len() + 2).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(main.len() + app1.len() + 4);
    out.extend([0xFF, 0xD8, 0xFF, 0xE1]);
    out.extend(len.to_be_bytes());
    out.extend(app1);
    if !note.is_empty() {
        let note = &note.as_bytes()[..note.len().min(60_000)];
        out.extend([0xFF, 0xFE]);
        out.extend(u16::try_from(note.len() + 2).unwrap_or(u16::MAX).to_be_bytes());
        out.extend(note);
    }
    // The encoder's own APP0 and the rest follow.
    out.extend(&main[2..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_deterministic() {
        assert_eq!(portrait(320, 240, 5), portrait(320, 240, 5));
        assert_ne!(portrait(320, 240, 5), portrait(320, 240, 6));
        let mut a = SeededRng::new(1);
        let mut b = SeededRng::new(1);
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn portrait_has_background_and_face_where_the_layout_says() {
        let img = portrait(1280, 720, 9);
        let l = portrait_layout(1280, 720, 9);
        let corner = img.get_pixel(5, 5);
        assert!(corner[2] > 230 && corner[0] < 120, "blue background, got {corner:?}");
        let cheek = img.get_pixel(l.face_cx as u32, (l.eye_y + l.face_ry * 0.3) as u32);
        assert!(cheek[0] > 180 && cheek[2] < 190, "skin, got {cheek:?}");
    }
}
