//! Purge after handover (交接后删除): the one way the station deletes image
//! data, shared by the CLI's `purge` and the GUI's purge button — open the
//! store, delete the images of verified-exported records shot before a day,
//! VACUUM, verify. The PIN check and the confirmation stay with the caller.

use std::path::Path;

use crate::store::{self, Store, StoreError};

/// Errors of a purge.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error("数据库不存在 / no database at {0}")]
    NoDatabase(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The purge is done, but the database no longer verifies.
    #[error("删除后校验未通过：{} 项 / verify failed after the purge: {} findings", .findings.len(), .findings.len())]
    Verify { done: Box<PurgeDone>, findings: Vec<store::Finding> },
}

impl crate::text::Bilingual for PurgeError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::NoDatabase(path) => Text::new("数据库不存在", format!("no database at {path}")),
            Self::Store(e) => e.text(),
            Self::Verify { findings, .. } => Text::new(
                format!("删除后校验未通过：{} 项", findings.len()),
                format!("verify failed after the purge: {} findings", findings.len()),
            ),
        }
    }
}

/// A finished purge.
#[derive(Debug, Clone)]
pub struct PurgeDone {
    /// What was deleted.
    pub plan: store::PurgePlan,
    /// VACUUM gave the space back (its failure is not fatal: the data is gone).
    pub vacuumed: bool,
    /// Why VACUUM did not finish, when it did not.
    pub vacuum_error: Option<String>,
    /// The database file's size before and after.
    pub db_bytes_before: u64,
    pub db_bytes_after: u64,
}

/// What a purge before `before` would delete, read from the database at `db`.
pub fn purge_preview(db: &Path, before: &str) -> Result<store::PurgePlan, PurgeError> {
    if !db.exists() {
        return Err(PurgeError::NoDatabase(db.display().to_string()));
    }
    Ok(Store::open_read_only(db)?.purge_candidates(before)?)
}

/// Deletes the image data of verified-exported records shot before `before`
/// (`YYYY-MM-DD`) from the database at `db` on its own connection, VACUUMs
/// and verifies. `now` is the audit row's time.
pub fn purge_handed_over(db: &Path, before: &str, now: &str) -> Result<PurgeDone, PurgeError> {
    if !db.exists() {
        return Err(PurgeError::NoDatabase(db.display().to_string()));
    }
    let db_bytes_before = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    let mut store = Store::open(db)?;
    let plan = store.purge(before, now)?;
    let vacuum_error = store.vacuum().err().map(|e| e.to_string());
    let db_bytes_after = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    let report = store.verify()?;
    let done = PurgeDone { plan, vacuumed: vacuum_error.is_none(), vacuum_error, db_bytes_before, db_bytes_after };
    if !report.ok() {
        return Err(PurgeError::Verify { done: Box::new(done), findings: report.findings });
    }
    Ok(done)
}

/// What `gradcap purge` says it is about to delete.
pub fn plan_line(plan: &store::PurgePlan) -> String {
    let mb = plan.bytes as f64 / 1e6;
    format!(
        "将删除 {} 名已导出并校验学生（{} 之前拍摄）的 {} 张照片图像，共 {mb:.1} MB；记录、校验值和操作日志保留 / \
         deletes the images of {} takes of {} verified-exported students shot before {} ({mb:.1} MB); records, checksums \
         and the audit log stay",
        plan.records, plan.before, plan.takes, plan.takes, plan.records, plan.before
    )
}

/// The line `gradcap purge` prints when the images are deleted.
impl std::fmt::Display for PurgeDone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "已删除 / purged: {} takes of {} students; database {:.1} MB → {:.1} MB",
            self.plan.takes,
            self.plan.records,
            self.db_bytes_before as f64 / 1e6,
            self.db_bytes_after as f64 / 1e6
        )
    }
}
