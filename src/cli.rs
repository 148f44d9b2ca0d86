//! The shape of the `gradcap` command line: its flags and subcommands, with
//! their help text (clap), the options they give the window, and the
//! terminal's helpers (logging, the export's progress line). `main.rs` parses
//! these and calls the library; the names, flags and exit codes here are a
//! contract (see the README).

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "gradcap", version = crate::LONG_VERSION, about = "学历照片采集站 / capture station for diploma photos")]
pub struct Cli {
    /// Data directory (default: the OS's per-user data directory).
    #[arg(long, global = true, env = "GRADCAP_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Station database file (default: DATA_DIR/gradcap.sqlite).
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Training with the demo camera (synthetic students), on the training
    /// database (implies --training).
    #[arg(long, conflicts_with = "replay")]
    pub demo: bool,
    /// Start in training mode: its own database beside the station's
    /// (`NAME-training.sqlite`), drill codes welcome, a banner on every screen.
    #[arg(long)]
    pub training: bool,
    /// Play a folder of images as the camera (tests, bug reports).
    #[arg(long, value_name = "DIR")]
    pub replay: Option<PathBuf>,
    /// Frames per second of --replay.
    #[arg(long, value_name = "FPS", default_value_t = 10.0)]
    pub replay_fps: f32,
    /// Close the station after this many seconds (smoke tests).
    #[arg(long, value_name = "SECS")]
    pub exit_after: Option<f64>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The station database the flags name (`--db`, else in `--data-dir`).
    pub fn db_path(&self) -> Result<PathBuf, crate::paths::PathsError> {
        crate::paths::db_path(self.db.as_deref(), self.data_dir.as_deref())
    }

    /// The settings file in the data directory.
    pub fn settings_path(&self) -> Result<PathBuf, crate::paths::PathsError> {
        Ok(crate::paths::data_dir(self.data_dir.as_deref())?.join(crate::settings::SETTINGS_FILE_NAME))
    }

    /// The station window's options from the flags: the camera (`--demo`,
    /// `--replay`, else the first USB camera), training, `--exit-after`.
    pub fn station_options(&self) -> Result<crate::app::AppOptions, crate::paths::PathsError> {
        use crate::app::CameraChoice;
        let camera = if self.demo {
            CameraChoice::Demo
        } else if let Some(dir) = &self.replay {
            CameraChoice::Replay { dir: dir.clone(), fps: self.replay_fps }
        } else {
            CameraChoice::Auto
        };
        Ok(crate::app::AppOptions {
            db_path: self.db_path()?,
            settings_path: self.settings_path()?,
            camera,
            exit_after: seconds(self.exit_after),
            gun: Default::default(),
            system_fonts: true,
            sound: crate::sound::Sound::Speaker,
            training: self.training || self.demo,
            picker: None,
        })
    }
}

/// Logs to stderr at the level `GRADCAP_LOG` sets (default: warnings).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GRADCAP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Export progress on stderr (a terminal only): files, MB, MB/s, time left.
#[derive(Debug)]
pub struct ProgressLine {
    throttle: crate::export::Throttle,
    terminal: bool,
}

impl Default for ProgressLine {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressLine {
    pub fn new() -> Self {
        ProgressLine {
            throttle: crate::export::Throttle::new(200),
            terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }

    pub fn show(&mut self, p: &crate::export::Progress) {
        if !self.terminal {
            return;
        }
        if let Some(rate) = self.throttle.due(p) {
            let _ = write!(std::io::stderr(), "\r\x1b[2K{}", rate.line(p));
        }
    }

    pub fn done(&self) {
        if self.terminal && self.throttle.shown_any() {
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// `--exit-after SECS` as a duration; zero or less means never.
pub fn seconds(secs: Option<f64>) -> Option<std::time::Duration> {
    secs.filter(|s| *s > 0.0).map(std::time::Duration::from_secs_f64)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode capture codes (or, with --raw, any QR code) from images or text.
    Decode {
        /// Print any QR text with its decode time instead of parsing capture codes.
        #[arg(long)]
        raw: bool,
        /// One JSON object per input line.
        #[arg(long)]
        json: bool,
        /// Only the live scanner's stages (no rqrr fallback): what the station
        /// reads from a webcam frame, at its cost.
        #[arg(long)]
        live: bool,
        /// Payload texts to parse instead of images.
        #[arg(long = "text", value_name = "PAYLOAD", num_args = 1.., conflicts_with = "images")]
        texts: Vec<String>,
        /// Image files or folders of images.
        #[arg(value_name = "IMAGE", required_unless_present = "texts")]
        images: Vec<PathBuf>,
    },
    /// Render drill capture codes (PNG + index.csv) from a roster CSV.
    Codes {
        /// Roster CSV with headers 学号,姓名,身份证号,班级,学院,层次 (or English).
        #[arg(long, value_name = "FILE")]
        roster: PathBuf,
        /// Output folder.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// School code (院校代码, 5 digits).
        #[arg(long, value_name = "N", default_value = "99999")]
        school_code: String,
    },
    /// Run the whole pipeline headless on synthetic frames.
    Simulate {
        /// Number of students.
        #[arg(long, value_name = "N")]
        students: usize,
        /// Take students from this roster CSV, in order.
        #[arg(long, value_name = "FILE")]
        roster: Option<PathBuf>,
        /// Station (机位).
        #[arg(long, value_name = "S", default_value = "1")]
        station: String,
        /// Seed of the synthetic frames and misbehaviour.
        #[arg(long, value_name = "K", default_value_t = 1)]
        seed: u64,
        /// School code of the drill codes.
        #[arg(long, value_name = "N", default_value = "99999")]
        school_code: String,
        /// Session date (YYYY-MM-DD; default today).
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        /// Write each portrait as a studio camera file into DIR and take it
        /// through the hot-folder ingest (as a tethered DSLR's shots).
        #[arg(long, value_name = "DIR")]
        shots_folder: Option<PathBuf>,
    },
    /// Class rosters: import (masked while read).
    Roster {
        #[command(subcommand)]
        action: RosterAction,
    },
    /// The capture schedule: import.
    Schedule {
        #[command(subcommand)]
        action: ScheduleAction,
    },
    /// Per-class reconciliation: expected, scanned, photographed, skipped, missing.
    Report {
        /// Only this class.
        #[arg(long, value_name = "C")]
        class: Option<String>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Write reconciliation sheets: a PDF file with --class, else a folder of one PDF per class.
        #[arg(long, value_name = "OUT")]
        pdf: Option<PathBuf>,
    },
    /// Print sheets (冲印排版) of a class's photos, in number order: each
    /// student's package on the fewest sheets, cut from the originals.
    Prints {
        /// The class (班级).
        #[arg(long, value_name = "C")]
        class: String,
        /// The folder the PDF or the JPEG sheets go into.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        /// The package, e.g. "8×二寸" or "4×二寸+8×一寸" (default: settings).
        #[arg(long, value_name = "NAME")]
        package: Option<String>,
        /// 5寸, 6寸 or A4, or another paper of the settings' table (default: settings).
        #[arg(long, value_name = "PAPER")]
        paper: Option<String>,
        /// pdf: one PDF; jpg: one JPEG per sheet at the paper's pixel size, 300 dpi.
        #[arg(long, value_name = "FORMAT", default_value = "pdf", value_parser = ["pdf", "jpg"])]
        format: String,
        /// Print from an export bundle (a USB stick) instead of the station database.
        #[arg(long, value_name = "DIR")]
        bundle: Option<PathBuf>,
        /// No caption strip (number, 学号, masked name) on the sheet's edge.
        #[arg(long)]
        no_caption: bool,
    },
    /// The register (登记表) of a class as a PDF: its roster in 学号 order with numbers and status (or its scans in number order without a roster), a signature column.
    Register {
        #[arg(long, value_name = "C")]
        class: String,
        #[arg(long, value_name = "OUT")]
        pdf: PathBuf,
        /// The form printed before sign-in: every roster student, the number
        /// and status columns left blank (also what a class nobody of has
        /// scanned yet gets).
        #[arg(long)]
        blank: bool,
    },
    /// The student assistants' sign-in check in its own read-only window.
    Assist {
        /// Station (default: from settings).
        #[arg(long, value_name = "S")]
        station: Option<String>,
        /// Date YYYY-MM-DD (default: from settings, else today).
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        /// Close after this many seconds (smoke tests).
        #[arg(long, value_name = "SECS")]
        exit_after: Option<f64>,
    },
    /// A consistent copy of the whole database, made while the station keeps working, then verified.
    Backup {
        /// Folder the backup is written into.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// End-of-day export to a drive or folder: written, synced, read back, then recorded.
    Export {
        /// The drive or folder the bundle is written into.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        /// Export every photographed record again, not only what is new.
        #[arg(long)]
        full: bool,
        /// Encrypt the bundle to this age recipient (public key, age1…): a lost drive reveals nothing.
        #[arg(long, value_name = "RECIPIENT")]
        encrypt_to: Option<String>,
        /// Photo file names: {xh} {xm} {seq} {station} {cjm} {yxdm} {bh} {date}.
        #[arg(long, value_name = "TEMPLATE", default_value = crate::export::DEFAULT_NAME_TEMPLATE)]
        name_template: String,
        /// Copy each photo's RAW file (RAW+JPEG shooting) from the studio
        /// camera's folder into originals/, checked against its recorded hash.
        #[arg(long, value_name = "DIR")]
        raw_from: Option<PathBuf>,
    },
    /// Restore an encrypted bundle with the age identity (private key) file, then verify it.
    Decrypt {
        /// The encrypted bundle folder (or its bundle.tar.age).
        bundle: PathBuf,
        /// The age identity file (AGE-SECRET-KEY-1…).
        #[arg(long, value_name = "FILE")]
        identity: PathBuf,
        /// Folder the restored bundle is written into.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Make an age key pair for encrypted exports: writes the identity file, prints the recipient.
    Keygen {
        /// Identity (private key) file to create; never overwritten.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Join the bundles of several stations into one verified bundle.
    Merge {
        #[arg(value_name = "BUNDLE", required = true)]
        bundles: Vec<PathBuf>,
        /// Folder the merged bundle is written into.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        /// Keep and list a student photographed at two stations instead of refusing the merge.
        #[arg(long)]
        keep_duplicates: bool,
        /// The report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check an export bundle: exit 0 only if it is complete and intact.
    VerifyBundle {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// After a confirmed handover: delete the image data of verified-exported records shot before DATE
    /// (records, checksums and audit log kept), then VACUUM. Needs the operator PIN.
    Purge {
        /// Shooting days before this one (YYYY-MM-DD) are purged.
        #[arg(long, value_name = "DATE")]
        before: String,
        /// The operator PIN (asked for when not given).
        #[arg(long, value_name = "PIN", env = "GRADCAP_PIN")]
        pin: Option<String>,
        /// Skip the last confirmation (scripts).
        #[arg(long)]
        yes: bool,
    },
    /// Face-based crop and the CHSI photo checks for image files: writes each 480×640 deliverable into DIR.
    Photo {
        /// One JSON object per image: file, deliverable, eyes, checks.
        #[arg(long)]
        json: bool,
        /// Folder the deliverables are written into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(value_name = "IMAGE", required = true)]
        images: Vec<PathBuf>,
    },
    /// Correction lookup (勘误): by token, 学号, number or masked name → record, takes, station, times, audit.
    Lookup {
        query: String,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also write the student's photos (deliverables and originals) and record.json here.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
    /// The operator PIN (kept in the station database).
    Pin {
        #[command(subcommand)]
        action: PinAction,
    },
    /// After restoring a backup on purpose: go on with the database as it is.
    /// Records in the audit log what its witness had seen that it no longer
    /// has, then moves the witness to it.
    AcceptRestore,
    /// Check a station database: integrity, sequence numbers, photos, audit chain, masking.
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PinAction {
    /// Set the operator PIN (4–8 digits), or change it (the old one is asked
    /// first). Read from the terminal, or from stdin's lines (old, new, new again)
    /// when piped; never from the command line, where other users could see it.
    Set,
    /// Remove a forgotten PIN. Audited for ever and named in every later
    /// export's manifest; asks for RESET unless --yes.
    Reset {
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RosterAction {
    /// Import a roster (.xlsx, .xls, .csv in UTF-8 or GBK); any bad row refuses the file.
    Import {
        file: PathBuf,
        /// Import only the valid rows and list the others.
        #[arg(long)]
        valid_rows_only: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScheduleAction {
    /// Import a schedule: 班级, 日期, 时间段, 机位, 人数.
    Import { file: PathBuf },
}
