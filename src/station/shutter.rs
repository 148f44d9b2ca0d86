//! The shutter: the capture pipeline's second half. Pressing it binds a
//! camera frame to the queue head *at that moment* and sends both to the
//! photo worker (crop, checks, JPEG — heavy work, never on the UI thread);
//! the prepared take comes back to [`Station::handle`] as
//! [`Event::TakePrepared`], the one commit path the tests drive too. The
//! rules of when a shot may start live here, beside the state machine:
//! a photo under review is decided first, one shot at a time, and only
//! with a student waiting.

use std::sync::mpsc::Sender;

use super::{prepare_take, Event, Outcome, PreparedTake, Station, StationConfig, StationError};
use crate::frame::Frame;
use crate::photo::PhotoError;
use crate::store::RecordId;
use crate::worker::{Wake, Worker, WorkerError};

struct PhotoJob {
    record: RecordId,
    frame: Frame,
    config: StationConfig,
    quality_hint: Option<u8>,
}

type PhotoResult = (RecordId, Result<PreparedTake, PhotoError>);

/// Where the shot is prepared.
enum Preparer {
    /// On the photo worker thread (the station's window).
    Worker { jobs: Sender<PhotoJob>, worker: Worker<PhotoResult> },
    /// On the caller's thread, at the press (headless tools and tests):
    /// the same rules, the same commit.
    Inline { ready: Vec<PhotoResult> },
}

/// The photo worker and the shot under way.
pub struct Shutter {
    preparer: Preparer,
    in_flight: Option<RecordId>,
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
                let jpeg = job.frame.jpeg.as_ref().map(|j| j.as_ref().clone());
                let result = prepare_take(job.record, &job.frame.rgb, jpeg, &job.config, job.quality_hint);
                if !out.send((job.record, result)) {
                    return;
                }
            }
        })?;
        Ok(Shutter { preparer: Preparer::Worker { jobs, worker }, in_flight: None })
    }

    /// A shutter that prepares each shot at the press, on the caller's thread.
    pub fn inline() -> Self {
        Shutter { preparer: Preparer::Inline { ready: Vec::new() }, in_flight: None }
    }

    /// A shot is being prepared.
    pub fn busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Presses the shutter on `frame` for the queue head of `station`.
    /// Answers with the student the shot is for; refuses with the reason
    /// when a photo awaits its decision, a shot is under way, nobody waits
    /// or there is no picture. A refused press changes nothing.
    pub fn press(&mut self, station: &mut Station, frame: Option<Frame>) -> Result<RecordId, ShootRefused> {
        if station.take_under_review().is_some() {
            return Err(ShootRefused::ReviewPending);
        }
        if self.busy() {
            return Err(ShootRefused::Busy);
        }
        let head =
            station.head().map_err(ShootRefused::Station)?.ok_or(ShootRefused::Station(StationError::NoStudent))?;
        let frame = frame.ok_or(ShootRefused::NoPicture)?;
        let job = PhotoJob { record: head.id, frame, config: station.config(), quality_hint: station.quality_hint() };
        match &mut self.preparer {
            Preparer::Worker { jobs, .. } => jobs.send(job).map_err(|_| ShootRefused::WorkerGone)?,
            Preparer::Inline { ready } => {
                let jpeg = job.frame.jpeg.as_ref().map(|j| j.as_ref().clone());
                ready.push((job.record, prepare_take(job.record, &job.frame.rgb, jpeg, &job.config, job.quality_hint)));
            }
        }
        self.in_flight = Some(head.id);
        station.shot_in_flight = true;
        Ok(head.id)
    }

    /// Commits the takes the worker has prepared since the last call, each
    /// through [`Event::TakePrepared`] (a take whose student is no longer the
    /// queue head is refused there and nothing is stored).
    pub fn collect(&mut self, station: &mut Station) -> Vec<Result<Outcome, StationError>> {
        let mut outcomes = Vec::new();
        let (prepared, worker_alive) = match &mut self.preparer {
            Preparer::Worker { worker, .. } => (worker.drain(), worker.is_running()),
            Preparer::Inline { ready } => (std::mem::take(ready), true),
        };
        for (record, result) in prepared {
            if self.in_flight == Some(record) {
                self.in_flight = None;
            }
            outcomes.push(match result {
                Ok(prepared) => station.handle(Event::TakePrepared(prepared)),
                Err(e) => Err(StationError::Photo(e)),
            });
        }
        if self.in_flight.is_some() && !worker_alive {
            // The worker died with the shot: say so, do not wait for ever.
            self.in_flight = None;
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
