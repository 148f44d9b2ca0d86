//! The eframe application: owns the station, the camera, the scanner and the
//! photo worker, and runs the frame loop. The loop reads like a table of
//! contents: poll the workers, read the keys, draw the views (which only
//! read state and return [`Command`]s), then apply the commands in one place
//! ([`GradcapApp::apply`]), the only place that calls the station core.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::camera::demo::DemoFactory;
use crate::camera::replay::ReplayFactory;
use crate::camera::usb::{list_cameras, UsbFactory, UsbRequest};
use crate::camera::{CameraState, Capture, Frame, SourceFactory, STALL_TIMEOUT_MS};
use crate::photo::PhotoError;
use crate::scan::gun::{GunBuffer, GunConfig, GunKey, GunOutput};
use crate::scan::worker::ScanWorker;
use crate::settings::{Language, Settings};
use crate::sound::{Cue, Player, Sound};
use crate::station::{prepare_take, Event, Outcome, PreparedTake, Station, StationConfig, StationError};
use crate::store::{AuditEntry, Counts, Record, RecordId, Session, Store, Take};
use crate::ui;

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

/// How the app was started.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub db_path: PathBuf,
    pub settings_path: PathBuf,
    pub camera: CameraChoice,
    /// Close the window after this long (`--exit-after SECS`, smoke tests).
    pub exit_after: Option<Duration>,
    pub gun: GunConfig,
    /// Load the system's CJK fonts as fallbacks (off in tests, for speed).
    pub system_fonts: bool,
    /// Where scan cues are played.
    pub sound: Sound,
    /// Start in training mode (its own database, a banner on every screen).
    pub training: bool,
}

/// The views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Operator,
    Records,
    /// The assistants' read-only sign-in check.
    Assist,
    /// End-of-day export to a drive.
    Export,
    Settings,
}

/// Everything a view can ask for.
#[derive(Debug, Clone)]
pub enum Command {
    Scanned {
        text: String,
        frame: Option<Frame>,
    },
    Shoot,
    Accept,
    Reshoot,
    AskSkip,
    Skip(String),
    CancelPrompt,
    Void {
        record: RecordId,
        reason: String,
        pin: String,
    },
    RequestReshoot {
        record: RecordId,
        reason: String,
        pin: String,
    },
    CancelReshoot(RecordId),
    Show(View),
    Search(String),
    Select(RecordId),
    SaveSettings(Box<Settings>),
    /// Set the operator PIN (the current one is needed once one is set).
    SetPin {
        new: String,
        old: String,
    },
    /// Start `gradcap assist` on the same database (a read-only second window).
    OpenAssistWindow,
    /// Back up the whole database into this folder while the station keeps working.
    Backup(PathBuf),
    /// Delete the images of verified-exported records shot before `before`
    /// (after handover), then VACUUM; needs the PIN and a confirmation.
    Purge {
        before: String,
        pin: String,
    },
    /// Export to this drive or folder (`full`: everything again; encrypted
    /// to the settings' recipient when `encrypt`).
    Export {
        to: PathBuf,
        full: bool,
        encrypt: bool,
    },
    /// Ask to purge: works out what would go, then asks for confirmation.
    AskPurge {
        before: String,
        pin: String,
    },
    /// Check a bundle on a drive (as `gradcap verify-bundle`), on its own thread.
    CheckBundle(PathBuf),
    /// Look for removable drives again.
    RefreshDrives,
    /// Correction (勘误): write one student's takes and record into a folder
    /// (under the export target, else beside the database).
    ExportStudent(RecordId),
    /// Look for a camera again (the "no camera" screen).
    RetryCamera,
    /// Switch to training (its own database, the demo camera when no USB camera is there).
    StartTraining,
    /// Back to the station's real database and camera.
    LeaveTraining,
    /// Settings whose station or date differ, confirmed after being told
    /// what happens to the students still waiting.
    SaveSettingsConfirmed(Box<Settings>),
}

/// The last export or bundle check, shown in the export view until the next.
#[derive(Debug, Clone)]
pub enum ExportOutcome {
    Exported(crate::export::ExportReport),
    Failed(String),
    Checked { dir: PathBuf, report: crate::export::BundleReport },
    CheckFailed { dir: PathBuf, error: String },
}

/// How a message looks: green, amber, red, neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackKind {
    Success,
    Duplicate,
    Rejected,
    Info,
}

/// The big message at the bottom of the operator view.
#[derive(Debug, Clone)]
pub struct Feedback {
    pub kind: FeedbackKind,
    /// Shown large: a sequence number, or a short word.
    pub big: String,
    pub zh: String,
    pub en: String,
    pub at: Instant,
    /// The answer to a scan: the band says "just scanned" and `icon` tells a
    /// new number (✚) from one already waiting (↻), already photographed (⛔)
    /// or refused (✗) by shape as well as colour.
    pub scan_icon: Option<&'static str>,
}

impl Feedback {
    fn new(kind: FeedbackKind, big: impl Into<String>, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Feedback { kind, big: big.into(), zh: zh.into(), en: en.into(), at: Instant::now(), scan_icon: None }
    }

    /// Marks this as the answer to a scan, with its icon.
    fn scanned(mut self, icon: &'static str) -> Self {
        self.scan_icon = Some(icon);
        self
    }

    fn error(e: &dyn std::fmt::Display) -> Self {
        let text = e.to_string();
        let (zh, en) = text.split_once(" / ").map_or((text.clone(), String::new()), |(a, b)| (a.into(), b.into()));
        Feedback::new(FeedbackKind::Rejected, "✗", zh, en)
    }
}

/// What the views show, read from the store after every change.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub session: Option<Session>,
    pub head: Option<Record>,
    pub waiting: Vec<Record>,
    pub counts: Counts,
    /// Students still waiting in other sessions (another station or day).
    pub waiting_elsewhere: Vec<(Session, i64)>,
}

/// The take waiting for accept or re-shoot.
#[derive(Debug, Clone)]
pub struct ReviewView {
    pub record: Record,
    pub take: Take,
    pub in_range: bool,
    pub bytes: usize,
    /// The photo checks, shown green / amber / red.
    pub assessment: crate::photo::checks::Assessment,
}

/// A record opened in the records view.
#[derive(Debug, Clone)]
pub struct RecordDetail {
    pub record: Record,
    pub takes: Vec<Take>,
    pub audit: Vec<AuditEntry>,
}

/// State that only the UI owns (never the database).
#[derive(Default)]
pub struct UiState {
    pub feedback: Option<Feedback>,
    pub snapshot: Snapshot,
    pub preview: Option<egui::TextureHandle>,
    pub preview_frame: u64,
    pub preview_size: [usize; 2],
    /// The camera frame's own size (the preview is scaled down).
    pub frame_size: [u32; 2],
    /// The latest framing hints of the preview (worker thread).
    pub framing: Option<crate::photo::framing::Framing>,
    pub head_thumb: Option<(RecordId, egui::TextureHandle)>,
    pub review: Option<(ReviewView, egui::TextureHandle)>,
    pub skip_prompt: bool,
    /// The take whose failed checks were read out by a first accept, and when.
    pub accept_armed: Option<(crate::store::TakeId, Instant)>,
    pub skip_other: String,
    pub search: String,
    /// The query the results are for (None before the first search).
    pub searched: Option<String>,
    pub results: Vec<Record>,
    pub detail: Option<RecordDetail>,
    pub detail_textures: Vec<(i64, egui::TextureHandle)>,
    pub action_reason: String,
    pub action_pin: String,
    pub confirm: Option<Command>,
    pub settings_draft: Option<Settings>,
    /// Drives found when the export view was opened, the chosen target, history.
    pub drives: Vec<PathBuf>,
    pub export_target: String,
    pub export_running: bool,
    /// Encrypt the next export to the settings' recipient.
    pub export_encrypt: bool,
    /// The running export's latest progress and when its phase began.
    pub export_progress: Option<(crate::export::Progress, std::time::Instant)>,
    pub export_history: Vec<(String, String, String, i64)>,
    /// The last export's or bundle check's result.
    pub export_outcome: Option<ExportOutcome>,
    /// The bundle being checked, while its check runs.
    pub bundle_checking: Option<PathBuf>,
    /// What the purge waiting for confirmation would delete.
    pub purge_plan: Option<crate::store::PurgePlan>,
    /// Purge after handover: the day before which images go, the PIN, running.
    pub purge_before: String,
    pub purge_pin: String,
    pub purge_running: bool,
    /// Folder the backup button writes to.
    pub backup_dir: String,
    pub backup_running: bool,
    /// Cameras connected when the settings view was opened.
    pub camera_names: Vec<String>,
    pub new_pin: String,
    pub old_pin: String,
    /// An operator PIN is set in the station database.
    pub pin_set: bool,
    pub assist: Option<ui::assist::AssistState>,
    pub camera_label: String,
    pub camera_ok: bool,
    pub storage_label: String,
    /// Less than [`crate::paths::LOW_SPACE_BYTES`] free on the database's disk.
    pub storage_low: bool,
    pub shooting: bool,
    /// Training mode: its own database, a banner on every screen.
    pub training: bool,
    /// No camera was found (and none is being used): the operator view shows
    /// the "no camera" screen with what to do.
    pub no_camera: bool,
    /// What a pending station/date change would leave waiting (shown in the confirmation).
    pub session_change_waiting: i64,
}

impl std::fmt::Debug for UiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiState").field("feedback", &self.feedback).finish_non_exhaustive()
    }
}

type PhotoResult = (RecordId, Result<PreparedTake, PhotoError>);

/// How long the first accept of a photo with failed checks stays armed.
pub const ACCEPT_FAILED_WINDOW: Duration = Duration::from_secs(4);

/// Runs `job` on a named thread and wakes the UI when it is done; the result
/// arrives on the returned channel. Long work (backup, export) never runs on
/// the UI thread.
fn spawn_job<T: Send + 'static>(
    name: &str,
    ctx: &egui::Context,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<Receiver<T>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let ctx = ctx.clone();
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let _ = tx.send(job());
            ctx.request_repaint();
        })
        .map(|_| rx)
        .map_err(|e| format!("无法启动 {name} 线程 / cannot start the {name} thread: {e}"))
}

/// A background job's answer, if it has come; a job that ended without one
/// answers with an error, so nothing waits for it for ever.
fn job_result<T>(rx: &Receiver<Result<T, String>>, name: &str) -> Option<Result<T, String>> {
    match rx.try_recv() {
        Ok(result) => Some(result),
        Err(std::sync::mpsc::TryRecvError::Empty) => None,
        Err(std::sync::mpsc::TryRecvError::Disconnected) => {
            Some(Err(format!("{name} 线程意外中止，未完成 / the {name} thread stopped unexpectedly: not done")))
        }
    }
}

/// The photo worker: deliverable and original off the UI thread.
struct PhotoWorker {
    jobs: Sender<(RecordId, Frame, StationConfig, Option<u8>)>,
    results: Receiver<PhotoResult>,
}

impl PhotoWorker {
    fn start() -> Result<Self, String> {
        let (jobs, job_rx) = std::sync::mpsc::channel::<(RecordId, Frame, StationConfig, Option<u8>)>();
        let (result_tx, results) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("photo-worker".into())
            .spawn(move || {
                for (record, frame, config, hint) in job_rx {
                    let jpeg = frame.jpeg.as_ref().map(|j| j.as_ref().clone());
                    let result = prepare_take(record, &frame.rgb, jpeg, &config, hint);
                    if result_tx.send((record, result)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(PhotoWorker { jobs, results })
    }
}

/// The station application.
pub struct GradcapApp {
    opts: AppOptions,
    pub settings: Settings,
    pub station: Option<Station>,
    pub startup_error: Option<String>,
    capture: Option<Capture>,
    scanner: Option<ScanWorker>,
    framing: Option<crate::photo::framing::FramingWorker>,
    photo: Option<PhotoWorker>,
    player: Player,
    backup_results: Option<Receiver<Result<(PathBuf, bool), String>>>,
    export_results: Option<Receiver<Result<crate::export::ExportReport, String>>>,
    export_progress: Option<Receiver<crate::export::Progress>>,
    bundle_check_results: Option<Receiver<Result<crate::export::BundleReport, String>>>,
    student_export_results: Option<Receiver<Result<(PathBuf, usize), String>>>,
    camera_list_results: Option<Receiver<Result<Vec<String>, String>>>,
    purge_results: Option<Receiver<Result<(crate::store::PurgePlan, bool), String>>>,
    /// New session settings wait for the photo under review.
    session_change_pending: bool,
    /// Reads the assistants' figures while their tab is shown.
    assist_worker: Option<crate::roster::worker::ReportWorker>,
    gun: GunBuffer,
    /// Training mode (its own database).
    training: bool,
    /// The drives listed in the export view and the device each was on.
    drive_devices: Vec<(PathBuf, u64)>,
    /// The background check of the image store, and what it found.
    image_store_check: Option<Receiver<Result<(), String>>>,
    image_store_damaged: Option<String>,
    pub view: View,
    pub ui: UiState,
    started: Instant,
    last_refresh: Instant,
    first_frame_logged: bool,
    frame_times: FrameTimes,
    process_start: Instant,
    ctx: egui::Context,
}

impl std::fmt::Debug for GradcapApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GradcapApp").field("view", &self.view).finish_non_exhaustive()
    }
}

fn tr(lang: Language, zh: &str, en: &str) -> String {
    match lang {
        Language::Chinese => zh.to_string(),
        Language::English => en.to_string(),
    }
}

impl GradcapApp {
    /// Builds the app: fonts, settings, database, camera, workers. Faults are
    /// shown on screen, never a panic: a station that cannot open its database
    /// says so and why.
    pub fn new(ctx: &egui::Context, opts: AppOptions) -> Self {
        let process_start = crate::process_start();
        ui::install_fonts(ctx, opts.system_fonts);
        ui::install_style(ctx);
        let (settings, settings_warning) = Settings::load(&opts.settings_path);
        let mut app = GradcapApp {
            gun: GunBuffer::new(opts.gun.clone()),
            training: opts.training,
            drive_devices: Vec::new(),
            image_store_check: None,
            image_store_damaged: None,
            player: Player::start(opts.sound.clone()),
            backup_results: None,
            export_results: None,
            export_progress: None,
            bundle_check_results: None,
            student_export_results: None,
            camera_list_results: None,
            purge_results: None,
            session_change_pending: false,
            assist_worker: None,
            opts,
            settings,
            station: None,
            startup_error: None,
            capture: None,
            scanner: None,
            framing: None,
            photo: None,
            view: View::Operator,
            ui: UiState::default(),
            started: Instant::now(),
            last_refresh: Instant::now(),
            first_frame_logged: false,
            frame_times: FrameTimes::default(),
            process_start,
            ctx: ctx.clone(),
        };
        app.open_station();
        match PhotoWorker::start() {
            Ok(w) => app.photo = Some(w),
            Err(e) => app.startup_error = Some(format!("无法启动照片线程 / cannot start the photo thread: {e}")),
        }
        app.start_camera();
        if let Some(w) = settings_warning {
            app.ui.feedback = Some(Feedback::new(FeedbackKind::Info, "!", w.clone(), w));
        }
        app.refresh();
        app
    }

    fn lang(&self) -> Language {
        self.settings.language
    }

    /// The database in use: the station's, or its training database.
    pub fn db_path(&self) -> PathBuf {
        if self.training {
            crate::paths::training_db(&self.opts.db_path)
        } else {
            self.opts.db_path.clone()
        }
    }

    /// True in training mode.
    pub fn training(&self) -> bool {
        self.training
    }

    fn open_station(&mut self) {
        self.assist_worker = None;
        self.ui.assist = None;
        let config = self.settings.station_config();
        let db = self.db_path();
        self.ui.training = self.training;
        let store = if self.training { Store::open_training(&db) } else { Store::open(&db) };
        // The station's own file must be a real one: a training database
        // opened as the station's would take drill codes without a banner.
        let store = store.and_then(|s| match s.mode()? {
            crate::store::Mode::Training if !self.training => Err(crate::store::StoreError::TrainingDatabase),
            _ => Ok(s),
        });
        let opened = store
            .map_err(|e| e.to_string())
            .and_then(|store| Station::open(store, &self.settings.session_info(), config).map_err(|e| e.to_string()));
        match opened {
            Ok(st) => {
                self.station = Some(st);
                self.startup_error = None;
                self.check_image_store_in_background(db.clone());
                if self.view == View::Assist {
                    self.start_assist_worker();
                }
            }
            Err(e) => {
                self.station = None;
                self.startup_error = Some(format!("{}: {e}", db.display()));
            }
        }
    }

    /// The image store's pages are checked on a worker after opening (seconds
    /// on a big day); until the answer the station works, and a damaged
    /// store stops every capture with the reason on screen.
    fn check_image_store_in_background(&mut self, db: PathBuf) {
        self.image_store_damaged = None;
        let job = move || Store::open_read_only(&db).and_then(|s| s.check_image_store()).map_err(|e| e.to_string());
        match spawn_job("db-check", &self.ctx, job) {
            Ok(rx) => self.image_store_check = Some(rx),
            Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
        }
    }

    /// A session change saved while a photo awaited its decision starts once
    /// that student is done — the photo accepted or the student skipped —
    /// and no shot is being made (a re-shoot stays in the old session).
    fn apply_pending_session(&mut self) {
        let idle = self.station.as_ref().is_none_or(|s| s.take_under_review().is_none()) && !self.ui.shooting;
        if self.session_change_pending && idle {
            self.session_change_pending = false;
            self.station = None;
            self.open_station();
        }
    }

    /// Starts reading the assistants' figures for this session on a worker.
    fn start_assist_worker(&mut self) {
        self.assist_worker = None;
        let Some(st) = &self.station else { return };
        let Some(db) = st.store().path() else { return };
        let info = &st.session().info;
        let ctx = self.ctx.clone();
        match crate::roster::worker::ReportWorker::start(
            db.to_path_buf(),
            info.station.clone(),
            info.date.clone(),
            crate::roster::worker::DEFAULT_INTERVAL_MS,
            Box::new(move || ctx.request_repaint()),
        ) {
            Ok(w) => self.assist_worker = Some(w),
            Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
        }
    }

    /// (Re)starts the framing-hint worker on the camera's frames with the
    /// current photo checks.
    fn start_framing(&mut self) {
        self.framing = None;
        let Some(capture) = &self.capture else { return };
        let ctx = self.ctx.clone();
        let wake = Box::new(move || ctx.request_repaint());
        match crate::photo::framing::FramingWorker::start(
            capture.slot(),
            self.settings.photo_checks,
            crate::photo::framing::DEFAULT_INTERVAL_MS,
            wake,
        ) {
            Ok(w) => self.framing = Some(w),
            Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
        }
    }

    fn start_camera(&mut self) {
        self.scanner = None;
        self.framing = None;
        self.capture = None;
        self.ui.no_camera = false;
        let lang = self.lang();
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
                    self.ui.feedback = Some(Feedback::error(&e));
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
                        let note = tr(lang, "未检测到摄像头", "no camera found");
                        self.ui.feedback = Some(Feedback::new(FeedbackKind::Rejected, "📷", note.clone(), note));
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
                let ctx = self.ctx.clone();
                let wake = Box::new(move || ctx.request_repaint());
                match ScanWorker::start(capture.slot(), self.settings.scan_hold_ms, wake) {
                    Ok(w) => self.scanner = Some(w),
                    Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                }
                self.capture = Some(capture);
                self.start_framing();
            }
            Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
        }
    }

    /// Looks for removable drives, remembering each one's device as listed.
    fn list_drives(&mut self) {
        self.ui.drives = crate::paths::removable_targets();
        self.drive_devices =
            self.ui.drives.iter().filter_map(|d| crate::paths::device_id(d).map(|dev| (d.clone(), dev))).collect();
    }

    fn usb_factory(&self) -> UsbFactory {
        UsbFactory(UsbRequest {
            name: self.settings.camera_name.clone(),
            width: self.settings.camera_width,
            height: self.settings.camera_height,
            fps: self.settings.camera_fps,
        })
    }

    /// Switches between the station's database and its training database:
    /// the photo under review must be decided first; the camera follows
    /// (the demo camera only in training).
    fn switch_training(&mut self, training: bool) {
        if self.station.as_ref().is_some_and(|s| s.take_under_review().is_some()) || self.ui.shooting {
            self.ui.feedback = Some(Feedback::error(&StationError::ReviewPending));
            return;
        }
        self.training = training;
        self.station = None;
        self.ui.review = None;
        self.ui.skip_prompt = false;
        self.open_station();
        self.start_camera();
        let (zh, en) = if training {
            (
                "已进入练习模式：练习数据库，演练码可用，不影响正式数据",
                "training mode: its own database, drill codes welcome, real data untouched",
            )
        } else {
            ("已退出练习模式：回到正式采集数据库", "left training: back on the station's real database")
        };
        self.ui.feedback = Some(Feedback::new(FeedbackKind::Info, "✓", zh, en));
    }

    fn demo_factory(&self) -> DemoFactory {
        let code = if self.settings.school_code.is_empty() { "99999" } else { &self.settings.school_code };
        DemoFactory { width: 1280, height: 720, fps: 30.0, school_code: code.to_string() }
    }

    /// Re-reads what the views show from the store.
    pub fn refresh(&mut self) {
        self.last_refresh = Instant::now();
        let Some(st) = &self.station else { return };
        let session = st.session().clone();
        let snapshot = (|| -> Result<Snapshot, StationError> {
            Ok(Snapshot {
                head: st.head()?,
                waiting: st.store().waiting(session.id, 50)?,
                counts: st.store().counts(session.id)?,
                waiting_elsewhere: st.store().waiting_elsewhere(session.id)?,
                session: Some(session.clone()),
            })
        })();
        match snapshot {
            Ok(s) => self.ui.snapshot = s,
            Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
        }
        self.ui.pin_set = st.store().has_pin().unwrap_or(false);
        let free = st.store().path().and_then(crate::paths::free_space);
        self.ui.storage_low = free.is_some_and(|b| b < crate::paths::LOW_SPACE_BYTES);
        self.ui.storage_label = match (st.store().path(), free) {
            (Some(p), Some(free)) => format!(
                "{} · {} {:.1} GB",
                p.display(),
                tr(self.lang(), "剩余", "free"),
                free as f64 / (1u64 << 30) as f64
            ),
            (Some(p), None) => format!("{}", p.display()),
            (None, _) => "(memory)".into(),
        };
    }

    /// 1. Workers: camera state, codes read, photos prepared.
    fn poll_workers(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let mut commands = Vec::new();
        if let Some(rx) = &self.image_store_check {
            if let Some(result) = job_result(rx, "db-check") {
                self.image_store_check = None;
                if let Err(e) = result {
                    self.startup_error = Some(e.clone());
                    self.ui.feedback = Some(Feedback::error(&e));
                    self.image_store_damaged = Some(e);
                }
            }
        }
        if let (Some(worker), Some(st)) = (&self.assist_worker, &self.station) {
            if let Some(reading) = worker.latest() {
                let info = &st.session().info;
                let assist =
                    self.ui.assist.get_or_insert_with(|| ui::assist::AssistState::new(&info.station, &info.date));
                assist.apply(reading);
            }
        }
        if let Some(capture) = &self.capture {
            let state = capture.state();
            self.ui.camera_ok = matches!(state, CameraState::Running { .. });
            let label = match self.lang() {
                Language::Chinese => state.label_zh(),
                Language::English => state.label_en(),
            };
            self.ui.camera_label = format!("{} — {label}", capture.source_name());
            // Only the operator view shows the preview: elsewhere no frame is scaled or uploaded.
            let shown = self.view == View::Operator;
            if let Some(frame) = capture.slot().latest().filter(|_| shown) {
                if frame.number != self.ui.preview_frame {
                    self.ui.preview_frame = frame.number;
                    if !self.first_frame_logged {
                        self.first_frame_logged = true;
                        tracing::info!(
                            target: "gradcap::timing",
                            "first camera frame on screen {} ms after process start",
                            self.process_start.elapsed().as_millis()
                        );
                    }
                    let image = ui::preview_image(&frame.rgb, 960);
                    self.ui.preview_size = image.size;
                    self.ui.frame_size = [frame.rgb.width(), frame.rgb.height()];
                    match &mut self.ui.preview {
                        Some(tex) => tex.set(image, egui::TextureOptions::LINEAR),
                        None => {
                            self.ui.preview = Some(ctx.load_texture("preview", image, egui::TextureOptions::LINEAR))
                        }
                    }
                }
            }
        } else {
            self.ui.camera_ok = false;
            self.ui.camera_label = tr(self.lang(), "无摄像头", "no camera");
        }
        if let Some(framing) = self.framing.as_ref().and_then(|f| f.latest()) {
            self.ui.framing = Some(framing);
        }
        if let Some(scanner) = &self.scanner {
            while let Some(hit) = scanner.try_recv() {
                tracing::info!(
                    target: "gradcap::timing",
                    "code decoded in {:.1} ms, handed to the UI {:.1} ms after decoding",
                    hit.decode_ms,
                    hit.decoded_at.elapsed().as_secs_f64() * 1000.0
                );
                commands.push(Command::Scanned { text: hit.text, frame: Some(hit.frame) });
            }
        }
        if let Some(rx) = &self.backup_results {
            if let Some(result) = job_result(rx, "backup") {
                self.ui.backup_running = false;
                self.backup_results = None;
                self.ui.feedback = Some(match result {
                    Ok((path, true)) => Feedback::new(
                        FeedbackKind::Info,
                        "✓",
                        format!("备份完成并已校验：{}", path.display()),
                        format!("backup written and verified: {}", path.display()),
                    ),
                    Ok((path, false)) => Feedback::new(
                        FeedbackKind::Rejected,
                        "!",
                        format!("备份已写入但校验未通过：{}", path.display()),
                        format!("backup written but it does not verify: {}", path.display()),
                    ),
                    Err(e) => Feedback::error(&e),
                });
            }
        }
        if let Some(rx) = &self.purge_results {
            if let Some(result) = job_result(rx, "purge") {
                self.ui.purge_running = false;
                self.purge_results = None;
                self.ui.feedback = Some(match result {
                    Ok((plan, vacuumed)) => Feedback::new(
                        FeedbackKind::Success,
                        "✓",
                        format!(
                            "已删除 {} 名学生的 {} 张照片图像（{:.1} MB）{}，校验通过",
                            plan.records,
                            plan.takes,
                            plan.bytes as f64 / 1e6,
                            if vacuumed { "" } else { "；空间稍后回收" }
                        ),
                        format!(
                            "deleted the images of {} takes of {} students ({:.1} MB){}; verify passes",
                            plan.takes,
                            plan.records,
                            plan.bytes as f64 / 1e6,
                            if vacuumed { "" } else { "; space is reclaimed later" }
                        ),
                    ),
                    Err(e) => Feedback::error(&e),
                });
            }
        }
        if let Some(rx) = &self.export_progress {
            while let Ok(p) = rx.try_recv() {
                let started = match &self.ui.export_progress {
                    Some((old, started)) if old.phase == p.phase => *started,
                    _ => std::time::Instant::now(),
                };
                self.ui.export_progress = Some((p, started));
            }
        }
        if let Some(rx) = &self.export_results {
            if let Some(result) = job_result(rx, "export") {
                self.ui.export_running = false;
                self.ui.export_progress = None;
                self.export_results = None;
                self.export_progress = None;
                self.ui.feedback = Some(match &result {
                    Ok(r) => Feedback::new(
                        FeedbackKind::Success,
                        "✓",
                        format!("导出完成并已校验：{} 人，{}", r.records, r.bundle.display()),
                        format!("exported and verified: {} students, {}", r.records, r.bundle.display()),
                    ),
                    Err(e) => Feedback::error(e),
                });
                self.ui.export_outcome = Some(match result {
                    Ok(r) => ExportOutcome::Exported(r),
                    Err(e) => ExportOutcome::Failed(e),
                });
                if let Some(st) = &self.station {
                    self.ui.export_history = st.store().export_history().unwrap_or_default();
                }
            }
        }
        if let Some(rx) = &self.camera_list_results {
            if let Some(result) = job_result(rx, "camera-list") {
                self.camera_list_results = None;
                match result {
                    Ok(names) => self.ui.camera_names = names,
                    Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                }
            }
        }
        if let Some(rx) = &self.student_export_results {
            if let Some(result) = job_result(rx, "student-export") {
                self.student_export_results = None;
                self.ui.feedback = Some(match result {
                    Ok((dir, files)) => Feedback::new(
                        FeedbackKind::Success,
                        "✓",
                        format!("已导出该学生的 {files} 个文件到 {}", dir.display()),
                        format!("wrote the student's {files} files to {}", dir.display()),
                    ),
                    Err(e) => Feedback::error(&e),
                });
            }
        }
        if let Some(rx) = &self.bundle_check_results {
            if let Some(result) = job_result(rx, "bundle-check") {
                let dir = self.ui.bundle_checking.take().unwrap_or_default();
                self.bundle_check_results = None;
                self.ui.export_outcome = Some(match result {
                    Ok(report) => ExportOutcome::Checked { dir, report },
                    Err(error) => ExportOutcome::CheckFailed { dir, error },
                });
            }
        }
        let mut results = Vec::new();
        if let Some(photo) = &self.photo {
            while let Ok(r) = photo.results.try_recv() {
                results.push(r);
            }
        }
        for (_, result) in results {
            self.ui.shooting = false;
            match result {
                Ok(prepared) => self.handle_event(Event::TakePrepared(prepared), ctx),
                Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
            }
        }
        commands
    }

    /// 2. Keys: the scanner gun's bursts and the operator's shortcuts.
    ///
    /// The frame's input time (when its events were taken) is the gun's clock.
    fn read_keys(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let now_ms = ctx.input(|i| i.time) * 1000.0;
        let typing = ctx.wants_keyboard_input();
        let operator = self.view == View::Operator && self.ui.confirm.is_none();
        let mut keys = Vec::new();
        if operator && !typing {
            ctx.input_mut(|i| {
                for event in &i.events {
                    match event {
                        egui::Event::Text(text) => keys.extend(text.chars().map(GunKey::Char)),
                        egui::Event::Key { key, pressed: true, repeat: false, .. } => match key {
                            egui::Key::Enter => keys.push(GunKey::Enter),
                            // Keys that also type text arrive as Text events.
                            k if ui::key_types_text(*k) => {}
                            k => keys.push(GunKey::Other(k.name().to_string())),
                        },
                        _ => {}
                    }
                }
                // The gun owns Enter and Space here: a focused button must
                // never be "clicked" by the scanner's Enter.
                i.events.retain(|e| !matches!(e, egui::Event::Key { key: egui::Key::Enter | egui::Key::Space, .. }));
            });
        }
        let mut commands = Vec::new();
        for out in self.gun.frame(keys, now_ms) {
            match out {
                GunOutput::Scan(text) => commands.push(Command::Scanned { text, frame: None }),
                GunOutput::Key(key) => {
                    if let Some(c) = self.shortcut(&key) {
                        commands.push(c);
                    }
                }
                GunOutput::Fragment(n) => {
                    self.ui.feedback = Some(Feedback::new(
                        FeedbackKind::Rejected,
                        "✗",
                        format!("扫码枪只送来 {n} 个字符，不是完整的采集码：请重新扫描"),
                        format!("the scanner sent only {n} characters, not a whole capture code: scan again"),
                    ));
                    self.player.play(Cue::Rejected);
                }
            }
        }
        if self.gun.is_holding() {
            ctx.request_repaint_after(Duration::from_millis(self.gun.config().max_gap_ms + 5));
        }
        commands
    }

    /// The command of a key the operator pressed by hand. While the skip
    /// dialog is open it holds every other shortcut: its number keys pick a
    /// reason and Escape cancels.
    fn shortcut(&self, key: &GunKey) -> Option<Command> {
        if self.ui.skip_prompt {
            return match key {
                GunKey::Char(c) => c
                    .to_digit(10)
                    .and_then(|d| ui::operator::SKIP_REASONS.get((d as usize).checked_sub(1)?))
                    .map(|(zh, en)| Command::Skip(format!("{zh} / {en}"))),
                GunKey::Other(name) if name == "Escape" => Some(Command::CancelPrompt),
                _ => None,
            };
        }
        let name = match key {
            GunKey::Char(' ') => "Space".to_string(),
            GunKey::Char(c) => c.to_uppercase().collect(),
            GunKey::Enter => "Enter".to_string(),
            GunKey::Other(n) => n.clone(),
        };
        let keys = &self.settings.keys;
        let is = |k: &str| k.eq_ignore_ascii_case(&name);
        if is(&keys.shoot) {
            Some(Command::Shoot)
        } else if is(&keys.accept) {
            Some(Command::Accept)
        } else if is(&keys.reshoot) {
            Some(Command::Reshoot)
        } else if is(&keys.skip) {
            Some(Command::AskSkip)
        } else {
            None
        }
    }

    /// 3. Views: they read state and return commands.
    fn draw(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let mut out = Vec::new();
        let lang = self.lang();
        ui::training_banner(ctx, self.training, lang, &mut out);
        ui::status_bar(ctx, self, &mut out);
        ui::feedback_panel(ctx, &self.ui, lang);
        match self.view {
            View::Operator => ui::operator::show(ctx, &mut self.ui, &self.settings, lang, &mut out),
            View::Records => ui::records::show(ctx, &mut self.ui, lang, &mut out),
            View::Assist => {
                if let Some(st) = &self.station {
                    let info = &st.session().info;
                    let assist =
                        self.ui.assist.get_or_insert_with(|| ui::assist::AssistState::new(&info.station, &info.date));
                    // Read on the worker thread; an in-memory database (tests) in place.
                    if self.assist_worker.is_none() {
                        assist.refresh_if_due(st.store());
                    }
                    egui::CentralPanel::default().show(ctx, |ui| {
                        if ui
                            .button(tr(lang, "在新窗口打开（可放到第二屏幕）", "Open in a new window (second screen)"))
                            .clicked()
                        {
                            out.push(Command::OpenAssistWindow);
                        }
                        ui::assist::show(ui, assist, lang)
                    });
                }
            }
            View::Settings => ui::settings_view::show(ctx, &mut self.ui, &self.settings, lang, &mut out),
            View::Export => ui::export_view::show(ctx, &mut self.ui, &self.settings, lang, &mut out),
        }
        ui::confirm_dialog(ctx, &mut self.ui, lang, &mut out);
        out
    }

    /// 4. The one place that changes anything.
    pub fn apply(&mut self, command: Command, ctx: &egui::Context) {
        // A damaged image store takes no more captures: restore a backup first.
        if let (Some(e), Command::Scanned { .. } | Command::Shoot | Command::Accept) =
            (&self.image_store_damaged, &command)
        {
            self.ui.feedback = Some(Feedback::error(e));
            self.player.play(Cue::Rejected);
            return;
        }
        match command {
            Command::Scanned { text, frame } => {
                let small = frame.map(|f| ui::small_frame(&f.rgb, 320));
                self.handle_event(Event::CodeScanned { text, frame: small }, ctx);
                // Every scan is heard: the cue follows the colour of its answer.
                let cue = match self.ui.feedback.as_ref().map(|f| f.kind) {
                    Some(FeedbackKind::Success) => Cue::Success,
                    Some(FeedbackKind::Duplicate) => Cue::Duplicate,
                    _ => Cue::Rejected,
                };
                self.player.play(cue);
            }
            Command::Shoot => self.shoot(),
            Command::Accept => {
                if self.accept_needs_confirmation() {
                    return;
                }
                self.handle_event(Event::Accept, ctx);
                self.apply_pending_session();
            }
            Command::Reshoot => self.handle_event(Event::Reshoot, ctx),
            Command::AskSkip => {
                if self.ui.snapshot.head.is_some() {
                    self.ui.skip_prompt = true;
                    self.ui.skip_other.clear();
                }
            }
            Command::Skip(reason) => {
                self.ui.skip_prompt = false;
                self.handle_event(Event::Skip { reason }, ctx);
                self.apply_pending_session();
            }
            Command::CancelPrompt => {
                self.ui.skip_prompt = false;
                self.ui.confirm = None;
                self.ui.purge_plan = None;
            }
            Command::Void { record, reason, pin } => {
                self.ui.confirm = None;
                if self.pin_ok(&pin) {
                    self.handle_event(Event::Void { record, reason }, ctx);
                    self.open_detail(record, ctx);
                }
            }
            Command::AskPurge { before, pin } => {
                if !self.pin_ok(&pin) {
                    return;
                }
                if let Some(st) = &self.station {
                    match st.store().purge_candidates(&before) {
                        Ok(plan) if plan.takes == 0 => {
                            self.ui.feedback = Some(Feedback::new(
                                FeedbackKind::Info,
                                "",
                                format!("{before} 之前没有已导出并校验、可删除的照片"),
                                format!("nothing to delete: no verified-exported photos shot before {before}"),
                            ));
                        }
                        Ok(plan) => {
                            self.ui.purge_plan = Some(plan);
                            self.ui.confirm = Some(Command::Purge { before, pin });
                        }
                        Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                    }
                }
            }
            Command::CheckBundle(dir) => {
                if self.ui.bundle_checking.is_some() {
                    return;
                }
                let checked = dir.clone();
                let job = move || crate::export::verify_bundle(&checked).map_err(|e| e.to_string());
                match spawn_job("bundle-check", ctx, job) {
                    Ok(rx) => {
                        self.ui.bundle_checking = Some(dir);
                        self.bundle_check_results = Some(rx);
                    }
                    Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                }
            }
            Command::RefreshDrives => self.list_drives(),
            Command::ExportStudent(record) => {
                if self.student_export_results.is_some() {
                    return;
                }
                let db = self.db_path();
                let target = self.ui.export_target.trim().to_string();
                let base = if target.is_empty() {
                    db.parent().unwrap_or(std::path::Path::new(".")).join("corrections")
                } else {
                    PathBuf::from(target)
                };
                // Its own read-only connection: the station keeps working.
                let job = move || {
                    let store = Store::open_read_only(&db).map_err(|e| e.to_string())?;
                    let r = store.record(record).map_err(|e| e.to_string())?;
                    let dir = base.join(format!("勘误_{}_{}", r.display_seq(), crate::export::safe_name(&r.code.xh)));
                    let fields = crate::export::lookup::record_json(&store, &r).map_err(|e| e.to_string())?;
                    let files =
                        crate::export::lookup::export_student(&store, &r, &fields, &dir).map_err(|e| e.to_string())?;
                    Ok((dir, files.len()))
                };
                match spawn_job("student-export", ctx, job) {
                    Ok(rx) => self.student_export_results = Some(rx),
                    Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                }
            }
            Command::Purge { before, pin } => {
                self.ui.confirm = None;
                self.ui.purge_plan = None;
                self.ui.purge_pin.clear();
                if self.ui.purge_running || !self.pin_ok(&pin) {
                    return;
                }
                let db = self.db_path();
                // Its own connection: VACUUM can take a while on a big day.
                let job = move || {
                    let mut store = Store::open(&db).map_err(|e| e.to_string())?;
                    let plan = store.purge(&before, &crate::station::now()).map_err(|e| e.to_string())?;
                    let vacuumed = store.vacuum().is_ok();
                    let report = store.verify().map_err(|e| e.to_string())?;
                    if !report.ok() {
                        return Err(format!("verify: {}", report.findings.len()));
                    }
                    Ok((plan, vacuumed))
                };
                match spawn_job("purge", ctx, job) {
                    Ok(rx) => {
                        self.ui.purge_running = true;
                        self.purge_results = Some(rx);
                    }
                    Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                }
            }
            Command::RequestReshoot { record, reason, pin } => {
                self.ui.confirm = None;
                if self.pin_ok(&pin) {
                    self.handle_event(Event::RequestReshoot { record, reason }, ctx);
                    self.open_detail(record, ctx);
                }
            }
            Command::CancelReshoot(record) => self.handle_event(Event::CancelReshoot { record }, ctx),
            Command::Show(view) => {
                self.view = view;
                self.assist_worker = None;
                if view == View::Assist {
                    self.ui.assist = None; // re-read at once
                    self.start_assist_worker();
                }
                if view == View::Export {
                    self.list_drives();
                    if self.ui.export_target.is_empty() {
                        if let Some(d) = self.ui.drives.first() {
                            self.ui.export_target = d.display().to_string();
                        }
                    }
                    if let Some(st) = &self.station {
                        self.ui.export_history = st.store().export_history().unwrap_or_default();
                    }
                }
                if view == View::Settings {
                    if self.ui.backup_dir.is_empty() {
                        let base = self.opts.db_path.parent().unwrap_or(std::path::Path::new("."));
                        self.ui.backup_dir = base.join("backups").display().to_string();
                    }
                    self.ui.settings_draft = Some(self.settings.clone());
                    // Asking the OS for its cameras can take a moment: on a worker.
                    let job = || Ok(list_cameras().into_iter().map(|c| c.name).collect::<Vec<_>>());
                    match spawn_job("camera-list", ctx, job) {
                        Ok(rx) => self.camera_list_results = Some(rx),
                        Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                    }
                }
            }
            Command::Search(query) => {
                self.ui.search = query;
                if let Some(st) = &self.station {
                    match st.store().search_records(&self.ui.search, 100) {
                        Ok(r) => {
                            // A search that finds nothing says so and clears the last record.
                            if r.is_empty() {
                                self.ui.detail = None;
                                self.ui.detail_textures.clear();
                            }
                            self.ui.searched = Some(self.ui.search.trim().to_string());
                            self.ui.results = r;
                        }
                        Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                    }
                }
            }
            Command::Select(record) => self.open_detail(record, ctx),
            Command::SaveSettings(new) => self.save_settings(*new, false),
            Command::SaveSettingsConfirmed(new) => {
                self.ui.confirm = None;
                self.save_settings(*new, true);
            }
            Command::RetryCamera => {
                self.start_camera();
                if !self.ui.no_camera {
                    let m = tr(self.lang(), "已连接摄像头", "camera connected");
                    self.ui.feedback = Some(Feedback::new(FeedbackKind::Info, "📷", m.clone(), m));
                }
            }
            Command::StartTraining => self.switch_training(true),
            Command::LeaveTraining => self.switch_training(false),
            Command::Backup(dir) => {
                if self.ui.backup_running {
                    return;
                }
                let db = self.db_path();
                let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
                let job =
                    move || Store::backup_file(&db, &dir, &stamp).map(|(p, r)| (p, r.ok())).map_err(|e| e.to_string());
                match spawn_job("backup", ctx, job) {
                    Ok(rx) => {
                        self.ui.backup_running = true;
                        self.backup_results = Some(rx);
                    }
                    Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                }
            }
            Command::Export { to, full, encrypt } => {
                if self.ui.export_running {
                    return;
                }
                let db = self.db_path();
                let recipient = self.settings.export_recipient.trim().to_string();
                // A drive picked from the list must still be that drive when written.
                let device = self.drive_devices.iter().find(|(d, _)| to.starts_with(d)).map(|(_, dev)| *dev);
                let options = crate::export::ExportOptions {
                    full,
                    encrypt_to: (encrypt && !recipient.is_empty()).then_some(recipient),
                    name_template: self.settings.photo_name_template.clone(),
                    device,
                };
                let (progress_tx, progress_rx) = std::sync::mpsc::channel();
                let wake = ctx.clone();
                // Its own connection: capture goes on while the export writes.
                let job = move || {
                    let mut store = Store::open(&db).map_err(|e| e.to_string())?;
                    let mut last_sent: Option<std::time::Instant> = None;
                    let mut report = |p: &crate::export::Progress| {
                        // A few updates a second are enough for a bar.
                        if last_sent.is_none_or(|t| t.elapsed().as_millis() >= 100) || p.files_done == p.files_total {
                            last_sent = Some(std::time::Instant::now());
                            let _ = progress_tx.send(p.clone());
                            wake.request_repaint();
                        }
                    };
                    crate::export::export_with(&mut store, &to, &options, &crate::station::now(), &mut report)
                        .map_err(|e| e.to_string())
                };
                match spawn_job("export", ctx, job) {
                    Ok(rx) => {
                        self.ui.export_running = true;
                        self.ui.export_progress = None;
                        self.export_results = Some(rx);
                        self.export_progress = Some(progress_rx);
                    }
                    Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                }
            }
            Command::OpenAssistWindow => {
                let spawned = std::env::current_exe().and_then(|exe| {
                    std::process::Command::new(exe)
                        .arg("--db")
                        .arg(self.db_path())
                        .arg("--data-dir")
                        .arg(self.opts.settings_path.parent().unwrap_or(std::path::Path::new(".")))
                        .arg("assist")
                        .spawn()
                });
                if let Err(e) = spawned {
                    self.ui.feedback =
                        Some(Feedback::error(&format!("无法打开助理窗口 / cannot open the assistants' window: {e}")));
                }
            }
            Command::SetPin { new, old } => {
                let Some(st) = &mut self.station else { return };
                let old = (!old.is_empty()).then_some(old.as_str());
                match st.set_pin(&new, old) {
                    Ok(()) => {
                        self.ui.new_pin.clear();
                        self.ui.old_pin.clear();
                        let (zh, en) = ("操作员 PIN 已设置", "operator PIN set");
                        self.ui.feedback = Some(Feedback::new(FeedbackKind::Info, "PIN", zh, en));
                    }
                    Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                }
            }
        }
        self.refresh();
    }

    /// A photo with a failed (red) check is accepted only by a second accept
    /// within [`ACCEPT_FAILED_WINDOW`]: the first reads the failed checks out
    /// and arms it. True when this accept only armed.
    fn accept_needs_confirmation(&mut self) -> bool {
        let Some((review, _)) = &self.ui.review else { return false };
        let failed = review.assessment.failed_checks();
        if failed.is_empty() {
            return false;
        }
        let take = review.take.id;
        if self.ui.accept_armed.is_some_and(|(id, at)| id == take && at.elapsed() <= ACCEPT_FAILED_WINDOW) {
            self.ui.accept_armed = None;
            return false;
        }
        self.ui.accept_armed = Some((take, Instant::now()));
        let zh: Vec<&str> = failed.iter().map(|c| c.message_zh.as_str()).collect();
        let en: Vec<&str> = failed.iter().map(|c| c.message_en.as_str()).collect();
        let key = &self.settings.keys.accept;
        let secs = ACCEPT_FAILED_WINDOW.as_secs();
        self.ui.feedback = Some(Feedback::new(
            FeedbackKind::Rejected,
            "⚠",
            format!(
                "照片未通过：{}。确要使用，请在 {secs} 秒内再按一次 {key}；重拍请按 {}",
                zh.join("；"),
                self.settings.keys.reshoot
            ),
            format!(
                "the photo fails: {}. To use it anyway press {key} again within {secs} s; {} re-shoots",
                en.join("; "),
                self.settings.keys.reshoot
            ),
        ));
        self.player.play(Cue::Duplicate);
        true
    }

    /// Checks the operator PIN against the station database (slowed and
    /// audited there); says why when it does not pass.
    fn pin_ok(&mut self, pin: &str) -> bool {
        let Some(st) = &mut self.station else { return false };
        match st.check_pin(pin) {
            Ok(()) => true,
            Err(e) => {
                self.ui.feedback = Some(Feedback::error(&e));
                false
            }
        }
    }

    /// Saves new settings. School name, school code and operator correct
    /// the session in place (audited; numbering and queue go on). A new
    /// station or date is a new session: with students still waiting it is
    /// asked first (`confirmed`), and they stay in their session's queue.
    fn save_settings(&mut self, new: Settings, confirmed: bool) {
        if let Err(e) = new.validate() {
            self.ui.feedback = Some(Feedback::error(&e));
            return;
        }
        // Compared with the session as it is open (a day that went past
        // midnight, a change still pending), not with the file.
        let old_info = self.station.as_ref().map_or_else(|| self.settings.session_info(), |s| s.session().info.clone());
        let new_info = new.session_info();
        let new_day = (&old_info.station, &old_info.date) != (&new_info.station, &new_info.date);
        let waiting = self.ui.snapshot.counts.waiting;
        if new_day && !confirmed && waiting > 0 && self.station.is_some() {
            self.ui.session_change_waiting = waiting;
            self.ui.confirm = Some(Command::SaveSettingsConfirmed(Box::new(new)));
            return;
        }
        // A correction is applied to the database first: the file never says
        // what the session does not.
        if !new_day && old_info != new_info {
            if let Some(st) = &mut self.station {
                if let Err(e) = st.correct_session(&new_info) {
                    self.ui.feedback = Some(Feedback::error(&e));
                    return;
                }
            }
        }
        if let Err(e) = new.save(&self.opts.settings_path) {
            self.ui.feedback = Some(Feedback::error(&e));
            return;
        }
        let config_changed = new.station_config() != self.settings.station_config();
        let camera_changed = (&new.camera_name, new.camera_width, new.camera_height, new.camera_fps, new.scan_hold_ms)
            != (
                &self.settings.camera_name,
                self.settings.camera_width,
                self.settings.camera_height,
                self.settings.camera_fps,
                self.settings.scan_hold_ms,
            );
        self.settings = new;
        if camera_changed {
            self.start_camera();
        }
        if config_changed {
            // The photo checks apply from the next shot and to the live hints at once.
            if let Some(st) = &mut self.station {
                st.set_config(self.settings.station_config());
            }
            if !camera_changed {
                self.start_framing();
            }
        }
        self.ui.settings_draft = Some(self.settings.clone());
        if new_day {
            if self.station.as_ref().is_some_and(|s| s.take_under_review().is_some()) {
                self.session_change_pending = true;
                self.ui.feedback = Some(Feedback::new(
                    FeedbackKind::Rejected,
                    "!",
                    "设置已保存；当前照片确认（或该学生跳过）后切换到新场次",
                    "settings saved; the new session starts once the current photo is accepted (or the student skipped)",
                ));
                return;
            }
            self.station = None; // close the old store before opening
            self.open_station();
        } else if old_info != new_info {
            let (zh, en) = (
                "设置已保存；本场次信息已更正，编号和队列不变",
                "settings saved; the session is corrected, numbers and queue unchanged",
            );
            self.ui.feedback = Some(Feedback::new(FeedbackKind::Info, "✓", zh, en));
            return;
        }
        let msg = tr(self.lang(), "设置已保存", "settings saved");
        self.ui.feedback = Some(Feedback::new(FeedbackKind::Info, "✓", msg.clone(), msg));
    }

    fn shoot(&mut self) {
        let lang = self.lang();
        let Some(st) = &self.station else { return };
        if st.take_under_review().is_some() {
            let m = ("请先确认（Enter）或重拍（R）当前照片", "accept (Enter) or re-shoot (R) the current photo first");
            self.ui.feedback = Some(Feedback::new(FeedbackKind::Info, "!", m.0, m.1));
            return;
        }
        if self.ui.shooting {
            return;
        }
        let head = match st.head() {
            Ok(Some(h)) => h,
            Ok(None) => {
                self.ui.feedback = Some(Feedback::error(&StationError::NoStudent));
                return;
            }
            Err(e) => {
                self.ui.feedback = Some(Feedback::error(&e));
                return;
            }
        };
        let Some(frame) = self.capture.as_ref().and_then(|c| c.slot().latest()) else {
            let m = tr(lang, "没有摄像头画面，无法拍摄", "no camera picture: cannot shoot");
            self.ui.feedback = Some(Feedback::new(FeedbackKind::Rejected, "✗", m.clone(), m));
            return;
        };
        if let Some(photo) = &self.photo {
            let job = (head.id, frame, st.config(), st.quality_hint());
            if photo.jobs.send(job).is_ok() {
                self.ui.shooting = true;
            }
        }
    }

    fn handle_event(&mut self, event: Event, ctx: &egui::Context) {
        let Some(st) = &mut self.station else { return };
        match st.handle(event) {
            Ok(outcome) => self.show_outcome(outcome, ctx),
            Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
        }
        self.refresh();
    }

    fn show_outcome(&mut self, outcome: Outcome, ctx: &egui::Context) {
        use FeedbackKind::*;
        let fb = match outcome {
            Outcome::Queued(r) if self.training && !r.code.is_drill() => Feedback::new(
                Duplicate,
                r.display_seq(),
                format!(
                    "练习模式：这是真实学生的采集码，只记入练习数据库，不会上传。已取号 {} 学号 {}",
                    r.display_seq(),
                    r.code.xh
                ),
                format!(
                    "training: this is a real student's code; it goes into the training database only and is never uploaded. Number {} ({})",
                    r.display_seq(),
                    r.code.xh
                ),
            )
            .scanned("✚"),
            Outcome::Queued(r) => Feedback::new(
                Success,
                r.display_seq(),
                format!("已取号 {} {} 学号 {}", r.display_seq(), r.code.xm, r.code.xh),
                format!("number {} for {} ({})", r.display_seq(), r.code.xm, r.code.xh),
            )
            .scanned("✚"),
            Outcome::AlreadyWaiting(r) => Feedback::new(
                Duplicate,
                r.display_seq(),
                format!("已在队列中，序号仍为 {}", r.display_seq()),
                format!("already waiting: still number {}", r.display_seq()),
            )
            .scanned("↻"),
            Outcome::AlreadyPhotographed(r) => {
                let at = r.status_at.as_deref().map(ui::short_time).unwrap_or_default();
                Feedback::new(
                    Duplicate,
                    r.display_seq(),
                    format!("已拍过：序号 {}，{} 拍摄，不可重复采集", r.display_seq(), at),
                    format!("already photographed: number {} at {at}; no second capture", r.display_seq()),
                )
                .scanned("⛔")
            }
            Outcome::Rejected(reason) => {
                let text = reason.to_string();
                let (zh, en) =
                    text.split_once(" / ").map_or((text.clone(), String::new()), |(a, b)| (a.into(), b.into()));
                Feedback::new(Rejected, "✗", zh, en).scanned("✗")
            }
            Outcome::TakeReady { record, take, deliverable_jpeg, fit, assessment } => {
                match crate::photo::decode_jpeg(&deliverable_jpeg) {
                    Ok(img) => {
                        let tex = ctx.load_texture("review", ui::color_image(&img), egui::TextureOptions::LINEAR);
                        let review = ReviewView {
                            record: record.clone(),
                            take: *take,
                            in_range: fit == crate::photo::SizeFit::InRange,
                            bytes: deliverable_jpeg.len(),
                            assessment: *assessment,
                        };
                        self.ui.review = Some((review, tex));
                    }
                    Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
                }
                return;
            }
            Outcome::Accepted(r) => {
                self.ui.review = None;
                Feedback::new(
                    Success,
                    format!("✓ {}", r.display_seq()),
                    format!("{} 已拍摄完成，请下一位", r.display_seq()),
                    format!("{} photographed: next, please", r.display_seq()),
                )
            }
            Outcome::ReadyForReshoot(r) => {
                self.ui.review = None;
                Feedback::new(
                    Info,
                    r.display_seq(),
                    format!("重拍 {}", r.display_seq()),
                    format!("re-shoot {}", r.display_seq()),
                )
            }
            Outcome::Skipped(r) => Feedback::new(
                Info,
                r.display_seq(),
                format!("{} 已跳过：{}", r.display_seq(), r.status_reason),
                format!("{} skipped: {}", r.display_seq(), r.status_reason),
            ),
            Outcome::Voided(r) => Feedback::new(
                Info,
                r.display_seq(),
                format!("{} 已作废：{}", r.display_seq(), r.status_reason),
                format!("{} voided: {}", r.display_seq(), r.status_reason),
            ),
            Outcome::ReshootRequested(r) => Feedback::new(
                Info,
                r.display_seq(),
                format!("下一张照片将重拍 {}", r.display_seq()),
                format!("the next photo re-shoots {}", r.display_seq()),
            ),
            Outcome::ReshootCancelled(r) => Feedback::new(
                Info,
                r.display_seq(),
                format!("已取消 {} 的重拍", r.display_seq()),
                format!("re-shoot of {} cancelled", r.display_seq()),
            ),
        };
        self.ui.feedback = Some(fb);
    }

    fn open_detail(&mut self, record: RecordId, ctx: &egui::Context) {
        let Some(st) = &self.station else { return };
        let store = st.store();
        let detail = (|| -> Result<RecordDetail, crate::store::StoreError> {
            Ok(RecordDetail {
                record: store.record(record)?,
                takes: store.takes(record)?,
                audit: store.audit_for_record(record)?,
            })
        })();
        match detail {
            Ok(d) => {
                self.ui.detail_textures.clear();
                for take in &d.takes {
                    if let Ok((_, deliverable)) = store.take_images(take.id) {
                        if let Ok(img) = crate::photo::decode_jpeg(&deliverable) {
                            let tex = ctx.load_texture(
                                format!("take-{}", take.id),
                                ui::color_image(&img),
                                egui::TextureOptions::LINEAR,
                            );
                            self.ui.detail_textures.push((take.id, tex));
                        }
                    }
                }
                self.ui.detail = Some(d);
                self.ui.action_reason.clear();
                self.ui.action_pin.clear();
            }
            Err(e) => self.ui.feedback = Some(Feedback::error(&e)),
        }
    }

    fn update_head_thumb(&mut self, ctx: &egui::Context) {
        let head_id = self.ui.snapshot.head.as_ref().map(|h| h.id);
        if self.ui.head_thumb.as_ref().map(|(id, _)| *id) == head_id {
            return;
        }
        self.ui.head_thumb = None;
        let (Some(id), Some(st)) = (head_id, &self.station) else { return };
        if let Ok(Some(jpeg)) = st.store().scan_thumb(id) {
            if let Ok(img) = crate::photo::decode_jpeg(&jpeg) {
                let tex = ctx.load_texture("head-thumb", ui::color_image(&img), egui::TextureOptions::LINEAR);
                self.ui.head_thumb = Some((id, tex));
            }
        }
    }

    /// One frame: the table of contents. What the workers and the keys bring
    /// is applied before drawing, so a number read from the camera is on
    /// screen in the frame that receives it.
    pub fn frame(&mut self, ctx: &egui::Context) {
        let mut commands = self.poll_workers(ctx);
        commands.extend(self.read_keys(ctx));
        for command in commands {
            self.apply(command, ctx);
        }
        self.update_head_thumb(ctx);
        for command in self.draw(ctx) {
            self.apply(command, ctx);
        }
        if self.last_refresh.elapsed() > Duration::from_secs(2) {
            self.refresh();
        }
        if let Some(limit) = self.opts.exit_after {
            if self.started.elapsed() >= limit {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
        // The preview runs at camera rate; otherwise repaint on input.
        ctx.request_repaint_after(Duration::from_millis(if self.capture.is_some() { 33 } else { 250 }));
    }
}

impl eframe::App for GradcapApp {
    fn update(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        if let Some(cpu_s) = frame.info().cpu_usage {
            self.frame_times.record(cpu_s * 1000.0);
        }
        self.frame(ctx);
    }
}

/// The UI thread's time per frame (eframe's measure: update, tessellation
/// and painting of the previous frame), logged as median and p95 every
/// [`FrameTimes::WINDOW`] frames on `gradcap::timing` (benches/station reads it).
#[derive(Debug, Default)]
struct FrameTimes {
    ms: Vec<f32>,
}

impl FrameTimes {
    const WINDOW: usize = 150;

    fn record(&mut self, ms: f32) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_that_ends_without_an_answer_answers_with_an_error() {
        let (tx, rx) = std::sync::mpsc::channel::<Result<u8, String>>();
        assert!(job_result(&rx, "export").is_none(), "still running");
        tx.send(Ok(7)).unwrap();
        assert_eq!(job_result(&rx, "export"), Some(Ok(7)));
        drop(tx);
        let err = job_result(&rx, "export").unwrap().unwrap_err();
        assert!(err.contains("export thread stopped unexpectedly"), "{err}");
    }
}
