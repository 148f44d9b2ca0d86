//! What has been exported: the photographed records an export takes, and the
//! record of a verified export, written in one transaction only after every
//! file was written, synced and read back.

use rusqlite::{params, TransactionBehavior};
use serde_json::json;

use super::audit::{self, AuditRefs};
use super::{Record, RecordId, Store, StoreError, Take, TakeId};

/// A photographed record and its primary take, ready to export.
#[derive(Debug, Clone)]
pub struct ExportItem {
    pub record: Record,
    pub take: Take,
}

/// Takes a purge may empty: not yet purged, of a photographed record whose
/// primary take went out in a verified export, from a session before ?1.
const PURGEABLE_TAKES: &str = "SELECT t2.id FROM takes t2
    JOIN records r ON r.id = t2.record_id
    JOIN sessions s ON s.id = r.session_id
    WHERE t2.purged_at IS NULL AND r.status = 'photographed' AND s.session_date < ?1
      AND EXISTS (SELECT 1 FROM takes p JOIN exported e ON e.take_id = p.id
                  WHERE p.record_id = r.id AND p.is_primary = 1)";

/// What a purge deletes (or deleted).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PurgePlan {
    pub before: String,
    pub records: i64,
    pub takes: i64,
    /// Image bytes freed.
    pub bytes: i64,
}

/// One line of a finished export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRecord {
    pub record_id: RecordId,
    pub take_id: TakeId,
    pub photo_file: String,
}

impl Store {
    /// Photographed records to export: all (`full`), or those whose primary
    /// take has not gone out in a verified export yet.
    pub fn export_items(&self, full: bool) -> Result<Vec<ExportItem>, StoreError> {
        let ids: Vec<RecordId> = self
            .conn()
            .prepare(
                "SELECT r.id FROM records r JOIN takes t ON t.record_id = r.id AND t.is_primary = 1
                 WHERE r.status = 'photographed' AND t.purged_at IS NULL
                   AND (?1 OR NOT EXISTS (SELECT 1 FROM exported e WHERE e.take_id = t.id))
                 ORDER BY r.session_id, r.seq",
            )?
            .query_map([full], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            let record = self.record(id)?;
            let take = self.primary_take(id)?.ok_or(StoreError::NotFound {
                what_zh: "主照片",
                what_en: "primary take",
                id,
            })?;
            items.push(ExportItem { record, take });
        }
        Ok(items)
    }

    /// The number the next export batch gets (1, 2, …).
    pub fn next_export_number(&self) -> Result<i64, StoreError> {
        Ok(self.conn().query_row("SELECT COUNT(*) + 1 FROM exports", [], |r| r.get(0))?)
    }

    /// Whether a batch of that name was recorded.
    pub fn export_batch_exists(&self, batch: &str) -> Result<bool, StoreError> {
        Ok(self.conn().query_row("SELECT EXISTS (SELECT 1 FROM exports WHERE batch = ?1)", [batch], |r| r.get(0))?)
    }

    /// The file name each record last went out with in a verified export,
    /// and every name any record ever went out with.
    #[allow(clippy::type_complexity)]
    pub fn exported_photo_files(
        &self,
    ) -> Result<(std::collections::HashMap<RecordId, String>, Vec<String>), StoreError> {
        let rows = self
            .conn()
            .prepare(
                "SELECT e.record_id, e.photo_file FROM exported e JOIN exports x ON x.batch = e.batch
                 ORDER BY x.id",
            )?
            .query_map([], |r| Ok((r.get::<_, RecordId>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let every: Vec<String> = rows.iter().map(|(_, name)| name.clone()).collect();
        // Later exports overwrite earlier ones: the last name wins.
        Ok((rows.into_iter().collect(), every))
    }

    /// Marks a verified export: one transaction, with its audit row.
    pub fn record_export(
        &mut self,
        batch: &str,
        target: &str,
        full: bool,
        lines: &[ExportRecord],
        now: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO exports (batch, target, exported_at, records, full) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![batch, target, now, lines.len() as i64, full],
        )?;
        for l in lines {
            tx.execute(
                "INSERT INTO exported (record_id, take_id, batch, photo_file) VALUES (?1, ?2, ?3, ?4)",
                params![l.record_id, l.take_id, batch, l.photo_file],
            )?;
        }
        audit::append(
            &tx,
            now,
            AuditRefs::default(),
            "exported",
            &json!({"batch": batch, "target": target, "records": lines.len(), "full": full}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// What a purge before `before` (a `YYYY-MM-DD` shooting day) would
    /// delete: takes of photographed records whose current photo went out
    /// in a verified export, from sessions before that day.
    pub fn purge_candidates(&self, before: &str) -> Result<PurgePlan, StoreError> {
        let (records, takes, bytes): (i64, i64, i64) = self.conn().query_row(
            &format!(
                "SELECT COUNT(DISTINCT t.record_id), COUNT(*),
                        COALESCE(SUM(length(t.original_jpeg) + length(t.deliverable_jpeg)), 0)
                 FROM takes t WHERE t.id IN ({PURGEABLE_TAKES})"
            ),
            [before],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(PurgePlan { before: before.to_string(), records, takes, bytes })
    }

    /// Deletes the image data (and scan pictures) of verified-exported
    /// records shot before `before`, in one transaction with its audit row.
    /// Records, hashes and the audit log stay; `verify` still passes. Run
    /// [`Store::vacuum`] afterwards to give the space back.
    pub fn purge(&mut self, before: &str, now: &str) -> Result<PurgePlan, StoreError> {
        if chrono::NaiveDate::parse_from_str(before, "%Y-%m-%d").is_err() {
            return Err(StoreError::not_allowed("日期格式应为 YYYY-MM-DD", "the date must be YYYY-MM-DD"));
        }
        let plan = self.purge_candidates(before)?;
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids: Vec<TakeId> = tx
            .prepare(&format!("SELECT id FROM takes WHERE id IN ({PURGEABLE_TAKES}) ORDER BY id"))?
            .query_map([before], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in &ids {
            tx.execute(
                "UPDATE takes SET original_jpeg = X'', deliverable_jpeg = X'', purged_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
            tx.execute(
                "UPDATE records SET scan_thumb_jpeg = NULL WHERE id = (SELECT record_id FROM takes WHERE id = ?1)",
                [id],
            )?;
        }
        audit::append(
            &tx,
            now,
            AuditRefs::default(),
            "purged",
            &json!({"before": before, "records": plan.records, "takes": ids.len(), "bytes": plan.bytes}),
        )?;
        tx.commit()?;
        Ok(PurgePlan { takes: ids.len() as i64, ..plan })
    }

    /// Gives the space of deleted data back to the disk (SQLite VACUUM).
    pub fn vacuum(&self) -> Result<(), StoreError> {
        self.conn().execute_batch("VACUUM")?;
        // In WAL mode the file shrinks only once the log is written back.
        self.conn().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Batches exported so far: (batch, target, time, records).
    pub fn export_history(&self) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        let mut stmt = self.conn().prepare("SELECT batch, target, exported_at, records FROM exports ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
