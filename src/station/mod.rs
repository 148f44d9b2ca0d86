//! The capture state machine: events in (a code scanned, a take prepared,
//! accept, re-shoot, skip, void), store calls out; the shutter
//! ([`shutter`]) turns a frame into a prepared take, and [`read`] is what the
//! screens read. No UI, no camera: frames arrive as plain RGB buffers, so
//! every path runs headless in tests.
//!
//! The rules that put the right photo on the right student:
//! - a take is always bound to the queue head the operator was shown when
//!   the shutter was pressed ([`PreparedTake::for_record`]); if the head has
//!   moved on by the time the take is stored, nothing is stored;
//! - a take becomes the student's photo only when the operator accepts it;
//!   a rejected take stays in the database (nothing is ever lost);
//! - a bad code is an answer to show, not an error: the station keeps going.

use image::RgbImage;
use serde_json::json;

use crate::code::{self, CaptureCode, CodeError};
use crate::photo::checks::{Assessment, Thresholds};
use crate::photo::{self, PhotoError, SizeFit, SizeRange};
use crate::store::{Mode, Record, RecordId, ScanOutcome, Session, SessionInfo, Store, StoreError, Take, TakeImages};

/// How far (RGB distance) a photo's backdrop may drift from the session's
/// first accepted photos before the operator is warned: a dark or white
/// shirt moving an automatic exposure or white balance shows here first.
pub const BACKDROP_DRIFT_MAX: f32 = 20.0;

/// How many of the session's first accepted photos make the backdrop reference.
pub const BACKDROP_REFERENCE_PHOTOS: usize = 3;

/// Longest side of the face thumbnail kept with a scan.
pub const SCAN_THUMB_MAX_SIDE: u32 = 160;

/// Errors of the station: the step did not happen, the station keeps running.
#[derive(Debug, thiserror::Error)]
pub enum StationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error("队列中没有学生，请先扫采集码 / no student in the queue: scan a capture code first")]
    NoStudent,
    #[error("没有待确认的照片 / there is no photo to accept")]
    NothingToReview,
    #[error("请先确认或重拍当前照片 / accept or re-shoot the current photo first")]
    ReviewPending,
    #[error("机位或日期改变是新的场次，不是更正 / a new station or date is a new session, not a correction")]
    NotACorrection,
}

impl crate::text::Bilingual for StationError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Store(f0) => f0.text(),
            Self::Photo(f0) => f0.text(),
            Self::NoStudent => {
                Text::new("队列中没有学生，请先扫采集码", "no student in the queue: scan a capture code first")
            }
            Self::NothingToReview => Text::new("没有待确认的照片", "there is no photo to accept"),
            Self::ReviewPending => Text::new("请先确认或重拍当前照片", "accept or re-shoot the current photo first"),
            Self::NotACorrection => Text::new(
                "机位或日期改变是新的场次，不是更正",
                "a new station or date is a new session, not a correction",
            ),
        }
    }
}

/// Station settings the core needs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StationConfig {
    pub size_range: SizeRange,
    pub thresholds: Thresholds,
}

/// The images of a take, made from a frame off the UI thread, bound to the
/// record that was the queue head when the shutter was pressed.
#[derive(Debug, Clone)]
pub struct PreparedTake {
    pub for_record: RecordId,
    pub images: TakeImages,
    pub fit: SizeFit,
    /// The photo checks (also in `images.checks_json`).
    pub assessment: Assessment,
}

/// Makes the deliverable and the original from a frame. Pure CPU work: call it
/// on a worker thread. `source_jpeg` is the camera's own JPEG of the frame
/// (MJPEG cameras), kept as the original without re-encoding.
///
/// The deliverable (face-based crop and checks) and the original are made
/// on two threads at once. `quality_hint` is the quality the previous
/// deliverable needed.
pub fn prepare_take(
    for_record: RecordId,
    frame: &RgbImage,
    source_jpeg: Option<Vec<u8>>,
    config: &StationConfig,
    quality_hint: Option<u8>,
) -> Result<PreparedTake, PhotoError> {
    let (deliverable, original_jpeg) = std::thread::scope(|scope| {
        let original_worker = std::thread::Builder::new()
            .name("encode-original".into())
            .spawn_scoped(scope, || original_for(frame, source_jpeg));
        let deliverable = photo::make_checked(frame, &config.thresholds, config.size_range, quality_hint);
        let original = match original_worker {
            Ok(handle) => handle.join().unwrap_or_else(|_| Err(PhotoError::Encode("the encoder thread failed".into()))),
            // No thread to be had: encode here, after the deliverable.
            Err(_) => photo::encode_original(frame),
        };
        (deliverable, original)
    });
    let ((deliverable, assessment), original_jpeg) = (deliverable?, original_jpeg?);
    Ok(PreparedTake {
        for_record,
        images: TakeImages {
            original_jpeg,
            original_width: frame.width(),
            original_height: frame.height(),
            deliverable_jpeg: deliverable.jpeg,
            deliverable_quality: deliverable.quality,
            checks_json: serde_json::to_string(&assessment).unwrap_or_default(),
            camera_shot: None,
        },
        fit: deliverable.fit,
        assessment,
    })
}

/// Makes a take of a studio camera file: the file's bytes are kept as the
/// original, byte for byte (its hash is the take's original hash); the
/// deliverable is cut from it, upright by its EXIF orientation, with the
/// same crop and checks as a webcam frame. Pure CPU work.
pub fn prepare_file_take(
    for_record: RecordId,
    bytes: Vec<u8>,
    shot: crate::store::CameraShot,
    config: &StationConfig,
    quality_hint: Option<u8>,
) -> Result<PreparedTake, PhotoError> {
    if let Some(damage) = crate::camera::folder::jpeg_damage(&bytes) {
        return Err(PhotoError::Decode(damage));
    }
    let frame = photo::decode_camera_jpeg(&bytes)?;
    let (deliverable, assessment) =
        photo::make_checked(&frame.image, &config.thresholds, config.size_range, quality_hint)?;
    Ok(PreparedTake {
        for_record,
        images: TakeImages {
            original_jpeg: bytes,
            original_width: frame.upright_width,
            original_height: frame.upright_height,
            deliverable_jpeg: deliverable.jpeg,
            deliverable_quality: deliverable.quality,
            checks_json: serde_json::to_string(&assessment).unwrap_or_default(),
            camera_shot: Some(Box::new(shot)),
        },
        fit: deliverable.fit,
        assessment,
    })
}

/// The original to keep: the camera's own JPEG when it decodes to exactly
/// this frame (a truncated MJPEG frame must not become the only original),
/// otherwise the frame encoded anew.
fn original_for(frame: &RgbImage, source_jpeg: Option<Vec<u8>>) -> Result<Vec<u8>, PhotoError> {
    if let Some(jpeg) = source_jpeg {
        // Decoders are lenient with a frame cut short; its end marker is not.
        let body = jpeg.iter().rposition(|&b| b != 0).map_or(&jpeg[..0], |end| &jpeg[..=end]);
        if !body.ends_with(&[0xFF, 0xD9]) {
            tracing::warn!("camera JPEG has no end marker (truncated): re-encoding");
            return photo::encode_original(frame);
        }
        match photo::decode_jpeg(&jpeg) {
            Ok(img) if img.dimensions() == frame.dimensions() => return Ok(jpeg),
            Ok(img) => {
                tracing::warn!("camera JPEG is {:?}, frame {:?}: re-encoding", img.dimensions(), frame.dimensions())
            }
            Err(e) => tracing::warn!("camera JPEG does not decode ({e}): re-encoding"),
        }
    }
    photo::encode_original(frame)
}

/// What happens at the station.
#[derive(Debug)]
pub enum Event {
    /// A text was read from a QR code (camera or scanner gun), with the frame
    /// it was read from when there is one (its thumbnail is kept).
    CodeScanned { text: String, frame: Option<RgbImage> },
    /// A take prepared for the record that was the queue head when the
    /// shutter was pressed ([`shutter::Shutter`]): the one way a take is stored.
    TakePrepared(PreparedTake),
    /// The operator accepts the take under review.
    Accept,
    /// The operator rejects the take under review; the next frame re-shoots.
    Reshoot,
    /// The queue head did not come (or left); needs a reason.
    Skip { reason: String },
    /// Void a record; needs a reason. (The UI asks for the operator PIN.)
    Void { record: RecordId, reason: String },
    /// Re-shoot an already photographed student. (The UI asks for the PIN.)
    RequestReshoot { record: RecordId, reason: String },
    /// Abandon a pending re-shoot.
    CancelReshoot { record: RecordId },
}

/// What the station answers; each is something the operator sees.
#[derive(Debug)]
pub enum Outcome {
    /// New student, new number.
    Queued(Record),
    /// Already in the queue: the same number as before.
    AlreadyWaiting(Record),
    /// Already photographed: refused, with the earlier number and time.
    AlreadyPhotographed(Record),
    /// Not a capture code, with the reason.
    Rejected(CodeError),
    /// A take is stored and waits for accept or re-shoot.
    TakeReady {
        record: Record,
        take: Box<Take>,
        deliverable_jpeg: Vec<u8>,
        fit: SizeFit,
        assessment: Box<Assessment>,
        /// How far its backdrop colour is from the session's first accepted
        /// photos' (RGB distance), when both were seen: above
        /// [`BACKDROP_DRIFT_MAX`] the exposure or white balance has moved.
        backdrop_drift: Option<f32>,
    },
    /// The take is the student's photo now.
    Accepted(Record),
    /// The take was rejected; shoot again.
    ReadyForReshoot(Record),
    Skipped(Record),
    Voided(Record),
    ReshootRequested(Record),
    ReshootCancelled(Record),
    /// A studio camera file went to the tray (or is unreadable): not bound.
    ShotHeld(Box<crate::store::CameraFileRow>),
    /// A studio camera file the station had handled before (same hash): not bound again.
    ShotKnown(String),
}

/// A take waiting for the operator's decision.
#[derive(Debug, Clone)]
struct Review {
    take: Take,
    record: RecordId,
    fit: SizeFit,
    failed: Vec<String>,
}

/// The station: one session at one camera position.
#[derive(Debug)]
pub struct Station {
    store: Store,
    session: Session,
    config: StationConfig,
    review: Option<Review>,
    quality_hint: Option<u8>,
    mode: Mode,
    /// A new station or date saved while a photo awaited its decision.
    pending_session: Option<SessionInfo>,
    /// The shutter has a shot for this station under way.
    shot_in_flight: bool,
}

/// What a change of the session's settings did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChange {
    /// Nothing the session records changed.
    Unchanged,
    /// The school name, school code or operator corrected (audited);
    /// numbering and queue go on.
    Corrected,
    /// A new station or date: its session is open now.
    Started,
    /// A new station or date, started once the photo under review is
    /// decided (accepted, or its student skipped) and no shot is under way;
    /// a re-shoot stays in the old session.
    AfterReview,
}

/// The current local time as stored (RFC 3339, milliseconds, with offset).
pub fn now() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

impl Station {
    /// Opens (or continues) the session for `info` in `store`.
    pub fn open(mut store: Store, info: &SessionInfo, config: StationConfig) -> Result<Self, StationError> {
        let session = store.open_session(info, &now())?;
        let mode = store.mode()?;
        Ok(Station {
            store,
            session,
            config,
            review: None,
            quality_hint: None,
            mode,
            pending_session: None,
            shot_in_flight: false,
        })
    }

    /// Checks the operator PIN (kept in the database, slowed and audited there).
    pub fn check_pin(&mut self, pin: &str) -> Result<(), StationError> {
        Ok(self.store.check_pin(pin, &now())?)
    }

    /// Sets the operator PIN; once one is set, the current one is needed.
    pub fn set_pin(&mut self, new: &str, old: Option<&str>) -> Result<(), StationError> {
        Ok(self.store.set_pin(new, old, &now())?)
    }

    /// Production, or training (its own database, marked on every screen).
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Corrects the session's school name, school code or operator (audited);
    /// the numbering and the queue go on. A change of station or date is a
    /// new session: open a new station for it.
    pub fn correct_session(&mut self, info: &SessionInfo) -> Result<(), StationError> {
        if info.station != self.session.info.station || info.date != self.session.info.date {
            return Err(StationError::NotACorrection);
        }
        self.session = self.store.open_session(info, &now())?;
        Ok(())
    }

    /// Applies settings that name this session: a correction at once; a new
    /// station or date as a new session, at once when the station is idle,
    /// otherwise once the photo under review is decided. Students still
    /// waiting stay in their own session's queue.
    pub fn change_session(&mut self, info: &SessionInfo) -> Result<SessionChange, StationError> {
        let current = &self.session.info;
        if (&info.station, &info.date) == (&current.station, &current.date) {
            self.pending_session = None;
            if info == current {
                return Ok(SessionChange::Unchanged);
            }
            self.correct_session(info)?;
            return Ok(SessionChange::Corrected);
        }
        self.pending_session = Some(info.clone());
        if self.start_pending_session()? {
            Ok(SessionChange::Started)
        } else {
            Ok(SessionChange::AfterReview)
        }
    }

    /// The session settings waiting for the photo under review, if any.
    pub fn pending_session(&self) -> Option<&SessionInfo> {
        self.pending_session.as_ref()
    }

    /// Starts the pending session when nothing of the current one is under
    /// way; true when it started.
    fn start_pending_session(&mut self) -> Result<bool, StationError> {
        if self.review.is_some() || self.shot_in_flight {
            return Ok(false);
        }
        let Some(info) = self.pending_session.take() else { return Ok(false) };
        match self.store.open_session(&info, &now()) {
            Ok(session) => {
                self.session = session;
                Ok(true)
            }
            Err(e) => {
                self.pending_session = Some(info);
                Err(e.into())
            }
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn config(&self) -> StationConfig {
        self.config
    }

    /// New photo checks and size range, from the next shot on (a photo under
    /// review keeps the checks it was made with).
    pub fn set_config(&mut self, config: StationConfig) {
        self.config = config;
    }

    /// The student the next take binds to.
    pub fn head(&self) -> Result<Option<Record>, StationError> {
        Ok(self.store.queue_head(self.session.id)?)
    }

    /// The JPEG quality the last deliverable needed: the starting point of the next search.
    pub fn quality_hint(&self) -> Option<u8> {
        self.quality_hint
    }

    /// The take under review, if any.
    pub fn take_under_review(&self) -> Option<&Take> {
        self.review.as_ref().map(|r| &r.take)
    }

    /// Applies an event the operator authorised with `pin`: the PIN is
    /// checked first (slowed and audited in the store); a wrong one applies
    /// nothing.
    pub fn handle_with_pin(&mut self, event: Event, pin: &str) -> Result<Outcome, StationError> {
        self.check_pin(pin)?;
        self.handle(event)
    }

    /// Applies one event (the window sends the events that need the PIN
    /// through [`Station::handle_with_pin`]). After a change is committed the witness beside the
    /// database is brought up to date, so a commit that later disappears
    /// (a lost `-wal`) is noticed before the next number is handed out.
    pub fn handle(&mut self, event: Event) -> Result<Outcome, StationError> {
        let decides = matches!(event, Event::Accept | Event::Skip { .. });
        let outcome = self.apply(event)?;
        if decides {
            // The student is done: a session change waiting for them starts
            // now (its failure is the next action's error, never this one's).
            if let Err(e) = self.start_pending_session() {
                tracing::warn!("the new session could not be opened yet: {e}");
            }
        }
        if !matches!(outcome, Outcome::Rejected(_)) {
            if let Err(e) = self.store.write_witness() {
                tracing::warn!("the witness beside the database could not be written: {e}");
            }
        }
        Ok(outcome)
    }

    fn apply(&mut self, event: Event) -> Result<Outcome, StationError> {
        match event {
            Event::CodeScanned { text, frame } => self.scan(&text, frame.as_ref()),
            Event::TakePrepared(prepared) => self.commit_take(prepared),
            Event::Accept => self.accept(&json!({})),
            Event::Reshoot => {
                let review = self.review.as_ref().ok_or(StationError::NothingToReview)?;
                self.store.reject_take(self.session.id, review.take.id, &now())?;
                self.review = None;
                // The next frame binds to the head, whoever that is now.
                let head = self.head()?.ok_or(StationError::NoStudent)?;
                Ok(Outcome::ReadyForReshoot(head))
            }
            Event::Skip { reason } => {
                let head = self.head()?.ok_or(StationError::NoStudent)?;
                let record = self.store.skip(head.id, &reason, &now())?;
                self.drop_review_of(record.id);
                Ok(Outcome::Skipped(record))
            }
            Event::Void { record, reason } => {
                let record = self.store.void(record, &reason, &now())?;
                self.drop_review_of(record.id);
                Ok(Outcome::Voided(record))
            }
            Event::RequestReshoot { record, reason } => {
                if self.review.is_some() {
                    return Err(StationError::ReviewPending);
                }
                let record = self.store.request_reshoot(self.session.id, record, &reason, &now())?;
                Ok(Outcome::ReshootRequested(record))
            }
            Event::CancelReshoot { record } => {
                let record = self.store.cancel_reshoot(record, &now())?;
                self.drop_review_of(record.id);
                Ok(Outcome::ReshootCancelled(record))
            }
        }
    }

    /// Accepts the take under review, recording `flags` with it; failed
    /// photo checks the operator accepts anyway are always recorded (in the
    /// audit row and on the take).
    pub fn accept(&mut self, flags: &serde_json::Value) -> Result<Outcome, StationError> {
        let review = self.review.as_ref().ok_or(StationError::NothingToReview)?;
        let mut flags = flags.clone();
        if let serde_json::Value::Object(map) = &mut flags {
            if review.fit != SizeFit::InRange {
                map.insert("size_fit".into(), serde_json::to_value(review.fit).unwrap_or_default());
            }
            if !review.failed.is_empty() {
                map.insert("accepted_failed".into(), json!(review.failed));
            }
        }
        let record = self.store.accept_take(self.session.id, review.take.id, &flags, &now())?;
        self.review = None;
        Ok(Outcome::Accepted(record))
    }

    fn scan(&mut self, text: &str, frame: Option<&RgbImage>) -> Result<Outcome, StationError> {
        let code: CaptureCode = match code::parse(text) {
            Ok(code) => code,
            Err(reason) => return Ok(Outcome::Rejected(reason)),
        };
        if code.is_drill() && self.mode == Mode::Production {
            return Ok(Outcome::Rejected(CodeError::DrillInProduction));
        }
        // A thumbnail that fails to encode must not cost the student the scan.
        let thumb = frame.and_then(|f| photo::thumbnail_jpeg(f, SCAN_THUMB_MAX_SIDE).ok());
        // What is stored is what the guard checked, re-encoded: never the
        // scanned text (a repeated key or a dropped field could hide a clear
        // name or ID number in it).
        let checked = code.to_payload();
        let outcome = self.store.scan(self.session.id, &code, &checked, thumb.as_deref(), &now())?;
        Ok(match outcome {
            ScanOutcome::Queued(r) => Outcome::Queued(r),
            ScanOutcome::AlreadyWaiting(r) => Outcome::AlreadyWaiting(r),
            ScanOutcome::AlreadyPhotographed(r) => Outcome::AlreadyPhotographed(r),
        })
    }

    fn commit_take(&mut self, prepared: PreparedTake) -> Result<Outcome, StationError> {
        let take = self.store.add_take(self.session.id, prepared.for_record, &prepared.images, &now())?;
        let record = self.store.record(prepared.for_record)?;
        let backdrop_drift = self.backdrop_drift(&prepared.assessment);
        self.quality_hint = Some(prepared.images.deliverable_quality);
        self.review = Some(Review {
            take: take.clone(),
            record: record.id,
            fit: prepared.fit,
            failed: prepared.assessment.failed(),
        });
        Ok(Outcome::TakeReady {
            record,
            take: Box::new(take),
            deliverable_jpeg: prepared.images.deliverable_jpeg,
            fit: prepared.fit,
            assessment: Box::new(prepared.assessment),
            backdrop_drift,
        })
    }

    /// The backdrop colour of the session's first accepted photos (the mean
    /// of up to [`BACKDROP_REFERENCE_PHOTOS`]), once one is accepted.
    pub fn backdrop_reference(&self) -> Option<[f32; 3]> {
        let checks = self.store.first_accepted_checks(self.session.id, BACKDROP_REFERENCE_PHOTOS).ok()?;
        let seen: Vec<[f32; 3]> =
            checks.iter().filter_map(|json| serde_json::from_str::<Assessment>(json).ok()?.backdrop_rgb).collect();
        if seen.is_empty() {
            return None;
        }
        let n = seen.len() as f32;
        Some([0, 1, 2].map(|c| seen.iter().map(|rgb| rgb[c]).sum::<f32>() / n))
    }

    /// How far a photo's backdrop is from the session's reference.
    fn backdrop_drift(&self, assessment: &Assessment) -> Option<f32> {
        let reference = self.backdrop_reference()?;
        Some(crate::photo::checks::colour_distance(assessment.backdrop_rgb?, reference))
    }

    fn drop_review_of(&mut self, record: RecordId) {
        if self.review.as_ref().is_some_and(|r| r.record == record) {
            self.review = None;
        }
    }
}

#[cfg(test)]
mod tests;

pub mod ingest;
pub mod read;
pub mod shutter;
