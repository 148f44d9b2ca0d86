//! Plain data the store keeps and hands out: sessions, records, takes,
//! counts, and the roster and schedule rows it imports (read from files
//! by `roster`, which sits above the store).

use sha2::{Digest, Sha256};

use super::{RecordId, SessionId, TakeId};
use crate::code::drill::DrillStudent;
use crate::code::CaptureCode;

/// What identifies a capture session: one school, one station (机位), one day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionInfo {
    pub school_name: String,
    /// 院校代码 (5 digits) or empty.
    pub school_code: String,
    /// Camera position, e.g. `2`.
    pub station: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub operator: String,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub info: SessionInfo,
    /// The sequence number the next scan will get.
    pub next_seq: i64,
}

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordStatus {
    Waiting,
    Photographed,
    Skipped,
    Voided,
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Waiting => "waiting",
            RecordStatus::Photographed => "photographed",
            RecordStatus::Skipped => "skipped",
            RecordStatus::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "waiting" => RecordStatus::Waiting,
            "photographed" => RecordStatus::Photographed,
            "skipped" => RecordStatus::Skipped,
            "voided" => RecordStatus::Voided,
            _ => return None,
        })
    }

    /// Chinese label for screens and reports.
    pub fn label_zh(self) -> &'static str {
        match self {
            RecordStatus::Waiting => "待拍",
            RecordStatus::Photographed => "已拍",
            RecordStatus::Skipped => "跳过",
            RecordStatus::Voided => "作废",
        }
    }

    /// English label for screens and reports.
    pub fn label_en(self) -> &'static str {
        match self {
            RecordStatus::Waiting => "waiting",
            RecordStatus::Photographed => "photographed",
            RecordStatus::Skipped => "skipped",
            RecordStatus::Voided => "voided",
        }
    }
}

/// One scanned student at one station: the code as scanned (masked only), its
/// sequence number and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: RecordId,
    pub session_id: SessionId,
    pub station: String,
    pub seq: i64,
    pub code: CaptureCode,
    /// The scanned text, exactly as read.
    pub payload: String,
    pub scanned_at: String,
    pub status: RecordStatus,
    pub status_reason: String,
    pub status_at: Option<String>,
    /// An explicit re-shoot of this (photographed) record is under way.
    pub reshoot_pending: bool,
    pub has_scan_thumb: bool,
}

impl Record {
    /// The number shown and written on the register, e.g. `2-0153`.
    pub fn display_seq(&self) -> String {
        display_seq(&self.station, self.seq)
    }
}

/// `{station}-{seq:04}`.
pub fn display_seq(station: &str, seq: i64) -> String {
    format!("{station}-{seq:04}")
}

/// The images of one take, ready to store.
#[derive(Debug, Clone)]
pub struct TakeImages {
    pub original_jpeg: Vec<u8>,
    pub original_width: u32,
    pub original_height: u32,
    pub deliverable_jpeg: Vec<u8>,
    pub deliverable_quality: u8,
    /// The photo checks, as JSON (empty: not checked).
    pub checks_json: String,
    /// The studio camera's file the take was made from (its bytes are
    /// `original_jpeg`); `None` for a webcam frame.
    pub camera_shot: Option<Box<super::CameraShot>>,
}

/// A stored take (its images stay in the database; fetch them with `take_images`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Take {
    pub id: TakeId,
    pub record_id: RecordId,
    pub take_no: i64,
    pub is_primary: bool,
    pub original_sha256: String,
    pub original_bytes: i64,
    pub original_width: i64,
    pub original_height: i64,
    pub deliverable_sha256: String,
    pub deliverable_bytes: i64,
    pub deliverable_quality: i64,
    pub captured_at: String,
    /// When the operator rejected this take (it is kept, never primary).
    pub rejected_at: Option<String>,
    /// When its images were deleted after a verified handover (hashes kept).
    pub purged_at: Option<String>,
    /// The photo checks, as JSON (empty: taken before checks existed).
    pub checks_json: String,
    /// Failed checks the operator accepted anyway, comma-separated.
    pub accepted_failed: String,
}

/// Counts of a session's records by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub waiting: i64,
    pub photographed: i64,
    pub skipped: i64,
    pub voided: i64,
    /// Takes beyond the first of each record.
    pub reshoots: i64,
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    digest_hex(&Sha256::digest(bytes))
}

/// A digest as lower-case hex (for a SHA-256 computed in pieces).
pub fn digest_hex(digest: &[u8]) -> String {
    let mut s = String::with_capacity(digest.len() * 2);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A roster row, masked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RosterEntry {
    /// Row number in the file (the header is row 1).
    pub row: usize,
    pub xh: String,
    /// Masked name.
    pub xm: String,
    /// Last four characters of the ID number; empty when the roster has none.
    pub zjhm: String,
    pub class: String,
    pub college: String,
    pub major: String,
    pub level: String,
}

impl RosterEntry {
    /// A row of one student (学号, masked name, class; the rest empty), as
    /// the second line of a file: for examples and tests.
    pub fn example(xh: &str, xm: &str, class: &str) -> Self {
        RosterEntry {
            row: 2,
            xh: xh.into(),
            xm: xm.into(),
            zjhm: String::new(),
            class: class.into(),
            college: String::new(),
            major: String::new(),
            level: String::new(),
        }
    }

    /// The masked data a drill code is made from.
    pub fn to_drill_student(&self) -> DrillStudent {
        DrillStudent {
            xh: self.xh.clone(),
            xm: self.xm.clone(),
            zjhm: self.zjhm.clone(),
            class: self.class.clone(),
            college: self.college.clone(),
            level: self.level.clone(),
        }
    }
}

/// One line of the capture schedule: a class at a station in a time slot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScheduleRow {
    pub row: usize,
    pub class: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// As written, e.g. `09:00-09:50`.
    pub slot: String,
    pub station: String,
    pub head_count: Option<u32>,
}

impl ScheduleRow {
    /// Start of the slot as minutes after midnight, for ordering and "now".
    pub fn start_minutes(&self) -> Option<u32> {
        let first = self.slot.split(['-', '~', '～', '—', '–', '至']).next()?.trim().replace('：', ":");
        let (h, m) = first.split_once(':')?;
        Some(h.trim().parse::<u32>().ok()? * 60 + m.trim().parse::<u32>().ok()?)
    }

    /// End of the slot as minutes after midnight.
    pub fn end_minutes(&self) -> Option<u32> {
        let last = self.slot.rsplit(['-', '~', '～', '—', '–', '至']).next()?.trim().replace('：', ":");
        let (h, m) = last.split_once(':')?;
        Some(h.trim().parse::<u32>().ok()? * 60 + m.trim().parse::<u32>().ok()?)
    }
}
