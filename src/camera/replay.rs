//! `ReplaySource`: plays a folder of images (PNG, JPEG, BMP, GIF) in name
//! order at a given frame rate — for tests, demos and bug reports. JPEG files
//! are handed on as the frame's own JPEG, as an MJPEG camera would.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{CameraError, Frame, FrameSource, SourceFactory};

/// Image files in a folder, sorted by name.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>, CameraError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CameraError::Open(format!("{}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["png", "jpg", "jpeg", "bmp", "gif"].contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(CameraError::Open(format!("{}: no images", dir.display())));
    }
    Ok(files)
}

/// Plays frames from memory or files at `fps`.
pub struct ReplaySource {
    name: String,
    frames: Arc<Vec<Frame>>,
    next: usize,
    looping: bool,
    interval: Duration,
    next_due: Instant,
}

impl std::fmt::Debug for ReplaySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplaySource").field("name", &self.name).field("frames", &self.frames.len()).finish()
    }
}

impl ReplaySource {
    /// Replays `frames` at `fps`; `looping` starts over at the end.
    pub fn from_frames(name: &str, frames: Arc<Vec<Frame>>, fps: f32, looping: bool) -> Self {
        let interval = Duration::from_secs_f32(1.0 / fps.max(0.1));
        ReplaySource { name: name.to_string(), frames, next: 0, looping, interval, next_due: Instant::now() }
    }

    /// Loads every image of `dir` (decoding once, up front).
    pub fn load_dir(dir: &Path) -> Result<Arc<Vec<Frame>>, CameraError> {
        let mut frames = Vec::new();
        for path in image_files(dir)? {
            let bytes = std::fs::read(&path).map_err(|e| CameraError::Open(format!("{}: {e}", path.display())))?;
            let img = image::load_from_memory(&bytes)
                .map_err(|e| CameraError::Open(format!("{}: {e}", path.display())))?
                .to_rgb8();
            let is_jpeg = matches!(image::guess_format(&bytes), Ok(image::ImageFormat::Jpeg));
            frames.push(Frame::new(img, is_jpeg.then_some(bytes)));
        }
        Ok(Arc::new(frames))
    }
}

impl FrameSource for ReplaySource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        if self.next >= self.frames.len() {
            if !self.looping || self.frames.is_empty() {
                return Err(CameraError::EndOfStream);
            }
            self.next = 0;
        }
        let now = Instant::now();
        if self.next_due > now {
            std::thread::sleep(self.next_due - now);
        }
        self.next_due = Instant::now() + self.interval;
        let mut frame = self.frames[self.next].clone();
        frame.captured_at = Instant::now();
        self.next += 1;
        Ok(frame)
    }
}

/// Opens a replay of a folder (loaded once, replayed on every reopen).
#[derive(Debug, Clone)]
pub struct ReplayFactory {
    pub name: String,
    pub frames: Arc<Vec<Frame>>,
    pub fps: f32,
    pub looping: bool,
}

impl ReplayFactory {
    pub fn from_dir(dir: &Path, fps: f32, looping: bool) -> Result<Self, CameraError> {
        Ok(ReplayFactory { name: dir.display().to_string(), frames: ReplaySource::load_dir(dir)?, fps, looping })
    }
}

impl SourceFactory for ReplayFactory {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn open(&self) -> Result<Box<dyn FrameSource>, CameraError> {
        Ok(Box::new(ReplaySource::from_frames(&self.name, self.frames.clone(), self.fps, self.looping)))
    }
}
