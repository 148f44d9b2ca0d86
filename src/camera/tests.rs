//! The capture thread against misbehaving sources: stalls, unplugs, bad frames.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::replay::ReplayFactory;
use super::*;
use image::RgbImage;

fn small_frame(v: u8) -> Frame {
    Frame::new(RgbImage::from_pixel(8, 8, image::Rgb([v, v, v])), None)
}

fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A camera that delivers `frames_per_open` frames, then blocks "forever"
/// (as nokhwa does when a camera hangs), and fails its first `failed_opens`.
struct FlakyFactory {
    opens: Arc<AtomicUsize>,
    failed_opens: usize,
    frames_per_open: usize,
    bad_every: usize,
}

struct FlakySource {
    left: usize,
    n: usize,
    bad_every: usize,
}

impl FrameSource for FlakySource {
    fn name(&self) -> String {
        "flaky".into()
    }
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        std::thread::sleep(Duration::from_millis(5));
        if self.left == 0 {
            std::thread::sleep(Duration::from_secs(3600));
        }
        self.left -= 1;
        self.n += 1;
        if self.bad_every > 0 && self.n.is_multiple_of(self.bad_every) {
            return Err(CameraError::BadFrame("corrupt MJPEG".into()));
        }
        Ok(small_frame(self.n as u8))
    }
}

impl SourceFactory for FlakyFactory {
    fn name(&self) -> String {
        "flaky".into()
    }
    fn open(&self) -> Result<Box<dyn FrameSource>, CameraError> {
        let n = self.opens.fetch_add(1, Ordering::SeqCst);
        if n < self.failed_opens {
            return Err(CameraError::NoCamera);
        }
        Ok(Box::new(FlakySource { left: self.frames_per_open, n: 0, bad_every: self.bad_every }))
    }
}

#[test]
fn the_slot_keeps_only_the_newest_frame() {
    let slot = FrameSlot::new();
    assert!(slot.latest().is_none());
    for n in 1..=3 {
        let mut f = small_frame(n as u8);
        f.number = n;
        slot.publish(f);
    }
    assert_eq!(slot.latest().map(|f| f.number), Some(3));
    assert!(slot.wait_newer(3, Duration::from_millis(20)).is_none());
    assert_eq!(slot.wait_newer(2, Duration::from_millis(20)).map(|f| f.number), Some(3));
}

#[test]
fn a_replay_plays_its_frames_then_ends() {
    let factory = Arc::new(ReplayFactory::from_frames("test", (0..5).map(small_frame).collect(), 200.0, false));
    let capture = Capture::start(factory, 1000).unwrap();
    wait_for("the end of the replay", Duration::from_secs(5), || capture.state() == CameraState::Ended);
    assert_eq!(capture.frame_counts().0, 5);
    assert_eq!(capture.slot().latest().map(|f| f.number), Some(5));
}

#[test]
fn a_stalled_camera_is_reopened_and_frames_resume() {
    let opens = Arc::new(AtomicUsize::new(0));
    let factory = Arc::new(FlakyFactory { opens: opens.clone(), failed_opens: 0, frames_per_open: 10, bad_every: 0 });
    let capture = Capture::start(factory, 150).unwrap();
    wait_for("a reopen after the stall", Duration::from_secs(5), || opens.load(Ordering::SeqCst) >= 2);
    wait_for("frames from the reopened camera", Duration::from_secs(5), || capture.frame_counts().0 > 10);
    assert!(capture.frame_counts().0 > 10);
}

#[test]
fn an_unplugged_camera_is_retried_until_it_comes_back() {
    let opens = Arc::new(AtomicUsize::new(0));
    let factory = Arc::new(FlakyFactory { opens: opens.clone(), failed_opens: 3, frames_per_open: 1000, bad_every: 0 });
    let capture = Capture::start(factory, 60).unwrap();
    wait_for("the camera to be unavailable", Duration::from_secs(5), || {
        matches!(capture.state(), CameraState::Unavailable(CameraError::NoCamera))
    });
    wait_for("frames after the replug", Duration::from_secs(5), || capture.frame_counts().0 > 5);
    assert!(matches!(capture.state(), CameraState::Running { .. }));
    assert!(opens.load(Ordering::SeqCst) >= 4);
}

#[test]
fn undecodable_frames_are_dropped_and_counted() {
    let opens = Arc::new(AtomicUsize::new(0));
    let factory = Arc::new(FlakyFactory { opens, failed_opens: 0, frames_per_open: 1000, bad_every: 3 });
    let capture = Capture::start(factory, 1000).unwrap();
    wait_for("some frames", Duration::from_secs(5), || capture.frame_counts().0 >= 10);
    let (good, dropped) = capture.frame_counts();
    assert!(dropped >= 3, "{good} good, {dropped} dropped");
    assert!(matches!(capture.state(), CameraState::Running { .. }));
}

#[test]
fn the_demo_source_shows_a_readable_code_then_a_face() {
    let mut demo = demo::DemoSource::new(1280, 720, 30.0, "10697");
    let phone = demo.next_frame().unwrap();
    let luma = image::DynamicImage::ImageRgb8((*phone.rgb).clone()).to_luma8();
    let texts = crate::scan::decode_gray(&luma);
    assert_eq!(texts.len(), 1);
    let code = crate::code::parse(&texts[0]).unwrap();
    assert_eq!(code.xh, demo::demo_student(0).xh);
}

#[test]
fn a_replay_folder_keeps_files_compressed_and_drops_a_corrupt_frame() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = crate::photo::encode_jpeg(&synth::portrait(320, 240, 1), 90).unwrap();
    std::fs::write(dir.path().join("a.jpg"), &jpeg).unwrap();
    synth::portrait(320, 240, 2).save(dir.path().join("b.png")).unwrap();
    let factory = ReplayFactory::from_dir(dir.path(), 100.0, false).unwrap();
    assert!(factory.frames.iter().all(|f| matches!(f, replay::ReplayItem::Encoded { .. })));
    let mut source = factory.open().unwrap();
    let first = source.next_frame().unwrap();
    assert!(first.jpeg.as_deref().is_some_and(|j| *j == jpeg), "a JPEG file is the frame's own JPEG");
    assert!(source.next_frame().unwrap().jpeg.is_none());
    assert!(matches!(source.next_frame(), Err(CameraError::EndOfStream)));
    std::fs::write(dir.path().join("c.jpg"), b"\xFF\xD8 not really").unwrap();
    assert!(
        ReplayFactory::from_dir(dir.path(), 10.0, false).is_err(),
        "a folder with a broken file is refused up front"
    );
}

/// A camera that offers no exposure control (as many cheap webcams).
struct NoControls;

impl FrameSource for NoControls {
    fn name(&self) -> String {
        "no-controls".into()
    }
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        std::thread::sleep(Duration::from_millis(5));
        Ok(small_frame(1))
    }
    fn lock_notes(&self) -> Vec<LockNote> {
        vec![
            LockNote::NotOffered { what: LockedControl::Exposure, reason: "no such control".into() },
            LockNote::Locked { what: LockedControl::WhiteBalance, value: 5500 },
        ]
    }
}

struct NoControlsFactory;

impl SourceFactory for NoControlsFactory {
    fn name(&self) -> String {
        "no-controls".into()
    }
    fn open(&self) -> Result<Box<dyn FrameSource>, CameraError> {
        Ok(Box::new(NoControls))
    }
}

#[test]
fn what_became_of_the_locks_reaches_the_station() {
    let capture = Capture::start(Arc::new(NoControlsFactory), STALL_TIMEOUT_MS).unwrap();
    wait_for("the locks' notes", Duration::from_secs(5), || !capture.lock_notes().is_empty());
    let notes: Vec<String> = capture.lock_notes().iter().map(|n| n.text().en).collect();
    assert_eq!(notes, ["this camera cannot lock its exposure (no such control)", "white balance locked at 5500"]);
}
