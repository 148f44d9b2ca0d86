//! A camera frame and the one-slot mailbox that carries the newest one from
//! the capture thread to its readers (the QR decoder, the framing hints,
//! the shutter). Older frames are dropped, never queued. Below both the
//! camera and the image work, so neither needs the other.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use image::RgbImage;

/// One camera frame. Cheap to clone: the pixels are shared.
#[derive(Debug, Clone)]
pub struct Frame {
    pub rgb: Arc<RgbImage>,
    /// The camera's own JPEG of this frame (MJPEG cameras), kept as the original.
    pub jpeg: Option<Arc<Vec<u8>>>,
    /// Counts frames from 1 over the life of a capture thread.
    pub number: u64,
    pub captured_at: Instant,
}

impl Frame {
    pub fn new(rgb: RgbImage, jpeg: Option<Vec<u8>>) -> Self {
        Frame { rgb: Arc::new(rgb), jpeg: jpeg.map(Arc::new), number: 0, captured_at: Instant::now() }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking holder cannot leave a frame slot half-written: recover the value.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The newest frame, shared between the capture thread and its readers.
#[derive(Debug, Default)]
pub struct FrameSlot {
    frame: Mutex<Option<Frame>>,
    arrived: Condvar,
}

impl FrameSlot {
    pub fn new() -> Arc<Self> {
        Arc::new(FrameSlot::default())
    }

    /// Replaces the frame in the slot.
    pub fn publish(&self, frame: Frame) {
        *lock(&self.frame) = Some(frame);
        self.arrived.notify_all();
    }

    /// The newest frame, if any.
    pub fn latest(&self) -> Option<Frame> {
        lock(&self.frame).clone()
    }

    /// Waits up to `timeout` for a frame numbered above `after`.
    pub fn wait_newer(&self, after: u64, timeout: Duration) -> Option<Frame> {
        let guard = lock(&self.frame);
        let (guard, _) = self
            .arrived
            .wait_timeout_while(guard, timeout, |f| f.as_ref().is_none_or(|f| f.number <= after))
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.as_ref().filter(|f| f.number > after).cloned()
    }
}
