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
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
};
use nokhwa::Camera;

use super::{CameraError, Frame, FrameSource, SourceFactory};

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

/// An open USB camera.
pub struct UsbSource {
    name: String,
    camera: Camera,
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
                        return Ok(UsbSource { name, camera });
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
    fn negotiation_falls_back_to_what_the_camera_offers() {
        let r = requests(&UsbRequest { name: String::new(), width: 1920, height: 1080, fps: 30 });
        assert!(matches!(r[0], RequestedFormatType::Exact(f) if f.format() == FrameFormat::MJPEG));
        assert!(matches!(r.last(), Some(RequestedFormatType::None)));
    }
}
