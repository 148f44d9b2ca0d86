//! The deliverable photo: the 480 × 640 JPEG CHSI accepts, and the original.
//!
//! Spec (教毕指〔2017〕99号): 480 × 640 px, 24-bit colour, JPEG with quality
//! factor ≥ 60, usually 20–40 KB (configurable), 300 dpi. The crop is 3:4,
//! placed by the face (eyes at 250 px, face 240 px wide; [`checks`]), or
//! centred with a warning when no face is found. The image is never mirrored
//! or rotated. Every deliverable comes with its checks ([`checks::assess`]).

pub mod checks;
pub mod face;
pub mod framing;
pub mod mesh;
pub mod net;
pub mod quality;

use image::imageops::FilterType;
use image::RgbImage;
use jpeg_encoder::{ColorType, Encoder, PixelDensity};

/// Deliverable width in pixels.
pub const DELIVERABLE_WIDTH: u32 = 480;
/// Deliverable height in pixels.
pub const DELIVERABLE_HEIGHT: u32 = 640;
/// The lowest JPEG quality the spec allows.
pub const MIN_QUALITY: u8 = 60;
/// JPEG quality of the kept original frame.
pub const ORIGINAL_QUALITY: u8 = 92;

/// Errors making a photo.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("画面尺寸 {width}x{height} 太小，无法裁出 480x640 的照片 / frame {width}x{height} is too small for a 480x640 photo")]
    FrameTooSmall { width: u32, height: u32 },
    #[error("JPEG 编码失败：{0} / JPEG encoding failed: {0}")]
    Encode(String),
    #[error("图像无法解码：{0} / the image does not decode: {0}")]
    Decode(String),
    #[error("文件大小范围无效：{min_bytes}–{max_bytes} 字节 / invalid size range: {min_bytes}–{max_bytes} bytes")]
    BadRange { min_bytes: usize, max_bytes: usize },
    #[error("图像有 {megapixels} 百万像素，超过 {limit} 百万像素的上限 / the image has {megapixels} megapixels, more than the {limit} limit")]
    TooLarge { megapixels: u64, limit: u64 },
}

impl crate::text::Bilingual for PhotoError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::FrameTooSmall { width, height } => Text::new(
                format!("画面尺寸 {width}x{height} 太小，无法裁出 480x640 的照片"),
                format!("frame {width}x{height} is too small for a 480x640 photo"),
            ),
            Self::Encode(f0) => Text::new(format!("JPEG 编码失败：{f0}"), format!("JPEG encoding failed: {f0}")),
            Self::Decode(f0) => Text::new(format!("图像无法解码：{f0}"), format!("the image does not decode: {f0}")),
            Self::BadRange { min_bytes, max_bytes } => Text::new(
                format!("文件大小范围无效：{min_bytes}–{max_bytes} 字节"),
                format!("invalid size range: {min_bytes}–{max_bytes} bytes"),
            ),
            Self::TooLarge { megapixels, limit } => Text::new(
                format!("图像有 {megapixels} 百万像素，超过 {limit} 百万像素的上限"),
                format!("the image has {megapixels} megapixels, more than the {limit} limit"),
            ),
        }
    }
}

/// The accepted file-size range of the deliverable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SizeRange {
    pub min_bytes: usize,
    pub max_bytes: usize,
}

impl Default for SizeRange {
    /// 20–40 KB, what most intake systems take.
    fn default() -> Self {
        SizeRange { min_bytes: 20 * 1024, max_bytes: 40 * 1024 }
    }
}

impl SizeRange {
    /// Checks the range is usable.
    pub fn validated(self) -> Result<Self, PhotoError> {
        if self.min_bytes == 0 || self.min_bytes > self.max_bytes {
            return Err(PhotoError::BadRange { min_bytes: self.min_bytes, max_bytes: self.max_bytes });
        }
        Ok(self)
    }
}

/// How the deliverable's size relates to the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeFit {
    InRange,
    /// Smaller than the minimum even at quality 100 (a very plain image).
    BelowMin,
    /// Larger than the maximum even at quality 60 (a very busy image).
    AboveMax,
}

/// The 480 × 640 JPEG and how it was made.
#[derive(Debug, Clone)]
pub struct Deliverable {
    pub jpeg: Vec<u8>,
    pub quality: u8,
    pub fit: SizeFit,
}

/// A crop rectangle in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The largest centred 3:4 rectangle in a `width` × `height` frame.
pub fn centred_crop(width: u32, height: u32) -> CropRect {
    // 3:4 means width / height = 3 / 4.
    let (w, h) =
        if u64::from(width) * 4 >= u64::from(height) * 3 { (height * 3 / 4, height) } else { (width, width * 4 / 3) };
    CropRect { x: (width - w) / 2, y: (height - h) / 2, width: w, height: h }
}

/// Crops and scales a frame to 480 × 640 (no mirroring, no rotation).
pub fn crop_to_deliverable(frame: &RgbImage, crop: CropRect) -> Result<RgbImage, PhotoError> {
    if crop.width < DELIVERABLE_WIDTH / 2
        || crop.height < DELIVERABLE_HEIGHT / 2
        || crop.x + crop.width > frame.width()
        || crop.y + crop.height > frame.height()
    {
        return Err(PhotoError::FrameTooSmall { width: frame.width(), height: frame.height() });
    }
    let view = image::imageops::crop_imm(frame, crop.x, crop.y, crop.width, crop.height).to_image();
    Ok(image::imageops::resize(&view, DELIVERABLE_WIDTH, DELIVERABLE_HEIGHT, FilterType::Triangle))
}

/// Encodes RGB pixels as a baseline JPEG at 300 dpi.
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let (w, h) = (img.width(), img.height());
    let (w16, h16) = (
        u16::try_from(w).map_err(|_| PhotoError::Encode(format!("width {w} exceeds 65535")))?,
        u16::try_from(h).map_err(|_| PhotoError::Encode(format!("height {h} exceeds 65535")))?,
    );
    let mut out = Vec::with_capacity((w as usize * h as usize) / 8);
    let mut encoder = Encoder::new(&mut out, quality.clamp(1, 100));
    encoder.set_density(PixelDensity::dpi(300));
    encoder.encode(img.as_raw(), w16, h16, ColorType::Rgb).map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(out)
}

/// Encodes the 480 × 640 image at the highest quality (≥ 60) whose file fits
/// the range's maximum. Sizes grow with quality, so the search gallops from
/// `hint` (the quality the previous photo needed; photos at one station are
/// alike, so usually two or three encodes suffice) and then bisects.
pub fn encode_in_range(img: &RgbImage, range: SizeRange, hint: Option<u8>) -> Result<Deliverable, PhotoError> {
    let range = range.validated()?;
    let mut cache: Vec<(u8, Vec<u8>)> = Vec::new();
    let fits = |q: u8, cache: &mut Vec<(u8, Vec<u8>)>| -> Result<bool, PhotoError> {
        if let Some((_, jpeg)) = cache.iter().find(|(cq, _)| *cq == q) {
            return Ok(jpeg.len() <= range.max_bytes);
        }
        let jpeg = encode_jpeg(img, q)?;
        let ok = jpeg.len() <= range.max_bytes;
        cache.push((q, jpeg));
        Ok(ok)
    };
    // Invariant: `lo` fits (or is MIN_QUALITY), everything above `hi` does not.
    let start = hint.unwrap_or(85).clamp(MIN_QUALITY, 100);
    let (mut lo, mut hi);
    if fits(start, &mut cache)? {
        lo = start;
        hi = 100;
        let mut step = 1u8;
        while lo < hi {
            let probe = lo.saturating_add(step).min(hi);
            if fits(probe, &mut cache)? {
                lo = probe;
                step = step.saturating_mul(2);
            } else {
                hi = probe - 1;
                break;
            }
        }
    } else {
        hi = start - 1;
        lo = MIN_QUALITY;
        let mut step = 1u8;
        loop {
            if hi < MIN_QUALITY {
                break;
            }
            let probe = hi.saturating_sub(step - 1).max(MIN_QUALITY);
            if fits(probe, &mut cache)? {
                lo = probe;
                break;
            }
            if probe == MIN_QUALITY {
                // Even the lowest allowed quality is too large.
                let jpeg = cache.iter().find(|(q, _)| *q == MIN_QUALITY).map(|(_, j)| j.clone()).unwrap_or_default();
                return Ok(Deliverable { jpeg, quality: MIN_QUALITY, fit: SizeFit::AboveMax });
            }
            hi = probe - 1;
            step = step.saturating_mul(2);
        }
    }
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid, &mut cache)? {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    fits(lo, &mut cache)?;
    let jpeg = cache.into_iter().find(|(q, _)| *q == lo).map(|(_, j)| j).unwrap_or_default();
    let fit = if jpeg.len() > range.max_bytes {
        SizeFit::AboveMax
    } else if jpeg.len() < range.min_bytes {
        SizeFit::BelowMin
    } else {
        SizeFit::InRange
    };
    Ok(Deliverable { jpeg, quality: lo, fit })
}

/// Makes the deliverable from a captured frame: centred 3:4 crop, 480 × 640,
/// size searched into the range. (The station uses [`make_checked`].)
pub fn make_deliverable(frame: &RgbImage, range: SizeRange, hint: Option<u8>) -> Result<Deliverable, PhotoError> {
    let scaled = crop_to_deliverable(frame, centred_crop(frame.width(), frame.height()))?;
    encode_in_range(&scaled, range, hint)
}

/// A deliverable with its checks, before encoding.
#[derive(Debug, Clone)]
pub struct CheckedPhoto {
    /// The 480 × 640 pixels.
    pub image: RgbImage,
    pub crop: CropRect,
    pub assessment: checks::Assessment,
}

/// Finds the face, crops around it (centred without one) and checks the
/// result. A detector fault costs only the auto-crop, never the photo.
pub fn check_frame(frame: &RgbImage, thresholds: &checks::Thresholds) -> Result<CheckedPhoto, PhotoError> {
    let faces = face::detect_for_photo(frame).unwrap_or_else(|e| {
        tracing::warn!("face detection failed, centred crop: {e}");
        Vec::new()
    });
    checked_with_faces(frame, &faces, thresholds)
}

/// [`check_frame`] with the faces already found (frame pixels).
pub fn checked_with_faces(
    frame: &RgbImage,
    faces: &[checks::Face],
    thresholds: &checks::Thresholds,
) -> Result<CheckedPhoto, PhotoError> {
    let crop = match checks::main_face(faces) {
        Some(f) => checks::place_crop(frame, f, thresholds).0,
        None => centred_crop(frame.width(), frame.height()),
    };
    checked_with_crop(frame, faces, crop, thresholds)
}

/// [`checked_with_faces`] with the crop already placed (the live framing
/// has placed it for its hints).
pub fn checked_with_crop(
    frame: &RgbImage,
    faces: &[checks::Face],
    crop: CropRect,
    thresholds: &checks::Thresholds,
) -> Result<CheckedPhoto, PhotoError> {
    let main = checks::main_face(faces);
    let image = crop_to_deliverable(frame, crop)?;
    let scale = DELIVERABLE_WIDTH as f32 / crop.width as f32;
    let face = main.map(|f| f.mapped(&crop, scale));
    // The dense landmarks from the full-resolution frame, then in the
    // deliverable's pixels; without them the student's checks say so.
    let mesh = main.and_then(|f| match mesh::landmarks(frame, f) {
        Ok(m) if m.presence >= mesh::MIN_PRESENCE => Some(m.mapped(&crop, scale)),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!("face mesh failed: {e}");
            None
        }
    });
    let mut assessment = checks::assess_with_mesh(
        &image,
        face.as_ref(),
        mesh.as_ref(),
        checks::count_faces(faces, &crop),
        main.is_some(),
        thresholds,
    );
    assessment.crop = Some([crop.x, crop.y, crop.width, crop.height]);
    Ok(CheckedPhoto { image, crop, assessment })
}

/// The station's deliverable: face-based crop, checks, size searched into the range.
pub fn make_checked(
    frame: &RgbImage,
    thresholds: &checks::Thresholds,
    range: SizeRange,
    hint: Option<u8>,
) -> Result<(Deliverable, checks::Assessment), PhotoError> {
    let checked = check_frame(frame, thresholds)?;
    let deliverable = encode_in_range(&checked.image, range, hint)?;
    Ok((deliverable, checked.assessment))
}

/// Errors of checking one image file ([`check_file`]).
#[derive(Debug, thiserror::Error)]
pub enum PhotoFileError {
    #[error("图像无法读取 / cannot read the image: {0}")]
    Read(String),
    #[error("文件为空（0 字节）/ the file is empty (0 bytes)")]
    Empty,
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error("写入 / writing {path}: {reason}")]
    Write { path: String, reason: String },
}

impl crate::text::Bilingual for PhotoFileError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Read(reason) => {
                Text::new(format!("图像无法读取：{reason}"), format!("cannot read the image: {reason}"))
            }
            Self::Empty => Text::new("文件为空（0 字节）", "the file is empty (0 bytes)"),
            Self::Photo(e) => e.text(),
            Self::Write { path, reason } => {
                Text::new(format!("写入 {path} 失败：{reason}"), format!("writing {path}: {reason}"))
            }
        }
    }
}

/// An image file made into a checked deliverable and written.
#[derive(Debug, Clone)]
pub struct CheckedFile {
    pub checked: CheckedPhoto,
    pub deliverable: Deliverable,
    /// Where the deliverable was written.
    pub path: std::path::PathBuf,
}

/// Reads an image as the camera would have seen it: EXIF orientation applied
/// (a phone photo stored sideways is turned upright before anything else).
pub fn read_upright(file: &std::path::Path) -> Result<RgbImage, PhotoFileError> {
    use image::ImageDecoder as _;
    if std::fs::metadata(file).is_ok_and(|m| m.len() == 0) {
        return Err(PhotoFileError::Empty);
    }
    let read = |e: image::ImageError| PhotoFileError::Read(e.to_string());
    let reader = image::ImageReader::open(file).map_err(|e| PhotoFileError::Read(e.to_string()))?;
    let reader = reader.with_guessed_format().map_err(|e| PhotoFileError::Read(e.to_string()))?;
    let mut decoder = reader.into_decoder().map_err(read)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(read)?;
    img.apply_orientation(orientation);
    Ok(img.to_rgb8())
}

impl CheckedFile {
    /// What `gradcap photo --json` prints for the photo made of `file`: the
    /// deliverable's path, the eyes (image-left first, whatever the model's
    /// point order), the level, size and quality, and every check.
    pub fn to_json(&self, file: &std::path::Path) -> serde_json::Value {
        use serde_json::json;
        let a = &self.checked.assessment;
        let eyes = a.face.map(|f| {
            let r = |v: f32| (f64::from(v) * 10.0).round() / 10.0;
            let (left, right) =
                if f.left_eye[0] <= f.right_eye[0] { (f.left_eye, f.right_eye) } else { (f.right_eye, f.left_eye) };
            json!([[r(left[0]), r(left[1])], [r(right[0]), r(right[1])]])
        });
        let checks: Vec<serde_json::Value> = a
            .checks
            .iter()
            .map(|c| {
                json!({"name": c.name, "value": c.value, "threshold": c.threshold, "pass": c.pass,
                       "level": c.level, "message_zh": c.message_zh, "message_en": c.message_en})
            })
            .collect();
        json!({"file": file.display().to_string(), "deliverable": self.path.display().to_string(), "eyes": eyes,
               "auto_crop": a.auto_crop, "level": a.level(), "bytes": self.deliverable.jpeg.len(),
               "size_fit": self.deliverable.fit, "quality": self.deliverable.quality,
               "checks": checks})
    }

    /// The same for people: a line for the photo, then one per check.
    pub fn lines(&self, file: &std::path::Path) -> Vec<String> {
        let a = &self.checked.assessment;
        let level = match a.level() {
            checks::Level::Green => "green",
            checks::Level::Amber => "amber",
            checks::Level::Red => "red",
        };
        let size = match self.deliverable.fit {
            SizeFit::InRange => "",
            SizeFit::BelowMin => ", 小于大小范围 / below the size range",
            SizeFit::AboveMax => ", 大于大小范围 / above the size range",
        };
        let head = format!(
            "{} → {} ({level}, {} bytes{size})",
            file.display(),
            self.path.display(),
            self.deliverable.jpeg.len()
        );
        // A passing value near its limit shows "near" (amber), as in the window.
        let status = |c: &checks::Check| match (c.pass, c.level) {
            (false, _) => "FAIL",
            (true, checks::Level::Amber) => "near",
            (true, _) => "ok",
        };
        std::iter::once(head)
            .chain(
                a.checks
                    .iter()
                    .map(|c| format!("  {:<24} {:>4}  {} / {}", c.name, status(c), c.message_zh, c.message_en)),
            )
            .collect()
    }
}

/// The checked-photo path for an image file (`gradcap photo`): read upright,
/// face-based crop and checks, size searched into `range`, written into
/// `out` under the file's own stem made unique among `used` (`a/x.jpg` and
/// `b/x.png` give `x.jpg`, `x_2.jpg`).
pub fn check_file(
    file: &std::path::Path,
    out: &std::path::Path,
    thresholds: &checks::Thresholds,
    range: SizeRange,
    used: &mut std::collections::HashSet<String>,
) -> Result<CheckedFile, PhotoFileError> {
    let frame = read_upright(file)?;
    let checked = check_frame(&frame, thresholds)?;
    let deliverable = encode_in_range(&checked.image, range, None)?;
    let stem = file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "photo".into());
    let name = crate::paths::unique_name(format!("{}.jpg", crate::paths::safe_name(&stem)), None, used);
    let path = out.join(name);
    let write =
        |reason: std::io::Error| PhotoFileError::Write { path: path.display().to_string(), reason: reason.to_string() };
    crate::paths::write_atomic(&path, &deliverable.jpeg).map_err(write)?;
    Ok(CheckedFile { checked, deliverable, path })
}

/// Encodes the full-resolution original that is kept beside the deliverable.
pub fn encode_original(frame: &RgbImage) -> Result<Vec<u8>, PhotoError> {
    encode_jpeg(frame, ORIGINAL_QUALITY)
}

/// A small JPEG thumbnail (longest side `max_side`), e.g. the face at scan time.
pub fn thumbnail_jpeg(frame: &RgbImage, max_side: u32) -> Result<Vec<u8>, PhotoError> {
    let scale = f64::from(max_side) / f64::from(frame.width().max(frame.height()).max(1));
    let w = ((f64::from(frame.width()) * scale).round() as u32).max(1);
    let h = ((f64::from(frame.height()) * scale).round() as u32).max(1);
    // Area averaging: as good as a filter for a thumbnail, far cheaper.
    let small = image::imageops::thumbnail(frame, w, h);
    encode_jpeg(&small, 75)
}

/// The largest camera JPEG decoded, in pixels: 160 MP is above any
/// full-frame or medium-format camera's (a 102 MP GFX100 file is 11648×8736),
/// and a crafted header claiming more would ask for gigabytes of memory.
pub const MAX_CAMERA_PIXELS: u64 = 160_000_000;

/// A studio camera's JPEG, decoded upright.
#[derive(Debug, Clone)]
pub struct CameraImage {
    /// Upright (EXIF orientation applied).
    pub image: RgbImage,
    /// The file's full size, upright.
    pub upright_width: u32,
    pub upright_height: u32,
}

/// Decodes a camera JPEG and turns it upright by its EXIF orientation (a
/// portrait shot with the camera on its side is stored sideways, tagged 6
/// or 8). Decoded strictly: a file whose data is damaged is refused rather
/// than filled in grey (a lenient decoder makes a "photo" of a broken file).
pub fn decode_camera_jpeg(bytes: &[u8]) -> Result<CameraImage, PhotoError> {
    use image::metadata::Orientation;
    use zune_jpeg::zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(30_000)
        .set_max_height(30_000);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| PhotoError::Decode(e.to_string()))?;
    let (w, h) = decoder.dimensions().ok_or_else(|| PhotoError::Decode("no image size".into()))?;
    let pixels_claimed = w as u64 * h as u64;
    if pixels_claimed > MAX_CAMERA_PIXELS {
        return Err(PhotoError::TooLarge {
            megapixels: pixels_claimed / 1_000_000,
            limit: MAX_CAMERA_PIXELS / 1_000_000,
        });
    }
    let pixels = decoder.decode().map_err(|e| PhotoError::Decode(e.to_string()))?;
    let orientation = decoder.exif().and_then(|e| Orientation::from_exif_chunk(e)).unwrap_or(Orientation::NoTransforms);
    let image = RgbImage::from_raw(w as u32, h as u32, pixels)
        .ok_or_else(|| PhotoError::Decode("the decoder gave fewer pixels than its size".into()))?;
    let mut img = image::DynamicImage::ImageRgb8(image);
    img.apply_orientation(orientation);
    let image = img.into_rgb8();
    Ok(CameraImage { upright_width: image.width(), upright_height: image.height(), image })
}

/// Decodes a JPEG into RGB.
pub fn decode_jpeg(bytes: &[u8]) -> Result<RgbImage, PhotoError> {
    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
        .map(|i| i.to_rgb8())
        .map_err(|e| PhotoError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::synth;

    #[test]
    fn centred_crop_is_three_by_four() {
        assert_eq!(centred_crop(1920, 1080), CropRect { x: 555, y: 0, width: 810, height: 1080 });
        assert_eq!(centred_crop(600, 1000), CropRect { x: 0, y: 100, width: 600, height: 800 });
        assert_eq!(centred_crop(480, 640), CropRect { x: 0, y: 0, width: 480, height: 640 });
    }

    #[test]
    fn a_header_claiming_more_pixels_than_any_camera_makes_is_refused_before_decoding() {
        let mut bytes = synth::camera_jpeg(&synth::portrait(320, 240, 3), 1, 90).unwrap();
        assert!(decode_camera_jpeg(&bytes).is_ok());
        // The frame header (SOF0): length, precision, then height and width.
        let sof = bytes.windows(2).rposition(|w| w == [0xFF, 0xC0]).unwrap();
        bytes[sof + 5..sof + 7].copy_from_slice(&20_000u16.to_be_bytes());
        bytes[sof + 7..sof + 9].copy_from_slice(&10_000u16.to_be_bytes());
        match decode_camera_jpeg(&bytes) {
            Err(PhotoError::TooLarge { megapixels: 200, limit: 160 }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deliverable_is_480x640_in_range_at_quality_60_or_more() {
        let frame = synth::portrait(1920, 1080, 7);
        let d = make_deliverable(&frame, SizeRange::default(), None).unwrap();
        let img = decode_jpeg(&d.jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (480, 640));
        assert!(d.quality >= MIN_QUALITY);
        assert_eq!(d.fit, SizeFit::InRange, "{} bytes at q{}", d.jpeg.len(), d.quality);
        assert!((20 * 1024..=40 * 1024).contains(&d.jpeg.len()));
        // JFIF density 300 dpi: units byte 1 (inches), then 300 = 0x012C twice.
        let jfif = d.jpeg.windows(5).position(|w| w == b"JFIF\0").unwrap();
        assert_eq!(&d.jpeg[jfif + 7..jfif + 12], &[1, 0x01, 0x2C, 0x01, 0x2C]);
    }

    #[test]
    fn quality_search_respects_a_tight_range_and_never_goes_below_60() {
        let frame = synth::portrait(1280, 720, 3);
        let tight = SizeRange { min_bytes: 10 * 1024, max_bytes: 24 * 1024 };
        let d = make_deliverable(&frame, tight, None).unwrap();
        assert!(d.jpeg.len() <= tight.max_bytes || d.quality == MIN_QUALITY);
        let tiny = SizeRange { min_bytes: 100, max_bytes: 1000 };
        let d = make_deliverable(&frame, tiny, Some(90)).unwrap();
        assert_eq!(d.quality, MIN_QUALITY);
        assert_eq!(d.fit, SizeFit::AboveMax);
    }

    #[test]
    fn the_hint_changes_the_work_not_the_answer() {
        let frame = synth::portrait(1280, 960, 11);
        let scaled = crop_to_deliverable(&frame, centred_crop(1280, 960)).unwrap();
        let reference = encode_in_range(&scaled, SizeRange::default(), None).unwrap();
        for hint in [60, 61, 70, 79, 80, 81, 90, 99, 100] {
            let d = encode_in_range(&scaled, SizeRange::default(), Some(hint)).unwrap();
            assert_eq!(d.quality, reference.quality, "hint {hint}");
            assert_eq!(d.jpeg, reference.jpeg, "hint {hint}");
        }
        // The highest fitting quality: one step up does not fit.
        if reference.quality < 100 {
            let above = encode_jpeg(&scaled, reference.quality + 1).unwrap();
            assert!(above.len() > SizeRange::default().max_bytes);
        }
    }

    #[test]
    fn a_plain_image_reports_below_min() {
        let flat = RgbImage::from_pixel(960, 1280, image::Rgb([100, 197, 255]));
        let d = make_deliverable(&flat, SizeRange::default(), Some(70)).unwrap();
        assert_eq!(d.fit, SizeFit::BelowMin);
        assert_eq!(d.quality, 100);
    }

    #[test]
    fn refuses_tiny_frames_and_bad_ranges() {
        let small = RgbImage::new(100, 100);
        assert!(matches!(make_deliverable(&small, SizeRange::default(), None), Err(PhotoError::FrameTooSmall { .. })));
        let bad = SizeRange { min_bytes: 50, max_bytes: 10 };
        assert!(matches!(bad.validated(), Err(PhotoError::BadRange { .. })));
    }

    #[test]
    fn the_crop_is_not_mirrored() {
        // Left half red, right half green: the deliverable keeps red on the left.
        let frame =
            RgbImage::from_fn(
                1280,
                960,
                |x, _| {
                    if x < 640 {
                        image::Rgb([255, 0, 0])
                    } else {
                        image::Rgb([0, 255, 0])
                    }
                },
            );
        let out = crop_to_deliverable(&frame, centred_crop(1280, 960)).unwrap();
        assert!(out.get_pixel(10, 320)[0] > 200);
        assert!(out.get_pixel(470, 320)[1] > 200);
    }
}
