//! Damage below SQLite: found before anything is written, never quietly
//! built upon.
//!
//! - Every database opened for writing is checked first: a full
//!   `integrity_check` (pages, and every index against its table — an index
//!   that disagrees once turned new students away) of every table but the
//!   image store, and the audit chain's head (the last row's hash and its
//!   link). The image store is checked by `verify` and the export, by hash.
//! - A **witness** beside the database (`NAME.witness`, a few hundred bytes,
//!   written and fsync'd after each capture-station commit) holds how many
//!   audit rows the database had and the hash of the last. A database that
//!   is *behind* its witness — a lost or truncated `-wal`, a copy without it,
//!   an old backup put in its place — is refused (and `verify` fails) before
//!   it hands out a number that was already given. After a deliberate
//!   restore, `gradcap accept-restore` records the loss in the audit log and
//!   moves the witness to the database as it is.

use std::path::{Path, PathBuf};

use rusqlite::OptionalExtension;

use super::{Store, StoreError};

/// What the witness holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Witness {
    /// Audit rows the database had after the last commit.
    pub audit_rows: i64,
    /// The hash of the last of them.
    pub audit_head: String,
    /// The highest number handed out per session id at that moment.
    #[serde(default)]
    pub next_seq: std::collections::BTreeMap<String, i64>,
}

/// The witness file of a database.
pub fn witness_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".witness");
    db.with_file_name(name)
}

impl Store {
    /// The checks before writing: pages, the queue's tables and indexes,
    /// the audit head, and the witness. Refuses a damaged database with
    /// what to do.
    pub fn check_before_writing(&self) -> Result<(), StoreError> {
        self.check_damage()?;
        self.check_witness()
    }

    /// Every table but the image store, in full (pages, indexes against
    /// their tables), and the audit head. The takes table holds the image
    /// bytes — gigabytes by the end of a day — and is left to `verify` and
    /// the export's read-back, which hash every image: checking its pages at
    /// every start would cost seconds (a full `quick_check` of a 1.4 GB day
    /// took 0.6 s of a 0.7 s start).
    pub(crate) fn check_damage(&self) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut problems: Vec<String> = Vec::new();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for table in tables.iter().filter(|t| t.as_str() != "takes") {
            let mut stmt = conn.prepare(&format!("PRAGMA integrity_check(\"{table}\")"))?;
            let lines: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            if lines != ["ok"] {
                problems.extend(lines.into_iter().take(3));
            }
        }
        if problems.is_empty() && tables.iter().any(|t| t == "audit") {
            if let Some(problem) = self.audit_head_problem()? {
                problems.push(problem);
            }
        }
        if !problems.is_empty() {
            return Err(StoreError::Damaged { detail: problems.join("; ") });
        }
        Ok(())
    }

    /// The image store's pages (`PRAGMA quick_check(takes)`): seconds on a
    /// big day, so the station runs it on a worker after opening and the
    /// writing commands before they write.
    pub fn check_image_store(&self) -> Result<(), StoreError> {
        let exists: bool = self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'takes')",
            [],
            |r| r.get(0),
        )?;
        if !exists {
            return Ok(());
        }
        let mut stmt = self.conn().prepare("PRAGMA quick_check(takes)")?;
        let lines: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        if lines != ["ok"] {
            return Err(StoreError::Damaged { detail: lines.into_iter().take(3).collect::<Vec<_>>().join("; ") });
        }
        Ok(())
    }

    /// The last audit row's hash must be its own and follow the row before.
    fn audit_head_problem(&self) -> Result<Option<String>, StoreError> {
        let mut stmt = self.conn().prepare(&format!("{} ORDER BY id DESC LIMIT 2", super::audit::SELECT))?;
        let rows: Vec<super::AuditEntry> = stmt.query_map([], super::audit::row_to_entry)?.collect::<Result<_, _>>()?;
        let Some(last) = rows.first() else { return Ok(None) };
        if last.expected_hash() != last.hash {
            return Ok(Some(format!("audit row {}: its hash does not match its content", last.id)));
        }
        let link = rows.get(1).map_or(super::GENESIS_HASH, |p| p.hash.as_str());
        if last.prev_hash != link {
            return Ok(Some(format!("audit row {}: it does not follow the row before", last.id)));
        }
        Ok(None)
    }

    /// The witness as the database stands now.
    pub fn current_witness(&self) -> Result<Witness, StoreError> {
        // One statement, so one snapshot: another connection (an export, a
        // purge) committing between a count and a head would make a witness
        // that no database ever matched.
        let (audit_rows, audit_head, sessions): (i64, Option<String>, Option<String>) = self.conn().query_row(
            // The audit log is append-only with ids from 1: its last id is
            // its row count, read from the index instead of a full count on
            // every commit.
            "SELECT (SELECT coalesce(max(id), 0) FROM audit),
                    (SELECT hash FROM audit ORDER BY id DESC LIMIT 1),
                    (SELECT group_concat(id || ':' || next_seq) FROM sessions)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let next_seq = sessions
            .unwrap_or_default()
            .split(',')
            .filter_map(|p| p.split_once(':'))
            .filter_map(|(id, next)| Some((id.to_string(), next.parse().ok()?)))
            .collect();
        Ok(Witness { audit_rows, audit_head: audit_head.unwrap_or_else(|| super::GENESIS_HASH.to_string()), next_seq })
    }

    /// Writes the witness (after a commit): a temporary file, fsync'd, renamed
    /// over the old one, the folder fsync'd. In-memory databases have none.
    pub fn write_witness(&self) -> Result<(), StoreError> {
        let Some(db) = self.path() else { return Ok(()) };
        let witness = self.current_witness()?;
        let path = witness_path(db);
        let bytes = serde_json::to_vec(&witness).map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
        crate::paths::write_atomic(&path, &bytes)?;
        Ok(())
    }

    /// The witness beside this database, if there is one.
    pub fn read_witness(&self) -> Result<Option<Witness>, StoreError> {
        let Some(db) = self.path() else { return Ok(None) };
        match std::fs::read(witness_path(db)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|_| StoreError::Damaged {
                detail: format!("{} is not a witness file", witness_path(db).display()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Why the database is behind its witness, if it is: fewer audit rows
    /// than the witness saw, or another chain at the witness's row.
    pub fn behind_witness(&self) -> Result<Option<String>, StoreError> {
        let Some(w) = self.read_witness()? else { return Ok(None) };
        let has_audit: bool = self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'audit')",
            [],
            |r| r.get(0),
        )?;
        if !has_audit {
            return Ok((w.audit_rows > 0)
                .then(|| format!("the database is empty, its witness saw {} audit rows", w.audit_rows)));
        }
        let now = self.current_witness()?;
        if now.audit_rows < w.audit_rows {
            let lost_numbers: Vec<String> = w
                .next_seq
                .iter()
                .filter_map(|(sid, next)| {
                    let have = now.next_seq.get(sid).copied().unwrap_or(1);
                    (have < *next).then(|| format!("session {sid}: numbers {have}–{} were handed out", next - 1))
                })
                .collect();
            return Ok(Some(format!(
                "the database has {} audit rows, its witness saw {}{}",
                now.audit_rows,
                w.audit_rows,
                if lost_numbers.is_empty() { String::new() } else { format!(" ({})", lost_numbers.join("; ")) }
            )));
        }
        if w.audit_rows > 0 {
            let at: Option<String> = self
                .conn()
                .query_row("SELECT hash FROM audit WHERE id = ?1", [w.audit_rows], |r| r.get(0))
                .optional()?;
            if at.as_deref() != Some(w.audit_head.as_str()) {
                return Ok(Some(format!("audit row {} is not the one its witness saw", w.audit_rows)));
            }
        }
        Ok(None)
    }

    fn check_witness(&self) -> Result<(), StoreError> {
        match self.behind_witness()? {
            Some(detail) => Err(StoreError::BehindWitness { detail }),
            None => Ok(()),
        }
    }

    /// After a deliberate restore from a backup: records in the audit log
    /// what the witness had seen that the database no longer has, then moves
    /// the witness to the database as it is. Returns what was lost.
    pub fn accept_restore(&mut self, now: &str) -> Result<Option<String>, StoreError> {
        let lost = self.behind_witness()?;
        if let Some(detail) = &lost {
            let tx = self.conn_mut().transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            super::audit::append(
                &tx,
                now,
                super::audit::AuditRefs::default(),
                "restore_accepted",
                &serde_json::json!({ "lost": detail }),
            )?;
            tx.commit()?;
        }
        self.write_witness()?;
        Ok(lost)
    }
}
