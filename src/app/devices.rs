//! The camera and the workers that read its frames: choosing the source
//! (USB, demo in training only, replay, none), starting the capture thread,
//! the QR decoder, the framing hints and the assistants' reader.

use super::*;

/// Which camera the station uses.
#[derive(Clone)]
pub enum CameraChoice {
    /// The configured USB camera. With none connected the station says so
    /// and captures nothing (training uses the demo camera).
    Auto,
    /// Synthetic students (`--demo`).
    Demo,
    /// A folder of images at `fps` (`--replay DIR`).
    Replay { dir: PathBuf, fps: f32 },
    /// Any source (tests).
    Factory(Arc<dyn SourceFactory>),
    /// No camera at all (tests of the scanner-gun path).
    Off,
}

impl std::fmt::Debug for CameraChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CameraChoice::Auto => write!(f, "Auto"),
            CameraChoice::Demo => write!(f, "Demo"),
            CameraChoice::Replay { dir, fps } => write!(f, "Replay({}, {fps})", dir.display()),
            CameraChoice::Factory(fa) => write!(f, "Factory({})", fa.name()),
            CameraChoice::Off => write!(f, "Off"),
        }
    }
}

impl GradcapApp {
    /// Starts reading the assistants' figures for this session on a worker.
    pub(super) fn start_assist_worker(&mut self) {
        self.assist_worker = None;
        let Some(st) = &self.station else { return };
        let Some(db) = st.db_path() else { return };
        let info = &st.session().info;
        match ReportWorker::start(
            db.to_path_buf(),
            info.station.clone(),
            info.date.clone(),
            crate::roster::worker::DEFAULT_INTERVAL_MS,
            self.wake(),
        ) {
            Ok(w) => self.assist_worker = Some(w),
            Err(e) => self.fail(&e),
        }
    }

    /// (Re)starts the framing-hint worker on the camera's frames with the
    /// current photo checks.
    pub(super) fn start_framing(&mut self) {
        self.framing = None;
        let Some(capture) = &self.capture else { return };
        let started = FramingWorker::start(
            capture.slot(),
            self.settings.photo_checks,
            crate::photo::framing::DEFAULT_INTERVAL_MS,
            self.wake(),
        );
        match started {
            Ok(w) => self.framing = Some(w),
            Err(e) => self.fail(&e),
        }
    }

    pub(super) fn start_camera(&mut self) {
        self.scanner = None;
        self.framing = None;
        self.capture = None;
        self.ui.no_camera = false;
        let factory: Option<Arc<dyn SourceFactory>> = match &self.opts.camera {
            CameraChoice::Off => None,
            CameraChoice::Factory(f) => Some(f.clone()),
            // The demo camera only ever feeds the training database.
            CameraChoice::Demo if self.training => Some(Arc::new(self.demo_factory())),
            CameraChoice::Demo => {
                self.ui.no_camera = list_cameras().is_empty();
                if self.ui.no_camera {
                    None
                } else {
                    Some(Arc::new(self.usb_factory()))
                }
            }
            CameraChoice::Replay { dir, fps } => match ReplayFactory::from_dir(dir, *fps, true) {
                Ok(f) => Some(Arc::new(f)),
                Err(e) => {
                    self.fail(&e);
                    None
                }
            },
            CameraChoice::Auto => {
                if list_cameras().is_empty() {
                    if self.training {
                        Some(Arc::new(self.demo_factory()))
                    } else {
                        // Never the demo camera on real data: say so, capture nothing.
                        self.ui.no_camera = true;
                        self.say(messages::no_camera_found());
                        None
                    }
                } else {
                    Some(Arc::new(self.usb_factory()))
                }
            }
        };
        let Some(factory) = factory else { return };
        match Capture::start(factory, STALL_TIMEOUT_MS) {
            Ok(capture) => {
                match ScanWorker::start(capture.slot(), self.settings.scan_hold_ms, self.wake()) {
                    Ok(w) => self.scanner = Some(w),
                    Err(e) => self.fail(&e),
                }
                self.capture = Some(capture);
                self.start_framing();
            }
            Err(e) => self.fail(&e),
        }
    }

    /// Looks for removable drives, remembering each one's device as listed.
    pub(super) fn list_drives(&mut self) {
        self.ui.drives = crate::paths::removable_targets();
        self.drive_devices = self
            .ui
            .drives
            .iter()
            .filter_map(|d| crate::paths::device_id(&d.path).map(|dev| (d.path.clone(), dev)))
            .collect();
    }

    pub(super) fn usb_factory(&self) -> UsbFactory {
        UsbFactory(UsbRequest {
            name: self.settings.camera_name.clone(),
            width: self.settings.camera_width,
            height: self.settings.camera_height,
            fps: self.settings.camera_fps,
            locks: crate::camera::Locks {
                exposure: self.settings.camera_exposure,
                white_balance_k: self.settings.camera_white_balance,
            },
        })
    }

    pub(super) fn demo_factory(&self) -> DemoFactory {
        let code = if self.settings.school_code.is_empty() { "99999" } else { &self.settings.school_code };
        DemoFactory { width: 1280, height: 720, fps: 30.0, school_code: code.to_string() }
    }
}
