//! What the station's screens read: the queue, a record with its takes and
//! history, the export history. The window reads through these and never
//! through the store, so every read a view depends on is a station call a
//! test can make.

use super::{Station, StationError};
use crate::store::{AuditEntry, Counts, Record, RecordId, Session, Take, TakeId};

/// The queue as the operator view shows it.
#[derive(Debug, Clone, Default)]
pub struct QueueView {
    pub session: Option<Session>,
    /// The student the next take binds to.
    pub head: Option<Record>,
    pub waiting: Vec<Record>,
    pub counts: Counts,
    /// Students still waiting in other sessions (another station or day).
    pub waiting_elsewhere: Vec<(Session, i64)>,
}

/// One record opened in the records view.
#[derive(Debug, Clone)]
pub struct RecordDetail {
    pub record: Record,
    pub takes: Vec<Take>,
    pub audit: Vec<AuditEntry>,
}

/// One finished export: when, where, what, how many.
pub type ExportHistoryRow = (String, String, String, i64);

impl Station {
    /// The session, the queue head, the first `limit` waiting, the counts.
    pub fn queue_view(&self, limit: usize) -> Result<QueueView, StationError> {
        let session = self.session.clone();
        Ok(QueueView {
            head: self.head()?,
            waiting: self.store.waiting(session.id, limit)?,
            counts: self.store.counts(session.id)?,
            waiting_elsewhere: self.store.waiting_elsewhere(session.id)?,
            session: Some(session),
        })
    }

    pub fn record_detail(&self, record: RecordId) -> Result<RecordDetail, StationError> {
        Ok(RecordDetail {
            record: self.store.record(record)?,
            takes: self.store.takes(record)?,
            audit: self.store.audit_for_record(record)?,
        })
    }

    /// The deliverable JPEG of a take.
    pub fn deliverable(&self, take: TakeId) -> Result<Vec<u8>, StationError> {
        Ok(self.store.take_images(take)?.1)
    }

    /// The face thumbnail kept with a record's scan.
    pub fn scan_thumb(&self, record: RecordId) -> Result<Option<Vec<u8>>, StationError> {
        Ok(self.store.scan_thumb(record)?)
    }

    /// Records by number, student number or masked name.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Record>, StationError> {
        Ok(self.store.search_records(query, limit)?)
    }

    pub fn export_history(&self) -> Result<Vec<ExportHistoryRow>, StationError> {
        Ok(self.store.export_history()?)
    }

    /// What a purge of images shot before `before` would delete.
    pub fn purge_plan(&self, before: &str) -> Result<crate::store::PurgePlan, StationError> {
        Ok(self.store.purge_candidates(before)?)
    }

    /// An operator PIN is set.
    pub fn has_pin(&self) -> Result<bool, StationError> {
        Ok(self.store.has_pin()?)
    }

    /// The database file (None in memory).
    pub fn db_path(&self) -> Option<&std::path::Path> {
        self.store.path()
    }
}
