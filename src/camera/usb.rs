//! The USB camera, through nokhwa 0.10 (V4L2 on Linux, Media Foundation on
//! Windows, AVFoundation on macOS). The only file that names nokhwa.
//!
//! nokhwa's known faults are handled here: MJPEG frames are decoded by us
//! (zune-jpeg) and a frame that does not decode is dropped, never a panic;
//! the camera is opened by name (indices change on replug); format
//! negotiation falls back through what the camera lists: the wanted
//! resolution and rate in MJPEG, then YUYV, then the closest, then the
//! highest resolution it offers.

use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, ControlValueSetter, FrameFormat, KnownCameraControl, RequestedFormat,
    RequestedFormatType, Resolution,
};
use nokhwa::Camera;

use super::{CameraError, Frame, FrameSource, LockNote, LockedControl, Locks, SourceFactory};

/// A camera the system lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    pub name: String,
    pub description: String,
}

/// Cameras connected now. An error (no backend) reads as none.
pub fn list_cameras() -> Vec<CameraInfo> {
    nokhwa::query(ApiBackend::Auto)
        .map(|cams| {
            cams.into_iter()
                .map(|c| CameraInfo { name: c.human_name(), description: c.description().to_string() })
                .collect()
        })
        .unwrap_or_default()
}

/// What the operator chose in settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbRequest {
    /// Camera name; empty takes the first camera.
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Exposure and white balance to lock when the camera opens.
    pub locks: Locks,
}

fn find_index(name: &str) -> Result<(CameraIndex, String), CameraError> {
    let cams = nokhwa::query(ApiBackend::Auto).map_err(|e| CameraError::Open(e.to_string()))?;
    let found = if name.is_empty() { cams.first() } else { cams.iter().find(|c| c.human_name() == name) };
    match found {
        Some(c) => Ok((c.index().clone(), c.human_name())),
        None if cams.is_empty() => Err(CameraError::NoCamera),
        None => Err(CameraError::NotFound(name.to_string())),
    }
}

/// The formats to try, best first.
fn requests(req: &UsbRequest) -> Vec<RequestedFormatType> {
    let res = Resolution::new(req.width, req.height);
    vec![
        RequestedFormatType::Exact(CameraFormat::new(res, FrameFormat::MJPEG, req.fps)),
        RequestedFormatType::Exact(CameraFormat::new(res, FrameFormat::YUYV, req.fps)),
        RequestedFormatType::Closest(CameraFormat::new(res, FrameFormat::MJPEG, req.fps)),
        RequestedFormatType::HighestResolution(res),
        RequestedFormatType::AbsoluteHighestResolution,
        RequestedFormatType::None,
    ]
}

/// The control writes that lock `locks`, in order: the automatic mode off,
/// then the value. On Linux by their V4L2 ids (a UVC webcam's exposure is
/// `EXPOSURE_ABSOLUTE` with `EXPOSURE_AUTO` set to manual, its white balance
/// `WHITE_BALANCE_TEMPERATURE` with `AUTO_WHITE_BALANCE` off); elsewhere
/// through nokhwa's own names for them.
pub fn lock_plan(locks: &Locks) -> Vec<(LockedControl, KnownCameraControl, ControlValueSetter)> {
    let mut plan = Vec::new();
    if let Some(v) = locks.exposure {
        if cfg!(target_os = "linux") {
            const EXPOSURE_AUTO: u128 = 0x009a_0901;
            const EXPOSURE_ABSOLUTE: u128 = 0x009a_0902;
            plan.push((
                LockedControl::Exposure,
                KnownCameraControl::Other(EXPOSURE_AUTO),
                ControlValueSetter::Integer(1),
            ));
            plan.push((
                LockedControl::Exposure,
                KnownCameraControl::Other(EXPOSURE_ABSOLUTE),
                ControlValueSetter::Integer(v),
            ));
        } else {
            plan.push((LockedControl::Exposure, KnownCameraControl::Exposure, ControlValueSetter::Integer(v)));
        }
    }
    if let Some(k) = locks.white_balance_k {
        if cfg!(target_os = "linux") {
            const AUTO_WHITE_BALANCE: u128 = 0x0098_090c;
            plan.push((
                LockedControl::WhiteBalance,
                KnownCameraControl::Other(AUTO_WHITE_BALANCE),
                ControlValueSetter::Boolean(false),
            ));
        }
        plan.push((LockedControl::WhiteBalance, KnownCameraControl::WhiteBalance, ControlValueSetter::Integer(k)));
    }
    plan
}

/// Applies the locks to an open camera; a control the camera does not
/// offer is a note for the operator, never an error (or a panic: some
/// nokhwa backends leave controls unimplemented).
fn apply_locks(camera: &mut Camera, locks: &Locks) -> Vec<LockNote> {
    let mut notes: Vec<LockNote> = Vec::new();
    for (what, control, value) in lock_plan(locks) {
        if notes.iter().any(|n| matches!(n, LockNote::NotOffered { what: w, .. } if *w == what)) {
            continue;
        }
        let set = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            camera.set_camera_control(control, value.clone())
        }));
        match set {
            Ok(Ok(())) => {}
            Ok(Err(e)) => notes.push(LockNote::NotOffered { what, reason: e.to_string() }),
            Err(_) => notes.push(LockNote::NotOffered { what, reason: "not implemented on this system".into() }),
        }
    }
    for (what, value) in
        [(LockedControl::Exposure, locks.exposure), (LockedControl::WhiteBalance, locks.white_balance_k)]
    {
        if let Some(value) = value {
            if !notes.iter().any(|n| matches!(n, LockNote::NotOffered { what: w, .. } if *w == what)) {
                notes.push(LockNote::Locked { what, value });
            }
        }
    }
    for note in &notes {
        tracing::info!("camera lock: {}", note.text().en);
    }
    notes
}

/// An open USB camera.
pub struct UsbSource {
    name: String,
    camera: Camera,
    locks: Vec<LockNote>,
}

impl std::fmt::Debug for UsbSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbSource").field("name", &self.name).finish_non_exhaustive()
    }
}

impl UsbSource {
    pub fn open(req: &UsbRequest) -> Result<Self, CameraError> {
        let (index, name) = find_index(&req.name)?;
        let mut last_error = String::new();
        for wanted in requests(req) {
            let format = RequestedFormat::new::<RgbFormat>(wanted);
            match Camera::new(index.clone(), format) {
                Ok(mut camera) => match camera.open_stream() {
                    Ok(()) => {
                        tracing::info!("camera {name}: {}", camera.camera_format());
                        let locks = apply_locks(&mut camera, &req.locks);
                        return Ok(UsbSource { name, camera, locks });
                    }
                    Err(e) => last_error = e.to_string(),
                },
                Err(e) => last_error = e.to_string(),
            }
        }
        Err(CameraError::Open(format!("{name}: {last_error}")))
    }
}

/// Decodes a camera JPEG into RGB; a corrupt frame is an error, not a panic.
pub fn decode_mjpeg(bytes: &[u8]) -> Result<image::RgbImage, CameraError> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let pixels = decoder.decode().map_err(|e| CameraError::BadFrame(e.to_string()))?;
    let (w, h) = decoder.dimensions().ok_or_else(|| CameraError::BadFrame("no dimensions".into()))?;
    image::RgbImage::from_raw(w as u32, h as u32, pixels).ok_or_else(|| CameraError::BadFrame("short frame".into()))
}

impl FrameSource for UsbSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn lock_notes(&self) -> Vec<LockNote> {
        self.locks.clone()
    }

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let buffer = self.camera.frame().map_err(|e| CameraError::Read(e.to_string()))?;
        if buffer.source_frame_format() == FrameFormat::MJPEG {
            let bytes = buffer.buffer().to_vec();
            let rgb = decode_mjpeg(&bytes)?;
            return Ok(Frame::new(rgb, Some(bytes)));
        }
        let rgb = buffer.decode_image::<RgbFormat>().map_err(|e| CameraError::BadFrame(e.to_string()))?;
        let (w, h) = (rgb.width(), rgb.height());
        let rgb = image::RgbImage::from_raw(w, h, rgb.into_raw())
            .ok_or_else(|| CameraError::BadFrame("short frame".into()))?;
        Ok(Frame::new(rgb, None))
    }
}

/// Opens the configured USB camera by name.
#[derive(Debug, Clone)]
pub struct UsbFactory(pub UsbRequest);

impl SourceFactory for UsbFactory {
    fn name(&self) -> String {
        if self.0.name.is_empty() {
            "USB 摄像头 / USB camera".into()
        } else {
            self.0.name.clone()
        }
    }

    fn open(&self) -> Result<Box<dyn FrameSource>, CameraError> {
        Ok(Box::new(UsbSource::open(&self.0)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_mjpeg_frames_are_dropped_not_panics() {
        for bad in [&b""[..], b"\xFF\xD8", b"\xFF\xD8\xFF\xE0garbage", &[0u8; 64]] {
            assert!(matches!(decode_mjpeg(bad), Err(CameraError::BadFrame(_))));
        }
        let img = crate::camera::synth::portrait(320, 240, 1);
        let jpeg = crate::photo::encode_jpeg(&img, 90).unwrap();
        let back = decode_mjpeg(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (320, 240));
        // A frame cut short mid-transfer.
        let _ = decode_mjpeg(&jpeg[..jpeg.len() / 2]);
    }

    #[test]
    fn locks_turn_the_automatic_mode_off_before_setting_the_value_and_none_touches_nothing() {
        assert!(lock_plan(&Locks::default()).is_empty(), "automatic: the camera is not touched");
        let plan = lock_plan(&Locks { exposure: Some(156), white_balance_k: Some(5500) });
        let exposure: Vec<_> = plan.iter().filter(|p| p.0 == LockedControl::Exposure).collect();
        assert_eq!(exposure.last().map(|p| p.2.clone()), Some(ControlValueSetter::Integer(156)));
        let wb: Vec<_> = plan.iter().filter(|p| p.0 == LockedControl::WhiteBalance).collect();
        assert_eq!(
            wb.last().map(|p| (p.1, p.2.clone())),
            Some((KnownCameraControl::WhiteBalance, ControlValueSetter::Integer(5500)))
        );
        if cfg!(target_os = "linux") {
            assert_eq!(exposure[0].2, ControlValueSetter::Integer(1), "V4L2 EXPOSURE_AUTO = manual first");
            assert_eq!(wb[0].2, ControlValueSetter::Boolean(false), "AUTO_WHITE_BALANCE off first");
        }
    }

    #[test]
    fn negotiation_falls_back_to_what_the_camera_offers() {
        let r =
            requests(&UsbRequest { name: String::new(), width: 1920, height: 1080, fps: 30, locks: Locks::default() });
        assert!(matches!(r[0], RequestedFormatType::Exact(f) if f.format() == FrameFormat::MJPEG));
        assert!(matches!(r.last(), Some(RequestedFormatType::None)));
    }
}
