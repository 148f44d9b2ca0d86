//! The GUI's state and the commands its views send: the types the views
//! are drawn from, defined below the views so that views and the app both
//! depend on them and not on each other. Nothing here draws or does work.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::export::{BundleReport, ExportReport};
use crate::frame::Frame;
use crate::roster::worker::AssistData;
use crate::roster::ScheduleRow;
use crate::settings::Settings;
use crate::store::{Record, RecordId, Report, StoreError, Take};
use crate::text::{Bilingual, Text};

/// How long the first accept of a photo with failed checks stays armed.
pub const ACCEPT_FAILED_WINDOW: Duration = Duration::from_secs(4);

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
        /// Copy each photo's RAW file from the studio camera's folder.
        raw: bool,
    },
    /// Ask to purge: works out what would go, then asks for confirmation.
    AskPurge {
        before: String,
        pin: String,
    },
    /// Check a bundle on a drive (as `gradcap verify-bundle`), on its own thread.
    /// Check the bundle the folder `target` means (the one `last` wrote or
    /// checked, when it is inside it).
    CheckBundle {
        target: PathBuf,
        last: Option<PathBuf>,
    },
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
    /// Bind a file of the studio camera's tray to the queue head (audited).
    BindShot(crate::store::CameraFileId),
    /// The bind key: the oldest file of the tray, if there is one.
    BindOldestShot,
    /// Set a file of the tray aside (audited); it stays in the folder.
    DiscardShot(crate::store::CameraFileId),
    /// Print sheets of a class (the settings' package and paper), as one PDF
    /// or as JPEG sheets, into `prints/` under the export target.
    Prints {
        class: String,
        jpeg: bool,
        /// A folder picked in a dialog, else `prints/` under the export target.
        to: Option<PathBuf>,
    },
    /// Open a file or folder dialog for `Pick`.
    Pick(Pick),
    /// The paths a dialog gave back (one, or several folders).
    Picked(Pick, Vec<PathBuf>),
}

/// What a file or folder dialog picks a path for (the app opens it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// A roster file to import (`valid_rows_only`: the valid rows, the others listed).
    Roster {
        valid_rows_only: bool,
    },
    /// A schedule file to import.
    Schedule,
    /// Where the register PDF of a class goes.
    RegisterPdf {
        class: String,
    },
    /// Where the reconciliation sheet PDF of a class goes.
    SheetPdf {
        class: String,
    },
    /// The folder a class's print sheets go into.
    PrintsFolder {
        class: String,
        jpeg: bool,
    },
    /// The export's target folder.
    ExportTarget,
    /// Where a new age identity (private key) file goes.
    Keygen,
    /// An encrypted bundle to decrypt (its folder), then its identity file,
    /// then where the restored bundle goes.
    DecryptBundle,
    DecryptIdentity {
        bundle: PathBuf,
    },
    DecryptTo {
        bundle: PathBuf,
        identity: PathBuf,
    },
    /// The stations' bundles to merge (several folders), then where the merged one goes.
    MergeBundles,
    MergeTo {
        bundles: Vec<PathBuf>,
    },
    /// The folder one student's takes and record go into (a correction, 勘误).
    StudentFolder {
        record: RecordId,
    },
}

/// What the last office task (an import, a PDF) did: done or refused, its
/// lines (an import's rows refused with their numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeOutcome {
    pub ok: bool,
    pub title: Text,
    pub lines: Vec<String>,
}

/// The last export or bundle check, shown in the export view until the next.
#[derive(Debug, Clone)]
pub enum ExportOutcome {
    Exported(ExportReport),
    Failed(String),
    Checked { dir: PathBuf, report: BundleReport },
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
    pub text: Text,
    pub at: Instant,
    /// The answer to a scan: the band says "just scanned" and `icon` tells a
    /// new number (✚) from one already waiting (↻), already photographed (⛔)
    /// or refused (✗) by shape as well as colour.
    pub scan_icon: Option<&'static str>,
}

impl Feedback {
    pub fn new(kind: FeedbackKind, big: impl Into<String>, text: Text) -> Self {
        Feedback { kind, big: big.into(), text, at: Instant::now(), scan_icon: None }
    }

    /// Marks this as the answer to a scan, with its icon.
    pub fn scanned(mut self, icon: &'static str) -> Self {
        self.scan_icon = Some(icon);
        self
    }

    /// A refusal or a failure, red.
    pub fn error(e: &dyn Bilingual) -> Self {
        Feedback::new(FeedbackKind::Rejected, "✗", e.text())
    }

    /// A neutral note.
    pub fn info(big: impl Into<String>, text: Text) -> Self {
        Feedback::new(FeedbackKind::Info, big, text)
    }
}

/// What the views show of the queue, read through the station after every change.
pub type Snapshot = crate::station::read::QueueView;

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

pub use crate::station::read::RecordDetail;

/// State that only the UI owns (never the database).
#[derive(Default)]
pub struct UiState {
    pub feedback: Option<Feedback>,
    /// The messages before the current one, newest first (at most
    /// [`EARLIER_KEPT`]): a warning that a rescan replaced a second later is
    /// still on the band, small, beside the new one.
    pub earlier: std::collections::VecDeque<Feedback>,
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
    pub drives: Vec<crate::paths::Drive>,
    pub export_target: String,
    pub export_running: bool,
    /// Encrypt the next export to the settings' recipient.
    pub export_encrypt: bool,
    /// Copy the studio camera's RAW files into the next export.
    pub export_raw: bool,
    /// The classes print sheets can be made for (read when the export view opens).
    pub print_classes: Vec<String>,
    /// The class picked for print sheets.
    pub print_class: String,
    /// JPEG sheets (for a photo lab) instead of one PDF.
    pub print_jpeg: bool,
    pub prints_running: bool,
    /// Roster import: the valid rows only, the others listed.
    pub roster_valid_rows_only: bool,
    /// The last office task's result (imports, PDFs), shown in the assistants' tab.
    pub office_outcome: Option<OfficeOutcome>,
    pub office_running: bool,
    /// The running export's latest progress and when its phase began.
    pub export_progress: Option<(crate::export::Progress, std::time::Instant)>,
    pub export_history: Vec<(String, String, String, i64)>,
    /// The last export's or bundle check's result.
    pub export_outcome: Option<ExportOutcome>,
    /// The bundle being checked, while its check runs.
    pub bundle_checking: Option<PathBuf>,
    /// A file dialog is open (perhaps behind the window): said in the top bar.
    pub dialog_open: bool,
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
    pub assist: Option<AssistState>,
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
    /// The studio camera's folder, when it is the shot source.
    pub studio: Option<StudioView>,
}

/// What the operator sees of the studio camera's folder.
#[derive(Debug, Clone, Default)]
pub struct StudioView {
    pub status: crate::station::ingest::StudioStatus,
    /// The tray: files not bound, oldest first.
    pub tray: Vec<crate::store::CameraFileRow>,
    /// With the station triggering: the shutter key's window is open.
    pub armed: bool,
}

/// How many earlier messages the band keeps.
pub const EARLIER_KEPT: usize = 6;

impl UiState {
    /// Shows `feedback`, keeping the one it replaces among the earlier messages.
    pub fn say(&mut self, feedback: Feedback) {
        if let Some(old) = self.feedback.replace(feedback) {
            self.earlier.push_front(old);
            self.earlier.truncate(EARLIER_KEPT);
        }
    }

    /// The current message and the earlier ones, newest first.
    pub fn messages(&self) -> impl Iterator<Item = &Feedback> {
        self.feedback.iter().chain(self.earlier.iter())
    }
}

impl std::fmt::Debug for UiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiState").field("feedback", &self.feedback).finish_non_exhaustive()
    }
}

/// What the assistants' view shows, re-read every two seconds.
#[derive(Debug, Default)]
pub struct AssistState {
    pub report: Report,
    pub schedule: Vec<ScheduleRow>,
    pub station: String,
    pub date: String,
    pub selected: Option<String>,
    pub search: String,
    pub error: Option<String>,
    /// A first reading has come.
    pub read: bool,
}

impl AssistState {
    pub fn new(station: &str, date: &str) -> Self {
        AssistState { station: station.to_string(), date: date.to_string(), ..Default::default() }
    }

    /// Takes a reading of the worker thread.
    pub fn apply(&mut self, reading: Result<AssistData, StoreError>) {
        self.read = true;
        match reading {
            Ok(data) => {
                self.report = data.report;
                self.schedule = data.schedule;
                self.error = None;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// The scheduled class whose slot contains `minutes` (after midnight), and the next one.
    pub fn current_and_next(&self, minutes: u32) -> (Option<&ScheduleRow>, Option<&ScheduleRow>) {
        let current = self.schedule.iter().find(|r| match (r.start_minutes(), r.end_minutes()) {
            (Some(s), Some(e)) => s <= minutes && minutes < e,
            _ => false,
        });
        let next = self.schedule.iter().find(|r| r.start_minutes().is_some_and(|s| s > minutes));
        (current, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_message_keeps_the_ones_it_replaces_newest_first_up_to_the_limit() {
        let mut ui = UiState::default();
        assert_eq!(ui.messages().count(), 0);
        for n in 0..10 {
            ui.say(Feedback::info(n.to_string(), Text::same(format!("message {n}"))));
        }
        let bigs: Vec<&str> = ui.messages().map(|f| f.big.as_str()).collect();
        assert_eq!(bigs, ["9", "8", "7", "6", "5", "4", "3"], "the current one and {EARLIER_KEPT} earlier");
        assert_eq!(ui.feedback.as_ref().map(|f| f.big.as_str()), Some("9"));
    }
}
