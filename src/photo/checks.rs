//! The CHSI photo spec as measurable checks, and the face-based crop.
//!
//! Each check has a measured value, a threshold, pass/fail and a level the
//! operator sees (green: well inside; amber: passes but near the limit;
//! red: fails), with a plain message in Chinese and English. Thresholds live
//! in one table ([`Thresholds`], adjustable in settings; defaults from
//! DOMAIN.md: eyes 200–300 px from the top, face width 180–300 px, top of
//! the head 50–110 px from the top). The crop puts the eyes at 250 px and
//! makes the face 240 px wide; it never rotates or mirrors: a tilted head is
//! a failed check and a re-shoot.

use image::RgbImage;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::mesh::Mesh;
use super::{quality, CropRect, DELIVERABLE_HEIGHT, DELIVERABLE_WIDTH};

/// The background colour CHSI asks for (light blue).
pub const BACKGROUND_RGB: [f32; 3] = [100.0, 197.0, 255.0];
/// Where the crop puts the eye line, px from the top of the deliverable.
pub const TARGET_EYE_Y: f32 = 250.0;
/// The face width the crop aims for, px.
pub const TARGET_FACE_WIDTH: f32 = 240.0;
/// Top of the head above the eye line, in face widths: the spec's centres
/// (eyes 250, head top 80, face 240) give 0.7. Used when the background is
/// too uneven to see the head's outline.
pub const HEAD_ABOVE_EYES: f32 = 0.7;

/// A face, in the pixels of the picture it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// x, y, width, height of the face box (cheek to cheek, brow to chin).
    pub bbox: [f32; 4],
    pub score: f32,
    /// Eye centres: the one on the image's left, then the one on its right.
    pub left_eye: [f32; 2],
    pub right_eye: [f32; 2],
}

impl Face {
    pub fn eye_mid(&self) -> [f32; 2] {
        [(self.left_eye[0] + self.right_eye[0]) / 2.0, (self.left_eye[1] + self.right_eye[1]) / 2.0]
    }

    pub fn eye_distance(&self) -> f32 {
        (self.right_eye[0] - self.left_eye[0]).hypot(self.right_eye[1] - self.left_eye[1])
    }

    /// Angle of the eye line from horizontal, degrees (positive: the
    /// image-right eye is lower).
    pub fn tilt_deg(&self) -> f32 {
        (self.right_eye[1] - self.left_eye[1]).atan2(self.right_eye[0] - self.left_eye[0]).to_degrees()
    }

    /// Face width: the face box's width.
    pub fn width(&self) -> f32 {
        self.bbox[2]
    }

    /// The same face in a crop of `crop` scaled by `scale`.
    pub fn mapped(&self, crop: &CropRect, scale: f32) -> Face {
        let (ox, oy) = (crop.x as f32, crop.y as f32);
        let p = |q: [f32; 2]| [(q[0] - ox) * scale, (q[1] - oy) * scale];
        Face {
            bbox: [
                (self.bbox[0] - ox) * scale,
                (self.bbox[1] - oy) * scale,
                self.bbox[2] * scale,
                self.bbox[3] * scale,
            ],
            score: self.score,
            left_eye: p(self.left_eye),
            right_eye: p(self.right_eye),
        }
    }
}

/// Every threshold of the checks, in one table (settings: `photo_checks`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// Eye line, px from the top of the 480×640 photo.
    pub eye_height_px: [f32; 2],
    /// Face width, px.
    pub face_width_px: [f32; 2],
    /// Most the eye line may lean, degrees.
    pub eye_tilt_max_deg: f32,
    /// Top of the head (hair), px from the top.
    pub head_top_px: [f32; 2],
    /// Least sharpness on the face: variance of the Laplacian over variance
    /// of the luminance's detail, × 50 (see [`sharpness`]).
    pub sharpness_min: f32,
    /// Mean face luminance (0–255): under / over exposed outside this.
    pub exposure: [f32; 2],
    /// Most the background's mean colour may be from RGB 100,197,255 (RGB distance).
    pub background_distance_max: f32,
    /// Most the background may vary (standard deviation, grey levels).
    pub background_spread_max: f32,
    /// A passing value this close to a limit (share of the range) shows amber.
    pub amber_margin: f32,
    /// Least eye opening: the smaller eye's lid gap, % of the inter-eye distance.
    pub eyes_open_min_pct: f32,
    /// Most inner-lip gap, % of the face height (forehead to chin).
    pub mouth_open_max_pct: f32,
    /// Most teeth showing, % of the inner mouth's area.
    pub teeth_max_pct: f32,
    /// Most the head may be turned left or right, degrees.
    pub head_yaw_max_deg: f32,
    /// Most the head may be raised or lowered, degrees.
    pub head_pitch_max_deg: f32,
    /// Least likeness of the light on the face's two halves (their
    /// luminance histograms' intersection), %.
    pub illumination_uniformity_min_pct: f32,
    /// Most face pixels crushed to black or blown to white, %.
    pub exposure_clipping_max_pct: f32,
    /// Most near-white glare around an eye (where glasses sit), %.
    pub glasses_glare_max_pct: f32,
    /// Least colour distance of the clothing below the chin from the
    /// backdrop (RGB distance, as the background check).
    pub clothing_distance_min: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            eye_height_px: [200.0, 300.0],
            face_width_px: [180.0, 300.0],
            eye_tilt_max_deg: 3.0,
            head_top_px: [50.0, 110.0],
            sharpness_min: 2.5,
            exposure: [80.0, 190.0],
            background_distance_max: 60.0,
            background_spread_max: 18.0,
            amber_margin: 0.1,
            eyes_open_min_pct: 7.0,
            mouth_open_max_pct: 3.0,
            teeth_max_pct: 15.0,
            head_yaw_max_deg: 10.0,
            head_pitch_max_deg: 15.0,
            illumination_uniformity_min_pct: 50.0,
            exposure_clipping_max_pct: 5.0,
            glasses_glare_max_pct: 5.0,
            clothing_distance_min: 70.0,
        }
    }
}

/// How a check looks to the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Green,
    Amber,
    Red,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    /// The measured value; `null` when it could not be measured (no face).
    pub value: Option<f64>,
    /// A number (a limit) or `[min, max]`.
    pub threshold: Value,
    pub pass: bool,
    pub level: Level,
    pub message_zh: String,
    pub message_en: String,
}

/// Every check of one photo, and where the face was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// The face the crop was built on, in deliverable pixels.
    pub face: Option<Face>,
    /// The crop was placed by the face (not the centred fallback).
    pub auto_crop: bool,
    pub checks: Vec<Check>,
    /// The backdrop's mean colour (RGB) around the head, when it was seen:
    /// the station compares it with the session's first photos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backdrop_rgb: Option<[f32; 3]>,
    /// The deliverable's rectangle in the (upright) original's pixels: x,
    /// y, width, height. Prints are cut with the same geometry from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop: Option<[u32; 4]>,
}

impl Assessment {
    /// The worst level of all checks.
    pub fn level(&self) -> Level {
        self.checks.iter().map(|c| c.level).max().unwrap_or(Level::Green)
    }

    /// The failed checks themselves.
    pub fn failed_checks(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| !c.pass).collect()
    }

    /// Names of the failed checks.
    pub fn failed(&self) -> Vec<String> {
        self.checks.iter().filter(|c| !c.pass).map(|c| c.name.clone()).collect()
    }

    /// `name=value` of every check, `;`-separated (manifests).
    pub fn values_line(&self) -> String {
        self.checks
            .iter()
            .map(|c| match c.value {
                Some(v) => format!("{}={}", c.name, (v * 10.0).round() / 10.0),
                None => format!("{}=", c.name),
            })
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// Where to crop a frame of `width` × `height` so the face lands at the
/// target size and place ([`plan_crop_within`] with the default thresholds).
pub fn plan_crop(face: &Face, width: u32, height: u32) -> CropRect {
    plan_crop_within(face, width, height, &Thresholds::default())
}

/// Where to crop a frame of `width` × `height` so the face lands at the
/// target size and place. The crop is shifted back inside the frame (the
/// checks then catch eyes that did not land in the band) and never larger
/// than the frame. When the frame's top edge stops the crop from bringing
/// the eyes down into their band, it zooms in first, as far as the face
/// width's band allows (short of its amber margin): a larger face puts the
/// eyes lower in the photo.
pub fn plan_crop_within(face: &Face, width: u32, height: u32, t: &Thresholds) -> CropRect {
    let crop = plan_crop_at(face, width, height, TARGET_FACE_WIDTH);
    let scale = DELIVERABLE_WIDTH as f32 / crop.width as f32;
    let eye_y = (face.eye_mid()[1] - crop.y as f32) * scale;
    let [lo, hi] = t.eye_height_px;
    let wanted = lo + (hi - lo).max(0.0) * t.amber_margin;
    if crop.y > 0 || eye_y >= wanted || eye_y <= 0.0 {
        return crop;
    }
    let [_, face_hi] = t.face_width_px;
    let face_max = face_hi - (face_hi - t.face_width_px[0]).max(0.0) * t.amber_margin;
    let face_now = face.width() * scale;
    let zoomed = (face_now * wanted / eye_y).min(face_max);
    if zoomed <= face_now + 0.5 {
        return crop;
    }
    plan_crop_at(face, width, height, zoomed)
}

/// [`plan_crop_within`]'s placement for a face `face_width` px wide in the photo.
fn plan_crop_at(face: &Face, width: u32, height: u32, face_width: f32) -> CropRect {
    let scale = face_width / face.width().max(1.0);
    // Never blown up more than 2×: a tiny face stays small (and fails its check).
    let mut w = (DELIVERABLE_WIDTH as f32 / scale).max(DELIVERABLE_WIDTH as f32 / 2.0);
    let mut h = w * DELIVERABLE_HEIGHT as f32 / DELIVERABLE_WIDTH as f32;
    // Too big for the frame: the largest 3:4 crop that fits.
    let fit = (width as f32 / w).min(height as f32 / h).min(1.0);
    w *= fit;
    h *= fit;
    let scale = DELIVERABLE_WIDTH as f32 / w;
    let [mx, my] = face.eye_mid();
    let x = (mx - DELIVERABLE_WIDTH as f32 / 2.0 / scale).clamp(0.0, (width as f32 - w).max(0.0));
    let y = (my - TARGET_EYE_Y / scale).clamp(0.0, (height as f32 - h).max(0.0));
    let (w, h) = (w.floor().max(1.0) as u32, h.floor().max(1.0) as u32);
    CropRect {
        x: (x.round() as u32).min(width - w.min(width)),
        y: (y.round() as u32).min(height - h.min(height)),
        width: w,
        height: h,
    }
}

/// The crop for `face` in `frame`: [`plan_crop`], then moved up or down
/// (the eyes staying well inside their band) so that the top of the head,
/// when it can be seen against the backdrop, lands inside its band too —
/// people's foreheads differ, the spec wants both. Also returns where the
/// top of the head lands (deliverable pixels), when it could be seen.
pub fn place_crop(frame: &RgbImage, face: &Face, t: &Thresholds) -> (CropRect, Option<f32>) {
    let (width, height) = frame.dimensions();
    let mut crop = plan_crop_within(face, width, height, t);
    // Measured inside the planned crop, as the check will on the photo: its
    // top rows are the backdrop the head is told apart from.
    let region = image::imageops::crop_imm(frame, crop.x, crop.y, crop.width, crop.height);
    let Some(top_in_crop) = head_top(&*region, &face.mapped(&crop, 1.0)) else { return (crop, None) };
    let top_frame = top_in_crop + crop.y as f32;
    let scale = DELIVERABLE_WIDTH as f32 / crop.width as f32;
    let to_photo = |crop: &CropRect| (top_frame - crop.y as f32) * scale;
    let top = to_photo(&crop);
    let [lo, hi] = t.head_top_px;
    let margin = (hi - lo).max(0.0) * 0.1;
    let wanted = top.clamp(lo + margin, (hi - margin).max(lo + margin));
    let [eye_lo, eye_hi] = t.eye_height_px;
    let eye_margin = (eye_hi - eye_lo).max(0.0) * 0.15;
    let eye_y = (face.eye_mid()[1] - crop.y as f32) * scale;
    // Moving the crop down by d photo pixels moves everything up by d.
    let most_up = (eye_y - (eye_lo + eye_margin)).max(0.0);
    let most_down = ((eye_hi - eye_margin) - eye_y).max(0.0);
    let shift = (top - wanted).clamp(-most_down, most_up);
    if shift.abs() >= 1.0 {
        let y = (crop.y as f32 + shift / scale).round().clamp(0.0, height.saturating_sub(crop.height) as f32);
        crop.y = y as u32;
    }
    (crop, Some(to_photo(&crop)))
}

fn luminance(p: &image::Rgb<u8>) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// Clamped integer rectangle `[x0, y0, x1, y1)` inside `img`.
fn rect_in(img: &RgbImage, x: f32, y: f32, w: f32, h: f32) -> Option<[u32; 4]> {
    let x0 = x.max(0.0).floor() as u32;
    let y0 = y.max(0.0).floor() as u32;
    let x1 = ((x + w).min(img.width() as f32).ceil().max(0.0) as u32).min(img.width());
    let y1 = ((y + h).min(img.height() as f32).ceil().max(0.0) as u32).min(img.height());
    (x1 > x0 + 2 && y1 > y0 + 2).then_some([x0, y0, x1, y1])
}

/// Sharpness inside `r`: the variance of the 4-neighbour Laplacian of the
/// luminance over the variance of the luminance's detail (× 50): the
/// luminance less its own blur over an eighth of the region, so that the
/// shading across a face lit from one side is not taken for detail. Blur
/// takes away fine detail relative to the coarser features; light and
/// exposure scale both alike, so a dark but sharp face still reads as sharp.
pub fn sharpness(img: &RgbImage, r: [u32; 4]) -> f32 {
    let [x0, y0, x1, y1] = r;
    let (w, h) = ((x1 - x0) as usize, (y1 - y0) as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let lum: Vec<f64> = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .map(|(x, y)| f64::from(luminance(img.get_pixel(x, y))))
        .collect();
    // Integral image for the box blur.
    let mut integral = vec![0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0f64;
        for x in 0..w {
            row += lum[y * w + x];
            integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row;
        }
    }
    let radius = (w.min(h) / 8).max(2);
    let smooth = |x: usize, y: usize| {
        let (a, b) = (x.saturating_sub(radius), (x + radius + 1).min(w));
        let (c, d) = (y.saturating_sub(radius), (y + radius + 1).min(h));
        let sum = integral[d * (w + 1) + b] - integral[c * (w + 1) + b] - integral[d * (w + 1) + a]
            + integral[c * (w + 1) + a];
        sum / ((b - a) * (d - c)) as f64
    };
    let (mut sum, mut sum2, mut n) = (0f64, 0f64, 0f64);
    let (mut dsum, mut dsum2) = (0f64, 0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let c = lum[y * w + x];
            let l = lum[y * w + x - 1] + lum[y * w + x + 1] + lum[(y - 1) * w + x] + lum[(y + 1) * w + x] - 4.0 * c;
            sum += l;
            sum2 += l * l;
            let detail = c - smooth(x, y);
            dsum += detail;
            dsum2 += detail * detail;
            n += 1.0;
        }
    }
    if n < 1.0 {
        return 0.0;
    }
    let lap_var = sum2 / n - (sum / n).powi(2);
    let detail_var = dsum2 / n - (dsum / n).powi(2);
    // × 50 rather than × 100: the detail's variance is about half the whole
    // luminance's on a face, so the values and the threshold keep the scale
    // they had when the whole luminance was the measure (mild blur, σ 1–1.5
    // px, fails as it did).
    (50.0 * lap_var / (detail_var + 25.0)) as f32
}

fn mean_luminance(img: &RgbImage, r: [u32; 4]) -> f32 {
    let [x0, y0, x1, y1] = r;
    let mut sum = 0f64;
    for y in y0..y1 {
        for x in x0..x1 {
            sum += f64::from(luminance(img.get_pixel(x, y)));
        }
    }
    (sum / f64::from((x1 - x0) * (y1 - y0)).max(1.0)) as f32
}

/// Mean colour and spread (RMS distance from the mean) of the pixels in `rects`.
fn colour_stats(img: &RgbImage, rects: &[[u32; 4]]) -> Option<([f32; 3], f32)> {
    let mut sum = [0f64; 3];
    let mut n = 0f64;
    for &[x0, y0, x1, y1] in rects {
        for y in y0..y1 {
            for x in x0..x1 {
                let p = img.get_pixel(x, y);
                for c in 0..3 {
                    sum[c] += f64::from(p[c]);
                }
                n += 1.0;
            }
        }
    }
    if n < 50.0 {
        return None;
    }
    let mean = [sum[0] / n, sum[1] / n, sum[2] / n];
    let mut var = 0f64;
    for &[x0, y0, x1, y1] in rects {
        for y in y0..y1 {
            for x in x0..x1 {
                let p = img.get_pixel(x, y);
                var += (0..3).map(|c| (f64::from(p[c]) - mean[c]).powi(2)).sum::<f64>();
            }
        }
    }
    Some(([mean[0] as f32, mean[1] as f32, mean[2] as f32], (var / n / 3.0).sqrt() as f32))
}

/// How far two colours are (RGB distance, as the background check measures).
pub fn colour_distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    distance(a, b)
}

fn distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// The top of the head in the deliverable: in each column over the middle
/// of the face, the first row (going down) that differs from that column's
/// top rows; the median over the columns. `None` when that lands somewhere
/// a head cannot be (then the caller estimates it from the face).
fn head_top<I: image::GenericImageView<Pixel = image::Rgb<u8>>>(img: &I, face: &Face) -> Option<f32> {
    let [mx, my] = face.eye_mid();
    let w = img.width();
    let x0 = (mx - face.width() * 0.25).max(0.0) as u32;
    let x1 = ((mx + face.width() * 0.25).min(w as f32)).max(0.0) as u32;
    let limit = my.clamp(0.0, img.height() as f32) as u32;
    if x1 <= x0 + 4 || limit < 8 {
        return None;
    }
    let px = |x: u32, y: u32| {
        let p = img.get_pixel(x, y);
        [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])]
    };
    let top_rows = |x: u32| {
        (0..4).fold([0f32; 3], |acc, y| {
            let p = px(x, y);
            [acc[0] + p[0] / 4.0, acc[1] + p[1] / 4.0, acc[2] + p[2] / 4.0]
        })
    };
    // On the light-blue backdrop, as the top corners show it when they
    // agree: a column whose top rows are not backdrop starts inside the head
    // (hair cut off by the edge), and its head top is the edge itself — not
    // the hairline further down, which would pass for the top of the head.
    // (Elsewhere — an office wall, a poster — the top rows are no guide.)
    let (left, right) = (top_rows(1.min(w - 1)), top_rows(w.saturating_sub(2)));
    let backdrop = (distance(left, right) <= 45.0)
        .then(|| [0, 1, 2].map(|i| (left[i] + right[i]) / 2.0))
        .filter(|b| distance(*b, BACKGROUND_RGB) <= 90.0);
    let mut tops: Vec<u32> = (x0..x1)
        .map(|x| {
            let reference = top_rows(x);
            if backdrop.is_some_and(|b| distance(reference, b) > 45.0) {
                return 0;
            }
            // The head is solid: the change must hold for 6 rows (a thin
            // line in the background is not a head).
            let differs = |y: u32| distance(px(x, y), reference) > 45.0;
            (0..limit).find(|&y| (y..(y + 6).min(limit)).all(differs)).unwrap_or(limit)
        })
        .collect();
    tops.sort_unstable();
    let top = tops[tops.len() / 2] as f32;
    // A head top is above the brows and not two face widths above the eyes.
    let plausible = (my - 1.2 * face.width())..=(my - 0.4 * face.width());
    plausible.contains(&top).then_some(top).or_else(|| (top == 0.0 && my - 0.4 * face.width() > 0.0).then_some(0.0))
}

struct Builder<'a> {
    t: &'a Thresholds,
    checks: Vec<Check>,
}

impl Builder<'_> {
    fn push(
        &mut self,
        name: &str,
        value: Option<f32>,
        threshold: Value,
        pass: bool,
        amber: bool,
        (zh, en): (String, String),
    ) {
        let level = if !pass {
            Level::Red
        } else if amber {
            Level::Amber
        } else {
            Level::Green
        };
        self.checks.push(Check {
            name: name.into(),
            value: value.map(|v| f64::from((v * 100.0).round() / 100.0)),
            threshold,
            pass,
            level,
            message_zh: zh,
            message_en: en,
        });
    }

    /// A student's check with one limit: `value` at most `limit` (`Most`) or
    /// at least (`Least`), amber within a quarter of the limit; `fine` is
    /// said when it passes, `wrong` when it does not.
    fn limit(&mut self, name: &str, value: f32, limit: (Limit, f32), fine: (String, String), wrong: (String, String)) {
        let (pass, amber) = match limit {
            (Limit::Most, max) => (value <= max, value > max * 0.75),
            (Limit::Least, min) => (value >= min, value < min * 1.25),
        };
        let threshold = student_threshold(name, self.t);
        self.push(name, Some(value), threshold, pass, amber, if pass { fine } else { wrong });
    }

    /// A value that must lie in `[lo, hi]`; `low`/`high` say what is wrong.
    fn range(
        &mut self,
        name: &str,
        value: Option<f32>,
        [lo, hi]: [f32; 2],
        what: (&str, &str),
        low: (&str, &str),
        high: (&str, &str),
    ) {
        let Some(v) = value else {
            self.push(
                name,
                None,
                json!([lo, hi]),
                false,
                false,
                (format!("{}：未找到人脸，无法测量", what.0), format!("{}: no face found to measure", what.1)),
            );
            return;
        };
        let margin = (hi - lo) * self.t.amber_margin;
        let pass = (lo..=hi).contains(&v);
        let amber = v < lo + margin || v > hi - margin;
        let (zh, en) = if v < lo {
            (
                format!("{}{v:.0} px，{}（应为 {lo:.0}–{hi:.0}）", what.0, low.0),
                format!("{} {v:.0} px: {} (should be {lo:.0}–{hi:.0})", what.1, low.1),
            )
        } else if v > hi {
            (
                format!("{}{v:.0} px，{}（应为 {lo:.0}–{hi:.0}）", what.0, high.0),
                format!("{} {v:.0} px: {} (should be {lo:.0}–{hi:.0})", what.1, high.1),
            )
        } else {
            (format!("{}{v:.0} px，合格", what.0), format!("{} {v:.0} px: fine", what.1))
        };
        self.push(name, Some(v), json!([lo, hi]), pass, amber, (zh, en));
    }
}

/// Checks a 480×640 deliverable without the face mesh ([`assess_with_mesh`]).
pub fn assess(img: &RgbImage, face: Option<&Face>, face_count: usize, auto_crop: bool, t: &Thresholds) -> Assessment {
    assess_with_mesh(img, face, None, face_count, auto_crop, t)
}

/// The checks the face mesh makes possible, in the order they are shown.
pub const STUDENT_CHECKS: [&str; 8] = [
    "eyes_open",
    "mouth_closed",
    "head_yaw",
    "head_pitch",
    "illumination_uniformity",
    "exposure_clipping",
    "glasses_glare",
    "clothing_contrast",
];

/// Checks a 480×640 deliverable. `face` is the face the crop was built on
/// and `mesh` its dense landmarks (both deliverable pixels), `face_count`
/// how many faces the frame held. Without a mesh the student's checks
/// ([`STUDENT_CHECKS`]) are not measured: shown amber, to be checked by eye.
pub fn assess_with_mesh(
    img: &RgbImage,
    face: Option<&Face>,
    mesh: Option<&Mesh>,
    face_count: usize,
    auto_crop: bool,
    t: &Thresholds,
) -> Assessment {
    let mut b = Builder { t, checks: Vec::new() };
    let (zh, en) = match face_count {
        0 => (
            "未检测到人脸：已按居中裁切，请调整后重拍".to_string(),
            "no face found: cropped centred; adjust and re-shoot".to_string(),
        ),
        1 => ("检测到一张人脸".to_string(), "one face".to_string()),
        n => (
            format!("画面中有 {n} 张人脸，应只有一人"),
            format!("{n} faces in the picture: only the student may be in it"),
        ),
    };
    b.push("face_count", Some(face_count as f32), json!(1), face_count == 1, false, (zh, en));

    b.range(
        "eye_height",
        face.map(|f| f.eye_mid()[1]),
        t.eye_height_px,
        ("眼睛距上边", "eyes from the top"),
        ("偏高，请升高相机或让学生坐低", "too high: raise the camera or have the student sit lower"),
        ("偏低，请降低相机或让学生坐直", "too low: lower the camera or have the student sit up"),
    );
    b.range(
        "face_width",
        face.map(Face::width),
        t.face_width_px,
        ("脸宽", "face width"),
        ("脸太小，请靠近或放大", "face too small: move closer or zoom in"),
        ("脸太大，请后退或缩小", "face too large: step back or zoom out"),
    );
    match face {
        Some(f) => {
            let tilt = f.tilt_deg().abs();
            let max = t.eye_tilt_max_deg;
            let pass = tilt <= max;
            let (zh, en) = if pass {
                (format!("头部倾斜 {tilt:.1}°，合格"), format!("head tilt {tilt:.1}°: fine"))
            } else {
                (
                    format!("头部倾斜 {tilt:.1}°（最多 {max:.1}°），请摆正头部后重拍"),
                    format!("head tilted {tilt:.1}° (at most {max:.1}°): straighten the head and re-shoot"),
                )
            };
            b.push("eye_tilt", Some(tilt), json!(max), pass, tilt > max * (1.0 - t.amber_margin * 3.0), (zh, en));
        }
        None => b.push(
            "eye_tilt",
            None,
            json!(t.eye_tilt_max_deg),
            false,
            false,
            ("头部倾斜：未找到人脸".into(), "head tilt: no face found".into()),
        ),
    }
    let measured = face.and_then(|f| head_top(img, f));
    let top = measured.or_else(|| face.map(|f| f.eye_mid()[1] - HEAD_ABOVE_EYES * f.width()));
    b.range(
        "head_top",
        top,
        t.head_top_px,
        ("头顶距上边", "top of the head from the top"),
        ("头顶太靠上，请升高相机", "head too close to the top: raise the camera"),
        ("头顶留白太多，请降低相机或靠近", "too much space above the head: lower the camera or move closer"),
    );
    // Without the head's outline against the backdrop the value is an
    // estimate from the eyes: a pass is shown amber, to be checked by eye.
    if measured.is_none() && face.is_some() {
        if let Some(c) = b.checks.last_mut() {
            if c.pass {
                c.level = Level::Amber;
            }
            c.message_zh.push_str("（估计值：背景上找不到头顶轮廓，请目视确认）");
            c.message_en.push_str(" (estimated: the head's outline was not found against the backdrop; check by eye)");
        }
    }

    // Face region for sharpness and exposure: the inner face box, or the
    // middle of the photo without a face.
    let region = match face {
        Some(f) => {
            rect_in(img, f.bbox[0] + f.bbox[2] * 0.2, f.bbox[1] + f.bbox[3] * 0.15, f.bbox[2] * 0.6, f.bbox[3] * 0.7)
        }
        None => rect_in(img, 140.0, 180.0, 200.0, 240.0),
    }
    .unwrap_or([0, 0, img.width(), img.height()]);
    let sharp = sharpness(img, region);
    let min = t.sharpness_min;
    let pass = sharp >= min;
    let (zh, en) = if pass {
        (format!("清晰度 {sharp:.0}，合格"), format!("sharpness {sharp:.0}: fine"))
    } else {
        (
            format!("照片模糊（清晰度 {sharp:.1}，至少 {min:.1}），请对焦、保持不动后重拍"),
            format!("blurred (sharpness {sharp:.1}, at least {min:.1}): focus, hold still and re-shoot"),
        )
    };
    b.push("sharpness", Some(sharp), json!(min), pass, sharp < min * 1.25, (zh, en));
    let lum = mean_luminance(img, region);
    let [lo, hi] = t.exposure;
    b.range(
        "exposure",
        Some(lum),
        t.exposure,
        ("面部亮度", "face brightness"),
        ("曝光不足，请补光", "under-exposed: add light"),
        ("曝光过度，请减光", "over-exposed: reduce light"),
    );
    if let Some(c) = b.checks.last_mut() {
        // Brightness is not in px.
        c.message_zh = c.message_zh.replace(" px", "");
        c.message_en = c.message_en.replace(" px", "");
        c.threshold = json!([lo, hi]);
    }

    // Background: above the head and beside it, clear of the face.
    let (w, h) = (img.width() as f32, img.height() as f32);
    let rects: Vec<[u32; 4]> = match face {
        Some(f) => {
            let top = top.unwrap_or(f.bbox[1]).max(0.0);
            let side_bottom = f.eye_mid()[1].min(h);
            let margin = f.width() * 0.25;
            [
                rect_in(img, 0.0, 0.0, w, (top - 8.0).max(0.0)),
                rect_in(img, 0.0, 0.0, (f.bbox[0] - margin).max(0.0), side_bottom),
                rect_in(img, f.bbox[0] + f.bbox[2] + margin, 0.0, w, side_bottom),
            ]
            .into_iter()
            .flatten()
            .collect()
        }
        None => [rect_in(img, 0.0, 0.0, w, 40.0)].into_iter().flatten().collect(),
    };
    let backdrop = colour_stats(img, &rects);
    match backdrop {
        Some((mean, spread)) => {
            let d = distance(mean, BACKGROUND_RGB);
            let max = t.background_distance_max;
            let pass = d <= max;
            let (zh, en) = if pass {
                (
                    format!("背景颜色与标准蓝色相差 {d:.0}，合格"),
                    format!("background {d:.0} from the standard blue: fine"),
                )
            } else {
                (
                    format!(
                        "背景颜色不符（平均 RGB {:.0},{:.0},{:.0}，与 100,197,255 相差 {d:.0}，最多 {max:.0}）",
                        mean[0], mean[1], mean[2]
                    ),
                    format!(
                        "background colour off (mean RGB {:.0},{:.0},{:.0}, {d:.0} from 100,197,255, at most {max:.0})",
                        mean[0], mean[1], mean[2]
                    ),
                )
            };
            b.push("background", Some(d), json!(max), pass, d > max * 0.75, (zh, en));
            let max = t.background_spread_max;
            let pass = spread <= max;
            let (zh, en) = if pass {
                (format!("背景均匀（{spread:.0}），合格"), format!("background even ({spread:.0}): fine"))
            } else {
                (
                    format!("背景不均匀（{spread:.0}，最多 {max:.0}）：有阴影、杂物或光照不匀"),
                    format!("background uneven ({spread:.0}, at most {max:.0}): shadows, objects or uneven light"),
                )
            };
            b.push("background_uniformity", Some(spread), json!(max), pass, spread > max * 0.75, (zh, en));
        }
        None => {
            b.push(
                "background",
                None,
                json!(t.background_distance_max),
                false,
                false,
                ("看不到背景：脸占满画面".into(), "no background visible: the face fills the picture".into()),
            );
            b.push(
                "background_uniformity",
                None,
                json!(t.background_spread_max),
                false,
                false,
                ("看不到背景".into(), "no background visible".into()),
            );
        }
    }
    let backdrop_rgb = backdrop.map(|(mean, _)| mean);
    if let (Some(_), Some(mesh)) = (face, mesh) {
        student_checks(&mut b, &quality::measure(img, mesh), backdrop_rgb);
    } else {
        // Not measured: with a face but no mesh, a pass shown amber (check
        // by eye); without a face, failed like the face's other checks.
        let pass = face.is_some();
        let (zh, en) = if pass {
            (
                "未能测量（找不到面部关键点），请目视确认",
                "not measured (the face's landmarks were not found): check by eye",
            )
        } else {
            ("未找到人脸，无法测量", "no face found to measure")
        };
        for name in STUDENT_CHECKS {
            b.push(name, None, student_threshold(name, t), pass, pass, (zh.into(), en.into()));
        }
    }
    Assessment { face: face.copied(), auto_crop, checks: b.checks, backdrop_rgb, crop: None }
}

/// A student check's threshold as the JSON and the manifest show it.
fn student_threshold(name: &str, t: &Thresholds) -> Value {
    match name {
        "eyes_open" => json!(t.eyes_open_min_pct),
        "mouth_closed" => json!({"opening_max": t.mouth_open_max_pct, "teeth_max": t.teeth_max_pct}),
        "head_yaw" => json!(t.head_yaw_max_deg),
        "head_pitch" => json!(t.head_pitch_max_deg),
        "illumination_uniformity" => json!(t.illumination_uniformity_min_pct),
        "exposure_clipping" => json!(t.exposure_clipping_max_pct),
        "glasses_glare" => json!(t.glasses_glare_max_pct),
        "clothing_contrast" => json!(t.clothing_distance_min),
        _ => Value::Null,
    }
}

/// Which side of a student check's limit passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// The value may be at most the limit.
    Most,
    /// The value must be at least the limit.
    Least,
}

/// Blue through green, as the notices name the shirts to avoid: hue
/// 90°–270°, clearly coloured and not dark (a navy suit passes).
fn blue_or_green(rgb: [f32; 3]) -> bool {
    let (hue, saturation, value) = quality::hsv(rgb);
    (90.0..=270.0).contains(&hue) && saturation >= 0.3 && value >= 0.35
}

/// The checks of what the notices ask of the student, from the mesh's measures.
fn student_checks(b: &mut Builder<'_>, m: &quality::FaceMeasures, backdrop: Option<[f32; 3]>) {
    let t = b.t;
    let pct = |v: f32| v * 100.0;

    let (v, min) = (pct(m.eye_opening), t.eyes_open_min_pct);
    b.limit(
        "eyes_open",
        v,
        (Limit::Least, min),
        (format!("双眼睁开（开度 {v:.0}%），合格"), format!("eyes open (opening {v:.0} %): fine")),
        (
            format!("眼睛闭合、半闭或看不清（开度 {v:.1}%，至少 {min:.1}%）：请自然睁眼后重拍"),
            format!(
                "eyes closed, half closed or not clearly seen (opening {v:.1} %, at least {min:.1} %): open the eyes and re-shoot"
            ),
        ),
    );

    let (v, teeth) = (pct(m.mouth_opening), pct(m.teeth_share));
    let (max, teeth_max) = (t.mouth_open_max_pct, t.teeth_max_pct);
    let pass = v <= max && teeth <= teeth_max;
    let text = if teeth > teeth_max {
        (
            format!("露出牙齿（口内 {teeth:.1}% 为牙齿，最多 {teeth_max:.1}%）：请自然闭合嘴唇，不露牙齿"),
            format!("teeth showing ({teeth:.1} % of the mouth, at most {teeth_max:.1} %): close the lips, no teeth"),
        )
    } else if !pass {
        (
            format!("嘴唇张开（{v:.1}%，最多 {max:.1}%）：请自然闭合嘴唇后重拍"),
            format!("lips apart ({v:.1} %, at most {max:.1} %): close the lips and re-shoot"),
        )
    } else {
        (format!("嘴唇闭合（{v:.1}%），合格"), format!("lips closed ({v:.1} %): fine"))
    };
    let amber = v > max * 0.75 || teeth > teeth_max * 0.75;
    b.push("mouth_closed", Some(v), student_threshold("mouth_closed", t), pass, amber, text);

    let (v, max) = (m.yaw_deg.abs(), t.head_yaw_max_deg);
    let (zh, en) = if m.yaw_deg > 0.0 {
        ("向画面右侧", "towards the picture's right")
    } else {
        ("向画面左侧", "towards the picture's left")
    };
    b.limit(
        "head_yaw",
        v,
        (Limit::Most, max),
        (format!("面部正对镜头（左右 {v:.0}°），合格"), format!("facing the camera (turned {v:.0}°): fine")),
        (
            format!("头部{zh}转动 {v:.1}°（最多 {max:.1}°）：请面正对镜头，两耳都能看见"),
            format!("head turned {en} by {v:.1}° (at most {max:.1}°): face the camera, both ears visible"),
        ),
    );

    let (v, max) = (m.pitch_deg.abs(), t.head_pitch_max_deg);
    let (zh, en) = if m.pitch_deg > 0.0 { ("低头", "lowered") } else { ("抬头", "raised") };
    b.limit(
        "head_pitch",
        v,
        (Limit::Most, max),
        (format!("头部不抬不低（{v:.0}°），合格"), format!("head level ({v:.0}°): fine")),
        (
            format!("{zh} {v:.1}°（最多 {max:.1}°）：请平视镜头后重拍"),
            format!("head {en} by {v:.1}° (at most {max:.1}°): look straight into the lens and re-shoot"),
        ),
    );

    let (v, min) = (pct(m.illumination_uniformity), t.illumination_uniformity_min_pct);
    b.limit(
        "illumination_uniformity",
        v,
        (Limit::Least, min),
        (format!("面部光线均匀（{v:.0}%），合格"), format!("even light on the face ({v:.0} %): fine")),
        (
            format!("面部两侧光线不均（{v:.1}%，至少 {min:.1}%）：请调整灯光，避免阴阳脸"),
            format!("uneven light on the face's halves ({v:.1} %, at least {min:.1} %): even out the lights"),
        ),
    );

    let (under, over) = (pct(m.underexposed_share), pct(m.overexposed_share));
    let (v, max) = (under.max(over), t.exposure_clipping_max_pct);
    let wrong = if over >= under {
        (
            format!("面部 {over:.1}% 过曝成白色（最多 {max:.1}%）：请减光或降低曝光"),
            format!("{over:.1} % of the face blown to white (at most {max:.1} %): reduce the light or the exposure"),
        )
    } else {
        (
            format!("面部 {under:.1}% 暗成死黑（最多 {max:.1}%）：请补光或提高曝光"),
            format!("{under:.1} % of the face crushed to black (at most {max:.1} %): add light or raise the exposure"),
        )
    };
    b.limit(
        "exposure_clipping",
        v,
        (Limit::Most, max),
        (format!("面部无死黑或过曝（{v:.1}%），合格"), format!("no crushed or blown face pixels ({v:.1} %): fine")),
        wrong,
    );

    let (v, max) = (pct(m.glare_share), t.glasses_glare_max_pct);
    b.limit(
        "glasses_glare",
        v,
        (Limit::Most, max),
        (format!("眼部无反光（{v:.1}%），合格"), format!("no glare around the eyes ({v:.1} %): fine")),
        (
            format!("眼镜反光（眼部 {v:.1}% 为反光，最多 {max:.1}%）：请调整灯光角度或眼镜后重拍"),
            format!("glare on glasses ({v:.1} % of the eye region, at most {max:.1} %): move the lights or tilt the glasses"),
        ),
    );

    let min = t.clothing_distance_min;
    match m.clothing_rgb {
        Some(rgb) => {
            // Against the standard blue, and the backdrop as seen when it is
            // one (an office wall or a dark picture's black is no backdrop to
            // stand out from).
            let seen = backdrop.filter(|b| distance(*b, BACKGROUND_RGB) <= t.background_distance_max * 1.5);
            let d = seen.map_or(f32::INFINITY, |b| distance(rgb, b)).min(distance(rgb, BACKGROUND_RGB));
            let hue_fails = blue_or_green(rgb);
            let pass = d >= min && !hue_fails;
            let [r, g, bl] = rgb;
            let text = if d < min {
                (
                    format!("衣服颜色与背景太接近（RGB {r:.0},{g:.0},{bl:.0}，相差 {d:.0}，至少 {min:.0}）：请换非蓝色上衣"),
                    format!("clothing too close to the backdrop (RGB {r:.0},{g:.0},{bl:.0}, {d:.0} apart, at least {min:.0}): change to a top that is not blue"),
                )
            } else if hue_fails {
                (
                    format!("上衣为蓝色或绿色（RGB {r:.0},{g:.0},{bl:.0}）：按要求请换其他颜色上衣"),
                    format!("a blue or green top (RGB {r:.0},{g:.0},{bl:.0}): the notices ask for another colour"),
                )
            } else {
                (
                    format!("衣服颜色与背景区分明显（相差 {d:.0}），合格"),
                    format!("clothing distinct from the backdrop ({d:.0}): fine"),
                )
            };
            b.push("clothing_contrast", Some(d), student_threshold("clothing_contrast", t), pass, d < min * 1.25, text);
        }
        None => b.push(
            "clothing_contrast",
            None,
            student_threshold("clothing_contrast", t),
            true,
            true,
            ("照片中看不到衣服，请目视确认".into(), "no clothing in the picture: check by eye".into()),
        ),
    }
}

/// A framing hint for the live preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hint {
    NoFace,
    SeveralFaces,
    TooSmall,
    TooLarge,
    TooHigh,
    TooLow,
    OffCentre,
    Tilted,
    /// The top of the head too close to the photo's top edge.
    HeadCut,
    /// Too much space above the head.
    SpaceAbove,
    EyesClosed,
    MouthOpen,
    NotFacing,
    UnevenLight,
    Glare,
    ClothingLikeBackdrop,
    /// Part of the face crushed to black or blown to white.
    Clipping,
    Good,
}

impl Hint {
    pub fn text(self) -> (&'static str, &'static str) {
        match self {
            Hint::NoFace => ("未检测到人脸", "no face"),
            Hint::SeveralFaces => ("画面中不止一人", "more than one face"),
            Hint::TooSmall => ("脸太小：请靠近", "face too small: move closer"),
            Hint::TooLarge => ("脸太大：请后退", "face too large: step back"),
            Hint::TooHigh => ("脸太靠上：请升高相机", "face too high: raise the camera"),
            Hint::TooLow => ("脸太靠下：请降低相机", "face too low: lower the camera"),
            Hint::OffCentre => ("脸不在中间", "face off centre"),
            Hint::Tilted => ("头部倾斜：请摆正", "head tilted: straighten it"),
            Hint::HeadCut => {
                ("头顶太靠上：请升高相机或后退", "head too close to the top: raise the camera or step back")
            }
            Hint::SpaceAbove => {
                ("头顶留白太多：请降低相机或靠近", "too much space above the head: lower the camera or move closer")
            }
            Hint::EyesClosed => ("请睁眼", "open your eyes"),
            Hint::MouthOpen => ("请闭合嘴唇", "close your lips"),
            Hint::NotFacing => ("请正对镜头", "face the camera"),
            Hint::UnevenLight => ("光线不均", "uneven light"),
            Hint::Glare => ("眼镜反光", "glare on glasses"),
            Hint::ClothingLikeBackdrop => ("衣服颜色接近背景", "clothing too close to the backdrop"),
            Hint::Clipping => ("面部过曝或死黑：请调整灯光", "part of the face blown out or black: adjust the light"),
            Hint::Good => ("位置合适", "framing good"),
        }
    }
}

/// Framing hints for a frame of `width` × `height` with `faces` (frame
/// pixels), for the crop [`plan_crop`] would place.
pub fn framing_hints(faces: &[Face], width: u32, height: u32, t: &Thresholds) -> Vec<Hint> {
    let Some(face) = main_face(faces) else { return vec![Hint::NoFace] };
    framing_hints_for(faces, &plan_crop_within(face, width, height, t), None, t)
}

/// Framing hints for `crop`, with the top of the head in the photo
/// (deliverable pixels) when it could be seen.
pub fn framing_hints_for(faces: &[Face], crop: &CropRect, head_top: Option<f32>, t: &Thresholds) -> Vec<Hint> {
    let Some(face) = main_face(faces) else { return vec![Hint::NoFace] };
    let mut hints = Vec::new();
    let crop = *crop;
    if count_faces(faces, &crop) > 1 {
        hints.push(Hint::SeveralFaces);
    }
    let scale = DELIVERABLE_WIDTH as f32 / crop.width as f32;
    let f = face.mapped(&crop, scale);
    if f.width() > t.face_width_px[1] {
        hints.push(Hint::TooLarge);
    } else if crop.width < DELIVERABLE_WIDTH * 3 / 4 || f.width() < t.face_width_px[0] {
        // Less than 360 frame px for 480 photo px: the photo would be blown up.
        hints.push(Hint::TooSmall);
    }
    let eye_y = f.eye_mid()[1];
    if eye_y < t.eye_height_px[0] {
        hints.push(Hint::TooHigh);
    } else if eye_y > t.eye_height_px[1] {
        hints.push(Hint::TooLow);
    }
    if let Some(top) = head_top {
        if top < t.head_top_px[0] {
            hints.push(Hint::HeadCut);
        } else if top > t.head_top_px[1] {
            hints.push(Hint::SpaceAbove);
        }
    }
    if (f.eye_mid()[0] - DELIVERABLE_WIDTH as f32 / 2.0).abs() > 40.0 {
        hints.push(Hint::OffCentre);
    }
    if face.tilt_deg().abs() > t.eye_tilt_max_deg {
        hints.push(Hint::Tilted);
    }
    if hints.is_empty() {
        hints.push(Hint::Good);
    }
    hints
}

/// The hints for the student's checks that failed (an assessment of the
/// photo the current frame would make), in the checks' order.
pub fn student_hints(checks: &[Check]) -> Vec<Hint> {
    let mut hints = Vec::new();
    for c in checks.iter().filter(|c| !c.pass) {
        let hint = match c.name.as_str() {
            "eyes_open" => Hint::EyesClosed,
            "mouth_closed" => Hint::MouthOpen,
            "head_yaw" | "head_pitch" => Hint::NotFacing,
            "illumination_uniformity" => Hint::UnevenLight,
            "glasses_glare" => Hint::Glare,
            "clothing_contrast" => Hint::ClothingLikeBackdrop,
            "exposure_clipping" => Hint::Clipping,
            _ => continue,
        };
        if !hints.contains(&hint) {
            hints.push(hint);
        }
    }
    hints
}

/// The student's face: the largest.
pub fn main_face(faces: &[Face]) -> Option<&Face> {
    faces.iter().max_by(|a, b| (a.bbox[2] * a.bbox[3]).total_cmp(&(b.bbox[2] * b.bbox[3])))
}

/// Faces in the photo cut out by `crop`: those whose eyes fall inside it,
/// at least a third as wide as the largest (a face on a poster far behind
/// is not a second person in the photo).
pub fn count_faces(faces: &[Face], crop: &CropRect) -> usize {
    let Some(main) = main_face(faces) else { return 0 };
    let inside = |f: &&Face| {
        let [x, y] = f.eye_mid();
        x >= crop.x as f32
            && x < (crop.x + crop.width) as f32
            && y >= crop.y as f32
            && y < (crop.y + crop.height) as f32
    };
    faces.iter().filter(inside).filter(|f| f.width() >= main.width() / 3.0).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 480×640 studio photo drawn to order: blue background, dark hair,
    /// a skin-coloured face with a textured cheek, two eyes.
    fn studio(eye_y: f32, face_w: f32, tilt_deg: f32, background: [u8; 3]) -> (RgbImage, Face) {
        let (cx, half) = (240.0f32, face_w / 2.0);
        let face_top = eye_y - 0.45 * face_w;
        let face_bottom = eye_y + 0.85 * face_w;
        let hair_top = eye_y - 0.7 * face_w;
        let slope = tilt_deg.to_radians().tan();
        let eye_dx = 0.22 * face_w;
        let left_eye = [cx - eye_dx, eye_y - slope * eye_dx];
        let right_eye = [cx + eye_dx, eye_y + slope * eye_dx];
        let img = RgbImage::from_fn(480, 640, |x, y| {
            let (x, y) = (x as f32, y as f32);
            let in_head = ((x - cx) / (half * 1.1)).powi(2)
                + ((y - (hair_top + face_top) / 2.0 - 40.0) / (face_bottom - hair_top) * 2.0).powi(2)
                <= 1.0
                && y >= hair_top;
            let in_face = ((x - cx) / half).powi(2)
                + ((y - (face_top + face_bottom) / 2.0) / ((face_bottom - face_top) / 2.0)).powi(2)
                <= 1.0;
            let near = |e: [f32; 2]| (x - e[0]).hypot(y - e[1]) < face_w * 0.05;
            if in_face && (near(left_eye) || near(right_eye)) {
                image::Rgb([30, 20, 20])
            } else if in_face {
                // Skin with fine texture (pores, light): something to be sharp.
                let t = ((x * 1.7).sin() * (y * 1.3).cos() * 14.0) as i16;
                image::Rgb([(200 + t) as u8, (160 + t) as u8, (140 + t) as u8])
            } else if in_head || (y > face_bottom - 20.0 && (x - cx).abs() < half * 1.4) {
                image::Rgb([25, 20, 18])
            } else {
                image::Rgb(background)
            }
        });
        let face =
            Face { bbox: [cx - half, face_top, face_w, face_bottom - face_top], score: 0.9, left_eye, right_eye };
        (img, face)
    }

    fn check<'a>(a: &'a Assessment, name: &str) -> &'a Check {
        a.checks.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn the_students_failed_checks_become_hints_and_blue_or_green_tops_are_named() {
        let t = Thresholds::default();
        let (img, face) = studio(250.0, 240.0, 0.0, [100, 197, 255]);
        let mut a = assess(&img, Some(&face), 1, true, &t);
        assert!(student_hints(&a.checks).is_empty(), "nothing failed");
        for c in a.checks.iter_mut() {
            c.pass = false;
        }
        assert_eq!(
            student_hints(&a.checks),
            [
                Hint::EyesClosed,
                Hint::MouthOpen,
                Hint::NotFacing,
                Hint::UnevenLight,
                Hint::Clipping,
                Hint::Glare,
                Hint::ClothingLikeBackdrop
            ]
        );
        // No face: the student's checks fail with the rest, unmeasured.
        let none = assess(&img, None, 0, false, &t);
        for name in STUDENT_CHECKS {
            let c = check(&none, name);
            assert!(!c.pass && c.value.is_none(), "{c:?}");
        }
        assert!(blue_or_green([70.0, 130.0, 200.0]), "a blue shirt");
        assert!(blue_or_green([60.0, 160.0, 80.0]), "a green shirt");
        assert!(!blue_or_green([30.0, 40.0, 80.0]), "a navy suit");
        assert!(!blue_or_green([250.0, 250.0, 250.0]), "a white shirt");
        assert!(!blue_or_green([150.0, 30.0, 40.0]), "a red top");
    }

    #[test]
    fn a_good_studio_photo_passes_every_check() {
        let t = Thresholds::default();
        let (img, face) = studio(250.0, 240.0, 0.0, [100, 197, 255]);
        let a = assess(&img, Some(&face), 1, true, &t);
        for c in &a.checks {
            assert!(c.pass, "{}: {:?} vs {} — {}", c.name, c.value, c.threshold, c.message_en);
        }
        // Without the face mesh the student's checks are not measured: amber,
        // to be checked by eye; everything else is green.
        for c in &a.checks {
            let student = STUDENT_CHECKS.contains(&c.name.as_str());
            assert_eq!(c.level, if student { Level::Amber } else { Level::Green }, "{c:?}");
            assert_eq!(student, c.value.is_none(), "{c:?}");
        }
        assert_eq!(a.checks.len(), 9 + STUDENT_CHECKS.len());
        assert!((check(&a, "head_top").value.unwrap() - (250.0 - 0.7 * 240.0)).abs() < 3.0);
    }

    #[test]
    fn each_fault_fails_its_own_check() {
        let t = Thresholds::default();
        type Case = (&'static str, (f32, f32, f32, [u8; 3]));
        let cases: [Case; 5] = [
            ("eye_height", (330.0, 240.0, 0.0, [100, 197, 255])),
            ("face_width", (250.0, 150.0, 0.0, [100, 197, 255])),
            ("eye_tilt", (250.0, 240.0, 8.0, [100, 197, 255])),
            ("background", (250.0, 240.0, 0.0, [235, 235, 235])),
            ("head_top", (250.0, 290.0, 0.0, [100, 197, 255])),
        ];
        for (name, (eye_y, width, tilt, bg)) in cases {
            let (img, face) = studio(eye_y, width, tilt, bg);
            let a = assess(&img, Some(&face), 1, true, &t);
            assert!(!check(&a, name).pass, "{name} should fail: {:#?}", check(&a, name));
            assert_eq!(check(&a, name).level, Level::Red);
            assert!(!check(&a, name).message_zh.is_empty() && !check(&a, name).message_en.is_empty());
        }
    }

    #[test]
    fn a_blotchy_backdrop_fails_uniformity_a_value_near_a_limit_is_amber() {
        let t = Thresholds::default();
        let (img, face) = studio(250.0, 240.0, 0.0, [100, 197, 255]);
        // Strong blotches over the backdrop only (its mean colour stays near blue).
        let blotchy = RgbImage::from_fn(480, 640, |x, y| {
            let p = *img.get_pixel(x, y);
            if p == image::Rgb([100, 197, 255]) {
                let d: i16 = if (x / 24 + y / 24) % 2 == 0 { 40 } else { -40 };
                image::Rgb([(100 + d) as u8, (197 + d) as u8, (255 + d.min(0)) as u8])
            } else {
                p
            }
        });
        let a = assess(&blotchy, Some(&face), 1, true, &t);
        let u = check(&a, "background_uniformity");
        assert!(!u.pass && u.level == Level::Red, "{u:#?}");
        assert!(u.value.unwrap() > f64::from(t.background_spread_max));
        assert!(check(&assess(&img, Some(&face), 1, true, &t), "background_uniformity").pass);
        // Eyes at 292 of 200–300: passes, within 10 % of the limit: amber.
        let (img, face) = studio(292.0, 240.0, 0.0, [100, 197, 255]);
        let a = assess(&img, Some(&face), 1, true, &t);
        let eye = check(&a, "eye_height");
        assert!(eye.pass && eye.level == Level::Amber, "{eye:#?}");
        // One amber check and the rest green: the photo is amber.
        let (img, face) = studio(250.0, 240.0, 0.0, [100, 197, 255]);
        let mut a = assess(&img, Some(&face), 1, true, &t);
        a.checks.retain(|c| !STUDENT_CHECKS.contains(&c.name.as_str()));
        assert_eq!(a.level(), Level::Green);
        a.checks[1].level = Level::Amber;
        assert_eq!(a.level(), Level::Amber);
    }

    #[test]
    fn a_head_top_that_cannot_be_seen_is_an_estimate_shown_amber() {
        let t = Thresholds::default();
        // Nothing stands out from the backdrop above the eyes: no outline to find.
        let (_, face) = studio(250.0, 240.0, 0.0, [100, 197, 255]);
        let img = RgbImage::from_pixel(480, 640, image::Rgb([100, 197, 255]));
        let a = assess(&img, Some(&face), 1, true, &t);
        let top = check(&a, "head_top");
        assert!(top.pass && top.level == Level::Amber, "{top:#?}");
        assert!(top.message_en.contains("estimated") && top.message_zh.contains("估计值"), "{top:#?}");
        // On the blue backdrop it is measured, and green.
        let (img, face) = studio(250.0, 240.0, 0.0, [100, 197, 255]);
        let top = check(&assess(&img, Some(&face), 1, true, &t), "head_top").clone();
        assert!(top.level == Level::Green && !top.message_en.contains("estimated"), "{top:#?}");
    }

    #[test]
    fn blur_darkness_glare_and_a_second_face_are_caught() {
        let t = Thresholds::default();
        let (img, face) = studio(250.0, 240.0, 0.0, [100, 197, 255]);
        let blurred = image::imageops::blur(&img, 4.0);
        assert!(!check(&assess(&blurred, Some(&face), 1, true, &t), "sharpness").pass);
        let dark = RgbImage::from_fn(480, 640, |x, y| {
            let p = img.get_pixel(x, y);
            image::Rgb([p[0] / 4, p[1] / 4, p[2] / 4])
        });
        let a = assess(&dark, Some(&face), 1, true, &t);
        assert!(!check(&a, "exposure").pass && check(&a, "exposure").message_en.contains("under"));
        let bright = RgbImage::from_fn(480, 640, |x, y| {
            let p = img.get_pixel(x, y);
            image::Rgb([p[0].saturating_add(90), p[1].saturating_add(90), p[2].saturating_add(90)])
        });
        let a = assess(&bright, Some(&face), 1, true, &t);
        assert!(!check(&a, "exposure").pass && check(&a, "exposure").message_en.contains("over"));
        let a = assess(&img, Some(&face), 2, true, &t);
        assert!(!check(&a, "face_count").pass);
        let none = assess(&img, None, 0, false, &t);
        assert!(!check(&none, "face_count").pass && check(&none, "eye_height").value.is_none());
    }

    #[test]
    fn the_crop_puts_the_eyes_and_the_face_on_target() {
        let face = Face {
            bbox: [900.0, 400.0, 300.0, 360.0],
            score: 1.0,
            left_eye: [990.0, 520.0],
            right_eye: [1110.0, 520.0],
        };
        let crop = plan_crop(&face, 1920, 1080);
        let scale = DELIVERABLE_WIDTH as f32 / crop.width as f32;
        let m = face.mapped(&crop, scale);
        assert!((m.width() - TARGET_FACE_WIDTH).abs() < 2.0, "{}", m.width());
        assert!((m.eye_mid()[1] - TARGET_EYE_Y).abs() < 2.0, "{:?}", m.eye_mid());
        assert!((m.eye_mid()[0] - 240.0).abs() < 2.0);
        // A face too high in the frame: the crop stays inside, the eyes land high.
        let high = Face {
            bbox: [900.0, -100.0, 300.0, 360.0],
            score: 1.0,
            left_eye: [990.0, 20.0],
            right_eye: [1110.0, 20.0],
        };
        let crop = plan_crop(&high, 1920, 1080);
        assert_eq!(crop.y, 0);
        let m = high.mapped(&crop, DELIVERABLE_WIDTH as f32 / crop.width as f32);
        assert!(m.eye_mid()[1] < 200.0);
        assert!(framing_hints(&[high], 1920, 1080, &Thresholds::default()).contains(&Hint::TooHigh));
        // Too close: the crop would exceed the frame; it is fitted and the face comes out large.
        let close = Face {
            bbox: [560.0, 100.0, 800.0, 900.0],
            score: 1.0,
            left_eye: [780.0, 400.0],
            right_eye: [1140.0, 400.0],
        };
        let crop = plan_crop(&close, 1920, 1080);
        assert!(crop.height <= 1080 && crop.width * 4 / 3 <= 1080 + 2);
        assert!(framing_hints(&[close], 1920, 1080, &Thresholds::default()).contains(&Hint::TooLarge));
        let tiny =
            Face { bbox: [940.0, 500.0, 40.0, 48.0], score: 1.0, left_eye: [950.0, 515.0], right_eye: [970.0, 515.0] };
        assert!(framing_hints(&[tiny], 1920, 1080, &Thresholds::default()).contains(&Hint::TooSmall));
        assert!(framing_hints(&[face], 1920, 1080, &Thresholds::default()) == [Hint::Good]);
        assert_eq!(framing_hints(&[], 1920, 1080, &Thresholds::default()), [Hint::NoFace]);
    }

    /// A frame with a blue backdrop, the eyes at (480, 700), a 240-px-wide
    /// face and the hair starting `hair_above_eyes` px above the eyes.
    fn flat_headed(hair_above_eyes: u32) -> (RgbImage, Face) {
        let (eye_x, eye_y) = (480u32, 700u32);
        let img = RgbImage::from_fn(960, 1280, |x, y| {
            let in_hair = (380..580).contains(&x) && (eye_y - hair_above_eyes..eye_y).contains(&y);
            let in_face = (370..590).contains(&x) && (eye_y - 80..eye_y + 200).contains(&y);
            if in_face && !(in_hair && y < eye_y - 80) {
                image::Rgb([200, 160, 140])
            } else if in_hair {
                image::Rgb([25, 20, 18])
            } else {
                image::Rgb([100, 197, 255])
            }
        });
        let face = Face {
            bbox: [360.0, (eye_y - 110) as f32, 240.0, 300.0],
            score: 1.0,
            left_eye: [(eye_x - 53) as f32, eye_y as f32],
            right_eye: [(eye_x + 53) as f32, eye_y as f32],
        };
        (img, face)
    }

    #[test]
    fn the_crop_moves_so_that_the_head_top_lands_in_its_band_too() {
        let t = Thresholds::default();
        // A usual head (hair 170 px above the eyes): the crop is not moved.
        let (img, face) = flat_headed(170);
        let (crop, top) = place_crop(&img, &face, &t);
        assert_eq!(crop, plan_crop(&face, img.width(), img.height()));
        assert!((top.unwrap() - 80.0).abs() < 2.0, "{top:?}");
        // A flat head: at eyes 250 its top would be at 130; the crop moves
        // down until it is at 104 (inside 50–110 with a margin), eyes at 224.
        let (img, face) = flat_headed(120);
        let (crop, top) = place_crop(&img, &face, &t);
        let scale = DELIVERABLE_WIDTH as f32 / crop.width as f32;
        let eye_y = face.mapped(&crop, scale).eye_mid()[1];
        assert!((top.unwrap() - 104.0).abs() < 2.0 && (eye_y - 224.0).abs() < 2.0, "{top:?} {eye_y}");
        let photo = crate::photo::crop_to_deliverable(&img, crop).unwrap();
        let a = assess(&photo, Some(&face.mapped(&crop, scale)), 1, true, &t);
        for name in ["head_top", "eye_height"] {
            assert!(check(&a, name).pass, "{:#?}", check(&a, name));
        }
        // Flatter still: the eyes may go no higher than 215; the top stays
        // too low and the hint says so.
        let (img, face) = flat_headed(100);
        let (crop, top) = place_crop(&img, &face, &t);
        let eye_y = face.mapped(&crop, DELIVERABLE_WIDTH as f32 / crop.width as f32).eye_mid()[1];
        assert!((eye_y - 215.0).abs() < 2.0 && top.unwrap() > 110.0, "{top:?} {eye_y}");
        assert!(framing_hints_for(&[face], &crop, top, &t).contains(&Hint::SpaceAbove));
        assert!(framing_hints_for(&[face], &crop, Some(30.0), &t).contains(&Hint::HeadCut));
        // Hair reaching above the planned crop: the hairline inside it is
        // not taken for the top of the head; the crop moves up as far as
        // the eyes allow (285) and the hint says the head is cut.
        let (img, face) = flat_headed(300);
        let (crop, top) = place_crop(&img, &face, &t);
        let eye_y = face.mapped(&crop, DELIVERABLE_WIDTH as f32 / crop.width as f32).eye_mid()[1];
        assert!((eye_y - 285.0).abs() < 2.0 && top.unwrap() < 50.0, "{top:?} {eye_y}");
        assert!(framing_hints_for(&[face], &crop, top, &t).contains(&Hint::HeadCut));
        let photo = crate::photo::crop_to_deliverable(&img, crop).unwrap();
        let a = assess(&photo, Some(&face.mapped(&crop, 1.0)), 1, true, &t);
        assert!(!check(&a, "head_top").pass, "{:#?}", check(&a, "head_top"));
    }
}
