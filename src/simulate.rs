//! `gradcap simulate`: the whole capture pipeline, headless, on synthetic
//! frames: a phone frame showing each student's drill code is decoded from
//! pixels, the number allocated, a portrait captured, the deliverable made,
//! all committed through the station core. Run on an existing database it
//! continues that session: waiting students are photographed first, then new
//! students follow the ones already scanned.
//!
//! Students misbehave at fixed, seeded ratios (per student, so a restarted
//! run makes the same choices): no-show, re-shoot, duplicate scan.

use std::time::Instant;

use image::RgbImage;

use crate::camera::folder::{FolderConfig, FolderEvent};
use crate::camera::synth::{phone_frame, portrait, PhoneShot, SeededRng};
use crate::code::drill::{drill_code, DrillStudent};
use crate::roster::RosterEntry;
use crate::scan;
use crate::station::ingest::{IngestConfig, StudioCamera};
use crate::station::shutter::Shutter;
use crate::station::{prepare_take, Event, Outcome, Station, StationConfig, StationError};
use crate::store::{SessionInfo, Store};

/// Share of students who do not come when called (skipped).
pub const NO_SHOW_RATIO: f64 = 0.04;
/// Share of students whose first take is rejected and re-shot.
pub const RESHOOT_RATIO: f64 = 0.08;
/// Share of students who scan their code again after being photographed.
pub const DUPLICATE_RATIO: f64 = 0.06;
/// How many students queue ahead of the camera.
pub const QUEUE_DEPTH: i64 = 3;

/// Errors that stop a simulation.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error(transparent)]
    Station(#[from] StationError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Photo(#[from] crate::photo::PhotoError),
    #[error(transparent)]
    Drill(#[from] crate::code::drill::DrillError),
    #[error("模拟出现意外结果：{0} / unexpected outcome in the simulation: {0}")]
    Unexpected(String),
    #[error("相机文件夹 {path}：{reason} / studio camera folder {path}: {reason}")]
    ShotsFolder { path: String, reason: String },
}

impl crate::text::Bilingual for SimulateError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Station(f0) => f0.text(),
            Self::Store(f0) => f0.text(),
            Self::Photo(f0) => f0.text(),
            Self::Drill(f0) => f0.text(),
            Self::Unexpected(f0) => {
                Text::new(format!("模拟出现意外结果：{f0}"), format!("unexpected outcome in the simulation: {f0}"))
            }
            Self::ShotsFolder { path, reason } => {
                Text::new(format!("相机文件夹 {path}：{reason}"), format!("studio camera folder {path}: {reason}"))
            }
        }
    }
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimulateOptions {
    pub students: usize,
    pub roster: Option<Vec<RosterEntry>>,
    pub station: String,
    pub seed: u64,
    pub school_code: String,
    pub school_name: String,
    pub date: String,
    pub frame_width: u32,
    pub frame_height: u32,
    /// Write each portrait as a studio camera file into this folder (as
    /// tethering software does: a `.tmp` renamed into place) and take it
    /// through the hot-folder ingest, instead of straight to the shutter.
    pub shots_folder: Option<std::path::PathBuf>,
}

impl SimulateOptions {
    pub fn new(students: usize, station: &str, seed: u64) -> Self {
        SimulateOptions {
            students,
            roster: None,
            station: station.to_string(),
            seed,
            school_code: "99999".to_string(),
            school_name: "演练学校 Drill School".to_string(),
            date: chrono::Local::now().format("%Y-%m-%d").to_string(),
            frame_width: 1280,
            frame_height: 720,
            shots_folder: None,
        }
    }
}

/// Median and 95th percentile of one stage.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct StageStats {
    pub median_ms: f64,
    pub p95_ms: f64,
}

impl StageStats {
    fn of(samples: &mut [f64]) -> Self {
        if samples.is_empty() {
            return StageStats::default();
        }
        samples.sort_by(f64::total_cmp);
        let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        let round = |v: f64| (v * 1000.0).round() / 1000.0;
        StageStats { median_ms: round(pick(0.5)), p95_ms: round(pick(0.95)) }
    }
}

/// Timings per stage.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Stages {
    pub decode: StageStats,
    pub allocate: StageStats,
    pub deliverable: StageStats,
    pub commit: StageStats,
}

/// The JSON `simulate` prints.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SimulateReport {
    pub students: usize,
    pub photographed: usize,
    pub skipped: usize,
    pub reshoots: usize,
    pub duplicates_refused: usize,
    pub students_per_s: f64,
    pub stages: Stages,
    pub decode_failures: usize,
    pub session_seq_next: i64,
}

#[derive(Default)]
struct Samples {
    decode: Vec<f64>,
    allocate: Vec<f64>,
    deliverable: Vec<f64>,
    commit: Vec<f64>,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Per-student choices, from the seed and the student number alone.
struct Behaviour {
    no_show: bool,
    reshoot: bool,
    duplicate: bool,
}

fn behaviour(seed: u64, xh: &str) -> Behaviour {
    let mut h = seed;
    for b in xh.bytes() {
        h = h.wrapping_mul(0x100_0000_01B3) ^ u64::from(b);
    }
    let mut rng = SeededRng::new(h);
    Behaviour {
        no_show: rng.unit() < NO_SHOW_RATIO,
        reshoot: rng.unit() < RESHOOT_RATIO,
        duplicate: rng.unit() < DUPLICATE_RATIO,
    }
}

fn synthetic_student(index: usize) -> DrillStudent {
    const SURNAMES: [&str; 8] = ["张", "王", "李", "欧", "赵", "阿", "司", "喆"];
    const GIVEN: [&str; 8] = ["明", "娜", "伟", "芳", "堃", "赟", "提", "丽"];
    let surname = SURNAMES[index % SURNAMES.len()];
    let given = GIVEN[(index / SURNAMES.len()) % GIVEN.len()];
    // Names of two, three and four characters, masked by the rule.
    let xm = match index % 3 {
        0 => format!("{surname}*"),
        1 => format!("{surname}*{given}"),
        _ => format!("{surname}**{given}"),
    };
    DrillStudent {
        xh: format!("2026{index:06}"),
        xm,
        zjhm: format!("{:04}", (index * 7919) % 10_000),
        class: format!("演练 {}班", index / 40 + 1),
        college: "演练学院".to_string(),
        level: "本科".to_string(),
    }
}

/// One student's code as the scanner thread read it.
struct Scanned {
    text: Option<String>,
    decode_ms: f64,
}

/// Starts the scanner thread; the receiver yields one `Scanned` per student, in order.
fn spawn_scanner(
    students: Vec<DrillStudent>,
    opts: &SimulateOptions,
) -> Result<std::sync::mpsc::Receiver<Scanned>, SimulateError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Scanned>(QUEUE_DEPTH as usize + 1);
    let (width, height, seed, school_code) = (opts.frame_width, opts.frame_height, opts.seed, opts.school_code.clone());
    let sjc_base: i64 = chrono::Utc::now().timestamp_millis() - 86_400_000;
    std::thread::Builder::new()
        .name("sim-scanner".into())
        .spawn(move || {
            for (i, student) in students.iter().enumerate() {
                let payload = drill_code(student, &school_code, sjc_base + i as i64).to_payload();
                let frame_seed = seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9);
                let mut rng = SeededRng::new(frame_seed);
                let mut text = None;
                let mut decode_ms = 0.0;
                // A student whose code does not read holds the phone closer, twice.
                for attempt in 0..3u32 {
                    let mut shot = PhoneShot::typical(&mut rng);
                    shot.module_px += f64::from(attempt) * 1.5;
                    let Ok(frame) = phone_frame(&payload, width, height, shot, frame_seed + u64::from(attempt)) else {
                        break;
                    };
                    let t = Instant::now();
                    let found = scan::decode_gray(&frame).into_iter().find(|t| *t == payload);
                    decode_ms += ms(t);
                    if found.is_some() {
                        text = found;
                        break;
                    }
                }
                if tx.send(Scanned { text, decode_ms }).is_err() {
                    return; // the station stopped
                }
            }
        })
        .map_err(|e| SimulateError::Unexpected(format!("cannot start the scanner thread: {e}")))?;
    Ok(rx)
}

/// A few synthetic portraits, made once and reused in turn: the frames of the
/// simulated camera.
struct FaceCache {
    frames: Vec<RgbImage>,
    thumbnails: Vec<RgbImage>,
}

impl FaceCache {
    const VARIANTS: usize = 6;

    fn new(width: u32, height: u32, seed: u64) -> Self {
        let frames: Vec<RgbImage> =
            (0..Self::VARIANTS as u64).map(|i| portrait(width, height, seed ^ (i << 16))).collect();
        let thumbnails =
            (0..Self::VARIANTS as u64).map(|i| portrait(width / 4, height / 4, seed ^ (i << 16))).collect();
        FaceCache { frames, thumbnails }
    }

    fn frame(&self, n: usize) -> &RgbImage {
        &self.frames[n % self.frames.len()]
    }

    fn thumbnail_frame(&self, n: usize) -> RgbImage {
        self.thumbnails[n % self.thumbnails.len()].clone()
    }
}

/// The studio camera of a simulation: each portrait is written into the
/// folder as tethering software writes it, and the station takes it in
/// through its hot-folder watcher and ingest rules (the window's path).
struct SimulatedTether {
    dir: std::path::PathBuf,
    camera: StudioCamera,
    shutter: Shutter,
    /// Makes this run's file names its own (a killed run's files stay).
    run: String,
}

impl SimulatedTether {
    fn start(dir: &std::path::Path, station: &Station) -> Result<Self, SimulateError> {
        let fail = |e: &dyn std::fmt::Display| SimulateError::ShotsFolder {
            path: dir.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
        let mut folder = FolderConfig { poll_ms: 100, settle_ms: 300, ..FolderConfig::new(dir) };
        folder.known = station.store().camera_files_known()?;
        // No burst time: the simulation photographs the next student within
        // milliseconds of accepting the last, which a station holds as the
        // tail of a burst (no one sits down that fast).
        let ingest = IngestConfig { burst_ms: 0, ..IngestConfig::default() };
        let camera = StudioCamera::with_folder(folder, ingest, Box::new(|| {})).map_err(|e| fail(&e))?;
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let run = format!("{:x}", nanos ^ u128::from(std::process::id()));
        Ok(SimulatedTether { dir: dir.to_path_buf(), camera, shutter: Shutter::inline(), run })
    }

    /// Writes one shot as a camera file and waits until it is the take under review.
    fn shoot(&mut self, station: &mut Station, frame: &RgbImage, seq: i64, shot: usize) -> Result<(), SimulateError> {
        let fail = |e: &dyn std::fmt::Display| SimulateError::ShotsFolder {
            path: self.dir.display().to_string(),
            reason: e.to_string(),
        };
        let name = format!("SIM_{}_{seq:04}_{shot}.JPG", self.run);
        let bytes = crate::camera::synth::camera_jpeg_noted(frame, 1, 92, &name).map_err(|e| fail(&e))?;
        let tmp = self.dir.join(format!("{name}.tmp"));
        std::fs::write(&tmp, &bytes).map_err(|e| fail(&e))?;
        std::fs::rename(&tmp, self.dir.join(&name)).map_err(|e| fail(&e))?;
        let until = Instant::now() + std::time::Duration::from_secs(30);
        while Instant::now() < until {
            let Some(event) = self.camera.wait(std::time::Duration::from_millis(200)) else { continue };
            let ours = matches!(&event, FolderEvent::Jpeg(f) if f.name == name);
            let mut answer = None;
            if let Some(result) = self.camera.handle(event, station, &mut self.shutter, Instant::now()) {
                answer = Some(result?);
            }
            for result in self.shutter.collect(station) {
                let outcome = result?;
                if ours && matches!(outcome, Outcome::TakeReady { .. }) {
                    return Ok(());
                }
                answer = Some(outcome);
            }
            if ours {
                return Err(SimulateError::Unexpected(format!("camera file {name} did not become a take: {answer:?}")));
            }
        }
        Err(SimulateError::Unexpected(format!("camera file {name} was not seen within 30 s")))
    }
}

/// Runs the simulation on `store`.
pub fn run(store: Store, opts: &SimulateOptions) -> Result<SimulateReport, SimulateError> {
    let info = SessionInfo {
        school_name: opts.school_name.clone(),
        school_code: opts.school_code.clone(),
        station: opts.station.clone(),
        date: opts.date.clone(),
        operator: "simulate".to_string(),
    };
    let mut station = Station::open(store, &info, StationConfig::default())?;
    let session = station.session().id;
    let start_index = usize::try_from(station.store().distinct_students(session)?).unwrap_or(0);
    let students: Vec<DrillStudent> = match &opts.roster {
        Some(roster) => {
            roster.iter().skip(start_index).take(opts.students).map(RosterEntry::to_drill_student).collect()
        }
        None => (start_index..start_index + opts.students).map(synthetic_student).collect(),
    };

    let mut report = SimulateReport::default();
    let mut samples = Samples::default();
    let started = Instant::now();
    // The "camera and decoder" of the simulation: a named worker renders each
    // student's phone frame and decodes it from pixels, ahead of the station,
    // as the live scanning thread does at a real station.
    let scans = spawn_scanner(students, opts)?;
    let mut scans = scans.into_iter().peekable();
    let faces = FaceCache::new(opts.frame_width, opts.frame_height, opts.seed);
    let mut studio = match &opts.shots_folder {
        Some(dir) => Some(SimulatedTether::start(dir, &station)?),
        None => None,
    };

    loop {
        let waiting = station.store().counts(session)?.waiting;
        let head = station.head()?;
        let scan_next = scans.peek().is_some() && (waiting < QUEUE_DEPTH || head.is_none());
        if scan_next {
            let Some(scanned) = scans.next() else { break };
            report.students += 1;
            samples.decode.push(scanned.decode_ms);
            let Some(text) = scanned.text else {
                report.decode_failures += 1;
                continue;
            };
            let face = faces.thumbnail_frame(report.students);
            let t = Instant::now();
            let outcome = station.handle(Event::CodeScanned { text, frame: Some(face) })?;
            samples.allocate.push(ms(t));
            match outcome {
                Outcome::Queued(_) | Outcome::AlreadyWaiting(_) => {}
                Outcome::AlreadyPhotographed(_) => report.duplicates_refused += 1,
                other => return Err(SimulateError::Unexpected(format!("scan answered {other:?}"))),
            }
            continue;
        }
        let Some(head) = head else { break };
        let b = behaviour(opts.seed, &head.code.xh);
        if b.no_show && !head.reshoot_pending {
            station.handle(Event::Skip { reason: "未到 / no-show (simulated)".to_string() })?;
            report.skipped += 1;
            continue;
        }
        let shots: usize = if b.reshoot { 2 } else { 1 };
        for shot in 0..shots {
            let frame = faces.frame(head.seq as usize + shot);
            let t = Instant::now();
            match &mut studio {
                Some(studio) => studio.shoot(&mut station, frame, head.seq, shot)?,
                None => {
                    let prepared = prepare_take(head.id, frame, None, &station.config(), station.quality_hint())?;
                    samples.deliverable.push(ms(t));
                    station.handle(Event::TakePrepared(prepared))?;
                }
            }
            if studio.is_some() {
                samples.deliverable.push(ms(t));
            }
            let t = Instant::now();
            if shot + 1 < shots {
                station.handle(Event::Reshoot)?;
                report.reshoots += 1;
            } else {
                station.handle(Event::Accept)?;
                report.photographed += 1;
            }
            samples.commit.push(ms(t));
        }
        if b.duplicate {
            let t = Instant::now();
            match station.handle(Event::CodeScanned { text: head.payload.clone(), frame: None })? {
                Outcome::AlreadyPhotographed(_) => report.duplicates_refused += 1,
                other => return Err(SimulateError::Unexpected(format!("duplicate scan answered {other:?}"))),
            }
            samples.allocate.push(ms(t));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    report.students_per_s = if secs > 0.0 { ((report.students as f64 / secs) * 100.0).round() / 100.0 } else { 0.0 };
    report.stages = Stages {
        decode: StageStats::of(&mut samples.decode),
        allocate: StageStats::of(&mut samples.allocate),
        deliverable: StageStats::of(&mut samples.deliverable),
        commit: StageStats::of(&mut samples.commit),
    };
    report.session_seq_next = station.store().session(session)?.next_seq;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulates_students_and_every_record_checks_out() {
        let store = Store::open_in_memory_training().unwrap();
        let mut opts = SimulateOptions::new(30, "2", 7);
        opts.date = "2026-06-01".into();
        let report = run(store, &opts).unwrap();
        assert_eq!(report.students, 30);
        assert_eq!(report.decode_failures, 0);
        assert_eq!(report.photographed + report.skipped, 30);
        // Exactly the misbehaviour the seeded per-student draws call for.
        let draws: Vec<Behaviour> = (0..30).map(|i| behaviour(7, &synthetic_student(i).xh)).collect();
        let shot = |b: &&Behaviour| !b.no_show;
        assert_eq!(report.skipped, draws.iter().filter(|b| b.no_show).count());
        assert_eq!(report.reshoots, draws.iter().filter(shot).filter(|b| b.reshoot).count());
        assert_eq!(report.duplicates_refused, draws.iter().filter(shot).filter(|b| b.duplicate).count());
        assert!(report.stages.decode.median_ms > 0.0);
    }

    #[test]
    fn misbehaviour_ratios_hold_over_many_students() {
        let n = 5000;
        let draws: Vec<Behaviour> = (0..n).map(|i| behaviour(3, &synthetic_student(i).xh)).collect();
        let ratio = |f: fn(&Behaviour) -> bool| draws.iter().filter(|b| f(b)).count() as f64 / n as f64;
        assert!((ratio(|b| b.no_show) - NO_SHOW_RATIO).abs() < 0.01);
        assert!((ratio(|b| b.reshoot) - RESHOOT_RATIO).abs() < 0.015);
        assert!((ratio(|b| b.duplicate) - DUPLICATE_RATIO).abs() < 0.015);
    }

    #[test]
    fn synthetic_names_are_masked() {
        for i in 0..100 {
            assert!(crate::code::is_masked_name(&synthetic_student(i).xm));
        }
    }

    #[test]
    fn percentiles() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = StageStats::of(&mut v);
        assert_eq!(s.median_ms, 51.0);
        assert_eq!(s.p95_ms, 95.0);
    }
}
