//! Frame sources and the capture thread.
//!
//! Hardware sits behind [`FrameSource`]: the USB camera (nokhwa, only in
//! `usb.rs`), [`replay::ReplaySource`] (a folder of images at a given fps, for
//! tests and bug reports) and [`demo::DemoSource`] (synthetic students). One
//! named capture thread owns the source and publishes the newest frame in a
//! one-slot [`FrameSlot`] (older frames are dropped, never queued).
//!
//! nokhwa has no frame timeout, so a watchdog reopens the camera by its name
//! when no frame came for [`STALL_TIMEOUT_MS`]: the blocked reader is
//! abandoned (it exits when its call returns) and a new reader is started. An
//! unplugged camera therefore resumes by itself when it is plugged back in;
//! the capture queue is never touched by any of this.

pub mod demo;
pub mod folder;
pub mod replay;
pub mod synth;
pub mod usb;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use crate::frame::{Frame, FrameSlot};

/// No frame for this long means the camera is stalled.
pub const STALL_TIMEOUT_MS: u64 = 2000;

/// Camera faults, phrased for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    #[error("未找到摄像头 {0} / camera not found: {0}")]
    NotFound(String),
    #[error("没有可用的摄像头 / no camera is connected")]
    NoCamera,
    #[error("摄像头无法打开：{0} / the camera cannot be opened: {0}")]
    Open(String),
    #[error("摄像头画面读取失败：{0} / reading a frame failed: {0}")]
    Read(String),
    #[error("画面无法解码（已丢弃）：{0} / a frame did not decode (dropped): {0}")]
    BadFrame(String),
    #[error("回放结束 / the replay has ended")]
    EndOfStream,
    #[error("无法启动线程：{0} / cannot start a thread: {0}")]
    Thread(String),
    #[error("相机触发命令无法运行：{0} / the camera trigger command cannot run: {0}")]
    Trigger(String),
}

impl crate::text::Bilingual for CameraError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::NotFound(f0) => Text::new(format!("未找到摄像头 {f0}"), format!("camera not found: {f0}")),
            Self::NoCamera => Text::new("没有可用的摄像头", "no camera is connected"),
            Self::Open(f0) => Text::new(format!("摄像头无法打开：{f0}"), format!("the camera cannot be opened: {f0}")),
            Self::Read(f0) => Text::new(format!("摄像头画面读取失败：{f0}"), format!("reading a frame failed: {f0}")),
            Self::BadFrame(f0) => {
                Text::new(format!("画面无法解码（已丢弃）：{f0}"), format!("a frame did not decode (dropped): {f0}"))
            }
            Self::EndOfStream => Text::new("回放结束", "the replay has ended"),
            Self::Thread(f0) => Text::new(format!("无法启动线程：{f0}"), format!("cannot start a thread: {f0}")),
            Self::Trigger(f0) => {
                Text::new(format!("相机触发命令无法运行：{f0}"), format!("the camera trigger command cannot run: {f0}"))
            }
        }
    }
}

/// The webcam's exposure and white balance, locked to these values (so a
/// dark or white shirt does not move the backdrop's colour), or left
/// automatic (`None`: the camera is not touched).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Locks {
    /// Exposure in the camera's own units (UVC: 100 µs steps).
    pub exposure: Option<i64>,
    /// White balance in kelvin.
    pub white_balance_k: Option<i64>,
}

/// What became of a lock when the camera was opened, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockNote {
    Locked {
        what: LockedControl,
        value: i64,
    },
    /// The camera does not offer it (or refused the value).
    NotOffered {
        what: LockedControl,
        reason: String,
    },
}

/// A control the station can lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockedControl {
    Exposure,
    WhiteBalance,
}

impl LockNote {
    pub fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        let name = |w: &LockedControl| match w {
            LockedControl::Exposure => ("曝光", "exposure"),
            LockedControl::WhiteBalance => ("白平衡", "white balance"),
        };
        match self {
            Self::Locked { what, value } => {
                let (zh, en) = name(what);
                Text::new(format!("{zh}已锁定 {value}"), format!("{en} locked at {value}"))
            }
            Self::NotOffered { what, reason } => {
                let (zh, en) = name(what);
                Text::new(
                    format!("此摄像头无法锁定{zh}（{reason}）"),
                    format!("this camera cannot lock its {en} ({reason})"),
                )
            }
        }
    }
}

/// A source of frames, opened and used on one capture thread (a USB camera
/// handle may not move between threads). `next_frame` may block (a real camera blocks until the
/// next frame); `BadFrame` errors are dropped frames, others end the source.
pub trait FrameSource {
    /// Human-readable name (the camera's name, the replay folder, "demo").
    fn name(&self) -> String;
    fn next_frame(&mut self) -> Result<Frame, CameraError>;
    /// What became of the exposure and white-balance locks when it opened.
    fn lock_notes(&self) -> Vec<LockNote> {
        Vec::new()
    }
}

/// Opens a source; called again to reopen after a stall or an unplug.
pub trait SourceFactory: Send + Sync {
    fn name(&self) -> String;
    fn open(&self) -> Result<Box<dyn FrameSource>, CameraError>;
}

/// What the capture thread is doing, for the status bar.
#[derive(Debug, Clone, PartialEq)]
pub enum CameraState {
    Starting,
    Running {
        fps: f32,
    },
    /// No frame for [`STALL_TIMEOUT_MS`]; reopening.
    Stalled,
    /// The source could not be opened; retrying.
    Unavailable(CameraError),
    /// A replay that has played all its frames.
    Ended,
}

impl CameraState {
    pub fn label(&self) -> String {
        format!("{} / {}", self.label_zh(), self.label_en())
    }

    /// The state in Chinese, for the status bar.
    pub fn label_zh(&self) -> String {
        match self {
            CameraState::Starting => "摄像头启动中".into(),
            CameraState::Running { fps } => format!("摄像头正常 {fps:.0} fps"),
            CameraState::Stalled => "摄像头无画面，正在重新连接".into(),
            CameraState::Unavailable(e) => format!("{e}（重试中）"),
            CameraState::Ended => "回放结束".into(),
        }
    }

    /// The state in English, for the status bar.
    pub fn label_en(&self) -> String {
        match self {
            CameraState::Starting => "camera starting".into(),
            CameraState::Running { fps } => format!("camera running {fps:.0} fps"),
            CameraState::Stalled => "camera stalled, reconnecting".into(),
            CameraState::Unavailable(e) => format!("{e} (retrying)"),
            CameraState::Ended => "replay ended".into(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking holder cannot leave shared state half-written: recover the value.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Shared {
    state: Mutex<CameraState>,
    locks: Mutex<Vec<LockNote>>,
    last_frame_at: Mutex<Instant>,
    /// Readers whose generation is not the current one stop at their next frame.
    generation: AtomicU64,
    frames: AtomicU64,
    dropped: AtomicU64,
    stop: AtomicU64,
}

/// The capture thread and its watchdog.
pub struct Capture {
    slot: Arc<FrameSlot>,
    shared: Arc<Shared>,
    watchdog: Option<JoinHandle<()>>,
    source_name: String,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").field("source", &self.source_name).finish_non_exhaustive()
    }
}

impl Capture {
    /// Starts capturing from `factory` with a stall timeout of `stall_ms`.
    pub fn start(factory: Arc<dyn SourceFactory>, stall_ms: u64) -> Result<Self, CameraError> {
        let slot = FrameSlot::new();
        let shared = Arc::new(Shared {
            state: Mutex::new(CameraState::Starting),
            locks: Mutex::new(Vec::new()),
            last_frame_at: Mutex::new(Instant::now()),
            generation: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            stop: AtomicU64::new(0),
        });
        let source_name = factory.name();
        spawn_reader(factory.clone(), slot.clone(), shared.clone(), 0)?;
        let (wd_slot, wd_shared) = (slot.clone(), shared.clone());
        let watchdog = std::thread::Builder::new()
            .name("camera-watchdog".into())
            .spawn(move || watchdog_loop(factory, wd_slot, wd_shared, stall_ms))
            .map_err(|e| CameraError::Thread(e.to_string()))?;
        Ok(Capture { slot, shared, watchdog: Some(watchdog), source_name })
    }

    pub fn slot(&self) -> Arc<FrameSlot> {
        self.slot.clone()
    }

    pub fn state(&self) -> CameraState {
        lock(&self.shared.state).clone()
    }

    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// What became of the exposure and white-balance locks at the last open.
    pub fn lock_notes(&self) -> Vec<LockNote> {
        lock(&self.shared.locks).clone()
    }

    /// Frames published and frames dropped (undecodable) so far.
    pub fn frame_counts(&self) -> (u64, u64) {
        (self.shared.frames.load(Ordering::Relaxed), self.shared.dropped.load(Ordering::Relaxed))
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.shared.stop.store(1, Ordering::SeqCst);
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(w) = self.watchdog.take() {
            let _ = w.join();
        }
        // Readers blocked in a camera call exit when the call returns.
    }
}

fn set_state(shared: &Shared, state: CameraState) {
    *lock(&shared.state) = state;
}

fn spawn_reader(
    factory: Arc<dyn SourceFactory>,
    slot: Arc<FrameSlot>,
    shared: Arc<Shared>,
    generation: u64,
) -> Result<(), CameraError> {
    std::thread::Builder::new()
        .name(format!("camera-capture-{generation}"))
        .spawn(move || reader_loop(factory.as_ref(), &slot, &shared, generation))
        .map(|_| ())
        .map_err(|e| CameraError::Thread(e.to_string()))
}

fn reader_loop(factory: &dyn SourceFactory, slot: &FrameSlot, shared: &Shared, generation: u64) {
    let current = || shared.generation.load(Ordering::SeqCst) == generation && shared.stop.load(Ordering::SeqCst) == 0;
    let mut source = match factory.open() {
        Ok(s) => s,
        Err(e) => {
            if current() {
                tracing::warn!("camera open failed: {e}");
                set_state(shared, CameraState::Unavailable(e));
            }
            return; // the watchdog retries
        }
    };
    if current() {
        *lock(&shared.locks) = source.lock_notes();
    }
    let mut window_start = Instant::now();
    let mut window_frames = 0u32;
    while current() {
        match source.next_frame() {
            Ok(mut frame) => {
                if !current() {
                    break;
                }
                frame.number = shared.frames.fetch_add(1, Ordering::SeqCst) + 1;
                *lock(&shared.last_frame_at) = Instant::now();
                slot.publish(frame);
                window_frames += 1;
                let elapsed = window_start.elapsed().as_secs_f32();
                if elapsed >= 1.0 {
                    set_state(shared, CameraState::Running { fps: window_frames as f32 / elapsed });
                    window_start = Instant::now();
                    window_frames = 0;
                } else if matches!(
                    *lock(&shared.state),
                    CameraState::Starting | CameraState::Stalled | CameraState::Unavailable(_)
                ) {
                    set_state(shared, CameraState::Running { fps: 0.0 });
                }
            }
            Err(CameraError::BadFrame(e)) => {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("dropped a frame: {e}");
            }
            Err(CameraError::EndOfStream) => {
                if current() {
                    set_state(shared, CameraState::Ended);
                }
                return;
            }
            Err(e) => {
                if current() {
                    tracing::warn!("camera read failed: {e}");
                    set_state(shared, CameraState::Unavailable(e));
                }
                return; // the watchdog reopens
            }
        }
    }
}

fn watchdog_loop(factory: Arc<dyn SourceFactory>, slot: Arc<FrameSlot>, shared: Arc<Shared>, stall_ms: u64) {
    let tick = Duration::from_millis((stall_ms / 4).clamp(10, 250));
    let stall = Duration::from_millis(stall_ms);
    while shared.stop.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(tick);
        let state = lock(&shared.state).clone();
        if state == CameraState::Ended {
            continue;
        }
        let silent_for = lock(&shared.last_frame_at).elapsed();
        if silent_for >= stall && shared.stop.load(Ordering::SeqCst) == 0 {
            if !matches!(state, CameraState::Unavailable(_)) {
                set_state(&shared, CameraState::Stalled);
            }
            let generation = shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
            tracing::info!("no frame for {silent_for:?}: reopening {} (reader {generation})", factory.name());
            *lock(&shared.last_frame_at) = Instant::now();
            if let Err(e) = spawn_reader(factory.clone(), slot.clone(), shared.clone(), generation) {
                set_state(&shared, CameraState::Unavailable(e));
            }
        }
    }
}

#[cfg(test)]
mod tests;
