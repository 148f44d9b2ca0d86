//! The eframe application: owns the station, the camera, the scanner, the
//! shutter and the task registry, and runs the frame loop. The loop reads
//! like a table of contents ([`GradcapApp::frame`]): poll the workers, the
//! tasks and the file dialogs, read the keys, draw the views (which only read state and return
//! [`Command`]s), then apply the commands in one place
//! ([`GradcapApp::apply`]), the only place that calls the station or starts
//! a task. Every message in the feedback band comes from [`ui::messages`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::camera::demo::DemoFactory;
use crate::camera::replay::ReplayFactory;
use crate::camera::usb::{list_cameras, UsbFactory, UsbRequest};
use crate::camera::{CameraState, Capture, SourceFactory, STALL_TIMEOUT_MS};
use crate::export::purge::{PurgeDone, PurgeError};
use crate::export::{BundleReport, ExportError, ExportReport, Progress as ExportProgress};
use crate::photo::framing::FramingWorker;
use crate::roster::worker::ReportWorker;
use crate::scan::gun::{GunBuffer, GunConfig, GunKey, GunOutput};
use crate::scan::worker::ScanWorker;
use crate::settings::{Language, Settings};
use crate::sound::{Cue, Player, Sound};
use crate::station::shutter::{ShootRefused, Shutter};
use crate::station::{Event, Outcome, SessionChange, Station, StationError};
use crate::store::{RecordId, Store, StoreError};
use crate::task::{ProgressSink, TaskError, TaskKind, Tasks};
use crate::text::{Bilingual, Text};
use crate::ui;
use crate::ui::messages;
use crate::ui::state::{
    Command, ExportOutcome, Feedback, FeedbackKind, ReviewView, UiState, View, ACCEPT_FAILED_WINDOW,
};
use crate::worker::Wake;

mod devices;
pub mod dialogs;
mod office;
mod session;
mod studio;
mod tasks;
mod timing;
pub mod window;

pub use devices::CameraChoice;
pub use tasks::{Task, TaskOutput};
use timing::FrameTimes;

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
    /// The file and folder dialogs; `None`: the system's ([`dialogs::NativeDialogs`]).
    pub picker: Option<Arc<dyn dialogs::PathPicker>>,
}

/// The station application.
pub struct GradcapApp {
    opts: AppOptions,
    pub settings: Settings,
    pub station: Option<Station>,
    pub startup_error: Option<String>,
    capture: Option<Capture>,
    /// The file or folder dialog that is open, on its own thread.
    dialogs: dialogs::Dialogs,
    scanner: Option<ScanWorker>,
    framing: Option<FramingWorker>,
    shutter: Option<Shutter>,
    /// The studio camera's folder, when it makes the photos.
    studio: Option<crate::station::ingest::StudioCamera>,
    player: Player,
    tasks: Tasks<Task, TaskOutput, ExportProgress>,
    /// Reads the assistants' figures while their tab is shown.
    assist_worker: Option<ReportWorker>,
    gun: GunBuffer,
    /// Training mode (its own database).
    training: bool,
    /// The drives listed in the export view and the device each was on.
    drive_devices: Vec<(PathBuf, u64)>,
    /// What the background check found wrong with the image store.
    image_store_damaged: Option<StoreError>,
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
    ui::tr(lang, zh, en).to_string()
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
        let wake = ctx.clone();
        let dialog_wake = ctx.clone();
        let picker = opts.picker.clone().unwrap_or_else(|| Arc::new(dialogs::NativeDialogs::default()));
        let mut app = GradcapApp {
            dialogs: dialogs::Dialogs::new(picker, Arc::new(move || dialog_wake.request_repaint())),
            gun: GunBuffer::new(opts.gun.clone()),
            training: opts.training,
            drive_devices: Vec::new(),
            image_store_damaged: None,
            player: Player::start(opts.sound.clone()),
            tasks: Tasks::new(Arc::new(move || wake.request_repaint())),
            assist_worker: None,
            opts,
            settings,
            station: None,
            startup_error: None,
            capture: None,
            scanner: None,
            framing: None,
            shutter: None,
            studio: None,
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
        match Shutter::start(app.wake()) {
            Ok(s) => app.shutter = Some(s),
            Err(e) => app.startup_error = Some(e.to_string()),
        }
        app.start_camera();
        app.start_studio();
        if let Some(w) = settings_warning {
            app.ui.say(messages::settings_warning(Text::same(w)));
        }
        app.refresh();
        app
    }

    fn lang(&self) -> Language {
        self.settings.language
    }

    fn wake(&self) -> Wake {
        let ctx = self.ctx.clone();
        Box::new(move || ctx.request_repaint())
    }

    fn say(&mut self, feedback: Feedback) {
        self.ui.say(feedback);
    }

    fn fail(&mut self, e: &dyn Bilingual) {
        self.ui.say(Feedback::error(e));
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

    /// The tasks running now (named), for tests and the status line.
    pub fn running_tasks(&self) -> Vec<Task> {
        self.tasks.running().into_iter().map(|(task, _)| task).collect()
    }

    /// Re-reads what the views show, through the station.
    pub fn refresh(&mut self) {
        self.last_refresh = Instant::now();
        let Some(st) = &self.station else { return };
        let queue = st.queue_view(50);
        let pin_set = st.has_pin().unwrap_or(false);
        let db = st.db_path().map(Path::to_path_buf);
        match queue {
            Ok(s) => self.ui.snapshot = s,
            Err(e) => self.fail(&e),
        }
        self.ui.pin_set = pin_set;
        let free = db.as_deref().and_then(crate::paths::free_space);
        self.ui.storage_low = free.is_some_and(|b| b < crate::paths::LOW_SPACE_BYTES);
        self.ui.storage_label = match (db, free) {
            (Some(p), Some(free)) => format!(
                "{} · {} {:.1} GB",
                p.display(),
                tr(self.lang(), "剩余", "free"),
                free as f64 / (1u64 << 30) as f64
            ),
            (Some(p), None) => format!("{}", p.display()),
            (None, _) => "(memory)".into(),
        };
        self.refresh_tray();
    }

    /// 1. Workers: camera state and preview, framing hints, codes read, the
    ///    assistants' figures, photos prepared.
    fn poll_workers(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let mut commands = Vec::new();
        if let (Some(worker), Some(st)) = (&self.assist_worker, &self.station) {
            if let Some(reading) = worker.latest() {
                let info = &st.session().info;
                let assist =
                    self.ui.assist.get_or_insert_with(|| ui::state::AssistState::new(&info.station, &info.date));
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
            let locks: Vec<String> =
                capture.lock_notes().iter().map(|n| n.text().get(self.lang()).to_string()).collect();
            self.ui.camera_label = if locks.is_empty() {
                format!("{} — {label}", capture.source_name())
            } else {
                format!("{} — {label} · {}", capture.source_name(), locks.join(" · "))
            };
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
        if let Some(studio) = &self.ui.studio {
            use crate::camera::folder::FolderState;
            let (zh, en) = match studio.status.state {
                Some(FolderState::Watching | FolderState::Polling) => ("相机文件夹监视中", "camera folder watched"),
                Some(FolderState::Missing) => ("相机文件夹不存在", "camera folder missing"),
                Some(FolderState::Unreadable(_)) => ("相机文件夹无法读取", "camera folder unreadable"),
                None | Some(FolderState::Starting) => ("相机文件夹打开中", "camera folder opening"),
            };
            let tray = match studio.tray.len() {
                0 => String::new(),
                n => format!(" · {} {n}", tr(self.lang(), "待绑定", "unbound")),
            };
            self.ui.camera_label = format!("{} · {}{tray}", self.ui.camera_label, tr(self.lang(), zh, en));
        }
        if let Some(framing) = self.framing.as_ref().and_then(FramingWorker::latest) {
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
        self.poll_studio(ctx);
        if let (Some(shutter), Some(st)) = (&mut self.shutter, &mut self.station) {
            let session = st.session().id;
            let outcomes = shutter.collect(st);
            if !outcomes.is_empty() {
                self.show_results(session, outcomes, ctx);
                self.refresh();
            }
        }
        self.ui.shooting = self.shutter.as_ref().is_some_and(Shutter::busy);
        commands
    }

    /// 3. Keys: the scanner gun's bursts and the operator's shortcuts.
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
                    commands.extend(ui::operator::shortcut(&key, &self.settings.keys, self.ui.skip_prompt))
                }
                GunOutput::Fragment(n) => {
                    self.say(messages::scan_fragment(n));
                    self.player.play(Cue::Rejected);
                }
            }
        }
        if self.gun.is_holding() {
            ctx.request_repaint_after(Duration::from_millis(self.gun.config().max_gap_ms + 5));
        }
        commands
    }

    /// 4. Views: they draw from state and return commands.
    fn draw(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let mut out = Vec::new();
        let lang = self.lang();
        ui::training_banner(ctx, self.training, lang, &mut out);
        let bar = ui::StatusBar { view: self.view, ui: &self.ui, startup_error: self.startup_error.as_deref(), lang };
        ui::status_bar(ctx, &bar, &mut out);
        ui::feedback_panel(ctx, &self.ui, lang);
        match self.view {
            View::Operator => ui::operator::show(ctx, &mut self.ui, &self.settings, lang, &mut out),
            View::Records => ui::records::show(ctx, &mut self.ui, lang, &mut out),
            View::Assist => ui::assist::show_tab(ctx, &mut self.ui, lang, &mut out),
            View::Settings => ui::settings_view::show(ctx, &mut self.ui, &self.settings, lang, &mut out),
            View::Export => ui::export_view::show(ctx, &mut self.ui, &self.settings, lang, &mut out),
        }
        ui::confirm_dialog(ctx, &mut self.ui, lang, &mut out);
        out
    }

    /// 5. The one place that changes anything.
    pub fn apply(&mut self, command: Command, ctx: &egui::Context) {
        // A damaged image store takes no more captures: restore a backup first.
        if let (
            Some(e),
            Command::Scanned { .. } | Command::Shoot | Command::Accept | Command::BindShot(_) | Command::BindOldestShot,
        ) = (&self.image_store_damaged, &command)
        {
            self.ui.say(Feedback::error(e));
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
            Command::Shoot if self.studio.is_some() => self.shoot_studio(),
            Command::Shoot => self.shoot(),
            Command::BindShot(id) => self.bind_shot(id),
            Command::BindOldestShot => self.bind_oldest_shot(),
            Command::DiscardShot(id) => self.discard_shot(id),
            Command::Accept => {
                if self.accept_needs_confirmation() {
                    return;
                }
                self.handle_event(Event::Accept, ctx);
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
            }
            Command::CancelPrompt => {
                self.ui.skip_prompt = false;
                self.ui.confirm = None;
                self.ui.purge_plan = None;
            }
            Command::Void { record, reason, pin } => {
                self.ui.confirm = None;
                if self.handle_event_with_pin(Event::Void { record, reason }, &pin, ctx) {
                    self.open_detail(record, ctx);
                }
            }
            Command::AskPurge { before, pin } => {
                if !self.pin_ok(&pin) {
                    return;
                }
                let Some(st) = &self.station else { return };
                match st.purge_plan(&before) {
                    Ok(plan) if plan.takes == 0 => self.say(messages::nothing_to_purge(&before)),
                    Ok(plan) => {
                        self.ui.purge_plan = Some(plan);
                        self.ui.confirm = Some(Command::Purge { before, pin });
                    }
                    Err(e) => self.fail(&e),
                }
            }
            Command::CheckBundle { target, last } => {
                let checking = target.clone();
                let job = move |_: &ProgressSink<ExportProgress>| {
                    let checked = crate::export::bundle_to_check(&target, last.as_deref());
                    let report = crate::export::verify_bundle(&checked);
                    TaskOutput::BundleCheck(checked, report)
                };
                match self.tasks.start(Task::BundleCheck, job) {
                    Ok(()) => self.ui.bundle_checking = Some(checking),
                    Err(TaskError::AlreadyRunning { .. }) => {}
                    Err(e) => self.fail(&e),
                }
            }
            Command::RefreshDrives => self.list_drives(),
            Command::ExportStudent(record) => {
                let db = self.db_path();
                let target = self.ui.export_target.trim().to_string();
                let base = if target.is_empty() {
                    db.parent().unwrap_or(Path::new(".")).join("corrections")
                } else {
                    PathBuf::from(target)
                };
                self.start_task(Task::Correction, move |_| {
                    TaskOutput::Correction(crate::export::lookup::export_correction(&db, record, &base))
                });
            }
            Command::Purge { before, pin } => {
                self.ui.confirm = None;
                self.ui.purge_plan = None;
                self.ui.purge_pin.clear();
                if self.tasks.is_running(Task::Purge) || !self.pin_ok(&pin) {
                    return;
                }
                let db = self.db_path();
                self.start_task(Task::Purge, move |_| {
                    TaskOutput::Purge(crate::export::purge::purge_handed_over(&db, &before, &crate::station::now()))
                });
            }
            Command::RequestReshoot { record, reason, pin } => {
                self.ui.confirm = None;
                if self.handle_event_with_pin(Event::RequestReshoot { record, reason }, &pin, ctx) {
                    self.open_detail(record, ctx);
                }
            }
            Command::CancelReshoot(record) => self.handle_event(Event::CancelReshoot { record }, ctx),
            Command::Show(view) => self.show_view(view),
            Command::Search(query) => {
                self.ui.search = query;
                let Some(st) = &self.station else { return };
                match st.search(&self.ui.search, 100) {
                    Ok(r) => {
                        // A search that finds nothing says so and clears the last record.
                        if r.is_empty() {
                            self.ui.detail = None;
                            self.ui.detail_textures.clear();
                        }
                        self.ui.searched = Some(self.ui.search.trim().to_string());
                        self.ui.results = r;
                    }
                    Err(e) => self.fail(&e),
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
                    self.say(messages::camera_connected());
                }
            }
            Command::StartTraining => self.switch_training(true),
            Command::LeaveTraining => self.switch_training(false),
            Command::Backup(dir) => {
                if self.tasks.is_running(Task::Backup) {
                    return;
                }
                let db = self.db_path();
                let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
                self.start_task(Task::Backup, move |_| {
                    TaskOutput::Backup(Store::backup_file(&db, &dir, &stamp).map(|(p, r)| (p, r.ok())))
                });
            }
            Command::Export { to, full, encrypt, raw } => {
                if self.tasks.is_running(Task::Export) {
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
                    raw_from: raw.then(|| PathBuf::from(self.settings.shots.folder.trim())),
                };
                // Its own connection: capture goes on while the export writes.
                self.ui.export_progress = None;
                self.start_task(Task::Export, move |progress| {
                    TaskOutput::Export(tasks::export(&db, &to, &options, progress))
                });
            }
            Command::Pick(pick) => {
                let title = dialogs::title(&pick).get(self.lang()).to_string();
                if !self.dialogs.ask(pick, title) {
                    self.say(messages::dialog_busy());
                }
            }
            Command::Picked(pick, path) => self.picked(pick, path),
            Command::Prints { class, jpeg, to } => self.start_prints(class, jpeg, to),
            Command::OpenAssistWindow => {
                let spawned = std::env::current_exe().and_then(|exe| {
                    std::process::Command::new(exe)
                        .arg("--db")
                        .arg(self.db_path())
                        .arg("--data-dir")
                        .arg(self.opts.settings_path.parent().unwrap_or(Path::new(".")))
                        .arg("assist")
                        .spawn()
                });
                if let Err(e) = spawned {
                    self.say(messages::assist_window_failed(&e));
                }
            }
            Command::SetPin { new, old } => {
                let Some(st) = &mut self.station else { return };
                let old = (!old.is_empty()).then_some(old.as_str());
                match st.set_pin(&new, old) {
                    Ok(()) => {
                        self.ui.new_pin.clear();
                        self.ui.old_pin.clear();
                        self.say(messages::pin_set());
                    }
                    Err(e) => self.fail(&e),
                }
            }
        }
        self.refresh();
    }

    fn show_view(&mut self, view: View) {
        self.view = view;
        self.assist_worker = None;
        if view == View::Assist {
            self.ui.assist = None; // re-read at once
            if let Some(st) = &self.station {
                let info = &st.session().info;
                self.ui.assist = Some(ui::state::AssistState::new(&info.station, &info.date));
            }
            self.start_assist_worker();
        }
        if view == View::Export {
            self.list_drives();
            if self.ui.export_target.is_empty() {
                if let Some(d) = self.ui.drives.first() {
                    self.ui.export_target = d.path.display().to_string();
                }
            }
            if let Some(st) = &self.station {
                self.ui.export_history = st.export_history().unwrap_or_default();
                self.ui.print_classes = st.store().photographed_classes().unwrap_or_default();
                if !self.ui.print_classes.contains(&self.ui.print_class) {
                    self.ui.print_class = self.ui.print_classes.first().cloned().unwrap_or_default();
                }
            }
        }
        if view == View::Settings {
            if self.ui.backup_dir.is_empty() {
                let base = self.opts.db_path.parent().unwrap_or(Path::new("."));
                self.ui.backup_dir = base.join("backups").display().to_string();
            }
            self.ui.settings_draft = Some(self.settings.clone());
            // Asking the OS for its cameras can take a moment: a task.
            let job = |_: &ProgressSink<ExportProgress>| {
                TaskOutput::Cameras(list_cameras().into_iter().map(|c| c.name).collect())
            };
            match self.tasks.start(Task::CameraList, job) {
                Ok(()) | Err(TaskError::AlreadyRunning { .. }) => {}
                Err(e) => self.fail(&e),
            }
        }
    }

    /// A photo with a failed (red) check is accepted only by a second accept
    /// within [`ACCEPT_FAILED_WINDOW`]: the first reads the failed checks out
    /// and says how to go on.
    fn accept_needs_confirmation(&mut self) -> bool {
        let Some((review, _)) = &self.ui.review else { return false };
        let failed: Vec<Text> =
            review.assessment.failed_checks().iter().map(|c| Text::new(&c.message_zh, &c.message_en)).collect();
        if failed.is_empty() {
            return false;
        }
        let take = review.take.id;
        if self.ui.accept_armed.is_some_and(|(id, at)| id == take && at.elapsed() <= ACCEPT_FAILED_WINDOW) {
            self.ui.accept_armed = None;
            return false;
        }
        self.ui.accept_armed = Some((take, Instant::now()));
        let keys = &self.settings.keys;
        let fb = messages::failed_checks_armed(&failed, &keys.accept, &keys.reshoot, ACCEPT_FAILED_WINDOW.as_secs());
        self.say(fb);
        self.player.play(Cue::Duplicate);
        true
    }

    fn pin_ok(&mut self, pin: &str) -> bool {
        let Some(st) = &mut self.station else { return false };
        match st.check_pin(pin) {
            Ok(()) => true,
            Err(e) => {
                self.fail(&e);
                false
            }
        }
    }

    fn shoot(&mut self) {
        let (Some(st), Some(shutter)) = (&mut self.station, &mut self.shutter) else { return };
        let frame = self.capture.as_ref().and_then(|c| c.slot().latest());
        match shutter.press(st, frame) {
            Ok(_) => self.ui.shooting = true,
            Err(ShootRefused::Busy) => {}
            Err(ShootRefused::ReviewPending) => self.say(messages::decide_current_photo_first()),
            Err(ShootRefused::NoPicture) => self.say(messages::no_camera_picture()),
            Err(e) => self.fail(&e),
        }
    }

    fn handle_event(&mut self, event: Event, ctx: &egui::Context) {
        let Some(st) = &mut self.station else { return };
        let session = st.session().id;
        let result = st.handle(event);
        self.show_results(session, vec![result], ctx);
    }

    /// An event the operator authorised with the PIN; false when the PIN
    /// was refused (nothing applied).
    fn handle_event_with_pin(&mut self, event: Event, pin: &str, ctx: &egui::Context) -> bool {
        let Some(st) = &mut self.station else { return false };
        let session = st.session().id;
        let result = st.handle_with_pin(event, pin);
        let pin_refused = matches!(
            &result,
            Err(StationError::Store(StoreError::WrongPin { .. } | StoreError::PinWait { .. } | StoreError::NoPin))
        );
        self.show_results(session, vec![result], ctx);
        !pin_refused
    }

    /// Shows what the station answered, and follows it into a new session
    /// when one started (`session_before` was the one open before).
    fn show_results(
        &mut self,
        session_before: crate::store::SessionId,
        results: Vec<Result<Outcome, StationError>>,
        ctx: &egui::Context,
    ) {
        for result in results {
            match result {
                Ok(outcome) => self.show_outcome(outcome, ctx),
                Err(e) => self.fail(&e),
            }
        }
        if self.station.as_ref().is_some_and(|st| st.session().id != session_before) {
            self.session_started();
        }
    }

    fn show_outcome(&mut self, outcome: Outcome, ctx: &egui::Context) {
        if matches!(outcome, Outcome::Accepted(_) | Outcome::ReadyForReshoot(_)) {
            self.ui.review = None;
        }
        if let Outcome::TakeReady { record, take, deliverable_jpeg, fit, assessment, backdrop_drift } = &outcome {
            match crate::photo::decode_jpeg(deliverable_jpeg) {
                Ok(img) => {
                    let tex = ctx.load_texture("review", ui::color_image(&img), egui::TextureOptions::LINEAR);
                    let review = ReviewView {
                        record: record.clone(),
                        take: (**take).clone(),
                        in_range: *fit == crate::photo::SizeFit::InRange,
                        bytes: deliverable_jpeg.len(),
                        assessment: (**assessment).clone(),
                    };
                    self.ui.review = Some((review, tex));
                    if let Some(drift) = backdrop_drift.filter(|d| *d > crate::station::BACKDROP_DRIFT_MAX) {
                        self.say(messages::backdrop_drift(drift));
                    }
                    self.check_shot_limit(record, take.take_no);
                }
                Err(e) => self.fail(&e),
            }
        }
        if let Some(fb) = messages::outcome(&outcome, self.training) {
            self.say(fb);
        }
    }

    fn open_detail(&mut self, record: RecordId, ctx: &egui::Context) {
        let Some(st) = &self.station else { return };
        match st.record_detail(record) {
            Ok(d) => {
                self.ui.detail_textures.clear();
                for take in &d.takes {
                    let Ok(deliverable) = st.deliverable(take.id) else { continue };
                    if let Ok(img) = crate::photo::decode_jpeg(&deliverable) {
                        let tex = ctx.load_texture(
                            format!("take-{}", take.id),
                            ui::color_image(&img),
                            egui::TextureOptions::LINEAR,
                        );
                        self.ui.detail_textures.push((take.id, tex));
                    }
                }
                self.ui.detail = Some(d);
                self.ui.action_reason.clear();
                self.ui.action_pin.clear();
            }
            Err(e) => self.fail(&e),
        }
    }

    fn update_head_thumb(&mut self, ctx: &egui::Context) {
        let head_id = self.ui.snapshot.head.as_ref().map(|h| h.id);
        if self.ui.head_thumb.as_ref().map(|(id, _)| *id) == head_id {
            return;
        }
        self.ui.head_thumb = None;
        let (Some(id), Some(st)) = (head_id, &self.station) else { return };
        if let Ok(Some(jpeg)) = st.scan_thumb(id) {
            if let Ok(img) = crate::photo::decode_jpeg(&jpeg) {
                let tex = ctx.load_texture("head-thumb", ui::color_image(&img), egui::TextureOptions::LINEAR);
                self.ui.head_thumb = Some((id, tex));
            }
        }
    }

    /// One frame: the table of contents. What the workers, the tasks and the
    /// keys bring is applied before drawing, so a number read from the
    /// camera is on screen in the frame that receives it.
    pub fn frame(&mut self, ctx: &egui::Context) {
        let mut commands = self.poll_workers(ctx);
        self.poll_tasks();
        commands.extend(self.poll_dialogs());
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
