//! `DemoSource`: synthetic students for demos, training and a station with no
//! camera. Each student first holds up a phone showing a drill code, then
//! sits for a face-like portrait on the light-blue background; then the next.

use std::sync::Arc;
use std::time::{Duration, Instant};

use image::{GrayImage, RgbImage};

use super::synth::{phone_frame, portrait, PhoneShot, SeededRng};
use super::{CameraError, Frame, FrameSource, SourceFactory};
use crate::code::drill::{drill_code, DrillStudent};

/// How long the phone is shown, then how long the student sits.
pub const PHONE_MS: u64 = 1500;
pub const SITTING_MS: u64 = 4500;

/// The demo's students: masked names of every shape the rule knows.
pub fn demo_student(i: usize) -> DrillStudent {
    const NAMES: [&str; 8] = ["王*", "欧**娜", "阿***·**提", "李*", "张*丰", "赵*", "司**如", "陈*堃"];
    const CLASSES: [&str; 3] = ["法学 2101", "汉语言文学(公费师范)2101", "20数（1）"];
    DrillStudent {
        xh: format!("2021{:06}", 100 + i),
        xm: NAMES[i % NAMES.len()].to_string(),
        zjhm: format!("{:04}", (i * 3571 + 17) % 10_000),
        class: CLASSES[(i / 8) % CLASSES.len()].to_string(),
        college: "演示学院".to_string(),
        level: "本科".to_string(),
    }
}

fn gray_to_rgb(g: &GrayImage) -> RgbImage {
    RgbImage::from_fn(g.width(), g.height(), |x, y| {
        let v = g.get_pixel(x, y)[0];
        image::Rgb([v, v, v])
    })
}

/// Synthetic students at `width` × `height`, `fps` frames a second.
pub struct DemoSource {
    width: u32,
    height: u32,
    interval: Duration,
    started: Instant,
    next_due: Instant,
    school_code: String,
    cache: Option<(usize, Arc<RgbImage>, Arc<RgbImage>)>,
}

impl std::fmt::Debug for DemoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoSource").field("width", &self.width).field("height", &self.height).finish()
    }
}

impl DemoSource {
    pub fn new(width: u32, height: u32, fps: f32, school_code: &str) -> Self {
        let now = Instant::now();
        DemoSource {
            width,
            height,
            interval: Duration::from_secs_f32(1.0 / fps.max(0.1)),
            started: now,
            next_due: now,
            school_code: school_code.to_string(),
            cache: None,
        }
    }

    /// The phone frame and the portrait of student `i`.
    fn frames_for(&mut self, i: usize) -> Result<(Arc<RgbImage>, Arc<RgbImage>), CameraError> {
        if let Some((ci, phone, face)) = &self.cache {
            if *ci == i {
                return Ok((phone.clone(), face.clone()));
            }
        }
        let code = drill_code(&demo_student(i), &self.school_code, chrono::Utc::now().timestamp_millis());
        let mut rng = SeededRng::new(i as u64 + 1);
        let mut shot = PhoneShot::typical(&mut rng);
        shot.module_px = shot.module_px * f64::from(self.height) / 720.0;
        let phone = phone_frame(&code.to_payload(), self.width, self.height, shot, i as u64)
            .map_err(|e| CameraError::Read(e.to_string()))?;
        let phone = Arc::new(gray_to_rgb(&phone));
        let face = Arc::new(portrait(self.width, self.height, i as u64 + 7));
        self.cache = Some((i, phone.clone(), face.clone()));
        Ok((phone, face))
    }
}

impl FrameSource for DemoSource {
    fn name(&self) -> String {
        "演示摄像头 / demo camera".to_string()
    }

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let now = Instant::now();
        if self.next_due > now {
            std::thread::sleep(self.next_due - now);
        }
        self.next_due = Instant::now() + self.interval;
        let cycle_ms = PHONE_MS + SITTING_MS;
        let t = self.started.elapsed().as_millis() as u64;
        let student = (t / cycle_ms) as usize;
        let (phone, face) = self.frames_for(student)?;
        let rgb = if t % cycle_ms < PHONE_MS { phone } else { face };
        Ok(Frame { rgb, jpeg: None, number: 0, captured_at: Instant::now() })
    }
}

/// Opens demo sources.
#[derive(Debug, Clone)]
pub struct DemoFactory {
    pub width: u32,
    pub height: u32,
    pub fps: f32,
    pub school_code: String,
}

impl SourceFactory for DemoFactory {
    fn name(&self) -> String {
        "演示摄像头 / demo camera".to_string()
    }

    fn open(&self) -> Result<Box<dyn FrameSource>, CameraError> {
        Ok(Box::new(DemoSource::new(self.width, self.height, self.fps, &self.school_code)))
    }
}
