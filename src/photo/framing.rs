//! Live framing hints: a named worker finds the face in the newest camera
//! frame a few times a second and says where the crop would go and what to
//! fix (too small, too large, too high, too low, tilted). Never on the UI
//! thread; frames that arrive meanwhile are skipped, never queued.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::checks::{self, Face, Hint, Thresholds};
use super::{centred_crop, face, CropRect};
use crate::camera::FrameSlot;

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
    let crop = match &face {
        Some(f) => checks::plan_crop(f, w, h),
        None => centred_crop(w, h),
    };
    Framing {
        frame_size: [w, h],
        crop,
        face,
        hints: checks::framing_hints(&faces, w, h, thresholds),
        detect_ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

/// The running framing thread.
#[derive(Debug)]
pub struct FramingWorker {
    rx: Receiver<Framing>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// Errors starting the worker.
#[derive(Debug, thiserror::Error)]
#[error("无法启动取景提示线程：{0} / cannot start the framing thread: {0}")]
pub struct FramingError(String);

impl FramingWorker {
    /// Looks at the newest frame of `slot` every `interval_ms` until dropped;
    /// `wake` is called after each result.
    pub fn start(
        slot: Arc<FrameSlot>,
        thresholds: Thresholds,
        interval_ms: u64,
        wake: Box<dyn Fn() + Send>,
    ) -> Result<Self, FramingError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let handle = std::thread::Builder::new()
            .name("framing".into())
            .spawn(move || {
                let mut last_seq = 0;
                while !stopping.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    if let Some(frame) = slot.wait_newer(last_seq, Duration::from_millis(500)) {
                        last_seq = frame.number;
                        if tx.send(frame_framing(&frame.rgb, &thresholds)).is_err() {
                            return;
                        }
                        wake();
                    }
                    let rest = Duration::from_millis(interval_ms).saturating_sub(started.elapsed());
                    std::thread::sleep(rest);
                }
            })
            .map_err(|e| FramingError(e.to_string()))?;
        Ok(FramingWorker { rx, stop, handle: Some(handle) })
    }

    /// The newest result since the last call, if any.
    pub fn latest(&self) -> Option<Framing> {
        self.rx.try_iter().last()
    }
}

impl Drop for FramingWorker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
