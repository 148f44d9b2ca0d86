//! The live scanner: a named worker thread decodes the newest camera frame
//! as fast as it can (frames that arrive meanwhile are skipped, never
//! queued) and reports each code once: the same phone held in view is not
//! reported again until it has been out of view for `hold_ms`; a different
//! code is reported at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::decode_frame;
use crate::frame::{Frame, FrameSlot};
pub use crate::worker::WorkerError;
use crate::worker::{Wake, Worker};

/// How long a code stays "already seen" after it was last in view.
pub const DEFAULT_HOLD_MS: u64 = 3000;

/// Reports each code once per appearance.
#[derive(Debug, Clone)]
pub struct Debouncer {
    hold: Duration,
    last_seen: HashMap<String, Instant>,
}

impl Debouncer {
    pub fn new(hold_ms: u64) -> Self {
        Debouncer { hold: Duration::from_millis(hold_ms), last_seen: HashMap::new() }
    }

    /// True when `text`, seen at `now`, should be reported.
    pub fn accept(&mut self, text: &str, now: Instant) -> bool {
        let fresh = self.last_seen.get(text).is_none_or(|&t| now.saturating_duration_since(t) > self.hold);
        self.last_seen.insert(text.to_string(), now);
        let hold = self.hold;
        self.last_seen.retain(|_, t| now.saturating_duration_since(*t) <= hold * 4);
        fresh
    }
}

/// A code read from a frame.
#[derive(Debug, Clone)]
pub struct ScanHit {
    pub text: String,
    /// The frame it was read from (its thumbnail goes with the record).
    pub frame: Frame,
    pub decode_ms: f64,
    pub decoded_at: Instant,
}

/// Counters of the worker, for the status bar and benchmarks.
#[derive(Debug, Default)]
pub struct ScanStats {
    pub frames: AtomicU64,
    pub hits: AtomicU64,
    /// Decode time of the last frame, in microseconds.
    pub last_decode_us: AtomicU64,
}

/// The running scanner thread.
#[derive(Debug)]
pub struct ScanWorker {
    worker: Worker<ScanHit>,
    stats: Arc<ScanStats>,
}

impl ScanWorker {
    /// Decodes frames from `slot` until dropped. `wake` is called after each
    /// code is sent (the UI repaints at once, not at its next tick).
    pub fn start(slot: Arc<FrameSlot>, hold_ms: u64, wake: Wake) -> Result<Self, WorkerError> {
        let stats = Arc::new(ScanStats::default());
        let t_stats = stats.clone();
        let worker = Worker::spawn("qr-decoder", wake, move |out| {
            let mut debouncer = Debouncer::new(hold_ms);
            let mut last = 0;
            while !out.stopping() {
                let Some(frame) = slot.wait_newer(last, Duration::from_millis(100)) else { continue };
                last = frame.number;
                let start = Instant::now();
                let texts = decode_frame(&frame.rgb);
                let elapsed = start.elapsed();
                t_stats.frames.fetch_add(1, Ordering::Relaxed);
                t_stats.last_decode_us.store(elapsed.as_micros() as u64, Ordering::Relaxed);
                let now = Instant::now();
                for text in texts {
                    if debouncer.accept(&text, now) {
                        t_stats.hits.fetch_add(1, Ordering::Relaxed);
                        let hit = ScanHit {
                            text,
                            frame: frame.clone(),
                            decode_ms: elapsed.as_secs_f64() * 1000.0,
                            decoded_at: now,
                        };
                        if !out.send(hit) {
                            return;
                        }
                    }
                }
            }
        })?;
        Ok(ScanWorker { worker, stats })
    }

    /// The next code read, if any (never blocks).
    pub fn try_recv(&self) -> Option<ScanHit> {
        self.worker.try_recv()
    }

    /// Waits up to `timeout` for the next code (tests, headless tools).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<ScanHit> {
        self.worker.recv_timeout(timeout)
    }

    pub fn stats(&self) -> &ScanStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::demo::DemoFactory;
    use crate::camera::Capture;

    #[test]
    fn the_same_code_is_reported_once_while_in_view_and_others_at_once() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut d = Debouncer::new(3000);
        assert!(d.accept("A", at(0)));
        assert!(!d.accept("A", at(500)));
        assert!(!d.accept("A", at(3000)), "still in view: each sighting renews the hold");
        assert!(d.accept("B", at(3100)), "a different code at once");
        assert!(d.accept("A", at(6500)), "back after being out of view for longer than the hold");
    }

    #[test]
    fn the_worker_reads_the_demo_cameras_code_once() {
        let factory = Arc::new(DemoFactory { width: 1280, height: 720, fps: 30.0, school_code: "10697".into() });
        let capture = Capture::start(factory, 2000).unwrap();
        let worker = ScanWorker::start(capture.slot(), 3000, Box::new(|| {})).unwrap();
        let hit = worker.recv_timeout(Duration::from_secs(10)).expect("a code within the phone phase");
        let code = crate::code::parse(&hit.text).unwrap();
        assert_eq!(code.xh, crate::camera::demo::demo_student(0).xh);
        // The phone stays in view for the rest of its phase: no second report.
        assert!(worker.recv_timeout(Duration::from_millis(800)).is_none());
        assert!(worker.stats().frames.load(Ordering::Relaxed) > 1);
    }
}
