//! The studio camera's files: every JPEG the tethering software saved into
//! the watched folder that the station looked at, known by its SHA-256.
//!
//! A file is *bound* (it is a take: its bytes are the take's original, in
//! the same transaction as the take, see [`Store::add_take`]), *unbound*
//! (in the operator's tray: it came when no take could be bound to it),
//! *discarded* (the operator set it aside; it stays in the folder) or
//! *unreadable* (it does not decode). The hash is unique, so a file is never
//! bound twice, after a restart or a crash either; rows are never deleted
//! and a bound row never changes (schema triggers).

use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};
use serde_json::json;

use super::audit::{self, AuditRefs};
use super::{SessionId, Store, StoreError, TakeId};

/// Id of a camera file row.
pub type CameraFileId = i64;

/// A file from the camera, as the station read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraFile {
    /// The file's name in the folder (a name that could hold a person's
    /// name or ID number is replaced, see [`safe_file_name`]).
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
    /// The file's modification time (RFC 3339), when the system gives one.
    pub modified_at: Option<String>,
    /// The RAW file shot with it (RAW+JPEG), when one was complete by then.
    pub raw: Option<RawFile>,
}

/// A RAW file: recorded by name and hash, never read into the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFile {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

/// A camera file a take is made from, and how it was bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraShot {
    pub file: CameraFile,
    /// The operator bound it from the tray (one key, audited), rather than
    /// the station as it came.
    pub by_operator: bool,
}

/// What became of a camera file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraFileStatus {
    Bound,
    Unbound,
    Discarded,
    Unreadable,
}

impl CameraFileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bound => "bound",
            Self::Unbound => "unbound",
            Self::Discarded => "discarded",
            Self::Unreadable => "unreadable",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "bound" => Self::Bound,
            "unbound" => Self::Unbound,
            "discarded" => Self::Discarded,
            _ => Self::Unreadable,
        }
    }
}

/// A stored camera file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraFileRow {
    pub id: CameraFileId,
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
    pub modified_at: Option<String>,
    pub seen_at: String,
    pub status: CameraFileStatus,
    /// Why it was not bound when it came (a reason code, see `station::ingest`).
    pub reason: String,
    pub take_id: Option<TakeId>,
    pub raw: Option<RawFile>,
}

const COLUMNS: &str =
    "id, name, sha256, bytes, modified_at, seen_at, status, reason, take_id, raw_name, raw_sha256, raw_bytes";

fn row_to_file(r: &Row<'_>) -> rusqlite::Result<CameraFileRow> {
    let status: String = r.get(6)?;
    let raw_name: Option<String> = r.get(9)?;
    let raw_sha: Option<String> = r.get(10)?;
    let raw_bytes: Option<i64> = r.get(11)?;
    Ok(CameraFileRow {
        id: r.get(0)?,
        name: r.get(1)?,
        sha256: r.get(2)?,
        bytes: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        modified_at: r.get(4)?,
        seen_at: r.get(5)?,
        status: CameraFileStatus::parse(&status),
        reason: r.get(7)?,
        take_id: r.get(8)?,
        raw: match (raw_name, raw_sha, raw_bytes) {
            (Some(name), Some(sha256), Some(bytes)) => {
                Some(RawFile { name, sha256, bytes: u64::try_from(bytes).unwrap_or(0) })
            }
            _ => None,
        },
    })
}

/// Name prefixes cameras give their files (`IMG_`, `_MG_`, `DSC_`, `_DSC`,
/// `DSCF`, Panasonic/Olympus `P`, Pentax `IMGP`, …), compared without case.
const CAMERA_PREFIXES: &[&str] = &[
    "", "img", "_mg", "mg", "dsc", "_dsc", "dscf", "dscn", "dsf", "_dsf", "p", "pxl", "r", "l", "b", "imgp", "_igp",
    "igp", "crw", "_crw", "dji", "gopr", "sdim", "sam", "cimg",
];

/// The name to keep for a file: only a camera's own numbering is kept, a
/// known prefix, an optional `_`/`-`, one to seven digits, and an optional
/// copy suffix (`-2`, `_2`, ` (1)`): `IMG_1234.JPG`, `_DSC0042.NEF`,
/// `DSCF1234.JPG`, `P1010001.JPG`. Every other name (tethering software
/// can name files by a template: `ZhangSan_0012.jpg`,
/// `110101_2000_0101_123X.jpg`) is replaced by `camera-<hash>.<ext>`: no
/// clear name or ID number is ever stored.
pub fn safe_file_name(name: &str, sha256: &str) -> String {
    if is_camera_numbering(name) {
        return name.to_string();
    }
    let ext = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("jpg");
    let short = sha256.get(..12).unwrap_or(sha256);
    format!("camera-{short}.{ext}")
}

fn is_camera_numbering(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else { return false };
    if ext.is_empty() || ext.len() > 5 || !ext.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    // The copy suffix, if any.
    let stem = if let Some(inner) = stem.strip_suffix(')') {
        match inner.rsplit_once(" (") {
            Some((base, n)) if (1..=3).contains(&n.len()) && n.chars().all(|c| c.is_ascii_digit()) => base,
            _ => return false,
        }
    } else {
        stem
    };
    let stem = match stem.rsplit_once(['-', '_']) {
        Some((base, n))
            if (1..=3).contains(&n.len())
                && n.chars().all(|c| c.is_ascii_digit())
                && base.chars().last().is_some_and(|c| c.is_ascii_digit()) =>
        {
            base
        }
        _ => stem,
    };
    let digits_from = stem.len() - stem.chars().rev().take_while(char::is_ascii_digit).count();
    let (prefix, digits) = stem.split_at(digits_from);
    let prefix = prefix.strip_suffix(['_', '-']).unwrap_or(prefix);
    (1..=7).contains(&digits.len()) && CAMERA_PREFIXES.contains(&prefix.to_ascii_lowercase().as_str())
}

impl Store {
    /// A file of this name and size is already known (bound, in the tray,
    /// discarded or unreadable): a cheap look before reading a file found
    /// in the folder at start. The hash decides when a file is bound.
    pub fn camera_file_known(&self, name: &str, bytes: u64) -> Result<bool, StoreError> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM camera_files WHERE name = ?1 AND bytes = ?2)",
            params![name, i64::try_from(bytes).unwrap_or(i64::MAX)],
            |r| r.get(0),
        )?)
    }

    /// Every known file by name and size, JPEGs and their RAW files (what
    /// the watcher need not read again at start).
    pub fn camera_files_known(&self) -> Result<std::collections::HashSet<(String, u64)>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT name, bytes FROM camera_files
             UNION SELECT raw_name, raw_bytes FROM camera_files WHERE raw_name IS NOT NULL",
        )?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0))))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A RAW file of this hash is recorded with one of the station's JPEGs.
    pub fn raw_known(&self, sha256: &str) -> Result<bool, StoreError> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM camera_files WHERE raw_sha256 = ?1)",
            [sha256],
            |r| r.get(0),
        )?)
    }

    /// The file with this hash, if the station has seen it.
    pub fn camera_file_by_hash(&self, sha256: &str) -> Result<Option<CameraFileRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(&format!("SELECT {COLUMNS} FROM camera_files WHERE sha256 = ?1"), [sha256], row_to_file)
            .optional()?)
    }

    /// One file by id.
    pub fn camera_file(&self, id: CameraFileId) -> Result<CameraFileRow, StoreError> {
        self.conn()
            .query_row(&format!("SELECT {COLUMNS} FROM camera_files WHERE id = ?1"), [id], row_to_file)
            .optional()?
            .ok_or(StoreError::NotFound { what_zh: "相机文件", what_en: "camera file", id })
    }

    /// The files waiting in the operator's tray, oldest first.
    pub fn unbound_camera_files(&self) -> Result<Vec<CameraFileRow>, StoreError> {
        let mut stmt =
            self.conn().prepare(&format!("SELECT {COLUMNS} FROM camera_files WHERE status = 'unbound' ORDER BY id"))?;
        let rows = stmt.query_map([], row_to_file)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The camera file a take was made from, if it was.
    pub fn camera_file_of_take(&self, take: TakeId) -> Result<Option<CameraFileRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(&format!("SELECT {COLUMNS} FROM camera_files WHERE take_id = ?1"), [take], row_to_file)
            .optional()?)
    }

    /// Puts a file in the tray (`Unbound`, with why) or records that it does
    /// not decode (`Unreadable`). A file already known by its hash is left
    /// as it is: `None`.
    pub fn hold_camera_file(
        &mut self,
        session: SessionId,
        file: &CameraFile,
        status: CameraFileStatus,
        reason: &str,
        now: &str,
    ) -> Result<Option<CameraFileRow>, StoreError> {
        if !matches!(status, CameraFileStatus::Unbound | CameraFileStatus::Unreadable) {
            return Err(StoreError::not_allowed(
                "只能暂存或记录无法读取的文件",
                "a file is held unbound or unreadable",
            ));
        }
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM camera_files WHERE sha256 = ?1)", [&file.sha256], |r| r.get(0))?;
        if known {
            return Ok(None);
        }
        insert_file(&tx, session, file, status, reason, None, now)?;
        let id = tx.last_insert_rowid();
        audit::append(
            &tx,
            now,
            AuditRefs { session_id: Some(session), record_id: None, take_id: None },
            if status == CameraFileStatus::Unbound { "camera_file_held" } else { "camera_file_unreadable" },
            &json!({"camera_file": id, "name": file.name, "sha256": file.sha256, "reason": reason}),
        )?;
        let row = tx.query_row(&format!("SELECT {COLUMNS} FROM camera_files WHERE id = ?1"), [id], row_to_file)?;
        tx.commit()?;
        Ok(Some(row))
    }

    /// The operator sets a file of the tray aside (audited). The file stays
    /// in the camera's folder; the station never deletes or renames it.
    pub fn discard_camera_file(
        &mut self,
        session: SessionId,
        id: CameraFileId,
        now: &str,
    ) -> Result<CameraFileRow, StoreError> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = tx
            .query_row(&format!("SELECT {COLUMNS} FROM camera_files WHERE id = ?1"), [id], row_to_file)
            .optional()?
            .ok_or(StoreError::NotFound { what_zh: "相机文件", what_en: "camera file", id })?;
        if row.status != CameraFileStatus::Unbound {
            return Err(StoreError::not_allowed(
                "只能放弃待绑定的相机文件",
                "only an unbound camera file can be discarded",
            ));
        }
        tx.execute("UPDATE camera_files SET status = 'discarded' WHERE id = ?1", [id])?;
        audit::append(
            &tx,
            now,
            AuditRefs { session_id: Some(session), record_id: None, take_id: None },
            "camera_file_discarded",
            &json!({"camera_file": id, "name": row.name, "sha256": row.sha256}),
        )?;
        let row = tx.query_row(&format!("SELECT {COLUMNS} FROM camera_files WHERE id = ?1"), [id], row_to_file)?;
        tx.commit()?;
        Ok(row)
    }

    /// Records the RAW file shot with the JPEG of this hash (the RAW came
    /// after the JPEG was read). False when that JPEG is not known or
    /// already has its RAW.
    pub fn attach_raw(&mut self, jpeg_sha256: &str, raw: &RawFile, now: &str) -> Result<bool, StoreError> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE camera_files SET raw_name = ?2, raw_sha256 = ?3, raw_bytes = ?4
             WHERE sha256 = ?1 AND raw_sha256 IS NULL",
            params![jpeg_sha256, raw.name, raw.sha256, i64::try_from(raw.bytes).unwrap_or(i64::MAX)],
        )?;
        if changed == 1 {
            let (id, take): (CameraFileId, Option<TakeId>) =
                tx.query_row("SELECT id, take_id FROM camera_files WHERE sha256 = ?1", [jpeg_sha256], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            audit::append(
                &tx,
                now,
                AuditRefs { session_id: None, record_id: None, take_id: take },
                "camera_raw_recorded",
                &json!({"camera_file": id, "raw_name": raw.name, "raw_sha256": raw.sha256}),
            )?;
        }
        tx.commit()?;
        Ok(changed == 1)
    }
}

/// Inserts a camera file row (inside the caller's transaction).
pub(super) fn insert_file(
    conn: &rusqlite::Connection,
    session: SessionId,
    file: &CameraFile,
    status: CameraFileStatus,
    reason: &str,
    take: Option<TakeId>,
    now: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO camera_files (sha256, name, bytes, modified_at, seen_at, session_id, status, reason, take_id,
                                   raw_name, raw_sha256, raw_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            file.sha256,
            file.name,
            i64::try_from(file.bytes).unwrap_or(i64::MAX),
            file.modified_at,
            now,
            session,
            status.as_str(),
            reason,
            take,
            file.raw.as_ref().map(|r| r.name.as_str()),
            file.raw.as_ref().map(|r| r.sha256.as_str()),
            file.raw.as_ref().map(|r| i64::try_from(r.bytes).unwrap_or(i64::MAX)),
        ],
    )?;
    Ok(())
}

/// Binds a camera file to a new take (inside the take's transaction): a new
/// row, or the tray's row when the operator binds it. A file bound,
/// discarded or unreadable already is refused.
pub(super) fn bind_file(
    conn: &rusqlite::Connection,
    session: SessionId,
    file: &CameraFile,
    take: TakeId,
    now: &str,
) -> Result<CameraFileId, StoreError> {
    let existing: Option<(CameraFileId, String)> = conn
        .query_row("SELECT id, status FROM camera_files WHERE sha256 = ?1", [&file.sha256], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    match existing {
        None => {
            insert_file(conn, session, file, CameraFileStatus::Bound, "", Some(take), now)?;
            Ok(conn.last_insert_rowid())
        }
        Some((id, status)) if status == "unbound" => {
            conn.execute(
                "UPDATE camera_files SET status = 'bound', take_id = ?2,
                        raw_name = COALESCE(raw_name, ?3), raw_sha256 = COALESCE(raw_sha256, ?4),
                        raw_bytes = COALESCE(raw_bytes, ?5)
                 WHERE id = ?1",
                params![
                    id,
                    take,
                    file.raw.as_ref().map(|r| r.name.as_str()),
                    file.raw.as_ref().map(|r| r.sha256.as_str()),
                    file.raw.as_ref().map(|r| i64::try_from(r.bytes).unwrap_or(i64::MAX)),
                ],
            )?;
            Ok(id)
        }
        Some((id, status)) => Err(StoreError::CameraFileKnown { id, status }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camera_names_are_kept_names_that_could_say_who_are_not() {
        let sha = "ab".repeat(32);
        for kept in [
            "IMG_1234.JPG",
            "_DSC0042.NEF",
            "DSCF1234.JPG",
            "IMG_1234 (1).jpg",
            "IMG_1234-2.jpg",
            "P1010001.JPG",
            "DSC_0001.jpg",
        ] {
            assert_eq!(safe_file_name(kept, &sha), kept);
        }
        for replaced in [
            "张三.jpg",
            "110101200001011234.jpg",
            "20231234567-wang.jpg",
            "../x.jpg/..\u{0}",
            "110101_2000_0101_123X.jpg",
            "ZhangSan_0012.jpg",
            "Li_12.jpg",
            "2023_1234_567.jpg",
            "IMG_12345678.jpg",
            "noext",
        ] {
            let name = safe_file_name(replaced, &sha);
            assert!(name.starts_with("camera-abababababab."), "{replaced} -> {name}");
            assert!(!name.contains('张') && !name.contains("1101012000"), "{name}");
        }
    }
}
