//! The capture queue: sessions, scans, takes, and the status changes of a
//! record. Each public method is one `IMMEDIATE` transaction with its audit row.
//!
//! The rules that keep photos on the right students live here, next to the
//! data, so no caller can bypass them:
//! - a sequence number is allocated inside the scan transaction from the
//!   session's counter, so it is strictly increasing and never reused;
//! - a take binds only to the queue head (an explicit re-shoot, else the
//!   lowest waiting seq), checked inside the transaction that writes it;
//! - a record becomes photographed only together with exactly one primary take.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde_json::json;

use super::audit::{self, AuditRefs};
use super::types::{sha256_hex, Counts, Record, RecordStatus, Session, SessionInfo, Take, TakeImages};
use super::{RecordId, SessionId, Store, StoreError, TakeId};
use crate::code::CaptureCode;

/// What a scan did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOutcome {
    /// A new record joined the queue with a new sequence number.
    Queued(Record),
    /// The code is already waiting in this session: same number as before.
    AlreadyWaiting(Record),
    /// The student was already photographed: refused, with the earlier record.
    AlreadyPhotographed(Record),
}

impl ScanOutcome {
    pub fn record(&self) -> &Record {
        match self {
            ScanOutcome::Queued(r) | ScanOutcome::AlreadyWaiting(r) | ScanOutcome::AlreadyPhotographed(r) => r,
        }
    }
}

const RECORD_COLUMNS: &str = "r.id, r.session_id, s.station, r.seq, r.sjc, r.cjm, r.yxdm, r.zjhm, r.xh, r.cc, r.xllb,
    r.fy, r.xm, r.bh, r.extra_json, r.payload, r.scanned_at, r.status, r.status_reason, r.status_at,
    r.reshoot_session_id IS NOT NULL, r.scan_thumb_jpeg IS NOT NULL";

fn select_records(filter: &str) -> String {
    format!("SELECT {RECORD_COLUMNS} FROM records r JOIN sessions s ON s.id = r.session_id {filter}")
}

fn row_to_record(r: &Row<'_>) -> rusqlite::Result<Record> {
    let extra_json: String = r.get(14)?;
    let extra = serde_json::from_str(&extra_json).unwrap_or_default();
    let status: String = r.get(17)?;
    Ok(Record {
        id: r.get(0)?,
        session_id: r.get(1)?,
        station: r.get(2)?,
        seq: r.get(3)?,
        code: CaptureCode {
            sjc: r.get(4)?,
            cjm: r.get(5)?,
            yxdm: r.get(6)?,
            zjhm: r.get(7)?,
            xh: r.get(8)?,
            cc: r.get(9)?,
            xllb: r.get(10)?,
            fy: r.get(11)?,
            xm: r.get(12)?,
            bh: r.get(13)?,
            extra,
        },
        payload: r.get(15)?,
        scanned_at: r.get(16)?,
        // The CHECK constraint admits only the four statuses.
        status: RecordStatus::parse(&status).unwrap_or(RecordStatus::Voided),
        status_reason: r.get(18)?,
        status_at: r.get(19)?,
        reshoot_pending: r.get(20)?,
        has_scan_thumb: r.get(21)?,
    })
}

const TAKE_COLUMNS: &str = "id, record_id, take_no, is_primary, original_sha256, original_bytes, original_width,
    original_height, deliverable_sha256, deliverable_bytes, deliverable_quality, captured_at, rejected_at, purged_at,
    checks_json, accepted_failed";

fn row_to_take(r: &Row<'_>) -> rusqlite::Result<Take> {
    Ok(Take {
        id: r.get(0)?,
        record_id: r.get(1)?,
        take_no: r.get(2)?,
        is_primary: r.get::<_, i64>(3)? == 1,
        original_sha256: r.get(4)?,
        original_bytes: r.get(5)?,
        original_width: r.get(6)?,
        original_height: r.get(7)?,
        deliverable_sha256: r.get(8)?,
        deliverable_bytes: r.get(9)?,
        deliverable_quality: r.get(10)?,
        captured_at: r.get(11)?,
        rejected_at: r.get(12)?,
        purged_at: r.get(13)?,
        checks_json: r.get(14)?,
        accepted_failed: r.get(15)?,
    })
}

fn record_by_id(conn: &Connection, id: RecordId) -> Result<Record, StoreError> {
    conn.query_row(&select_records("WHERE r.id = ?1"), [id], row_to_record).optional()?.ok_or(StoreError::NotFound {
        what_zh: "记录",
        what_en: "record",
        id,
    })
}

fn session_by_id(conn: &Connection, id: SessionId) -> Result<Session, StoreError> {
    conn.query_row(
        "SELECT id, school_name, school_code, station, session_date, operator, next_seq FROM sessions WHERE id = ?1",
        [id],
        |r| {
            Ok(Session {
                id: r.get(0)?,
                info: SessionInfo {
                    school_name: r.get(1)?,
                    school_code: r.get(2)?,
                    station: r.get(3)?,
                    date: r.get(4)?,
                    operator: r.get(5)?,
                },
                next_seq: r.get(6)?,
            })
        },
    )
    .optional()?
    .ok_or(StoreError::NotFound { what_zh: "拍摄场次", what_en: "session", id })
}

/// The record the next take binds to: this session's pending explicit
/// re-shoot first, otherwise the lowest waiting sequence number of the session.
fn queue_head(conn: &Connection, session: SessionId) -> Result<Option<Record>, StoreError> {
    if let Some(r) =
        conn.query_row(&select_records("WHERE r.reshoot_session_id = ?1"), [session], row_to_record).optional()?
    {
        return Ok(Some(r));
    }
    Ok(conn
        .query_row(
            &select_records("WHERE r.session_id = ?1 AND r.status = 'waiting' ORDER BY r.seq LIMIT 1"),
            [session],
            row_to_record,
        )
        .optional()?)
}

fn require_reason(reason: &str) -> Result<&str, StoreError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(StoreError::ReasonRequired);
    }
    Ok(reason)
}

impl Store {
    /// Finds or creates the session of this station and date: the one
    /// session of that day, for ever. A changed school name, school code or
    /// operator corrects it (audited as `session_corrected`); it never starts
    /// a new session, so numbering goes on and no one leaves the queue.
    pub fn open_session(&mut self, info: &SessionInfo, now: &str) -> Result<Session, StoreError> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        // A day with two sessions (earlier builds): the one with this school code, else the newest.
        let existing: Option<(SessionId, String, String, String)> = tx
            .query_row(
                "SELECT id, school_name, school_code, operator FROM sessions WHERE station = ?1 AND session_date = ?2
                 ORDER BY (school_code = ?3) DESC, id DESC LIMIT 1",
                params![info.station, info.date, info.school_code],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let id = match existing {
            Some((id, name, code, operator)) => {
                if name != info.school_name || code != info.school_code || operator != info.operator {
                    let taken: bool = tx.query_row(
                        "SELECT EXISTS (SELECT 1 FROM sessions WHERE school_code = ?1 AND station = ?2
                         AND session_date = ?3 AND id != ?4)",
                        params![info.school_code, info.station, info.date, id],
                        |r| r.get(0),
                    )?;
                    if taken {
                        return Err(StoreError::not_allowed(
                            "该机位当天已有这个院校代码的另一场次（旧版本所建），无法更正",
                            "another session of this station and day already has this school code (made by an earlier build): cannot correct",
                        ));
                    }
                    tx.execute(
                        "UPDATE sessions SET school_name = ?1, school_code = ?2, operator = ?3 WHERE id = ?4",
                        params![info.school_name, info.school_code, info.operator, id],
                    )?;
                    audit::append(
                        &tx,
                        now,
                        AuditRefs { session_id: Some(id), ..Default::default() },
                        "session_corrected",
                        &json!({
                            "before": {"school_name": name, "school_code": code, "operator": operator},
                            "after": {"school_name": info.school_name, "school_code": info.school_code, "operator": info.operator},
                        }),
                    )?;
                }
                id
            }
            None => {
                tx.execute(
                    "INSERT INTO sessions (school_name, school_code, station, session_date, operator, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![info.school_name, info.school_code, info.station, info.date, info.operator, now],
                )?;
                let id = tx.last_insert_rowid();
                audit::append(
                    &tx,
                    now,
                    AuditRefs { session_id: Some(id), ..Default::default() },
                    "session_opened",
                    &serde_json::to_value(info).unwrap_or_default(),
                )?;
                id
            }
        };
        // Never hand out a number this station already gave that day (a day
        // that an earlier build split into two sessions).
        tx.execute(
            "UPDATE sessions SET next_seq = max(next_seq, coalesce((
                 SELECT max(r.seq) + 1 FROM records r JOIN sessions s ON s.id = r.session_id
                 WHERE s.station = ?2 AND s.session_date = ?3), 1))
             WHERE id = ?1",
            params![id, info.station, info.date],
        )?;
        let session = session_by_id(&tx, id)?;
        tx.commit()?;
        Ok(session)
    }

    /// Students still waiting in other sessions (other stations or days),
    /// per session, newest first: they stay there and are shown, never lost.
    pub fn waiting_elsewhere(&self, session: SessionId) -> Result<Vec<(Session, i64)>, StoreError> {
        let rows: Vec<(SessionId, i64)> = self
            .conn()
            .prepare(
                "SELECT session_id, COUNT(*) FROM records WHERE status = 'waiting' AND session_id != ?1
                 GROUP BY session_id ORDER BY session_id DESC",
            )?
            .query_map([session], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        rows.into_iter().map(|(id, n)| Ok((self.session(id)?, n))).collect()
    }

    /// A session by id.
    pub fn session(&self, id: SessionId) -> Result<Session, StoreError> {
        session_by_id(self.conn(), id)
    }

    /// All sessions, oldest first.
    pub fn sessions(&self) -> Result<Vec<Session>, StoreError> {
        let ids: Vec<SessionId> = self
            .conn()
            .prepare("SELECT id FROM sessions ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter().map(|id| self.session(id)).collect()
    }

    /// Records a scanned code: a new sequence number, the existing one if the
    /// code is already waiting, or a refusal if the student was photographed.
    pub fn scan(
        &mut self,
        session: SessionId,
        code: &CaptureCode,
        payload: &str,
        scan_thumb_jpeg: Option<&[u8]>,
        now: &str,
    ) -> Result<ScanOutcome, StoreError> {
        if code.is_drill() && self.mode()? == super::Mode::Production {
            return Err(StoreError::DrillInProduction);
        }
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        session_by_id(&tx, session)?;
        // The same student: the same token, or the same school and student number.
        let same_student = "(r.cjm = ?1 OR (r.yxdm = ?2 AND r.xh = ?3))";
        let photographed = tx
            .query_row(
                &select_records(&format!(
                    "WHERE {same_student} AND r.status = 'photographed' ORDER BY r.id DESC LIMIT 1"
                )),
                params![code.cjm, code.yxdm, code.xh],
                row_to_record,
            )
            .optional()?;
        let refs = |r: &Record| AuditRefs { session_id: Some(session), record_id: Some(r.id), take_id: None };
        if let Some(r) = photographed {
            audit::append(
                &tx,
                now,
                refs(&r),
                "scan_refused_photographed",
                &json!({"cjm": code.cjm, "xh": code.xh, "sjc": code.sjc, "earlier_seq": r.display_seq()}),
            )?;
            tx.commit()?;
            return Ok(ScanOutcome::AlreadyPhotographed(r));
        }
        let waiting = tx
            .query_row(
                &select_records(&format!(
                    "WHERE {same_student} AND r.session_id = ?4 AND r.status = 'waiting' ORDER BY r.id DESC LIMIT 1"
                )),
                params![code.cjm, code.yxdm, code.xh, session],
                row_to_record,
            )
            .optional()?;
        if let Some(r) = waiting {
            audit::append(
                &tx,
                now,
                refs(&r),
                "rescan_waiting",
                &json!({"cjm": code.cjm, "sjc": code.sjc, "seq": r.display_seq()}),
            )?;
            tx.commit()?;
            return Ok(ScanOutcome::AlreadyWaiting(r));
        }
        // Waiting in another session (another station or day): that number
        // is closed as skipped, saying where the student went, so one student
        // never has two open numbers.
        let elsewhere: Vec<Record> = {
            let mut stmt = tx.prepare(&select_records(&format!(
                "WHERE {same_student} AND r.session_id != ?4 AND r.status = 'waiting' ORDER BY r.id"
            )))?;
            let rows = stmt.query_map(params![code.cjm, code.yxdm, code.xh, session], row_to_record)?;
            rows.collect::<Result<_, _>>()?
        };
        let seq: i64 = tx.query_row(
            "UPDATE sessions SET next_seq = next_seq + 1 WHERE id = ?1 RETURNING next_seq - 1",
            [session],
            |r| r.get(0),
        )?;
        let extra = serde_json::Value::Object(code.extra.clone()).to_string();
        tx.execute(
            "INSERT INTO records (session_id, seq, cjm, sjc, yxdm, zjhm, xh, cc, xllb, fy, xm, bh, extra_json,
                                  payload, scanned_at, scan_thumb_jpeg, scan_thumb_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                session,
                seq,
                code.cjm,
                code.sjc,
                code.yxdm,
                code.zjhm,
                code.xh,
                code.cc,
                code.xllb,
                code.fy,
                code.xm,
                code.bh,
                extra,
                payload,
                now,
                scan_thumb_jpeg,
                scan_thumb_jpeg.map(super::sha256_hex)
            ],
        )?;
        let record = record_by_id(&tx, tx.last_insert_rowid())?;
        if !elsewhere.is_empty() {
            let here = session_by_id(&tx, session)?;
            let reason = format!(
                "已在机位 {} {} 重新取号 {} / re-numbered at station {} on {} as {}",
                here.info.station,
                here.info.date,
                record.display_seq(),
                here.info.station,
                here.info.date,
                record.display_seq()
            );
            for old in &elsewhere {
                tx.execute(
                    "UPDATE records SET status = 'skipped', status_reason = ?1, status_at = ?2 WHERE id = ?3",
                    params![reason, now, old.id],
                )?;
                audit::append(
                    &tx,
                    now,
                    AuditRefs { session_id: Some(old.session_id), record_id: Some(old.id), take_id: None },
                    "skipped",
                    &json!({"reason": reason, "renumbered_as": record.display_seq(), "renumbered_record": record.id}),
                )?;
            }
        }
        audit::append(
            &tx,
            now,
            refs(&record),
            "scanned",
            &json!({"seq": record.display_seq(), "cjm": code.cjm, "xh": code.xh, "xm": code.xm, "sjc": code.sjc}),
        )?;
        tx.commit()?;
        Ok(ScanOutcome::Queued(record))
    }

    /// The student the next take binds to.
    pub fn queue_head(&self, session: SessionId) -> Result<Option<Record>, StoreError> {
        queue_head(self.conn(), session)
    }

    /// Waiting records of a session in sequence order (the head first), at most `limit`.
    pub fn waiting(&self, session: SessionId, limit: usize) -> Result<Vec<Record>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(&select_records("WHERE r.session_id = ?1 AND r.status = 'waiting' ORDER BY r.seq LIMIT ?2"))?;
        let rows = stmt.query_map(params![session, limit as i64], row_to_record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A record by id.
    pub fn record(&self, id: RecordId) -> Result<Record, StoreError> {
        record_by_id(self.conn(), id)
    }

    /// All records of a session in sequence order.
    pub fn records(&self, session: SessionId) -> Result<Vec<Record>, StoreError> {
        let mut stmt = self.conn().prepare(&select_records("WHERE r.session_id = ?1 ORDER BY r.seq"))?;
        let rows = stmt.query_map([session], row_to_record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records matching a sequence number (`153` or `2-0153`), 学号, masked
    /// name or token, newest first, at most `limit`.
    pub fn search_records(&self, query: &str, limit: usize) -> Result<Vec<Record>, StoreError> {
        let q = query.trim();
        let seq: Option<i64> = q.rsplit('-').next().and_then(|s| s.parse().ok());
        let station: Option<&str> = q.rsplit_once('-').map(|(s, _)| s);
        let mut stmt = self.conn().prepare(&select_records(
            "WHERE r.xh = ?1 OR r.cjm = ?1 OR r.xm = ?1
                OR (?2 IS NOT NULL AND r.seq = ?2 AND (?3 IS NULL OR s.station = ?3))
             ORDER BY r.id DESC LIMIT ?4",
        ))?;
        let rows = stmt.query_map(params![q, seq, station, limit as i64], row_to_record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When a session was opened (RFC 3339).
    pub fn session_opened_at(&self, session: SessionId) -> Result<String, StoreError> {
        Ok(self.conn().query_row("SELECT created_at FROM sessions WHERE id = ?1", [session], |r| r.get(0))?)
    }

    /// The scan-time thumbnail of a record, if one was taken.
    pub fn scan_thumb(&self, record: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT scan_thumb_jpeg FROM records WHERE id = ?1", [record], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// Stores a take for the queue head. `expected` is the record the caller
    /// showed the operator; if the head is no longer that record nothing is
    /// written. The take is not primary until accepted.
    pub fn add_take(
        &mut self,
        session: SessionId,
        expected: RecordId,
        images: &TakeImages,
        now: &str,
    ) -> Result<Take, StoreError> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head = queue_head(&tx, session)?;
        if head.as_ref().map(|h| h.id) != Some(expected) {
            return Err(StoreError::HeadChanged { expected, actual: head.map(|h| h.id) });
        }
        let take_no: i64 =
            tx.query_row("SELECT COALESCE(MAX(take_no), 0) + 1 FROM takes WHERE record_id = ?1", [expected], |r| {
                r.get(0)
            })?;
        let original_sha = sha256_hex(&images.original_jpeg);
        let deliverable_sha = sha256_hex(&images.deliverable_jpeg);
        tx.execute(
            "INSERT INTO takes (record_id, take_no, is_primary, original_jpeg, original_sha256, original_bytes,
                                original_width, original_height, deliverable_jpeg, deliverable_sha256,
                                deliverable_bytes, deliverable_quality, captured_at, checks_json)
             VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                expected,
                take_no,
                images.original_jpeg,
                original_sha,
                images.original_jpeg.len() as i64,
                images.original_width,
                images.original_height,
                images.deliverable_jpeg,
                deliverable_sha,
                images.deliverable_jpeg.len() as i64,
                images.deliverable_quality,
                now,
                images.checks_json
            ],
        )?;
        let take_id = tx.last_insert_rowid();
        let mut detail =
            json!({"take_no": take_no, "original_sha256": original_sha, "deliverable_sha256": deliverable_sha});
        if let Some(shot) = &images.camera_shot {
            if shot.file.sha256 != original_sha {
                return Err(StoreError::not_allowed(
                    "相机文件的校验值与原图不符",
                    "the camera file's hash is not the original's",
                ));
            }
            let file_id = super::camera_files::bind_file(&tx, session, &shot.file, take_id, now)?;
            detail["camera_file"] = json!({
                "id": file_id, "name": shot.file.name, "by_operator": shot.by_operator,
                "raw_name": shot.file.raw.as_ref().map(|r| r.name.as_str()),
            });
        }
        audit::append(
            &tx,
            now,
            AuditRefs { session_id: Some(session), record_id: Some(expected), take_id: Some(take_id) },
            "take_captured",
            &detail,
        )?;
        let take = tx.query_row(&format!("SELECT {TAKE_COLUMNS} FROM takes WHERE id = ?1"), [take_id], row_to_take)?;
        tx.commit()?;
        Ok(take)
    }

    /// Accepts a take of the queue head: it becomes the record's one primary
    /// take and the record is photographed. `flags` (e.g. failed photo checks
    /// the operator accepted anyway) are recorded in the audit row.
    pub fn accept_take(
        &mut self,
        session: SessionId,
        take_id: TakeId,
        flags: &serde_json::Value,
        now: &str,
    ) -> Result<Record, StoreError> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (record_id, rejected): (RecordId, Option<String>) = tx
            .query_row("SELECT record_id, rejected_at FROM takes WHERE id = ?1", [take_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?
            .ok_or(StoreError::NotFound { what_zh: "照片", what_en: "take", id: take_id })?;
        if rejected.is_some() {
            return Err(StoreError::not_allowed("这张照片已被驳回", "this take was rejected"));
        }
        let head = queue_head(&tx, session)?;
        if head.as_ref().map(|h| h.id) != Some(record_id) {
            return Err(StoreError::HeadChanged { expected: record_id, actual: head.map(|h| h.id) });
        }
        let was_reshoot = head.is_some_and(|h| h.reshoot_pending);
        let previous: Option<TakeId> = tx
            .query_row("SELECT id FROM takes WHERE record_id = ?1 AND is_primary = 1", [record_id], |r| r.get(0))
            .optional()?;
        tx.execute("UPDATE takes SET is_primary = 0 WHERE record_id = ?1 AND is_primary = 1", [record_id])?;
        // Failed checks accepted anyway are kept on the take itself.
        let accepted_failed = flags
            .get("accepted_failed")
            .and_then(|v| v.as_array())
            .map(|names| names.iter().filter_map(|n| n.as_str()).collect::<Vec<_>>().join(","))
            .unwrap_or_default();
        tx.execute(
            "UPDATE takes SET is_primary = 1, accepted_failed = ?2 WHERE id = ?1",
            params![take_id, accepted_failed],
        )?;
        tx.execute(
            "UPDATE records SET status = 'photographed', status_at = ?1, status_reason = '', reshoot_session_id = NULL
             WHERE id = ?2",
            params![now, record_id],
        )?;
        audit::append(
            &tx,
            now,
            AuditRefs { session_id: Some(session), record_id: Some(record_id), take_id: Some(take_id) },
            if was_reshoot { "reshoot_accepted" } else { "accepted" },
            &json!({"previous_primary_take": previous, "flags": flags}),
        )?;
        let record = record_by_id(&tx, record_id)?;
        tx.commit()?;
        Ok(record)
    }

    /// Records that the operator rejected a take (it stays stored, not primary).
    pub fn reject_take(&mut self, session: SessionId, take_id: TakeId, now: &str) -> Result<(), StoreError> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (record_id, is_primary): (RecordId, bool) = tx
            .query_row("SELECT record_id, is_primary FROM takes WHERE id = ?1", [take_id], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? == 1))
            })
            .optional()?
            .ok_or(StoreError::NotFound { what_zh: "照片", what_en: "take", id: take_id })?;
        if is_primary {
            return Err(StoreError::not_allowed("已确认的照片不能驳回", "an accepted take cannot be rejected"));
        }
        tx.execute("UPDATE takes SET rejected_at = ?1 WHERE id = ?2 AND rejected_at IS NULL", params![now, take_id])?;
        audit::append(
            &tx,
            now,
            AuditRefs { session_id: Some(session), record_id: Some(record_id), take_id: Some(take_id) },
            "take_rejected",
            &json!({}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Marks a waiting record skipped (no-show, left the queue). Needs a reason.
    pub fn skip(&mut self, record_id: RecordId, reason: &str, now: &str) -> Result<Record, StoreError> {
        let reason = require_reason(reason)?;
        self.change_status(record_id, now, "skipped", json!({"reason": reason}), |r| {
            if r.status != RecordStatus::Waiting {
                return Err(StoreError::not_allowed("只能跳过待拍的学生", "only a waiting student can be skipped"));
            }
            Ok(("UPDATE records SET status = 'skipped', status_reason = ?1, status_at = ?2 WHERE id = ?3", reason))
        })
    }

    /// Voids a record (wrong person, test scan, …). Its takes are kept. Needs a reason.
    pub fn void(&mut self, record_id: RecordId, reason: &str, now: &str) -> Result<Record, StoreError> {
        let reason = require_reason(reason)?;
        self.change_status(record_id, now, "voided", json!({"reason": reason}), |r| {
            if r.status == RecordStatus::Voided {
                return Err(StoreError::not_allowed("记录已作废", "the record is already void"));
            }
            Ok((
                "UPDATE records SET status = 'voided', status_reason = ?1, status_at = ?2, reshoot_session_id = NULL WHERE id = ?3",
                reason,
            ))
        })
    }

    /// Puts a photographed student back in front of this session's camera:
    /// the session's next take binds to this record (its current photo stays
    /// until a new one is accepted). One pending re-shoot per session.
    pub fn request_reshoot(
        &mut self,
        session: SessionId,
        record_id: RecordId,
        reason: &str,
        now: &str,
    ) -> Result<Record, StoreError> {
        let reason = require_reason(reason)?;
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        session_by_id(&tx, session)?;
        let record = record_by_id(&tx, record_id)?;
        if record.status != RecordStatus::Photographed {
            return Err(StoreError::not_allowed("只能重拍已拍的学生", "only a photographed student can be re-shot"));
        }
        if record.reshoot_pending {
            return Err(StoreError::not_allowed(
                "该学生的重拍已在进行",
                "a re-shoot of this student is already pending",
            ));
        }
        let pending: Option<i64> = tx
            .query_row("SELECT seq FROM records WHERE reshoot_session_id = ?1", [session], |r| r.get(0))
            .optional()?;
        if let Some(seq) = pending {
            return Err(StoreError::not_allowed(
                format!("序号 {seq} 的重拍尚未完成"),
                format!("the re-shoot of seq {seq} is not finished"),
            ));
        }
        tx.execute("UPDATE records SET reshoot_session_id = ?1 WHERE id = ?2", params![session, record_id])?;
        audit::append(
            &tx,
            now,
            AuditRefs { session_id: Some(session), record_id: Some(record_id), take_id: None },
            "reshoot_requested",
            &json!({"reason": reason, "seq": record.display_seq()}),
        )?;
        let after = record_by_id(&tx, record_id)?;
        tx.commit()?;
        Ok(after)
    }

    /// Abandons a pending re-shoot; the record keeps its accepted photo.
    pub fn cancel_reshoot(&mut self, record_id: RecordId, now: &str) -> Result<Record, StoreError> {
        self.change_status(record_id, now, "reshoot_cancelled", json!({}), |r| {
            if !r.reshoot_pending {
                return Err(StoreError::not_allowed("没有待完成的重拍", "no re-shoot is pending"));
            }
            Ok(("UPDATE records SET reshoot_session_id = NULL WHERE id = ?3", ""))
        })
    }

    fn change_status<'a>(
        &mut self,
        record_id: RecordId,
        now: &str,
        action: &str,
        detail: serde_json::Value,
        check: impl FnOnce(&Record) -> Result<(&'static str, &'a str), StoreError>,
    ) -> Result<Record, StoreError> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        let before = record_by_id(&tx, record_id)?;
        let (sql, reason) = check(&before)?;
        tx.execute(sql, params![reason, now, record_id])?;
        audit::append(
            &tx,
            now,
            AuditRefs { session_id: Some(before.session_id), record_id: Some(record_id), take_id: None },
            action,
            &detail,
        )?;
        let after = record_by_id(&tx, record_id)?;
        tx.commit()?;
        Ok(after)
    }

    /// Takes of a record in order.
    pub fn takes(&self, record_id: RecordId) -> Result<Vec<Take>, StoreError> {
        let mut stmt =
            self.conn().prepare(&format!("SELECT {TAKE_COLUMNS} FROM takes WHERE record_id = ?1 ORDER BY take_no"))?;
        let rows = stmt.query_map([record_id], row_to_take)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The photo checks (JSON) of the first `n` photos accepted in a
    /// session, in the order they were accepted.
    pub fn first_accepted_checks(&self, session: SessionId, n: usize) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT t.checks_json FROM takes t JOIN records r ON r.id = t.record_id
             WHERE r.session_id = ?1 AND t.is_primary = 1 AND r.status = 'photographed'
             ORDER BY r.status_at, r.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![session, n as i64], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One take by id.
    pub fn take(&self, take_id: TakeId) -> Result<Take, StoreError> {
        self.conn()
            .query_row(&format!("SELECT {TAKE_COLUMNS} FROM takes WHERE id = ?1"), [take_id], row_to_take)
            .optional()?
            .ok_or(StoreError::NotFound { what_zh: "照片", what_en: "take", id: take_id })
    }

    /// The record's primary take, if it has one.
    pub fn primary_take(&self, record_id: RecordId) -> Result<Option<Take>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {TAKE_COLUMNS} FROM takes WHERE record_id = ?1 AND is_primary = 1"),
                [record_id],
                row_to_take,
            )
            .optional()?)
    }

    /// The original and deliverable JPEG bytes of a take.
    pub fn take_images(&self, take_id: TakeId) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
        let (original, deliverable, purged_at): (Vec<u8>, Vec<u8>, Option<String>) = self
            .conn()
            .query_row("SELECT original_jpeg, deliverable_jpeg, purged_at FROM takes WHERE id = ?1", [take_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
            .ok_or(StoreError::NotFound { what_zh: "照片", what_en: "take", id: take_id })?;
        match purged_at {
            Some(at) => Err(StoreError::Purged { take: take_id, at }),
            None => Ok((original, deliverable)),
        }
    }

    /// Counts of a session's records.
    pub fn counts(&self, session: SessionId) -> Result<Counts, StoreError> {
        let mut counts = Counts::default();
        let mut stmt =
            self.conn().prepare("SELECT status, COUNT(*) FROM records WHERE session_id = ?1 GROUP BY status")?;
        let rows = stmt.query_map([session], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (status, n) = row?;
            match RecordStatus::parse(&status) {
                Some(RecordStatus::Waiting) => counts.waiting = n,
                Some(RecordStatus::Photographed) => counts.photographed = n,
                Some(RecordStatus::Skipped) => counts.skipped = n,
                Some(RecordStatus::Voided) => counts.voided = n,
                None => {}
            }
        }
        counts.reshoots = self.conn().query_row(
            "SELECT COUNT(*) FROM takes t JOIN records r ON r.id = t.record_id WHERE r.session_id = ?1 AND t.take_no > 1",
            [session],
            |r| r.get(0),
        )?;
        Ok(counts)
    }

    /// How many distinct students (学号) a session has scanned.
    pub fn distinct_students(&self, session: SessionId) -> Result<i64, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(DISTINCT yxdm || '|' || xh) FROM records WHERE session_id = ?1",
            [session],
            |r| r.get(0),
        )?)
    }
}
