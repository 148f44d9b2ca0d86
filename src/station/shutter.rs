//! The shutter: the capture pipeline's second half. Pressing it binds a
//! camera frame to the queue head *at that moment* and sends both to the
//! photo worker (crop, checks, JPEG — heavy work, never on the UI thread);
//! the prepared take comes back to [`Station::handle`] as
//! [`Event::TakePrepared`], the one commit path the tests drive too. The
//! rules of when a shot may start live here, beside the state machine:
//! a photo under review is decided first, one shot at a time, and only
//! with a student waiting.

use std::sync::mpsc::Sender;

use super::ingest::HoldReason;
use super::{prepare_file_take, prepare_take, Event, Outcome, PreparedTake, Station, StationConfig, StationError};
use crate::frame::Frame;
use crate::photo::PhotoError;
use crate::store::{CameraFile, CameraFileStatus, CameraShot, RecordId};
use crate::worker::{Wake, Worker, WorkerError};

enum PhotoJob {
    /// A webcam frame.
    Frame { record: RecordId, frame: Frame, config: StationConfig, quality_hint: Option<u8> },
    /// A studio camera file, whole, with what is known of it.
    File { record: RecordId, shot: CameraShot, bytes: Vec<u8>, config: StationConfig, quality_hint: Option<u8> },
}

impl PhotoJob {
    fn run(self) -> PhotoResult {
        match self {
            PhotoJob::Frame { record, frame, config, quality_hint } => {
                let jpeg = frame.jpeg.as_ref().map(|j| j.as_ref().clone());
                PhotoResult {
                    record,
                    file: None,
                    result: prepare_take(record, &frame.rgb, jpeg, &config, quality_hint),
                }
            }
            PhotoJob::File { record, shot, bytes, config, quality_hint } => {
                let file = Some(shot.file.clone());
                PhotoResult { record, file, result: prepare_file_take(record, bytes, shot, &config, quality_hint) }
            }
        }
    }
}

/// A prepared take, or why it could not be made, with the camera file it
/// was to be made of.
struct PhotoResult {
    record: RecordId,
    file: Option<CameraFile>,
    result: Result<PreparedTake, PhotoError>,
}

/// Where the shot is prepared.
enum Preparer {
    /// On the photo worker thread (the station's window).
    Worker { jobs: Sender<PhotoJob>, worker: Worker<PhotoResult> },
    /// On the caller's thread, at the press (headless tools and tests):
    /// the same rules, the same commit.
    Inline { ready: Vec<PhotoResult> },
}

/// The photo worker and the shots under way (one from the webcam; a burst
/// of camera files may be several, all of one student).
pub struct Shutter {
    preparer: Preparer,
    /// The shots under way: their student, and the camera file of each
    /// that is one (held in the tray if the worker dies with it).
    in_flight: Vec<(RecordId, Option<CameraFile>)>,
    /// Camera files whose take or tray row could not be written (disk full,
    /// database busy): written to the tray at the next collect. A restart
    /// finds them in the folder too.
    unsaved: Vec<(CameraFile, &'static str)>,
    /// When the unsaved files were last tried (a full disk is not asked
    /// again at every frame).
    unsaved_tried: Option<std::time::Instant>,
}

impl std::fmt::Debug for Shutter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutter").field("in_flight", &self.in_flight).finish_non_exhaustive()
    }
}

impl Shutter {
    /// Starts the photo worker; `wake` is called when a take is ready.
    pub fn start(wake: Wake) -> Result<Self, WorkerError> {
        let (jobs, job_rx) = std::sync::mpsc::channel::<PhotoJob>();
        let worker = Worker::spawn("photo-worker", wake, move |out| {
            while let Some(job) = out.next_job(&job_rx, 100) {
                if !out.send(job.run()) {
                    return;
                }
            }
        })?;
        Ok(Shutter {
            preparer: Preparer::Worker { jobs, worker },
            in_flight: Vec::new(),
            unsaved: Vec::new(),
            unsaved_tried: None,
        })
    }

    /// A shutter that prepares each shot at the press, on the caller's thread.
    pub fn inline() -> Self {
        Shutter {
            preparer: Preparer::Inline { ready: Vec::new() },
            in_flight: Vec::new(),
            unsaved: Vec::new(),
            unsaved_tried: None,
        }
    }

    /// A shot is being prepared.
    pub fn busy(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// The student of the shots being prepared.
    pub fn shot_for(&self) -> Option<RecordId> {
        self.in_flight.first().map(|(record, _)| *record)
    }

    /// Presses the shutter on `frame` for the queue head of `station`.
    /// Answers with the student the shot is for; refuses with the reason
    /// when a photo awaits its decision, a shot is under way, nobody waits
    /// or there is no picture. A refused press changes nothing.
    pub fn press(&mut self, station: &mut Station, frame: Option<Frame>) -> Result<RecordId, ShootRefused> {
        let head = self.ready_head(station)?;
        let frame = frame.ok_or(ShootRefused::NoPicture)?;
        let job =
            PhotoJob::Frame { record: head.id, frame, config: station.config(), quality_hint: station.quality_hint() };
        self.send(station, head.id, job)?;
        Ok(head.id)
    }

    /// Sends a studio camera file to become a take of `record`, which
    /// [`super::ingest::ShotIngest::decide`] chose: refused unless `record`
    /// is still the queue head. The store checks that again when the take
    /// is stored, and that the file (by its hash) was never bound before.
    pub fn press_file(
        &mut self,
        station: &mut Station,
        record: RecordId,
        shot: CameraShot,
        bytes: Vec<u8>,
    ) -> Result<RecordId, ShootRefused> {
        let head =
            station.head().map_err(ShootRefused::Station)?.ok_or(ShootRefused::Station(StationError::NoStudent))?;
        if head.id != record {
            return Err(ShootRefused::Station(StationError::Store(crate::store::StoreError::HeadChanged {
                expected: record,
                actual: Some(head.id),
            })));
        }
        let job =
            PhotoJob::File { record, shot, bytes, config: station.config(), quality_hint: station.quality_hint() };
        self.send(station, record, job)?;
        Ok(record)
    }

    /// Binds a tray file to the queue head: the operator's explicit choice
    /// (audited as such), refused while a photo awaits its decision or a
    /// shot is under way, like the shutter.
    pub fn bind_held(
        &mut self,
        station: &mut Station,
        file: CameraFile,
        bytes: Vec<u8>,
    ) -> Result<RecordId, ShootRefused> {
        let head = self.ready_head(station)?;
        self.press_file(station, head.id, CameraShot { file, by_operator: true }, bytes)
    }

    /// The student a new shot would be for: refused while a photo awaits its
    /// decision, a shot is under way, or nobody waits.
    fn ready_head(&self, station: &Station) -> Result<crate::store::Record, ShootRefused> {
        if station.take_under_review().is_some() {
            return Err(ShootRefused::ReviewPending);
        }
        if self.busy() {
            return Err(ShootRefused::Busy);
        }
        station.head().map_err(ShootRefused::Station)?.ok_or(ShootRefused::Station(StationError::NoStudent))
    }

    fn send(&mut self, station: &mut Station, record: RecordId, job: PhotoJob) -> Result<(), ShootRefused> {
        let file = match &job {
            PhotoJob::File { shot, .. } => Some(shot.file.clone()),
            PhotoJob::Frame { .. } => None,
        };
        match &mut self.preparer {
            Preparer::Worker { jobs, .. } => jobs.send(job).map_err(|_| ShootRefused::WorkerGone)?,
            Preparer::Inline { ready } => ready.push(job.run()),
        }
        self.in_flight.push((record, file));
        station.shot_in_flight = true;
        Ok(())
    }

    /// Commits the takes the worker has prepared since the last call, each
    /// through [`Event::TakePrepared`] (a take whose student is no longer the
    /// queue head is refused there and nothing is stored).
    pub fn collect(&mut self, station: &mut Station) -> Vec<Result<Outcome, StationError>> {
        let mut outcomes = Vec::new();
        let retry_due = self.unsaved_tried.is_none_or(|t| t.elapsed() >= UNSAVED_RETRY);
        if !self.unsaved.is_empty() && retry_due {
            self.unsaved_tried = Some(std::time::Instant::now());
            for (file, reason) in std::mem::take(&mut self.unsaved) {
                outcomes.push(self.hold_or_keep(station, &file, CameraFileStatus::Unbound, reason));
            }
        }
        let (prepared, worker_alive) = match &mut self.preparer {
            Preparer::Worker { worker, .. } => (worker.drain(), worker.is_running()),
            Preparer::Inline { ready } => (std::mem::take(ready), true),
        };
        for PhotoResult { record, file, result } in prepared {
            let same = |(r, f): &(RecordId, Option<CameraFile>)| {
                *r == record && f.as_ref().map(|f| &f.sha256) == file.as_ref().map(|f| &f.sha256)
            };
            if let Some(i) = self.in_flight.iter().position(same) {
                self.in_flight.remove(i);
            }
            let outcome = match (result, file) {
                (Ok(prepared), None) => station.handle(Event::TakePrepared(prepared)),
                (Ok(prepared), Some(file)) => match station.handle(Event::TakePrepared(prepared)) {
                    // Its student left the head while it was prepared: the
                    // file goes to the tray, nothing is lost.
                    Err(StationError::Store(crate::store::StoreError::HeadChanged { .. })) => {
                        self.hold_or_keep(station, &file, CameraFileStatus::Unbound, HoldReason::HeadChanged.code())
                    }
                    // Known by its hash already: nothing to keep.
                    Err(e @ StationError::Store(crate::store::StoreError::CameraFileKnown { .. })) => Err(e),
                    // Not stored (disk full, database busy): say so, and keep
                    // the file in the tray, never lost.
                    Err(e) => {
                        tracing::warn!("the take of camera file {} was not stored: {e}", file.name);
                        outcomes.push(self.hold_or_keep(
                            station,
                            &file,
                            CameraFileStatus::Unbound,
                            HoldReason::NotStored.code(),
                        ));
                        Err(e)
                    }
                    other => other,
                },
                (Err(e), Some(file)) => {
                    tracing::warn!("camera file {} does not decode: {e}", file.name);
                    let reason = if matches!(e, PhotoError::TooLarge { .. }) { "too_large" } else { "does_not_decode" };
                    self.hold_or_keep(station, &file, CameraFileStatus::Unreadable, reason)
                }
                (Err(e), None) => Err(StationError::Photo(e)),
            };
            outcomes.push(outcome);
        }
        if !self.in_flight.is_empty() && !worker_alive {
            // The worker died with the shot: say so, do not wait for ever;
            // its camera files go to the tray.
            for (_, file) in std::mem::take(&mut self.in_flight) {
                if let Some(file) = file {
                    outcomes.push(self.hold_or_keep(
                        station,
                        &file,
                        CameraFileStatus::Unbound,
                        HoldReason::NotStored.code(),
                    ));
                }
            }
            outcomes.push(Err(StationError::Photo(PhotoError::Encode("the photo worker stopped".into()))));
        }
        if !self.busy() && station.shot_in_flight {
            station.shot_in_flight = false;
            if let Err(e) = station.start_pending_session() {
                outcomes.push(Err(e));
            }
        }
        outcomes
    }
}

/// How often camera files that could not be written to the tray are tried
/// again.
const UNSAVED_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

impl Shutter {
    /// [`hold`], and when even that cannot be written, the file is kept to
    /// be written at the next collect.
    fn hold_or_keep(
        &mut self,
        station: &mut Station,
        file: &CameraFile,
        status: CameraFileStatus,
        reason: &'static str,
    ) -> Result<Outcome, StationError> {
        let result = hold(station, file, status, reason);
        if matches!(result, Err(StationError::Store(_))) && self.unsaved.len() < 64 {
            let reason = if status == CameraFileStatus::Unbound { reason } else { HoldReason::NotStored.code() };
            self.unsaved.push((file.clone(), reason));
        }
        result
    }

    /// Camera files waiting to be written to the tray.
    pub fn unsaved(&self) -> usize {
        self.unsaved.len()
    }
}

/// Puts a camera file in the tray (or records it unreadable) and says so.
pub fn hold(
    station: &mut Station,
    file: &CameraFile,
    status: CameraFileStatus,
    reason: &str,
) -> Result<Outcome, StationError> {
    match station.hold_camera_file(file, status, reason)? {
        Some(row) => Ok(Outcome::ShotHeld(Box::new(row))),
        None => Ok(Outcome::ShotKnown(file.name.clone())),
    }
}

/// Presses an inline shutter on `frame` and commits the take: the whole
/// capture pipeline in one call, on this thread (tests, headless tools).
pub fn shoot_inline(station: &mut Station, frame: image::RgbImage) -> Result<Outcome, ShootRefused> {
    let mut shutter = Shutter::inline();
    shutter.press(station, Some(Frame::new(frame, None)))?;
    match shutter.collect(station).into_iter().next() {
        Some(result) => result.map_err(ShootRefused::Station),
        None => Err(ShootRefused::WorkerGone),
    }
}

/// Why the shutter did not fire.
#[derive(Debug, thiserror::Error)]
pub enum ShootRefused {
    #[error("请先确认（Enter）或重拍（R）当前照片 / accept (Enter) or re-shoot (R) the current photo first")]
    ReviewPending,
    #[error("上一张照片仍在处理中 / the last shot is still being prepared")]
    Busy,
    #[error("没有摄像头画面，无法拍摄 / no camera picture: cannot shoot")]
    NoPicture,
    #[error("照片线程已停止，请重新启动采集站 / the photo worker has stopped: restart the station")]
    WorkerGone,
    #[error(transparent)]
    Station(#[from] StationError),
}

impl crate::text::Bilingual for ShootRefused {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::ReviewPending => Text::new(
                "请先确认（Enter）或重拍（R）当前照片",
                "accept (Enter) or re-shoot (R) the current photo first",
            ),
            Self::Busy => Text::new("上一张照片仍在处理中", "the last shot is still being prepared"),
            Self::NoPicture => Text::new("没有摄像头画面，无法拍摄", "no camera picture: cannot shoot"),
            Self::WorkerGone => {
                Text::new("照片线程已停止，请重新启动采集站", "the photo worker has stopped: restart the station")
            }
            Self::Station(f0) => f0.text(),
        }
    }
}
