//! The UI thread's frame times, logged for the benchmarks.

/// The UI thread's time per frame (eframe's measure: update, tessellation
/// and painting of the previous frame), logged as median and p95 every
/// [`FrameTimes::WINDOW`] frames on `gradcap::timing` (benches/station reads it).
#[derive(Debug, Default)]
pub(super) struct FrameTimes {
    ms: Vec<f32>,
}

impl FrameTimes {
    const WINDOW: usize = 150;

    pub(super) fn record(&mut self, ms: f32) {
        self.ms.push(ms);
        if self.ms.len() >= Self::WINDOW {
            self.ms.sort_by(f32::total_cmp);
            let at = |q: f32| self.ms[((self.ms.len() - 1) as f32 * q).round() as usize];
            tracing::info!(
                target: "gradcap::timing",
                "ui frames: {} frames, median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
                self.ms.len(),
                at(0.5),
                at(0.95),
                at(1.0)
            );
            self.ms.clear();
        }
    }
}
