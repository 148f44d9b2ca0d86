//! Live framing hints: a named worker finds the face in the newest camera
//! frame a few times a second and says where the crop would go and what to
//! fix (too small, too large, too high, too low, tilted; eyes closed, lips
//! apart, not facing the camera, uneven light, glare, clothing like the
//! backdrop). Never on the UI thread; frames that arrive meanwhile are
//! skipped, never queued; it rests at least as long as it worked, so it
//! takes at most half of one core however slow the machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::checks::{self, Face, Hint, Thresholds};
use super::{centred_crop, face, CropRect};
use crate::frame::FrameSlot;
use crate::worker::{Wake, Worker, WorkerError};

/// How often the hints are brought up to date.
pub const DEFAULT_INTERVAL_MS: u64 = 250;

/// The framing of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Framing {
    pub frame_size: [u32; 2],
    /// Where the deliverable would be cut from (frame pixels).
    pub crop: CropRect,
    /// The student's face (frame pixels), if found.
    pub face: Option<Face>,
    pub hints: Vec<Hint>,
    pub detect_ms: f64,
}

/// Hints for one frame (pure: used by the worker and by tests).
pub fn frame_framing(rgb: &image::RgbImage, thresholds: &Thresholds) -> Framing {
    let started = Instant::now();
    let faces = face::detect_for_photo(rgb).unwrap_or_default();
    let (w, h) = rgb.dimensions();
    let face = checks::main_face(&faces).copied();
    let (crop, head_top) = match &face {
        Some(f) => checks::place_crop(rgb, f, thresholds),
        None => (centred_crop(w, h), None),
    };
    let mut hints = checks::framing_hints_for(&faces, &crop, head_top, thresholds);
    // What the photo this frame would make fails of the student's checks
    // (eyes, lips, facing, light, glare, clothing): said before the shot.
    if face.is_some() {
        if let Ok(checked) = super::checked_with_crop(rgb, &faces, crop, thresholds) {
            let student = checks::student_hints(&checked.assessment.checks);
            if !student.is_empty() {
                hints.retain(|h| *h != Hint::Good);
                hints.extend(student);
            }
        }
    }
    Framing { frame_size: [w, h], crop, face, hints, detect_ms: started.elapsed().as_secs_f64() * 1000.0 }
}

/// The running framing thread.
#[derive(Debug)]
pub struct FramingWorker {
    worker: Worker<Framing>,
}

impl FramingWorker {
    /// Looks at the newest frame of `slot` every `interval_ms` until dropped;
    /// `wake` is called after each result.
    pub fn start(
        slot: Arc<FrameSlot>,
        thresholds: Thresholds,
        interval_ms: u64,
        wake: Wake,
    ) -> Result<Self, WorkerError> {
        let worker = Worker::spawn("framing", wake, move |out| {
            let mut last_seq = 0;
            while !out.stopping() {
                let Some(frame) = slot.wait_newer(last_seq, Duration::from_millis(500)) else { continue };
                last_seq = frame.number;
                let started = Instant::now();
                if !out.send(frame_framing(&frame.rgb, &thresholds)) {
                    return;
                }
                // At most half of one core: on a slow laptop the hints come
                // less often rather than taking the UI's and the scanner's
                // time. Rested in short steps, so a stop is seen at once.
                let worked = started.elapsed();
                let rest = Duration::from_millis(interval_ms).saturating_sub(worked).max(worked);
                let until = Instant::now() + rest;
                while !out.stopping() {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    std::thread::sleep(left.min(Duration::from_millis(20)));
                }
            }
        })?;
        Ok(FramingWorker { worker })
    }

    /// The newest result since the last call, if any.
    pub fn latest(&self) -> Option<Framing> {
        self.worker.latest()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::{synth, Frame};
    use std::sync::atomic::Ordering;

    fn thread_names() -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
            .map(|n| n.trim().to_string())
            .collect()
    }

    #[test]
    fn the_worker_frames_the_newest_frame_on_its_own_thread() {
        let slot = FrameSlot::new();
        let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = woken.clone();
        let worker = FramingWorker::start(
            slot.clone(),
            Thresholds::default(),
            20,
            Box::new(move || {
                counter.fetch_add(1, Ordering::Relaxed);
            }),
        )
        .unwrap();
        let mut frame = Frame::new(synth::portrait(1280, 720, 3), None);
        frame.number = 1;
        slot.publish(frame);
        let started = Instant::now();
        let framing = loop {
            if let Some(f) = worker.latest() {
                break f;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "no framing result");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(woken.load(Ordering::Relaxed) >= 1, "the UI is woken");
        if cfg!(target_os = "linux") {
            assert!(thread_names().iter().any(|n| n == "framing"), "{:?}", thread_names());
        }
        assert_eq!(framing.frame_size, [1280, 720]);
        let face = framing.face.expect("the synthetic student's face");
        let aspect = framing.crop.height as f32 / framing.crop.width as f32;
        assert!((aspect - 4.0 / 3.0).abs() < 0.01, "3:4, not {aspect}");
        let [ex, _] = face.eye_mid();
        assert!(framing.crop.x as f32 <= ex && ex <= (framing.crop.x + framing.crop.width) as f32);
        assert_eq!(framing.hints, [Hint::Good], "a well-framed synthetic student");
        // The same frame is not looked at again.
        std::thread::sleep(Duration::from_millis(100));
        assert!(worker.latest().is_none());
    }

    #[test]
    fn an_empty_frame_says_no_face_with_the_centred_crop() {
        let blank = image::RgbImage::from_pixel(1280, 720, image::Rgb([100, 197, 255]));
        let f = frame_framing(&blank, &Thresholds::default());
        assert_eq!(f.hints, [Hint::NoFace]);
        assert_eq!(f.crop, centred_crop(1280, 720));
        assert!(f.face.is_none());
    }
}
