//! Dense face landmarks: the 468 points of MediaPipe Face Mesh around the
//! eyelids, lips, nose and face outline, for the checks BlazeFace's six
//! points cannot make (eyes open, mouth closed, head pose, light on the two
//! halves of the face, glare on glasses, clothing below the chin).
//!
//! Model: `face_landmark.tflite` from the `mediapipe` 0.10.14 wheel on PyPI
//! (Apache-2.0), exported by `scripts/export_tflite.py` into
//! `assets/face/face_mesh.bin` and run by [`super::net`]. Provenance:
//! `assets/face/README.md`. The pipeline is MediaPipe's own for still
//! images: the region of interest is the face box made square on its long
//! side, ×1.5, turned so the eye line is level; it is sampled bilinearly
//! (edge pixels repeated outside the image) into a 192×192 RGB tensor in
//! 0–1, and the points come back in that square and are turned and scaled
//! back into the image. `tests/photo.rs` holds the result against the
//! `mediapipe` Python package on every test portrait.
//!
//! Point numbers are MediaPipe's canonical mesh topology; the ones the
//! checks use are named in [`points`].

use std::sync::OnceLock;

use image::RgbImage;

use super::checks::Face;
use super::face::{sample_bilinear, Border, FaceError};
use super::net::Net;
use super::CropRect;

/// Points in the mesh.
pub const MESH_POINTS: usize = 468;
/// Least presence for a mesh to be measured (MediaPipe's own threshold).
pub const MIN_PRESENCE: f32 = 0.5;
/// Side of the model's square input, px.
const INPUT: usize = 192;
/// The region of interest is the face box's long side times this.
const ROI_SCALE: f32 = 1.5;

/// The mesh point numbers the checks use (canonical topology). "Right" and
/// "left" are the subject's: the subject's right eye is on the image's left.
pub mod points {
    /// Forehead top, middle.
    pub const FOREHEAD: usize = 10;
    /// Chin, lowest point.
    pub const CHIN: usize = 152;
    /// Nose tip.
    pub const NOSE_TIP: usize = 1;
    /// The face outline's outermost points at eye height: image left, image right.
    pub const CHEEK_IMAGE_LEFT: usize = 234;
    pub const CHEEK_IMAGE_RIGHT: usize = 454;
    /// Upper and lower eyelid points facing each other, subject's right eye
    /// (image left), from the outer corner inwards.
    pub const RIGHT_EYE_LIDS: [(usize, usize); 5] = [(161, 163), (160, 144), (159, 145), (158, 153), (157, 154)];
    /// The same for the subject's left eye (image right).
    pub const LEFT_EYE_LIDS: [(usize, usize); 5] = [(388, 390), (387, 373), (386, 374), (385, 380), (384, 381)];
    /// Eye contours (corners and lids), subject's right eye then left eye.
    pub const RIGHT_EYE: [usize; 16] = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246];
    pub const LEFT_EYE: [usize; 16] = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466];
    /// Inner lip contour, clockwise from the image-left mouth corner
    /// (upper lip first), and the facing pairs across it.
    pub const INNER_LIPS: [usize; 20] =
        [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95];
    pub const INNER_LIP_PAIRS: [(usize, usize); 5] = [(81, 178), (82, 87), (13, 14), (312, 317), (311, 402)];
    /// Face outline, clockwise from the forehead.
    pub const FACE_OVAL: [usize; 36] = [
        10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149,
        150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    ];
    /// Mirror pairs (image-left point, image-right point) across the face's
    /// middle, for the head's left–right axis.
    pub const MIRROR_PAIRS: [(usize, usize); 8] =
        [(234, 454), (93, 323), (132, 361), (58, 288), (127, 356), (33, 263), (133, 362), (61, 291)];
}

/// The region the mesh model looks at: a square of `side` px around
/// `centre`, its x axis along `rotation` (radians, clockwise in the image:
/// positive when the image-right eye is lower).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roi {
    pub centre: [f32; 2],
    pub side: f32,
    pub rotation: f32,
}

impl Roi {
    /// MediaPipe's region for a detected face: the box's centre, its long
    /// side × 1.5, the eye line level.
    pub fn from_face(face: &Face) -> Roi {
        let [x, y, w, h] = face.bbox;
        let (dx, dy) = (face.right_eye[0] - face.left_eye[0], face.right_eye[1] - face.left_eye[1]);
        Roi { centre: [x + w / 2.0, y + h / 2.0], side: w.max(h) * ROI_SCALE, rotation: dy.atan2(dx) }
    }

    /// The image point of `(u, v)` in the region, both in 0–1.
    fn point(&self, u: f32, v: f32) -> [f32; 2] {
        let (x, y) = ((u - 0.5) * self.side, (v - 0.5) * self.side);
        let (s, c) = self.rotation.sin_cos();
        [self.centre[0] + c * x - s * y, self.centre[1] + s * x + c * y]
    }
}

/// A face's 468 points in the pixels of the picture they were found in: x,
/// y, and a relative depth z in the same scale as x (smaller is nearer the
/// camera).
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    pub points: Vec<[f32; 3]>,
    /// The model's confidence that the region holds a face, 0–1.
    pub presence: f32,
}

impl Mesh {
    /// Point `i` (x, y); the origin for a number outside the mesh (a
    /// programming slip, never a panic).
    pub fn xy(&self, i: usize) -> [f32; 2] {
        self.points.get(i).map(|p| [p[0], p[1]]).unwrap_or_default()
    }

    /// Point `i` with its depth.
    pub fn xyz(&self, i: usize) -> [f32; 3] {
        self.points.get(i).copied().unwrap_or_default()
    }

    /// The centre of the points `ids`.
    pub fn centre(&self, ids: &[usize]) -> [f32; 2] {
        let n = ids.len().max(1) as f32;
        let (sx, sy) = ids.iter().map(|&i| self.xy(i)).fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
        [sx / n, sy / n]
    }

    /// Eye centres (the contours' centres): image left, image right.
    pub fn eye_centres(&self) -> ([f32; 2], [f32; 2]) {
        (self.centre(&points::RIGHT_EYE), self.centre(&points::LEFT_EYE))
    }

    /// Distance between the eye centres, px.
    pub fn inter_eye(&self) -> f32 {
        let (a, b) = self.eye_centres();
        dist(a, b)
    }

    /// The same mesh in a crop of `crop` scaled by `scale` (as [`Face::mapped`]).
    pub fn mapped(&self, crop: &CropRect, scale: f32) -> Mesh {
        let (ox, oy) = (crop.x as f32, crop.y as f32);
        Mesh {
            points: self.points.iter().map(|p| [(p[0] - ox) * scale, (p[1] - oy) * scale, p[2] * scale]).collect(),
            presence: self.presence,
        }
    }
}

/// Distance between two points.
pub fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// The Face Mesh model.
#[derive(Debug)]
pub struct MeshModel {
    net: Net,
}

fn shared() -> Result<&'static MeshModel, FaceError> {
    static MODEL: OnceLock<Result<MeshModel, String>> = OnceLock::new();
    match MODEL.get_or_init(|| MeshModel::new().map_err(|e| e.to_string())) {
        Ok(m) => Ok(m),
        Err(e) => Err(FaceError::Model(e.clone())),
    }
}

/// The mesh of `face` in `img` with the shared model (loaded once), from
/// the detection MediaPipe would start from ([`super::face::mesh_start`])
/// when the whole-frame view sees the face, else from `face` itself.
pub fn landmarks(img: &RgbImage, face: &Face) -> Result<Mesh, FaceError> {
    let start = super::face::mesh_start(img, face)?.unwrap_or(*face);
    shared()?.run(img, Roi::from_face(&start))
}

impl MeshModel {
    /// Loads the embedded model.
    pub fn new() -> Result<MeshModel, FaceError> {
        let net = Net::from_bytes(crate::assets::FACE_MESH_MODEL)?;
        if net.input_shape() != [1, INPUT, INPUT, 3] {
            return Err(FaceError::Model(format!("mesh model input {:?}", net.input_shape())));
        }
        Ok(MeshModel { net })
    }

    /// The mesh in the region `roi` of `img`.
    pub fn run(&self, img: &RgbImage, roi: Roi) -> Result<Mesh, FaceError> {
        if img.width() == 0 || img.height() == 0 {
            return Err(FaceError::EmptyImage);
        }
        if !(roi.side.is_finite() && roi.side > 1.0 && roi.rotation.is_finite()) {
            return Err(FaceError::Model(format!("region of {} px", roi.side)));
        }
        let out = self.net.run(&sample_roi(img, &roi))?;
        let (Some(coords), Some(flag)) = (out.first(), out.get(1)) else {
            return Err(FaceError::Model("mesh model has fewer than 2 outputs".into()));
        };
        if coords.len() != MESH_POINTS * 3 || flag.is_empty() {
            return Err(FaceError::Model("unexpected mesh output shape".into()));
        }
        let n = INPUT as f32;
        let depth_scale = roi.side / n;
        let points = coords
            .chunks_exact(3)
            .map(|p| {
                let [x, y] = roi.point(p[0] / n, p[1] / n);
                [x, y, p[2] * depth_scale]
            })
            .collect();
        let logit = flag[0].clamp(-50.0, 50.0);
        Ok(Mesh { points, presence: 1.0 / (1.0 + (-logit).exp()) })
    }
}

/// The 192×192×3 input as MediaPipe's OpenCV warp makes it: the region's
/// corners onto the tensor's, tensor pixel u at u / 192 of the way across,
/// edge pixels repeated outside the image, RGB in 0–1.
fn sample_roi(img: &RgbImage, roi: &Roi) -> Vec<f32> {
    let n = INPUT as f32;
    sample_bilinear(img, INPUT, Border::Edge, (1.0 / 255.0, 0.0), |u, v| roi.point(u as f32 / n, v as f32 / n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_turned_with_the_eye_line() {
        let face = Face {
            bbox: [100.0, 100.0, 100.0, 120.0],
            score: 1.0,
            left_eye: [120.0, 140.0],
            right_eye: [180.0, 200.0],
        };
        let roi = Roi::from_face(&face);
        assert!((roi.side - 180.0).abs() < 1e-3);
        assert!((roi.rotation.to_degrees() - 45.0).abs() < 1e-3);
        // The region's right-hand middle lies along the eye line from the centre.
        let [x, y] = roi.point(1.0, 0.5);
        let r = roi.side / 2.0 / 2f32.sqrt();
        assert!((x - (150.0 + r)).abs() < 1e-3 && (y - (160.0 + r)).abs() < 1e-3, "{x},{y}");
    }

    #[test]
    fn a_blank_picture_gives_a_low_presence_not_a_panic() {
        let model = MeshModel::new().expect("model");
        let img = RgbImage::from_pixel(320, 240, image::Rgb([128, 128, 128]));
        let face =
            Face { bbox: [100.0, 60.0, 100.0, 100.0], score: 1.0, left_eye: [130.0, 90.0], right_eye: [170.0, 90.0] };
        let mesh = model.run(&img, Roi::from_face(&face)).expect("runs");
        assert_eq!(mesh.points.len(), MESH_POINTS);
        assert!(mesh.presence < 0.5, "presence {}", mesh.presence);
        assert!(model.run(&RgbImage::new(0, 0), Roi::from_face(&face)).is_err());
    }
}
