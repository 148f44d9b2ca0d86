//! The studio camera's shots: when a file from the hot folder
//! ([`crate::camera::folder`]) may become a take, and of whom.
//!
//! The order guard holds for files as for the shutter: a file is bound to
//! the queue head *at the moment it is found complete*, and only when no
//! photo awaits its decision, no other shot is under way and (when the
//! station triggers the camera) the shutter key was pressed within
//! [`IngestConfig::window_ms`]. A burst (files within
//! [`IngestConfig::burst_ms`] of the last one bound) stays with its
//! student: several takes, the review shows the last. Every other file goes
//! to the operator's tray, unbound, to be bound to the head by one audited
//! key or set aside; a file found in the folder at start is never bound on
//! its own. A file known by its hash is never bound again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::shutter::{hold, ShootRefused, Shutter};
use super::{Outcome, Station, StationError};
use crate::camera::folder::{ArrivedFile, ArrivedRaw, FolderConfig, FolderEvent, FolderState, FolderWatcher};
use crate::store::CameraShot;
use crate::store::{CameraFile, CameraFileRow, CameraFileStatus, RawFile, RecordId};
use crate::text::Text;
use crate::worker::{Wake, WorkerError};

/// Who fires the studio camera.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShotTrigger {
    /// The photographer presses the camera's own button: a file binds
    /// whenever a student waits and nothing is under review.
    #[default]
    Camera,
    /// The operator's shutter key fires it (through the trigger command, or
    /// by hand): a file binds only within the window after the key.
    Station,
}

/// The rules' numbers (from the settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestConfig {
    pub trigger: ShotTrigger,
    /// With [`ShotTrigger::Station`], files this long after the shutter key bind.
    pub window_ms: u64,
    /// A file this soon after the last one bound is part of its burst.
    pub burst_ms: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig { trigger: ShotTrigger::Camera, window_ms: 10_000, burst_ms: 2_500 }
    }
}

/// Why a file went to the tray instead of becoming a take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    /// Nobody in the queue when it came.
    NoStudent,
    /// A photo awaited its decision (and the file was not part of its burst).
    ReviewPending,
    /// Another shot was being prepared.
    ShotUnderWay,
    /// The station triggers the camera and the shutter key was not pressed
    /// within the window.
    NotTriggered,
    /// In the folder when the station started watching: not seen arriving.
    FoundAtStart,
    /// Its student was no longer the queue head when the take was stored.
    HeadChanged,
    /// Held after the database could not be written when it came.
    Late,
    /// Came within a burst's time of a photo of *another* student (the
    /// operator accepted fast and the next student is at the head): the tail
    /// of that burst, never the new student's.
    BurstOfPrevious,
    /// The camera's software wrote the file again after it was read.
    Rewritten,
    /// Its take was made but could not be stored (disk full, database busy).
    NotStored,
}

impl HoldReason {
    /// The code stored with the file.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoStudent => "no_student",
            Self::ReviewPending => "review_pending",
            Self::ShotUnderWay => "shot_under_way",
            Self::NotTriggered => "not_triggered",
            Self::FoundAtStart => "found_at_start",
            Self::HeadChanged => "head_changed",
            Self::Late => "late",
            Self::BurstOfPrevious => "burst_of_previous",
            Self::Rewritten => "rewritten",
            Self::NotStored => "not_stored",
        }
    }

    /// A stored code as words.
    pub fn describe(code: &str) -> Text {
        match code {
            "no_student" => Text::new("到达时队列中没有学生", "came while no student was waiting"),
            "review_pending" => Text::new("到达时有照片待确认", "came while a photo awaited its decision"),
            "shot_under_way" => Text::new("到达时另一张照片正在处理", "came while another shot was being prepared"),
            "not_triggered" => Text::new("到达时未按快门键", "came without the shutter key pressed"),
            "found_at_start" => Text::new("采集站启动时已在文件夹中", "was in the folder when the station started"),
            "head_changed" => Text::new("保存时该学生已不在队首", "its student had left the head of the queue"),
            "late" => Text::new("到达时数据库无法写入，之后放入", "the database could not be written when it came"),
            "burst_of_previous" => Text::new(
                "紧接上一位学生的照片到达（可能是上一位的连拍）",
                "came right after a photo of the previous student (the tail of that burst?)",
            ),
            "rewritten" => Text::new("读取后该文件又被改写", "the file was written again after it was read"),
            "not_stored" => Text::new("照片已生成但无法保存", "its photo was made but could not be stored"),
            "too_large" => Text::new("文件过大，不是相机照片", "too large to be a camera's photo"),
            "cut_short" => Text::new("文件不完整或不是 JPEG", "the file is cut short or not a JPEG"),
            "does_not_decode" => Text::new("无法解码", "does not decode"),
            other => Text::same(other),
        }
    }
}

/// What to do with a file that came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A take of this record.
    Bind(RecordId),
    /// To the tray, with why.
    Hold(HoldReason),
    /// Not a whole JPEG: recorded as unreadable, never bound.
    Unreadable,
    /// Already seen (same hash): nothing to do.
    Known(Box<CameraFileRow>),
}

/// The station's view of the hot folder between files: the shutter key's
/// last press, the last file bound (bursts), RAW files waiting for their JPEG.
#[derive(Debug, Default)]
pub struct ShotIngest {
    config: IngestConfig,
    /// The shutter key's last press, and the student it was pressed for.
    armed: Option<(RecordId, Instant)>,
    last_bound: Option<(RecordId, Instant)>,
    /// RAW files by stem (lower case), until their JPEG comes.
    raw_waiting: HashMap<String, ArrivedRaw>,
    /// RAW files whose JPEG was read but not yet stored (its take being
    /// made): recorded once it is, by the JPEG's hash.
    raw_unattached: Vec<(String, ArrivedRaw)>,
    /// JPEGs read, by stem: a RAW that comes after its JPEG is recorded with it.
    jpeg_by_stem: HashMap<String, String>,
}

/// Most RAW files kept waiting for their JPEG.
const MAX_RAW_KEPT: usize = 256;

fn raw_file(raw: &ArrivedRaw) -> RawFile {
    RawFile {
        name: crate::store::camera_files::safe_file_name(&raw.name, &raw.sha256),
        sha256: raw.sha256.clone(),
        bytes: raw.bytes,
    }
}

fn stem(name: &str) -> String {
    Path::new(name).file_stem().and_then(|s| s.to_str()).unwrap_or(name).to_ascii_lowercase()
}

impl ShotIngest {
    pub fn new(config: IngestConfig) -> Self {
        ShotIngest { config, ..Default::default() }
    }

    pub fn config(&self) -> IngestConfig {
        self.config
    }

    pub fn set_config(&mut self, config: IngestConfig) {
        self.config = config;
    }

    /// The shutter key was pressed for `record` (station-triggered camera).
    pub fn arm(&mut self, record: RecordId, now: Instant) {
        self.armed = Some((record, now));
    }

    /// The shutter key's window is open (for whoever it was pressed for).
    pub fn armed(&self, now: Instant) -> bool {
        self.armed
            .is_some_and(|(_, t)| now.saturating_duration_since(t) <= Duration::from_millis(self.config.window_ms))
    }

    /// The shutter key's window is open for `record`: a skip or a new head
    /// closes it.
    pub fn armed_for(&self, record: RecordId, now: Instant) -> bool {
        self.armed.is_some_and(|(r, _)| r == record) && self.armed(now)
    }

    /// Decides what becomes of `file`, found complete at `now`.
    /// `shot_for` is the record of the shot being prepared, if any
    /// (`Some(None)`: a webcam shot, whose student is the head too).
    pub fn decide(
        &self,
        station: &Station,
        shot_for: Option<RecordId>,
        busy: bool,
        file: &ArrivedFile,
        now: Instant,
    ) -> Result<Decision, StationError> {
        if let Some(row) = station.store().camera_file_by_hash(&file.sha256)? {
            return Ok(Decision::Known(Box::new(row)));
        }
        if !file.complete {
            return Ok(Decision::Unreadable);
        }
        if file.at_start {
            return Ok(Decision::Hold(HoldReason::FoundAtStart));
        }
        if file.rewritten {
            return Ok(Decision::Hold(HoldReason::Rewritten));
        }
        let Some(head) = station.head()? else { return Ok(Decision::Hold(HoldReason::NoStudent)) };
        let within_burst =
            |at: Instant| now.saturating_duration_since(at) <= Duration::from_millis(self.config.burst_ms);
        let burst = self.last_bound.is_some_and(|(record, at)| record == head.id && within_burst(at));
        if self.last_bound.is_some_and(|(record, at)| record != head.id && within_burst(at)) {
            return Ok(Decision::Hold(HoldReason::BurstOfPrevious));
        }
        if station.take_under_review().is_some() {
            let review_of_head = station.review.as_ref().is_some_and(|r| r.record == head.id);
            return Ok(if burst && review_of_head {
                Decision::Bind(head.id)
            } else {
                Decision::Hold(HoldReason::ReviewPending)
            });
        }
        if busy {
            return Ok(if burst && shot_for == Some(head.id) {
                Decision::Bind(head.id)
            } else {
                Decision::Hold(HoldReason::ShotUnderWay)
            });
        }
        if self.config.trigger == ShotTrigger::Station && !self.armed_for(head.id, now) && !burst {
            return Ok(Decision::Hold(HoldReason::NotTriggered));
        }
        Ok(Decision::Bind(head.id))
    }

    /// A file was sent to be a take of `record`: the next file soon after
    /// is part of its burst.
    pub fn bound(&mut self, record: RecordId, now: Instant) {
        self.last_bound = Some((record, now));
        // One press, one burst: the window closes with the first file.
        self.armed = None;
    }

    /// The camera file to store for `file`, with its RAW when that came first.
    pub fn camera_file(&mut self, file: &ArrivedFile) -> CameraFile {
        let key = stem(&file.name);
        self.jpeg_by_stem.insert(key.clone(), file.sha256.clone());
        let raw = self.raw_waiting.remove(&key).map(|r| raw_file(&r));
        CameraFile {
            name: crate::store::camera_files::safe_file_name(&file.name, &file.sha256),
            sha256: file.sha256.clone(),
            bytes: file.bytes.len() as u64,
            modified_at: file.modified.map(|m| chrono::DateTime::<chrono::Local>::from(m).to_rfc3339()),
            raw,
        }
    }

    /// A RAW file came: recorded with its JPEG if that was read already,
    /// otherwise kept until it comes. True when it was recorded now.
    pub fn raw_arrived(&mut self, station: &mut Station, raw: ArrivedRaw) -> Result<bool, StationError> {
        if station.store().raw_known(&raw.sha256)? {
            return Ok(false); // recorded before (a restart): nothing to wait for
        }
        let key = stem(&raw.name);
        if let Some(jpeg_sha) = self.jpeg_by_stem.get(&key).cloned() {
            if station.attach_raw(&jpeg_sha, &raw_file(&raw))? {
                return Ok(true);
            }
            // Its JPEG is not stored yet (its take is being made): later.
            if self.raw_unattached.len() < MAX_RAW_KEPT {
                self.raw_unattached.push((jpeg_sha, raw));
            }
            return Ok(false);
        }
        if self.raw_waiting.len() < MAX_RAW_KEPT {
            self.raw_waiting.insert(key, raw);
        }
        Ok(false)
    }

    /// Records the RAW files whose JPEG has been stored since; how many.
    pub fn attach_waiting_raw(&mut self, station: &mut Station) -> Result<usize, StationError> {
        let mut attached = 0;
        let mut still = Vec::new();
        for (jpeg_sha, raw) in std::mem::take(&mut self.raw_unattached) {
            if station.store().camera_file_by_hash(&jpeg_sha)?.is_none() {
                still.push((jpeg_sha, raw));
            } else if station.attach_raw(&jpeg_sha, &raw_file(&raw))? {
                attached += 1;
            } else {
                // Its JPEG has a RAW already: the export names the one recorded.
                tracing::warn!("RAW file {} not recorded: its JPEG has another RAW", raw.name);
            }
        }
        self.raw_unattached = still;
        Ok(attached)
    }

    /// RAW files not recorded (yet): their JPEG has not come, or is not stored yet.
    pub fn raw_waiting(&self) -> usize {
        self.raw_waiting.len() + self.raw_unattached.len()
    }
}

/// A tray file's bytes as they are now: at its name in the folder, or
/// (renamed, or its name not kept) the file of its size and hash there.
/// `None`: gone, or changed.
pub fn locate_bytes(dir: &Path, row: &CameraFileRow) -> Option<(PathBuf, Vec<u8>)> {
    let read = |p: &Path| -> Option<Vec<u8>> {
        if std::fs::metadata(p).ok()?.len() != row.bytes {
            return None;
        }
        let bytes = std::fs::read(p).ok()?;
        (crate::camera::folder::sha256_hex(&bytes) == row.sha256).then_some(bytes)
    };
    let named = dir.join(&row.name);
    if let Some(bytes) = read(&named) {
        return Some((named, bytes));
    }
    std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).find_map(|p| Some((p.clone(), read(&p)?)))
}

/// What the station shows of the studio camera's folder.
#[derive(Debug, Clone, Default)]
pub struct StudioStatus {
    pub folder: PathBuf,
    pub state: Option<FolderState>,
    /// The last file handled, and what became of it.
    pub last_file: Option<(String, Text)>,
    /// Files that were not photos (named once each).
    pub ignored: Vec<String>,
    /// RAW files waiting for their JPEG.
    pub raw_waiting: usize,
    /// Photo files that cannot be read, and why (named once each).
    pub unreadable: Vec<(String, String)>,
}

/// The studio camera: the folder's watcher and the rules between its
/// files, applied to a station through its shutter. The window, `simulate`
/// and the tests all drive it the same way: [`StudioCamera::poll`].
pub struct StudioCamera {
    watcher: FolderWatcher,
    ingest: ShotIngest,
    status: StudioStatus,
    /// Files whose handling failed to be written (a full disk, a locked
    /// database): looked at again, and then only ever held in the tray (by
    /// then their moment has passed, so they are never bound on their own).
    retry: Vec<(PathBuf, Instant)>,
}

/// How long after a failed write a file is looked at again.
const RETRY_AFTER: Duration = Duration::from_secs(2);
/// Most files kept for a retry at once (the rest wait for a restart, which
/// finds them in the folder).
const RETRY_KEPT: usize = 16;

impl std::fmt::Debug for StudioCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StudioCamera").field("status", &self.status).finish_non_exhaustive()
    }
}

impl StudioCamera {
    /// Watches `dir` for `station`: files older than its session are left
    /// alone, files it knows are not read again; `wake` is called with each report.
    pub fn start(dir: &Path, station: &Station, config: IngestConfig, wake: Wake) -> Result<Self, WorkerError> {
        let mut folder = FolderConfig::new(dir);
        folder.ignore_before = station
            .store()
            .session_opened_at(station.session().id)
            .ok()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(std::time::SystemTime::from);
        folder.known = station.store().camera_files_known().unwrap_or_default();
        Self::with_folder(folder, config, wake)
    }

    /// Watches as `folder` says (tests set its timings).
    pub fn with_folder(folder: FolderConfig, config: IngestConfig, wake: Wake) -> Result<Self, WorkerError> {
        let status = StudioStatus { folder: folder.dir.clone(), ..Default::default() };
        Ok(StudioCamera {
            watcher: FolderWatcher::start(folder, wake)?,
            ingest: ShotIngest::new(config),
            status,
            retry: Vec::new(),
        })
    }

    pub fn status(&self) -> &StudioStatus {
        &self.status
    }

    pub fn ingest(&self) -> &ShotIngest {
        &self.ingest
    }

    pub fn ingest_mut(&mut self) -> &mut ShotIngest {
        &mut self.ingest
    }

    /// Waits up to `timeout` for the folder's next report (headless tools).
    pub fn wait(&self, timeout: Duration) -> Option<FolderEvent> {
        self.watcher.recv_timeout(timeout)
    }

    /// Applies every report since the last call; the outcomes to show.
    pub fn poll(&mut self, station: &mut Station, shutter: &mut Shutter) -> Vec<Result<Outcome, StationError>> {
        let mut results = self.retry_due(station, Instant::now());
        match self.ingest.attach_waiting_raw(station) {
            Ok(0) => {}
            Ok(_) => self.status.raw_waiting = self.ingest.raw_waiting(),
            Err(e) => results.push(Err(e)),
        }
        let events = self.watcher.drain();
        results.extend(events.into_iter().filter_map(|e| self.handle(e, station, shutter, Instant::now())));
        results
    }

    /// Files whose handling could not be written, looked at again: known
    /// ones are done; the others go to the tray (or are recorded unreadable).
    fn retry_due(&mut self, station: &mut Station, now: Instant) -> Vec<Result<Outcome, StationError>> {
        let (due, later): (Vec<_>, Vec<_>) = self.retry.drain(..).partition(|(_, at)| *at <= now);
        self.retry = later;
        let mut results = Vec::new();
        for (path, _) in due {
            let Ok(bytes) = std::fs::read(&path) else { continue }; // gone from the folder
            let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let complete =
                crate::camera::folder::jpeg_completeness(&bytes) == crate::camera::folder::JpegCompleteness::Complete;
            let sha256 = crate::camera::folder::sha256_hex(&bytes);
            let file = ArrivedFile {
                path: path.clone(),
                name,
                bytes,
                sha256,
                modified: None,
                at_start: false,
                complete,
                found_at: now,
                rewritten: false,
            };
            let result = match station.store().camera_file_by_hash(&file.sha256) {
                Ok(Some(_)) => continue,
                Ok(None) => {
                    let camera_file = self.ingest.camera_file(&file);
                    let status = if complete { CameraFileStatus::Unbound } else { CameraFileStatus::Unreadable };
                    hold(station, &camera_file, status, if complete { HoldReason::Late.code() } else { "cut_short" })
                }
                Err(e) => Err(StationError::from(e)),
            };
            if matches!(result, Err(StationError::Store(_))) {
                self.keep_for_retry(path, now);
            }
            results.push(result);
        }
        results
    }

    fn keep_for_retry(&mut self, path: PathBuf, now: Instant) {
        if self.retry.len() < RETRY_KEPT && !self.retry.iter().any(|(p, _)| *p == path) {
            self.retry.push((path, now + RETRY_AFTER));
        }
    }

    /// Applies one report found at `now`: a whole JPEG is bound to the head
    /// (sent to the shutter's worker) or held in the tray at once.
    pub fn handle(
        &mut self,
        event: FolderEvent,
        station: &mut Station,
        shutter: &mut Shutter,
        now: Instant,
    ) -> Option<Result<Outcome, StationError>> {
        let file = match event {
            FolderEvent::State(state) => {
                self.status.state = Some(state);
                return None;
            }
            FolderEvent::Ignored { name } => {
                self.status.ignored.push(name);
                return None;
            }
            FolderEvent::Unreadable { name, why } => {
                tracing::warn!("camera file {name} cannot be read: {why}");
                self.status.last_file = Some((name.clone(), Text::new("无法读取", "cannot be read")));
                if self.status.unreadable.len() < 100 {
                    self.status.unreadable.push((name, why));
                }
                return None;
            }
            FolderEvent::Raw(raw) => {
                let name = raw.name.clone();
                let recorded = self.ingest.raw_arrived(station, raw);
                self.status.raw_waiting = self.ingest.raw_waiting();
                return match recorded {
                    Ok(true) => {
                        self.status.last_file = Some((name, Text::new("RAW 已记录", "RAW recorded")));
                        None
                    }
                    Ok(false) => None,
                    Err(e) => Some(Err(e)),
                };
            }
            FolderEvent::Jpeg(file) => file,
        };
        let name = file.name.clone();
        let path = file.path.clone();
        // The rules count from when the file was found whole, not from when
        // this report was read (a busy frame can be late).
        let now = file.found_at.min(now);
        let decision = match self.ingest.decide(station, shutter.shot_for(), shutter.busy(), &file, now) {
            Ok(d) => d,
            Err(e) => {
                self.keep_for_retry(path, now);
                return Some(Err(e));
            }
        };
        let result = match decision {
            Decision::Known(row) => {
                tracing::info!("camera file {name} is known ({}): not bound again", row.status.as_str());
                self.status.last_file = Some((name.clone(), Text::new("已处理过", "handled before")));
                Ok(Outcome::ShotKnown(name.clone()))
            }
            Decision::Bind(record) => {
                let camera_file = self.ingest.camera_file(&file);
                let held = camera_file.clone();
                let shot = CameraShot { file: camera_file, by_operator: false };
                match shutter.press_file(station, record, shot, file.bytes) {
                    Ok(_) => {
                        self.ingest.bound(record, now);
                        self.status.last_file = Some((name, Text::new("正在生成照片", "making the photo")));
                        self.status.raw_waiting = self.ingest.raw_waiting();
                        return None;
                    }
                    // The head moved, the worker is gone: the file waits in the tray.
                    Err(e) => {
                        tracing::warn!("camera file {name} not sent: {e}");
                        hold(station, &held, CameraFileStatus::Unbound, HoldReason::HeadChanged.code())
                    }
                }
            }
            Decision::Hold(reason) => {
                let camera_file = self.ingest.camera_file(&file);
                hold(station, &camera_file, CameraFileStatus::Unbound, reason.code())
            }
            Decision::Unreadable => {
                let camera_file = self.ingest.camera_file(&file);
                hold(station, &camera_file, CameraFileStatus::Unreadable, "cut_short")
            }
        };
        if let Ok(Outcome::ShotHeld(row)) = &result {
            let what = if row.status == CameraFileStatus::Unreadable {
                Text::new("无法使用", "cannot be used")
            } else {
                Text::new("放入待绑定区", "in the tray")
            };
            self.status.last_file = Some((name, what));
        }
        if matches!(result, Err(StationError::Store(_))) {
            self.keep_for_retry(path, now);
        }
        self.status.raw_waiting = self.ingest.raw_waiting();
        Some(result)
    }

    /// Binds a tray file to the queue head: the operator's choice (audited
    /// as such); the file is read again from the folder and must still be
    /// the bytes that were seen.
    pub fn bind_held(
        &mut self,
        id: crate::store::CameraFileId,
        station: &mut Station,
        shutter: &mut Shutter,
    ) -> Result<RecordId, BindError> {
        let row = station
            .store()
            .camera_file(id)
            .map_err(|e| BindError::Refused(Box::new(ShootRefused::Station(e.into()))))?;
        let (_, bytes) = locate_bytes(&self.status.folder, &row).ok_or(BindError::Gone(row.name.clone()))?;
        let file = CameraFile {
            name: row.name.clone(),
            sha256: row.sha256.clone(),
            bytes: row.bytes,
            modified_at: row.modified_at.clone(),
            raw: row.raw.clone(),
        };
        let record = shutter.bind_held(station, file, bytes).map_err(|e| BindError::Refused(Box::new(e)))?;
        self.status.last_file = Some((row.name, Text::new("绑定到当前学生", "bound to the current student")));
        Ok(record)
    }
}

/// Why a tray file was not bound.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("相机文件 {0} 已不在文件夹中（或已被修改） / camera file {0} is no longer in the folder (or was changed)")]
    Gone(String),
    #[error(transparent)]
    Refused(Box<ShootRefused>),
}

impl crate::text::Bilingual for BindError {
    fn text(&self) -> Text {
        match self {
            Self::Gone(name) => Text::new(
                format!("相机文件 {name} 已不在文件夹中（或已被修改），无法绑定"),
                format!("camera file {name} is no longer in the folder (or was changed): it cannot be bound"),
            ),
            Self::Refused(e) => e.text(),
        }
    }
}

impl Station {
    /// Puts a camera file in the tray, or records it as unreadable.
    pub fn hold_camera_file(
        &mut self,
        file: &CameraFile,
        status: CameraFileStatus,
        reason: &str,
    ) -> Result<Option<CameraFileRow>, StationError> {
        Ok(self.store.hold_camera_file(self.session.id, file, status, reason, &super::now())?)
    }

    /// Sets a tray file aside (audited); it stays in the folder.
    pub fn discard_camera_file(&mut self, id: crate::store::CameraFileId) -> Result<CameraFileRow, StationError> {
        Ok(self.store.discard_camera_file(self.session.id, id, &super::now())?)
    }

    /// The tray: camera files waiting to be bound or set aside.
    pub fn unbound_camera_files(&self) -> Result<Vec<CameraFileRow>, StationError> {
        Ok(self.store.unbound_camera_files()?)
    }

    /// Records a RAW file with the JPEG of this hash.
    pub fn attach_raw(&mut self, jpeg_sha256: &str, raw: &RawFile) -> Result<bool, StationError> {
        Ok(self.store.attach_raw(jpeg_sha256, raw, &super::now())?)
    }
}

#[cfg(test)]
mod tests;
