//! What the notices ask of the student, measured from the face mesh and
//! the pixels it outlines: eyes open, lips closed (no teeth), facing the
//! camera, even light on the two halves of the face, no clipped shadows or
//! highlights, no glare on glasses, clothing distinct from the backdrop.
//!
//! Pure functions of an image and a [`Mesh`] in its pixels; every measure
//! is a ratio or an angle, so it reads the same on a camera frame and on the
//! 480×640 deliverable. Where OFIQ (ISO/IEC 29794-5) defines a measure it
//! is followed in kind: eye opening over the inter-eye distance (EyesOpen),
//! inner-lip opening over a face-height reference (MouthClosed), the two
//! face halves' luminance histograms (IlluminationUniformity), the share of
//! face pixels at the ends of the range (Under/OverExposurePrevention).
//! `checks.rs` turns the values into checks with thresholds and messages.

use image::RgbImage;

use super::mesh::{dist, points, Mesh};

/// Every mesh-based measure of one face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceMeasures {
    /// The smaller eye's lid opening over the inter-eye distance.
    pub eye_opening: f32,
    /// The inner lips' largest gap over the face height (forehead to chin).
    pub mouth_opening: f32,
    /// Share of the inner-mouth area that is teeth (bright, colourless), 0–1.
    pub teeth_share: f32,
    /// Head turned left/right, degrees (positive: towards the image's right).
    pub yaw_deg: f32,
    /// Head nodded, degrees (positive: chin down).
    pub pitch_deg: f32,
    /// Histogram intersection of the two face halves' luminance, 0–1 (1: the same light).
    pub illumination_uniformity: f32,
    /// Share of face pixels (brows down) crushed to black (luminance ≤ 25), 0–1.
    pub underexposed_share: f32,
    /// Share of face pixels blown to white (luminance ≥ 247), 0–1.
    pub overexposed_share: f32,
    /// Share of near-white specular pixels around the more glaring eye, 0–1.
    pub glare_share: f32,
    /// The clothing's colour below the chin (median RGB), when it is in the picture.
    pub clothing_rgb: Option<[f32; 3]>,
}

fn luminance(p: &image::Rgb<u8>) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// Measures `mesh` (in `img`'s pixels).
pub fn measure(img: &RgbImage, mesh: &Mesh) -> FaceMeasures {
    let (yaw_deg, pitch_deg) = head_pose(mesh);
    let (teeth_share, mouth_opening) = mouth(img, mesh);
    let (underexposed_share, overexposed_share) = clipping(img, mesh);
    FaceMeasures {
        eye_opening: eye_opening(img, mesh),
        mouth_opening,
        teeth_share,
        yaw_deg,
        pitch_deg,
        illumination_uniformity: illumination_uniformity(img, mesh),
        underexposed_share,
        overexposed_share,
        glare_share: glare(img, mesh),
        clothing_rgb: clothing(img, mesh),
    }
}

/// Per eye, the widest gap between facing lid points over the inter-eye
/// distance; the smaller eye counts (one closed eye is a closed eye).
pub fn lid_gap(mesh: &Mesh) -> f32 {
    let iod = mesh.inter_eye().max(1.0);
    let open = |pairs: &[(usize, usize)]| pairs.iter().map(|&(a, b)| dist(mesh.xy(a), mesh.xy(b))).fold(0.0, f32::max);
    open(&points::RIGHT_EYE_LIDS).min(open(&points::LEFT_EYE_LIDS)) / iod
}

/// Per eye, the opening the pixels show: in the columns over the middle of
/// the eye (where the iris is), the longest run of dark pixels (iris,
/// pupil; gaps of a catchlight bridged) within ±15 % of the inter-eye distance of the eye's
/// centre, the median over those columns, over the inter-eye distance. Dark is nearer the
/// window's darkest than the skin under the eye, so a bright or a dark
/// picture reads alike. A closed eye shows only its lash line; skin over
/// the eye shows nothing (nothing much darker than the skin: 0).
pub fn visible_opening(img: &RgbImage, mesh: &Mesh, eye: &[usize]) -> f32 {
    let iod = mesh.inter_eye().max(1.0);
    let c = mesh.centre(eye);
    let width = dist(mesh.xy(eye[0]), mesh.xy(eye[8])).max(2.0);
    let lum_at = |x: f32, y: f32| {
        let (x, y) = (x.clamp(0.0, img.width() as f32 - 1.0) as u32, y.clamp(0.0, img.height() as f32 - 1.0) as u32);
        luminance(img.get_pixel(x, y))
    };
    // The skin: the median of a patch under the eye.
    let mut skin: Vec<f32> = Vec::new();
    for dy in 0..8 {
        for dx in 0..12 {
            let (x, y) = (c[0] + (dx as f32 / 11.0 - 0.5) * width * 0.6, c[1] + iod * (0.25 + dy as f32 * 0.02));
            skin.push(lum_at(x, y));
        }
    }
    skin.sort_by(f32::total_cmp);
    let skin = skin[skin.len() / 2];
    let half = (iod * 0.15).max(2.0);
    let cols = (width * 0.3).max(3.0) as i32;
    let window: Vec<Vec<f32>> = (-cols / 2..=cols / 2)
        .map(|k| {
            let x = c[0] + k as f32;
            (0..=(2.0 * half) as usize).map(|dy| lum_at(x, c[1] - half + dy as f32)).collect()
        })
        .collect();
    // The iris and pupil: the darkest in the window (its 2nd percentile).
    let mut all: Vec<f32> = window.iter().flatten().copied().collect();
    all.sort_by(f32::total_cmp);
    let darkest = all[all.len() / 50];
    // Nothing much darker than the skin: no iris to be seen.
    if skin - darkest < 0.25 * skin.max(1.0) {
        return 0.0;
    }
    let dark = (darkest + skin) / 2.0;
    // The longest dark run per column, across gaps of up to 3 % of the
    // inter-eye distance (a catchlight in the iris): the iris is one run;
    // the creases of a closed lid are thin lines with skin between them,
    // however many there are.
    let bridge = (iod * 0.03).max(2.0) as usize;
    let run = |col: &Vec<f32>| {
        let (mut best, mut start, mut last) = (0usize, None::<usize>, 0usize);
        for (i, &v) in col.iter().enumerate() {
            if v >= dark {
                continue;
            }
            match start {
                Some(s) if i - last <= bridge + 1 => {
                    last = i;
                    best = best.max(i - s + 1);
                }
                _ => {
                    start = Some(i);
                    last = i;
                    best = best.max(1);
                }
            }
        }
        best
    };
    let mut runs: Vec<usize> = window.iter().map(run).collect();
    runs.sort_unstable();
    runs[runs.len() / 2] as f32 / iod
}

/// The eye opening: the smaller eye's, as the lids of the mesh and the
/// pixels between them both show it (the smaller of the two: the mesh
/// alone is slow to close its lids on a squint or on skin painted over
/// the eye).
pub fn eye_opening(img: &RgbImage, mesh: &Mesh) -> f32 {
    let seen = visible_opening(img, mesh, &points::RIGHT_EYE).min(visible_opening(img, mesh, &points::LEFT_EYE));
    lid_gap(mesh).min(seen)
}

/// Face height: forehead top to chin, px.
fn face_height(mesh: &Mesh) -> f32 {
    dist(mesh.xy(points::FOREHEAD), mesh.xy(points::CHIN)).max(1.0)
}

/// (teeth share of the inner mouth, inner-lip gap over the face height).
fn mouth(img: &RgbImage, mesh: &Mesh) -> (f32, f32) {
    let gap = points::INNER_LIP_PAIRS.iter().map(|&(a, b)| dist(mesh.xy(a), mesh.xy(b))).fold(0.0, f32::max);
    let polygon: Vec<[f32; 2]> = points::INNER_LIPS.iter().map(|&i| mesh.xy(i)).collect();
    // Teeth: bright against the face and without colour (lips and the
    // mouth's inside are red or dark).
    let face_lum = mean_face_luminance(img, mesh);
    let (mut teeth, mut n) = (0u32, 0u32);
    for_each_inside(&polygon, img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y);
        let (max, min) = (p.0.iter().copied().max().unwrap_or(0), p.0.iter().copied().min().unwrap_or(0));
        let saturation = if max == 0 { 0.0 } else { f32::from(max - min) / f32::from(max) };
        if luminance(p) > face_lum * 0.9 && saturation < 0.35 {
            teeth += 1;
        }
        n += 1;
    });
    // A mouth a few pixels high shows no teeth, whatever its pixels are.
    let share = if n < 20 { 0.0 } else { teeth as f32 / n as f32 };
    (share, gap / face_height(mesh))
}

/// Head yaw and pitch, degrees, from the mesh's depth. Yaw: the angle of the
/// face's left–right axis (mirror pairs, image-left point to image-right
/// point) out of the picture plane. Pitch: the angle of the axis from the
/// nose bridge to the chin out of the picture plane, less the same angle on
/// a face looking straight at the camera ([`NEUTRAL_PITCH_DEG`]).
pub fn head_pose(mesh: &Mesh) -> (f32, f32) {
    let [mut ax, mut ay, mut az] = [0f32; 3];
    for &(a, b) in &points::MIRROR_PAIRS {
        let (p, q) = (mesh.xyz(a), mesh.xyz(b));
        ax += q[0] - p[0];
        ay += q[1] - p[1];
        az += q[2] - p[2];
    }
    // In the face's own frame (its left–right axis level), so that a tilted
    // head does not read as turned or nodded.
    let (s, c) = ay.atan2(ax).sin_cos();
    // z grows away from the camera: the image-right side farther away is a
    // face turned towards the image's right.
    let yaw = az.atan2(c * ax + s * ay).to_degrees();
    let (top, chin) = (mesh.xyz(BRIDGE), mesh.xyz(points::CHIN));
    let (dx, dy, dz) = (chin[0] - top[0], chin[1] - top[1], chin[2] - top[2]);
    // The chin farther away than usual: the head nodded down.
    let pitch = dz.atan2(-s * dx + c * dy).to_degrees() - NEUTRAL_PITCH_DEG;
    (yaw, pitch)
}

/// The nose bridge between the eyes.
const BRIDGE: usize = 168;

/// The bridge-to-chin axis's angle out of the picture plane on a face that
/// looks straight into the camera, degrees (the mesh's chin lies a little
/// farther back than its nose bridge). Set from obama.jpg, an official
/// portrait taken level with the eyes (5.9°); the other portraits are the
/// check on it (README, "Photo checks").
pub const NEUTRAL_PITCH_DEG: f32 = 6.0;

/// Calls `f` for every pixel whose centre lies inside `polygon`.
fn for_each_inside(polygon: &[[f32; 2]], width: u32, height: u32, mut f: impl FnMut(u32, u32)) {
    if polygon.len() < 3 || width == 0 || height == 0 {
        return;
    }
    let y0 = polygon.iter().map(|p| p[1]).fold(f32::INFINITY, f32::min).floor().max(0.0) as u32;
    let y1 = (polygon.iter().map(|p| p[1]).fold(f32::NEG_INFINITY, f32::max).ceil().max(0.0) as u32).min(height);
    let mut xs = Vec::with_capacity(8);
    for y in y0..y1 {
        let cy = y as f32 + 0.5;
        xs.clear();
        for (i, a) in polygon.iter().enumerate() {
            let b = polygon[(i + 1) % polygon.len()];
            if (a[1] <= cy) != (b[1] <= cy) {
                xs.push(a[0] + (cy - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
            }
        }
        xs.sort_by(f32::total_cmp);
        for span in xs.chunks_exact(2) {
            let from = (span[0] - 0.5).ceil().max(0.0) as u32;
            let to = ((span[1] - 0.5).floor() + 1.0).clamp(0.0, width as f32) as u32;
            for x in from..to {
                f(x, y);
            }
        }
    }
}

fn face_polygon(mesh: &Mesh) -> Vec<[f32; 2]> {
    points::FACE_OVAL.iter().map(|&i| mesh.xy(i)).collect()
}

fn mean_face_luminance(img: &RgbImage, mesh: &Mesh) -> f32 {
    let (mut sum, mut n) = (0f64, 0f64);
    for_each_inside(&face_polygon(mesh), img.width(), img.height(), |x, y| {
        sum += f64::from(luminance(img.get_pixel(x, y)));
        n += 1.0;
    });
    if n < 1.0 {
        128.0
    } else {
        (sum / n) as f32
    }
}

/// OFIQ-style illumination uniformity: 32-bin luminance histograms of the
/// face's two halves (split along the line from the nose bridge to the
/// chin, the skin between the brows and the mouth), each normalised; their
/// intersection. 1 is the same light on both halves.
pub fn illumination_uniformity(img: &RgbImage, mesh: &Mesh) -> f32 {
    let (top, chin) = (mesh.xy(BRIDGE), mesh.xy(points::CHIN));
    let brow_y = mesh.xy(BRIDGE)[1] - 0.05 * face_height(mesh);
    let mouth_y = mesh.xy(points::INNER_LIP_PAIRS[2].1)[1];
    let mut hist = [[0f32; 32]; 2];
    for_each_inside(&face_polygon(mesh), img.width(), img.height(), |x, y| {
        let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
        if py < brow_y || py > mouth_y {
            return;
        }
        // Which side of the bridge–chin line.
        let side = (chin[0] - top[0]) * (py - top[1]) - (chin[1] - top[1]) * (px - top[0]);
        let half = usize::from(side < 0.0);
        let bin = ((luminance(img.get_pixel(x, y)) / 256.0 * 32.0) as usize).min(31);
        hist[half][bin] += 1.0;
    });
    let (a, b): (f32, f32) = (hist[0].iter().sum(), hist[1].iter().sum());
    if a < 20.0 || b < 20.0 {
        return 0.0;
    }
    hist[0].iter().zip(&hist[1]).map(|(l, r)| (l / a).min(r / b)).sum()
}

/// Shares of face pixels at luminance ≤ 25 and ≥ 247 (OFIQ's ranges), in
/// the face's outline from the brows down (black bangs over the forehead
/// are hair, not a crushed face).
fn clipping(img: &RgbImage, mesh: &Mesh) -> (f32, f32) {
    let (mut dark, mut bright, mut n) = (0u32, 0u32, 0u32);
    let brow_y = mesh.xy(BRIDGE)[1] - 0.05 * face_height(mesh);
    for_each_inside(&face_polygon(mesh), img.width(), img.height(), |x, y| {
        if (y as f32 + 0.5) < brow_y {
            return;
        }
        let l = luminance(img.get_pixel(x, y));
        dark += u32::from(l <= 25.0);
        bright += u32::from(l >= 247.0);
        n += 1;
    });
    if n == 0 {
        return (0.0, 0.0);
    }
    (dark as f32 / n as f32, bright as f32 / n as f32)
}

/// Around each eye, where a lens sits (the eye's box widened to 1.6× and
/// made 2.5× as tall), the share of near-white pixels (every channel ≥ 235):
/// a lens's reflection of the lights. The eye's own opening is left out (the
/// white of a brightly lit eye and its catchlight are not glare; a glare
/// that hides the eye hides the iris too, which `eyes_open` sees). The more
/// glaring eye counts.
pub fn glare(img: &RgbImage, mesh: &Mesh) -> f32 {
    let share = |ids: &[usize]| {
        let outline: Vec<[f32; 2]> = ids.iter().map(|&i| mesh.xy(i)).collect();
        let mut opening = std::collections::HashSet::new();
        for_each_inside(&outline, img.width(), img.height(), |x, y| {
            opening.insert((x, y));
        });
        let xs = ids.iter().map(|&i| mesh.xy(i)[0]);
        let ys = ids.iter().map(|&i| mesh.xy(i)[1]);
        let (x0, x1) = xs.fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let (y0, y1) = ys.fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let (hw, hh) = ((x1 - x0) * 0.8, ((y1 - y0) * 1.25).max((x1 - x0) * 0.35));
        let rx = |v: f32| v.clamp(0.0, img.width() as f32) as u32;
        let ry = |v: f32| v.clamp(0.0, img.height() as f32) as u32;
        let (mut white, mut n) = (0u32, 0u32);
        for y in ry(cy - hh)..ry(cy + hh) {
            for x in rx(cx - hw)..rx(cx + hw) {
                if opening.contains(&(x, y)) {
                    continue;
                }
                let p = img.get_pixel(x, y);
                white += u32::from(p.0.iter().all(|&v| v >= 235));
                n += 1;
            }
        }
        if n == 0 {
            0.0
        } else {
            white as f32 / n as f32
        }
    };
    share(&points::RIGHT_EYE).max(share(&points::LEFT_EYE))
}

/// The clothing's colour: the median of each channel over the shoulders,
/// two patches beside the neck from a third of a face height below the chin
/// to the picture's bottom, each from 0.35 to 1.0 face width out from the
/// middle. `None` when less than a few rows of them are in the picture.
pub fn clothing(img: &RgbImage, mesh: &Mesh) -> Option<[f32; 3]> {
    let chin = mesh.xy(points::CHIN);
    let fw = dist(mesh.xy(points::CHEEK_IMAGE_LEFT), mesh.xy(points::CHEEK_IMAGE_RIGHT)).max(1.0);
    let y0 = (chin[1] + face_height(mesh) / 3.0).max(0.0);
    let y1 = img.height() as f32;
    if y1 - y0 < 8.0 {
        return None;
    }
    let mut channels: [Vec<u8>; 3] = Default::default();
    for (from, to) in [(-1.0, -0.35), (0.35, 1.0)] {
        let x0 = (chin[0] + from * fw).clamp(0.0, img.width() as f32) as u32;
        let x1 = (chin[0] + to * fw).clamp(0.0, img.width() as f32) as u32;
        for y in (y0 as u32..y1 as u32).step_by(2) {
            for x in (x0..x1).step_by(2) {
                let p = img.get_pixel(x, y);
                for (c, v) in channels.iter_mut().zip(p.0) {
                    c.push(v);
                }
            }
        }
    }
    if channels[0].len() < 50 {
        return None;
    }
    Some(channels.map(|mut c| {
        let mid = c.len() / 2;
        let (_, m, _) = c.select_nth_unstable(mid);
        f32::from(*m)
    }))
}

/// Hue (degrees), saturation and value (0–1) of an RGB colour.
pub fn hsv(rgb: [f32; 3]) -> (f32, f32, f32) {
    let [r, g, b] = rgb.map(|v| v / 255.0);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    let hue = if d <= f32::EPSILON {
        0.0
    } else if max == r {
        60.0 * ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    (hue, if max <= 0.0 { 0.0 } else { d / max }, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_polygon_covers_the_pixels_whose_centres_are_inside() {
        let square = [[2.0, 2.0], [6.0, 2.0], [6.0, 5.0], [2.0, 5.0]];
        let mut n = 0;
        for_each_inside(&square, 10, 10, |x, y| {
            assert!((2..6).contains(&x) && (2..5).contains(&y));
            n += 1;
        });
        assert_eq!(n, 12);
        // Outside the picture: nothing, no panic.
        for_each_inside(&[[-5.0, -5.0], [-1.0, -5.0], [-1.0, -1.0]], 10, 10, |_, _| panic!("outside"));
    }

    #[test]
    fn hue_saturation_and_value_of_the_backdrop_blue_and_a_white_shirt() {
        let (h, s, v) = hsv([100.0, 197.0, 255.0]);
        assert!((h - 202.5).abs() < 1.0 && (s - 0.61).abs() < 0.01 && (v - 1.0).abs() < 1e-6);
        let (_, s, _) = hsv([250.0, 250.0, 250.0]);
        assert!(s < 1e-6);
    }
}
