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
                 WHERE r.status = 'photographed'
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

    /// Batches exported so far: (batch, target, time, records).
    pub fn export_history(&self) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        let mut stmt = self.conn().prepare("SELECT batch, target, exported_at, records FROM exports ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
