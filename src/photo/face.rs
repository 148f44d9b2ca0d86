//! Face detection with eye landmarks, pure Rust, from a model shipped in
//! the binary.
//!
//! Model: MediaPipe BlazeFace "short range" (`face_detection_short_range.tflite`,
//! Apache-2.0, from the `mediapipe` 0.10.14 wheel on PyPI), exported with its
//! float16 weights widened to float32 by `scripts/export_blazeface.py` into
//! `assets/face/blazeface.bin` and run by [`super::net`]. Licence and
//! provenance: `assets/face/README.md`.
//!
//! The network takes a 128×128 RGB image and is trained for faces that fill
//! roughly 15–75 % of it. To find faces of any size in a large webcam frame
//! the detector runs it on a small pyramid of views (the whole frame
//! letterboxed, plus overlapping square tiles), merges the detections with
//! weighted non-maximum suppression, and re-runs the network once per face
//! on a face-centred crop for sharper landmarks. Eye centres can further be
//! moved to the pupil (Timm & Barth gradients), on by default; a move of more
//! than 13 % of the eye distance (a closed eye, a shadow) is not taken.
//!
//! Landmark order (model order): subject's right eye (= image left for an
//! upright face), subject's left eye, nose tip, mouth centre, the ears.

use std::sync::OnceLock;

use image::RgbImage;

use super::checks::Face;
use super::net::{Net, NetError};

/// The model, embedded in the binary.
static MODEL_BYTES: &[u8] = crate::assets::FACE_MODEL;

/// Errors from the face detector.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("人脸模型出错：{0} / face model error: {0}")]
    Model(String),
    #[error("图像为空 / empty image")]
    EmptyImage,
}

impl crate::text::Bilingual for FaceError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Model(f0) => Text::new(format!("人脸模型出错：{f0}"), format!("face model error: {f0}")),
            Self::EmptyImage => Text::new("图像为空", "empty image"),
        }
    }
}

impl From<NetError> for FaceError {
    fn from(e: NetError) -> Self {
        FaceError::Model(e.to_string())
    }
}

fn shared() -> Result<&'static FaceDetector, FaceError> {
    static DETECTOR: OnceLock<Result<FaceDetector, String>> = OnceLock::new();
    match DETECTOR.get_or_init(|| FaceDetector::new().map_err(|e| e.to_string())) {
        Ok(d) => Ok(d),
        Err(e) => Err(FaceError::Model(e.clone())),
    }
}

/// Every face in `img`, best first (the full search), with the shared
/// detector (loaded once).
pub fn detect(img: &RgbImage) -> Result<Vec<Face>, FaceError> {
    shared()?.detect(img)
}

/// The faces that matter for one photo: the student's, and any other in the
/// region the deliverable is cut from ([`FaceDetector::detect_for_photo`]).
pub fn detect_for_photo(img: &RgbImage) -> Result<Vec<Face>, FaceError> {
    shared()?.detect_for_photo(img)
}

/// [`FaceDetector::mesh_start`] with the shared detector.
pub fn mesh_start(img: &RgbImage, face: &Face) -> Result<Option<Face>, FaceError> {
    shared()?.mesh_start(img, face)
}

const INPUT: usize = 128;
const NUM_ANCHORS: usize = 896;
const NUM_COORDS: usize = 16;
const NUM_KEYPOINTS: usize = 6;
/// Largest accepted pupil-refinement shift, as a fraction of the eye distance.
const MAX_PUPIL_SHIFT: f32 = 0.13;

/// Tunable parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    /// Minimum score to keep a detection (MediaPipe uses 0.5).
    pub score_threshold: f32,
    /// IoU above which detections are merged (MediaPipe uses 0.3).
    pub iou_threshold: f32,
    /// Number of tile levels below the whole-frame view. Level 1 uses square
    /// tiles of the frame's short side, level 2 tiles of half that, and so
    /// on. With 1 level, faces down to about 10 % of the frame's short side
    /// are found; each extra level halves that.
    pub tile_levels: u32,
    /// Re-run the network on a face-centred crop to refine landmarks.
    pub refine: bool,
    /// Move each eye point to the pupil with gradient-based eye-centre
    /// localisation (Timm & Barth 2011) in a small window around it.
    pub pupil_refine: bool,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self { score_threshold: 0.5, iou_threshold: 0.3, tile_levels: 1, refine: true, pupil_refine: true }
    }
}

/// BlazeFace short-range detector.
#[derive(Debug)]
pub struct FaceDetector {
    net: Net,
    anchors: Vec<[f32; 2]>,
    config: DetectorConfig,
}

/// A raw detection in original-image coordinates.
#[derive(Debug, Clone)]
struct Raw {
    bbox: [f32; 4],
    score: f32,
    kps: [[f32; 2]; NUM_KEYPOINTS],
}

/// A 128x128 window: input pixel (u, v) maps to image pixel
/// (ox + u * scale, oy + v * scale).
#[derive(Debug, Clone, Copy)]
struct View {
    ox: f32,
    oy: f32,
    scale: f32,
}

impl FaceDetector {
    /// Load the embedded model with default settings.
    pub fn new() -> Result<Self, FaceError> {
        Self::with_config(DetectorConfig::default())
    }

    /// Load the embedded model with the given settings.
    pub fn with_config(config: DetectorConfig) -> Result<Self, FaceError> {
        let net = Net::from_bytes(MODEL_BYTES)?;
        if net.input_shape() != [1, INPUT, INPUT, 3] {
            return Err(FaceError::Model(format!("model input {:?}", net.input_shape())));
        }
        Ok(Self { net, anchors: anchors(), config })
    }

    /// Current settings.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Detect faces, best first.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Face>, FaceError> {
        let (w, h) = (img.width() as f32, img.height() as f32);
        if w < 1.0 || h < 1.0 {
            return Err(FaceError::EmptyImage);
        }

        // Whole frame, letterboxed, then overlapping square tiles, halving
        // in size per level.
        let s0 = w.max(h) / INPUT as f32;
        let mut views = vec![View { ox: (w - INPUT as f32 * s0) / 2.0, oy: (h - INPUT as f32 * s0) / 2.0, scale: s0 }];
        let mut side = w.min(h);
        for level in 0..self.config.tile_levels {
            if level == 0 && w.max(h) / w.min(h) < 1.25 {
                // The whole-frame view already is this level.
                side /= 2.0;
                continue;
            }
            let scale = side / INPUT as f32;
            for oy in tile_offsets(h, side) {
                for ox in tile_offsets(w, side) {
                    views.push(View { ox, oy, scale });
                }
            }
            side /= 2.0;
        }
        // The views are independent: half of them on a second thread.
        let (here, there) = views.split_at(views.len() / 2);
        let run_all = |vs: &[View]| -> Result<Vec<Raw>, FaceError> {
            let mut out = Vec::new();
            for v in vs {
                out.extend(self.run_view(img, *v)?);
            }
            Ok(out)
        };
        let (mine, theirs) = std::thread::scope(|scope| {
            let other = std::thread::Builder::new().name("face-views".into()).spawn_scoped(scope, || run_all(there));
            let mine = run_all(here);
            let theirs = match other {
                Ok(handle) => handle.join().unwrap_or_else(|_| Err(FaceError::Model("face thread failed".into()))),
                // No thread to be had: run them here.
                Err(_) => run_all(there),
            };
            (mine, theirs)
        });
        let mut raws = mine?;
        raws.extend(theirs?);
        self.finish(img, raws, true)
    }

    /// Faces for one photo, cheaper than [`FaceDetector::detect`]: the whole
    /// frame first; when it shows a face, one more view over the region the
    /// deliverable will be cut from (a second person there is what matters)
    /// instead of tiling the whole frame. Without a face, the full search.
    pub fn detect_for_photo(&self, img: &RgbImage) -> Result<Vec<Face>, FaceError> {
        let (w, h) = (img.width() as f32, img.height() as f32);
        if w < 1.0 || h < 1.0 {
            return Err(FaceError::EmptyImage);
        }
        let s0 = w.max(h) / INPUT as f32;
        let raws = self
            .run_view(img, View { ox: (w - INPUT as f32 * s0) / 2.0, oy: (h - INPUT as f32 * s0) / 2.0, scale: s0 })?;
        let first: Vec<Face> = weighted_nms(raws.clone(), self.config.iou_threshold).into_iter().map(to_face).collect();
        let Some(main) = super::checks::main_face(&first) else {
            return self.detect(img);
        };
        let crop = super::checks::plan_crop(main, img.width(), img.height());
        let side = crop.width.max(crop.height) as f32;
        let (cx, cy) = (crop.x as f32 + crop.width as f32 / 2.0, crop.y as f32 + crop.height as f32 / 2.0);
        // The region view sees the student's face at about the size the
        // refinement would: its detections replace the coarse first look.
        let region =
            self.run_view(img, View { ox: cx - side / 2.0, oy: cy - side / 2.0, scale: side / INPUT as f32 })?;
        if region.is_empty() {
            return self.detect(img);
        }
        self.finish(img, region, false)
    }

    /// Merges raw detections, refines each face (`refine`) and its eyes.
    fn finish(&self, img: &RgbImage, raws: Vec<Raw>, refine: bool) -> Result<Vec<Face>, FaceError> {
        let mut faces = weighted_nms(raws, self.config.iou_threshold);

        if self.config.refine && refine {
            for f in faces.iter_mut() {
                if let Some(r) = self.refine(img, f)? {
                    f.bbox = r.bbox;
                    f.kps = r.kps;
                }
            }
        }

        let mut faces: Vec<Face> = faces.into_iter().map(to_face).collect();
        if self.config.pupil_refine {
            for f in faces.iter_mut() {
                let iod = f.eye_distance();
                for eye in [&mut f.left_eye, &mut f.right_eye] {
                    let p = pupil_centre(img, *eye, iod);
                    // A large jump usually means a closed eye or a shadow:
                    // keep the network's estimate then.
                    let shift = ((p[0] - eye[0]).powi(2) + (p[1] - eye[1]).powi(2)).sqrt();
                    if shift <= MAX_PUPIL_SHIFT * iod {
                        *eye = p;
                    }
                }
            }
        }
        Ok(faces)
    }

    /// Re-detect on a crop centred on `f`, where the face fills about half
    /// of the network input; return the detection overlapping `f` most.
    fn refine(&self, img: &RgbImage, f: &Raw) -> Result<Option<Raw>, FaceError> {
        let size = f.bbox[2].max(f.bbox[3]);
        let cx = f.bbox[0] + f.bbox[2] / 2.0;
        let cy = f.bbox[1] + f.bbox[3] / 2.0;
        let side = size * 2.0;
        let view = View { ox: cx - side / 2.0, oy: cy - side / 2.0, scale: side / INPUT as f32 };
        let cands = self.run_view(img, view)?;
        Ok(cands
            .into_iter()
            .map(|c| (iou(&c.bbox, &f.bbox), c))
            .filter(|(o, _)| *o > 0.5)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, c)| c))
    }

    /// The detection MediaPipe's own Face Mesh would start from for `face`
    /// (still-image mode): BlazeFace on the whole frame letterboxed into the
    /// 128×128 input with plain bilinear sampling, as MediaPipe samples it,
    /// merged the same way; the one overlapping `face`, with the network's
    /// eye points (not moved to the pupils). A face too small for the whole
    /// frame is looked for in tiles. `None` when no view sees it.
    pub fn mesh_start(&self, img: &RgbImage, face: &Face) -> Result<Option<Face>, FaceError> {
        let (w, h) = (img.width() as f32, img.height() as f32);
        if w < 1.0 || h < 1.0 {
            return Err(FaceError::EmptyImage);
        }
        let s0 = w.max(h) / INPUT as f32;
        let whole = View { ox: (w - INPUT as f32 * s0) / 2.0, oy: (h - INPUT as f32 * s0) / 2.0, scale: s0 };
        // Too small for the whole frame: square tiles of half the short
        // side, overlapping by half, in reading order, those holding the
        // face's centre (the reference script looks the same way).
        let side = (img.width().min(img.height()) / 2).max(1);
        let step = (side / 2).max(1) as usize;
        let (cx, cy) = (face.bbox[0] + face.bbox[2] / 2.0, face.bbox[1] + face.bbox[3] / 2.0);
        let holds = |x0: u32, y0: u32| {
            (x0 as f32..(x0 + side) as f32).contains(&cx) && (y0 as f32..(y0 + side) as f32).contains(&cy)
        };
        // The last tile of a row or column flush with the far edge, so the
        // whole frame is covered.
        let offsets = |len: u32| {
            let last = len.saturating_sub(side);
            let mut v: Vec<u32> = (0..=last).step_by(step).collect();
            if v.last() != Some(&last) {
                v.push(last);
            }
            v
        };
        let (xs, ys) = (offsets(img.width()), offsets(img.height()));
        let tiles = ys.into_iter().flat_map(|y0| {
            xs.clone().into_iter().filter(move |&x0| holds(x0, y0)).map(move |x0| View {
                ox: x0 as f32,
                oy: y0 as f32,
                scale: side as f32 / INPUT as f32,
            })
        });
        // As MediaPipe reads it: plain bilinear, black outside, in [-1, 1].
        let input = |view: View| {
            sample_bilinear(img, INPUT, Border::Black, (1.0 / 127.5, -1.0), |u, v| {
                [view.ox + u as f32 * view.scale, view.oy + v as f32 * view.scale]
            })
        };
        for view in std::iter::once(whole).chain(tiles) {
            let raws = self.decode(&self.net.run(&input(view))?, view)?;
            let best = weighted_nms(raws, self.config.iou_threshold)
                .into_iter()
                .map(|r| (iou(&r.bbox, &face.bbox), r))
                .filter(|(o, _)| *o > 0.3)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((_, r)) = best {
                return Ok(Some(to_face(r)));
            }
        }
        Ok(None)
    }

    fn run_view(&self, img: &RgbImage, view: View) -> Result<Vec<Raw>, FaceError> {
        let input = sample_view(img, view);
        self.decode(&self.net.run(&input)?, view)
    }

    /// The detections in the network's outputs for `view`.
    fn decode(&self, out: &[Vec<f32>], view: View) -> Result<Vec<Raw>, FaceError> {
        let (Some(reg), Some(cls)) = (out.first(), out.get(1)) else {
            return Err(FaceError::Model("model has fewer than 2 outputs".into()));
        };
        if reg.len() != NUM_ANCHORS * NUM_COORDS || cls.len() != NUM_ANCHORS {
            return Err(FaceError::Model("unexpected output shape".into()));
        }
        let n = INPUT as f32;
        let mut dets = Vec::new();
        for (i, (anchor, r)) in self.anchors.iter().zip(reg.chunks_exact(NUM_COORDS)).enumerate() {
            let logit = cls[i].clamp(-100.0, 100.0);
            let score = 1.0 / (1.0 + (-logit).exp());
            if score < self.config.score_threshold {
                continue;
            }
            // Decode in input pixels (anchors are in 0..1, offsets in pixels).
            let to_img = |u: f32, v: f32| [view.ox + u * view.scale, view.oy + v * view.scale];
            let cx = anchor[0] * n + r[0];
            let cy = anchor[1] * n + r[1];
            let (bw, bh) = (r[2], r[3]);
            let tl = to_img(cx - bw / 2.0, cy - bh / 2.0);
            let mut kps = [[0.0f32; 2]; NUM_KEYPOINTS];
            for (k, kp) in kps.iter_mut().enumerate() {
                *kp = to_img(anchor[0] * n + r[4 + 2 * k], anchor[1] * n + r[5 + 2 * k]);
            }
            dets.push(Raw { bbox: [tl[0], tl[1], bw * view.scale, bh * view.scale], score, kps });
        }
        Ok(dets)
    }
}

fn to_face(r: Raw) -> Face {
    Face { bbox: r.bbox, score: r.score, left_eye: r.kps[0], right_eye: r.kps[1] }
}

/// Start offsets of tiles of `side` covering `len`, overlapping by at least a fifth.
fn tile_offsets(len: f32, side: f32) -> Vec<f32> {
    if len <= side {
        return vec![(len - side) / 2.0];
    }
    // Overlap of at least a fifth of a tile: a face up to that size lies
    // whole in one tile; larger ones are seen by the whole-frame view.
    let n = ((len - side) / (side * 0.8)).ceil().max(1.0) as usize;
    let step = (len - side) / n as f32;
    (0..=n).map(|i| i as f32 * step).collect()
}

/// SSD anchor centres for BlazeFace short range (MediaPipe
/// SsdAnchorsCalculator with strides 8,16,16,16, fixed anchor size).
fn anchors() -> Vec<[f32; 2]> {
    let mut out = Vec::with_capacity(NUM_ANCHORS);
    for (grid, per_cell) in [(16usize, 2usize), (8, 6)] {
        for y in 0..grid {
            for x in 0..grid {
                let c = [(x as f32 + 0.5) / grid as f32, (y as f32 + 0.5) / grid as f32];
                out.extend(std::iter::repeat_n(c, per_cell));
            }
        }
    }
    out
}

/// Fill a 128x128x3 tensor in [-1, 1] from the image region of `view`,
/// averaging the source pixels under each input pixel (area sampling), and
/// padding with black outside the image.
fn sample_view(img: &RgbImage, view: View) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    let mut out = vec![-1.0f32; INPUT * INPUT * 3];
    // Source index ranges for each input column / row.
    let span = |o: f32, i: usize, lim: usize| -> (usize, usize) {
        let a = o + i as f32 * view.scale;
        let b = a + view.scale;
        let a0 = a.max(0.0).floor() as usize;
        let mut b0 = b.max(0.0).ceil() as usize;
        if b0 <= a0 {
            b0 = a0 + 1;
        }
        (a0.min(lim), b0.min(lim))
    };
    let cols: Vec<(usize, usize)> = (0..INPUT).map(|u| span(view.ox, u, w)).collect();
    // Limit the averaging to at most 4x4 samples per input pixel: enough
    // against aliasing, and it keeps big downscales cheap.
    let pick = |(a, b): (usize, usize)| -> Vec<usize> {
        let n = b.saturating_sub(a);
        if n <= 4 {
            (a..b).collect()
        } else {
            (0..4).map(|k| a + (2 * k + 1) * n / 8).collect()
        }
    };
    let col_samples: Vec<Vec<usize>> = cols.iter().map(|&c| pick(c)).collect();
    for v in 0..INPUT {
        let rows = pick(span(view.oy, v, h));
        if rows.is_empty() {
            continue;
        }
        for (u, cs) in col_samples.iter().enumerate() {
            if cs.is_empty() {
                continue;
            }
            let mut acc = [0u32; 3];
            for &y in &rows {
                let row = y * w * 3;
                for &x in cs {
                    let p = row + x * 3;
                    if let Some(px) = raw.get(p..p + 3) {
                        acc[0] += u32::from(px[0]);
                        acc[1] += u32::from(px[1]);
                        acc[2] += u32::from(px[2]);
                    }
                }
            }
            let k = 1.0 / (127.5 * (rows.len() * cs.len()) as f32);
            let o = (v * INPUT + u) * 3;
            for c in 0..3 {
                out[o + c] = acc[c] as f32 * k - 1.0;
            }
        }
    }
    out
}

/// What a network input reads outside the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Border {
    /// Black (the detector's letterbox).
    Black,
    /// The edge pixels repeated (the mesh's region).
    Edge,
}

/// A `size`×`size`×3 network input read from `img` as MediaPipe's warps
/// read it: input pixel (u, v) reads the image at `at(u, v)` (pixel centres
/// on whole numbers), bilinearly, and each channel value x becomes
/// `x · scale + offset`.
pub(super) fn sample_bilinear(
    img: &RgbImage,
    size: usize,
    border: Border,
    (scale, offset): (f32, f32),
    at: impl Fn(usize, usize) -> [f32; 2],
) -> Vec<f32> {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let raw = img.as_raw();
    let px = |x: i64, y: i64, c: usize| -> f32 {
        let inside = (0..w).contains(&x) && (0..h).contains(&y);
        match border {
            Border::Black if !inside => 0.0,
            _ => f32::from(raw[((y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) * 3) as usize + c]),
        }
    };
    let mut out = vec![0f32; size * size * 3];
    if w == 0 || h == 0 {
        return out;
    }
    for v in 0..size {
        for u in 0..size {
            let [sx, sy] = at(u, v);
            // Far outside: as the nearest edge, or black (and no index overflows).
            let (sx, sy) = (sx.clamp(-2.0, w as f32 + 1.0), sy.clamp(-2.0, h as f32 + 1.0));
            let (x0, y0) = (sx.floor() as i64, sy.floor() as i64);
            let (ax, ay) = (sx - x0 as f32, sy - y0 as f32);
            let o = (v * size + u) * 3;
            for c in 0..3 {
                let top = px(x0, y0, c) * (1.0 - ax) + px(x0 + 1, y0, c) * ax;
                let bottom = px(x0, y0 + 1, c) * (1.0 - ax) + px(x0 + 1, y0 + 1, c) * ax;
                out[o + c] = (top * (1.0 - ay) + bottom * ay) * scale + offset;
            }
        }
    }
    out
}

/// Gradient-based eye-centre localisation (Timm & Barth, "Accurate eye
/// centre localisation by means of gradients", 2011) in a window of half the
/// inter-ocular distance around `p`. Returns `p` unchanged when the window is
/// degenerate.
pub fn pupil_centre(img: &RgbImage, p: [f32; 2], iod: f32) -> [f32; 2] {
    const S: usize = 48;
    if !(iod.is_finite() && iod > 4.0) {
        return p;
    }
    let side = 0.5 * iod;
    let step = side / S as f32;
    let x0 = p[0] - side / 2.0;
    let y0 = p[1] - side / 2.0;
    // Grey window, bilinear sampling.
    let (w, h) = (img.width() as i64, img.height() as i64);
    let px = |x: i64, y: i64| -> f32 {
        let x = x.clamp(0, w - 1) as u32;
        let y = y.clamp(0, h - 1) as u32;
        let c = img.get_pixel(x, y).0;
        0.299 * f32::from(c[0]) + 0.587 * f32::from(c[1]) + 0.114 * f32::from(c[2])
    };
    let mut g = vec![0.0f32; S * S];
    for j in 0..S {
        for i in 0..S {
            let sx = x0 + (i as f32 + 0.5) * step - 0.5;
            let sy = y0 + (j as f32 + 0.5) * step - 0.5;
            let (fx, fy) = (sx.floor(), sy.floor());
            let (ax, ay) = (sx - fx, sy - fy);
            let (ix, iy) = (fx as i64, fy as i64);
            g[j * S + i] = (1.0 - ay) * ((1.0 - ax) * px(ix, iy) + ax * px(ix + 1, iy))
                + ay * ((1.0 - ax) * px(ix, iy + 1) + ax * px(ix + 1, iy + 1));
        }
    }
    let g = box_blur(&g, S, 1);
    // Gradients (central differences), normalised, above a dynamic threshold.
    let mut grads = Vec::new();
    let mut mags = Vec::with_capacity(S * S);
    for j in 1..S - 1 {
        for i in 1..S - 1 {
            let gx = (g[j * S + i + 1] - g[j * S + i - 1]) / 2.0;
            let gy = (g[(j + 1) * S + i] - g[(j - 1) * S + i]) / 2.0;
            let m = (gx * gx + gy * gy).sqrt();
            mags.push(m);
            grads.push((i as f32, j as f32, gx, gy, m));
        }
    }
    let n = mags.len().max(1) as f32;
    let mean = mags.iter().sum::<f32>() / n;
    let std = (mags.iter().map(|m| (m - mean).powi(2)).sum::<f32>() / n).sqrt();
    let thr = mean + 0.3 * std;
    let grads: Vec<(f32, f32, f32, f32)> =
        grads.into_iter().filter(|g| g.4 > thr && g.4 > 0.0).map(|(x, y, gx, gy, m)| (x, y, gx / m, gy / m)).collect();
    if grads.is_empty() {
        return p;
    }
    // Darkness prior from a stronger blur.
    let dark = box_blur(&g, S, 3);
    let c = (S as f32 - 1.0) / 2.0;
    let r = 0.35 * S as f32;
    let score_at = |cx: usize, cy: usize| -> f32 {
        let (fx, fy) = (cx as f32, cy as f32);
        let mut acc = 0.0f32;
        for &(x, y, gx, gy) in &grads {
            let (dx, dy) = (x - fx, y - fy);
            let d = (dx * dx + dy * dy).sqrt();
            if d > 0.0 {
                let dot = (dx * gx + dy * gy) / d;
                if dot > 0.0 {
                    acc += dot * dot;
                }
            }
        }
        acc * (255.0 - dark[cy * S + cx])
    };
    let inside = |cx: usize, cy: usize| (cx as f32 - c).powi(2) + (cy as f32 - c).powi(2) <= r * r;
    // Coarse to fine: every other candidate first, then all around the best.
    let mut best = (f32::MIN, S / 2, S / 2);
    for cy in (0..S).step_by(2) {
        for cx in (0..S).step_by(2) {
            if inside(cx, cy) {
                let score = score_at(cx, cy);
                if score > best.0 {
                    best = (score, cx, cy);
                }
            }
        }
    }
    let (_, bx, by) = best;
    for cy in by.saturating_sub(2)..(by + 3).min(S) {
        for cx in bx.saturating_sub(2)..(bx + 3).min(S) {
            if inside(cx, cy) {
                let score = score_at(cx, cy);
                if score > best.0 {
                    best = (score, cx, cy);
                }
            }
        }
    }
    let best = (best.0, best.1 as f32, best.2 as f32);
    [x0 + (best.1 + 0.5) * step, y0 + (best.2 + 0.5) * step]
}

/// Separable box blur of radius `r` with edge clamping.
fn box_blur(src: &[f32], s: usize, r: usize) -> Vec<f32> {
    let mut tmp = vec![0.0f32; s * s];
    let mut out = vec![0.0f32; s * s];
    let k = 1.0 / (2 * r + 1) as f32;
    for j in 0..s {
        for i in 0..s {
            let mut a = 0.0;
            for d in 0..=2 * r {
                let x = (i + d).saturating_sub(r).min(s - 1);
                a += src[j * s + x];
            }
            tmp[j * s + i] = a * k;
        }
    }
    for j in 0..s {
        for i in 0..s {
            let mut a = 0.0;
            for d in 0..=2 * r {
                let y = (j + d).saturating_sub(r).min(s - 1);
                a += tmp[y * s + i];
            }
            out[j * s + i] = a * k;
        }
    }
    out
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let x0 = a[0].max(b[0]);
    let y0 = a[1].max(b[1]);
    let x1 = (a[0] + a[2]).min(b[0] + b[2]);
    let y1 = (a[1] + a[3]).min(b[1] + b[3]);
    let inter = (x1 - x0).max(0.0) * (y1 - y0).max(0.0);
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// MediaPipe-style weighted NMS: each cluster of overlapping detections is
/// replaced by the score-weighted mean of its box and keypoints, keeping the
/// best score. Output sorted by score, best first.
fn weighted_nms(mut dets: Vec<Raw>, iou_threshold: f32) -> Vec<Raw> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out: Vec<Raw> = Vec::new();
    let mut used = vec![false; dets.len()];
    for i in 0..dets.len() {
        if used[i] {
            continue;
        }
        let best = &dets[i];
        let mut wsum = 0.0f32;
        let mut bbox = [0.0f32; 4];
        let mut kps = [[0.0f32; 2]; NUM_KEYPOINTS];
        for j in i..dets.len() {
            if used[j] || iou(&best.bbox, &dets[j].bbox) <= iou_threshold {
                continue;
            }
            used[j] = true;
            let d = &dets[j];
            wsum += d.score;
            for (acc, v) in bbox.iter_mut().zip(d.bbox.iter()) {
                *acc += v * d.score;
            }
            for (acc, kp) in kps.iter_mut().zip(d.kps.iter()) {
                acc[0] += kp[0] * d.score;
                acc[1] += kp[1] * d.score;
            }
        }
        if wsum > 0.0 {
            bbox.iter_mut().for_each(|v| *v /= wsum);
            kps.iter_mut().for_each(|p| {
                p[0] /= wsum;
                p[1] /= wsum;
            });
            out.push(Raw { bbox, score: best.score, kps });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<FaceDetector>();
    }

    #[test]
    fn anchors_count() {
        assert_eq!(anchors().len(), NUM_ANCHORS);
    }

    #[test]
    fn tiles_cover() {
        let t = tile_offsets(1920.0, 1080.0);
        assert_eq!(t.first().copied(), Some(0.0));
        assert!((t.last().copied().unwrap_or(0.0) + 1080.0 - 1920.0).abs() < 1e-3);
    }

    #[test]
    fn blank_image_has_no_face() {
        let det = FaceDetector::new().unwrap();
        let img = RgbImage::from_pixel(640, 480, image::Rgb([128, 128, 128]));
        assert!(det.detect(&img).unwrap().is_empty());
    }
}
