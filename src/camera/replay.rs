//! `ReplaySource`: plays a folder of images (PNG, JPEG, BMP, GIF) in name
//! order at a given frame rate — for tests, demos and bug reports. Like an
//! MJPEG camera it keeps only the compressed files and decodes each frame as
//! it is delivered (a folder of 1080p frames must not cost 6 MB a frame);
//! JPEG files are handed on as the frame's own JPEG.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{CameraError, Frame, FrameSource, SourceFactory};

/// Image files in a folder, sorted by name.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>, CameraError> {
    let files = crate::paths::images_in(dir, &crate::paths::FRAME_IMAGE_EXTENSIONS)
        .map_err(|e| CameraError::Open(format!("{}: {e}", dir.display())))?;
    if files.is_empty() {
        return Err(CameraError::Open(format!("{}: no images", dir.display())));
    }
    Ok(files)
}

/// One frame of a replay: already decoded (tests), or a file's bytes.
#[derive(Debug, Clone)]
pub enum ReplayItem {
    Decoded(Frame),
    Encoded { name: String, bytes: Arc<Vec<u8>>, is_jpeg: bool },
}

impl ReplayItem {
    fn frame(&self) -> Result<Frame, CameraError> {
        match self {
            ReplayItem::Decoded(f) => Ok(f.clone()),
            ReplayItem::Encoded { name, bytes, is_jpeg } => {
                let rgb = if *is_jpeg {
                    super::usb::decode_mjpeg(bytes)?
                } else {
                    image::load_from_memory(bytes).map_err(|e| CameraError::BadFrame(format!("{name}: {e}")))?.to_rgb8()
                };
                Ok(Frame::new(rgb, is_jpeg.then(|| bytes.as_ref().clone())))
            }
        }
    }
}

/// Plays frames from memory or files at `fps`.
pub struct ReplaySource {
    name: String,
    frames: Arc<Vec<ReplayItem>>,
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
    pub fn from_items(name: &str, frames: Arc<Vec<ReplayItem>>, fps: f32, looping: bool) -> Self {
        let interval = Duration::from_secs_f32(1.0 / fps.max(0.1));
        ReplaySource { name: name.to_string(), frames, next: 0, looping, interval, next_due: Instant::now() }
    }

    /// Reads every image file of `dir` (bytes only; each is checked to decode).
    pub fn load_dir(dir: &Path) -> Result<Arc<Vec<ReplayItem>>, CameraError> {
        let mut items = Vec::new();
        for path in image_files(dir)? {
            let bytes = std::fs::read(&path).map_err(|e| CameraError::Open(format!("{}: {e}", path.display())))?;
            let is_jpeg = matches!(image::guess_format(&bytes), Ok(image::ImageFormat::Jpeg));
            let item = ReplayItem::Encoded { name: path.display().to_string(), bytes: Arc::new(bytes), is_jpeg };
            item.frame().map_err(|e| CameraError::Open(e.to_string()))?;
            items.push(item);
        }
        Ok(Arc::new(items))
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
        let item = &self.frames[self.next];
        self.next += 1;
        let mut frame = item.frame()?;
        frame.captured_at = Instant::now();
        Ok(frame)
    }
}

/// Opens a replay of a folder (loaded once, replayed on every reopen).
#[derive(Debug, Clone)]
pub struct ReplayFactory {
    pub name: String,
    pub frames: Arc<Vec<ReplayItem>>,
    pub fps: f32,
    pub looping: bool,
}

impl ReplayFactory {
    /// Replays frames already in memory (tests).
    pub fn from_frames(name: &str, frames: Vec<Frame>, fps: f32, looping: bool) -> Self {
        let items = frames.into_iter().map(ReplayItem::Decoded).collect();
        ReplayFactory { name: name.to_string(), frames: Arc::new(items), fps, looping }
    }

    pub fn from_dir(dir: &Path, fps: f32, looping: bool) -> Result<Self, CameraError> {
        Ok(ReplayFactory { name: dir.display().to_string(), frames: ReplaySource::load_dir(dir)?, fps, looping })
    }
}

impl SourceFactory for ReplayFactory {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn open(&self) -> Result<Box<dyn FrameSource>, CameraError> {
        Ok(Box::new(ReplaySource::from_items(&self.name, self.frames.clone(), self.fps, self.looping)))
    }
}
