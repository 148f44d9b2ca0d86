//! The append-only audit log. Each row carries the SHA-256 of the row before
//! it, so a removed, altered or reordered row breaks the chain and `verify`
//! names where. Rows are written only inside the transaction of the change
//! they describe.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::types::sha256_hex;
use super::{RecordId, SessionId, Store, StoreError, TakeId};

/// `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub session_id: Option<SessionId>,
    pub record_id: Option<RecordId>,
    pub take_id: Option<TakeId>,
    pub action: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The hash this row must carry, computed from its content and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        chain_hash(&self.prev_hash, &self.at, self.session_id, self.record_id, self.take_id, &self.action, &self.detail)
    }
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn chain_hash(
    prev: &str,
    at: &str,
    session_id: Option<i64>,
    record_id: Option<i64>,
    take_id: Option<i64>,
    action: &str,
    detail: &str,
) -> String {
    let text = format!("{prev}\n{at}\n{}\n{}\n{}\n{action}\n{detail}", opt(session_id), opt(record_id), opt(take_id));
    sha256_hex(text.as_bytes())
}

/// The ids an audit row refers to.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AuditRefs {
    pub session_id: Option<SessionId>,
    pub record_id: Option<RecordId>,
    pub take_id: Option<TakeId>,
}

/// Appends a row; call inside the transaction of the change it records.
pub(crate) fn append(
    conn: &Connection,
    at: &str,
    refs: AuditRefs,
    action: &str,
    detail: &Value,
) -> Result<(), StoreError> {
    let prev: String = conn
        .query_row("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| GENESIS_HASH.to_string());
    let detail = detail.to_string();
    let hash = chain_hash(&prev, at, refs.session_id, refs.record_id, refs.take_id, action, &detail);
    conn.execute(
        "INSERT INTO audit (at, session_id, record_id, take_id, action, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![at, refs.session_id, refs.record_id, refs.take_id, action, detail, prev, hash],
    )?;
    Ok(())
}

pub(crate) fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        session_id: r.get(2)?,
        record_id: r.get(3)?,
        take_id: r.get(4)?,
        action: r.get(5)?,
        detail: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
    })
}

pub(crate) const SELECT: &str =
    "SELECT id, at, session_id, record_id, take_id, action, detail, prev_hash, hash FROM audit";

impl Store {
    /// The whole audit log in order.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn().prepare(&format!("{SELECT} ORDER BY id"))?;
        let rows = stmt.query_map([], row_to_entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The audit trail of one record, in order.
    pub fn audit_for_record(&self, record_id: RecordId) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn().prepare(&format!("{SELECT} WHERE record_id = ?1 ORDER BY id"))?;
        let rows = stmt.query_map([record_id], row_to_entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
