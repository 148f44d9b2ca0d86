//! The station's SQLite database: schema, migrations and the capture queue.
//! This is the only module that writes SQL.
//!
//! One file per station. WAL journal with `synchronous=FULL`, so a committed
//! capture survives a power cut. Every state change runs in one `IMMEDIATE`
//! transaction together with its audit row, so a take never exists without
//! its record, a sequence number is never handed out twice, and a crash at
//! any moment leaves either the whole change or none of it.

mod audit;
pub mod camera_files;
mod exports;
pub mod health;
mod pin;
mod queue;
mod roster;
pub mod schema;
mod types;
pub mod verify;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use audit::{AuditEntry, GENESIS_HASH};
pub use camera_files::{CameraFile, CameraFileId, CameraFileRow, CameraFileStatus, CameraShot, RawFile};
pub use exports::{ExportItem, ExportRecord, PurgePlan};
pub use queue::ScanOutcome;
pub use roster::{standing_text, ClassReport, ImportSummary, RegisterLine, Report, RosterStudent, Unmatched};
pub use types::{
    digest_hex, display_seq, sha256_hex, Counts, Record, RecordStatus, RosterEntry, ScheduleRow, Session, SessionInfo,
    Take, TakeImages,
};
pub use verify::{Finding, VerifyReport};

/// Row id of a capture session.
pub type SessionId = i64;
/// Row id of a record.
pub type RecordId = i64;
/// Row id of a take.
pub type TakeId = i64;

/// Everything that can go wrong in the store, phrased for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("磁盘已满，本次操作未保存，已有数据完好；请腾出空间后重试 / disk full: nothing of this step was saved, earlier data is intact; free space and retry")]
    DiskFull,
    #[error("数据库只读，无法保存；请检查存储位置的写权限 / the database is read-only: nothing can be saved; check write access to its folder")]
    ReadOnly,
    #[error("数据库被其他程序占用 / the database is locked by another program")]
    Busy,
    #[error("数据库文件损坏：{0}。未写入任何内容；请恢复最近的备份，详情请运行 gradcap verify / the database file is damaged: {0}. Nothing was written; restore the latest backup; run gradcap verify for details")]
    Corrupt(String),
    #[error("无法打开数据库 {path}：{reason} / cannot open the database {path}: {reason}")]
    CannotOpen { path: String, reason: String },
    #[error("数据库版本 {found} 比本程序（{supported}）新，请升级 gradcap / database schema {found} is newer than this build ({supported}): update gradcap")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("队首已变化（应为记录 {expected}，实为 {actual:?}），照片未绑定 / the queue head changed (expected record {expected}, found {actual:?}): the photo was not bound")]
    HeadChanged { expected: RecordId, actual: Option<RecordId> },
    #[error("队列中没有等待拍摄的学生 / no student is waiting in the queue")]
    QueueEmpty,
    #[error("找不到{what_zh} {id} / no such {what_en} {id}")]
    NotFound { what_zh: &'static str, what_en: &'static str, id: i64 },
    #[error("需要填写原因 / a reason is required")]
    ReasonRequired,
    #[error("不允许的操作：{zh} / not allowed: {en}")]
    NotAllowed { zh: String, en: String },
    #[error("照片 {take} 已于 {at} 交接后删除（记录与校验值保留）/ the images of take {take} were deleted after handover on {at} (record and checksums kept)")]
    Purged { take: TakeId, at: String },
    #[error("数据库错误：{0} / database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("文件错误：{0} / file error: {0}")]
    Io(#[from] std::io::Error),
    #[error("数据库已损坏，未写入任何内容：{detail}。请恢复最近的备份；详情请运行 gradcap verify / the database is damaged, nothing was written: {detail}. Restore the latest backup; run gradcap verify for details")]
    Damaged { detail: String },
    #[error("数据库比它的见证文件旧（已提交的拍摄记录丢失，例如 -wal 文件丢失或放回了旧备份），未写入任何内容：{detail}。请恢复包含这些记录的备份；若确认使用此数据库，运行 gradcap accept-restore / the database is behind its witness (committed captures are missing: a lost -wal file, an old backup put in place), nothing was written: {detail}. Restore a backup that has them; to go on with this database as it is, run gradcap accept-restore")]
    BehindWitness { detail: String },
    #[error("尚未设置操作员 PIN，请先在设置中设置 / no operator PIN is set: set one in settings first")]
    NoPin,
    #[error(
        "PIN 错误，未执行；下次尝试须等待 {wait_s} 秒 / wrong PIN: nothing was done; the next try must wait {wait_s} s"
    )]
    WrongPin { wait_s: i64 },
    #[error("PIN 错误次数过多，请 {wait_s} 秒后再试 / too many wrong PINs: try again in {wait_s} s")]
    PinWait { wait_s: i64 },
    #[error("PIN 须为 4–8 位数字 / the PIN must be 4 to 8 digits")]
    PinFormat,
    #[error("更改 PIN 需要先输入原 PIN / changing the PIN needs the current one")]
    OldPinNeeded,
    #[error("这是正式采集数据库，不接受演练码（DRILL…）；练习请进入练习模式 / this is a production database: it does not take drill codes (DRILL…); use training mode to practise")]
    DrillInProduction,
    #[error("这是练习数据库，不能作为正式采集数据库打开；请以练习模式启动（--training）或选择机位的正式数据库 / this is a training database: it cannot be opened as the station's real database; start in training mode (--training) or choose the station's database")]
    TrainingDatabase,
    #[error("此数据库已有正式采集记录，不能用于练习；练习使用单独的练习数据库 / this database holds real captures and cannot be used for training: training uses a database of its own")]
    NotATrainingDatabase,
    #[error("相机文件已处理过（{status}），不会再次绑定 / this camera file was handled before ({status}): it is never bound again")]
    CameraFileKnown { id: i64, status: String },
}

impl crate::text::Bilingual for StoreError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::DiskFull => Text::new("磁盘已满，本次操作未保存，已有数据完好；请腾出空间后重试", "disk full: nothing of this step was saved, earlier data is intact; free space and retry"),
            Self::ReadOnly => Text::new("数据库只读，无法保存；请检查存储位置的写权限", "the database is read-only: nothing can be saved; check write access to its folder"),
            Self::Busy => Text::new("数据库被其他程序占用", "the database is locked by another program"),
            Self::Corrupt(f0) => Text::new(format!("数据库文件损坏：{f0}。未写入任何内容；请恢复最近的备份，详情请运行 gradcap verify"), format!("the database file is damaged: {f0}. Nothing was written; restore the latest backup; run gradcap verify for details")),
            Self::CannotOpen { path, reason } => Text::new(format!("无法打开数据库 {path}：{reason}"), format!("cannot open the database {path}: {reason}")),
            Self::SchemaTooNew { found, supported } => Text::new(format!("数据库版本 {found} 比本程序（{supported}）新，请升级 gradcap"), format!("database schema {found} is newer than this build ({supported}): update gradcap")),
            Self::HeadChanged { expected, actual } => Text::new(format!("队首已变化（应为记录 {expected}，实为 {actual:?}），照片未绑定"), format!("the queue head changed (expected record {expected}, found {actual:?}): the photo was not bound")),
            Self::QueueEmpty => Text::new("队列中没有等待拍摄的学生", "no student is waiting in the queue"),
            Self::NotFound { what_zh, what_en, id } => Text::new(format!("找不到{what_zh} {id}"), format!("no such {what_en} {id}")),
            Self::ReasonRequired => Text::new("需要填写原因", "a reason is required"),
            Self::NotAllowed { zh, en } => Text::new(format!("不允许的操作：{zh}"), format!("not allowed: {en}")),
            Self::Purged { take, at } => Text::new(format!("照片 {take} 已于 {at} 交接后删除（记录与校验值保留）"), format!("the images of take {take} were deleted after handover on {at} (record and checksums kept)")),
            Self::Sqlite(f0) => Text::new(format!("数据库错误：{f0}"), format!("database error: {f0}")),
            Self::Io(f0) => Text::new(format!("文件错误：{f0}"), format!("file error: {f0}")),
            Self::Damaged { detail } => Text::new(format!("数据库已损坏，未写入任何内容：{detail}。请恢复最近的备份；详情请运行 gradcap verify"), format!("the database is damaged, nothing was written: {detail}. Restore the latest backup; run gradcap verify for details")),
            Self::BehindWitness { detail } => Text::new(format!("数据库比它的见证文件旧（已提交的拍摄记录丢失，例如 -wal 文件丢失或放回了旧备份），未写入任何内容：{detail}。请恢复包含这些记录的备份；若确认使用此数据库，运行 gradcap accept-restore"), format!("the database is behind its witness (committed captures are missing: a lost -wal file, an old backup put in place), nothing was written: {detail}. Restore a backup that has them; to go on with this database as it is, run gradcap accept-restore")),
            Self::NoPin => Text::new("尚未设置操作员 PIN，请先在设置中设置", "no operator PIN is set: set one in settings first"),
            Self::WrongPin { wait_s } => Text::new(format!("PIN 错误，未执行；下次尝试须等待 {wait_s} 秒"), format!("wrong PIN: nothing was done; the next try must wait {wait_s} s")),
            Self::PinWait { wait_s } => Text::new(format!("PIN 错误次数过多，请 {wait_s} 秒后再试"), format!("too many wrong PINs: try again in {wait_s} s")),
            Self::PinFormat => Text::new("PIN 须为 4–8 位数字", "the PIN must be 4 to 8 digits"),
            Self::OldPinNeeded => Text::new("更改 PIN 需要先输入原 PIN", "changing the PIN needs the current one"),
            Self::DrillInProduction => Text::new("这是正式采集数据库，不接受演练码（DRILL…）；练习请进入练习模式", "this is a production database: it does not take drill codes (DRILL…); use training mode to practise"),
            Self::TrainingDatabase => Text::new("这是练习数据库，不能作为正式采集数据库打开；请以练习模式启动（--training）或选择机位的正式数据库", "this is a training database: it cannot be opened as the station's real database; start in training mode (--training) or choose the station's database"),
            Self::NotATrainingDatabase => Text::new("此数据库已有正式采集记录，不能用于练习；练习使用单独的练习数据库", "this database holds real captures and cannot be used for training: training uses a database of its own"),
            Self::CameraFileKnown { status, .. } => Text::new(format!("相机文件已处理过（{status}），不会再次绑定"), format!("this camera file was handled before ({status}): it is never bound again")),
        }
    }
}

/// What a database holds, fixed when it is made: a real capture day, or
/// training (drill codes, the demo camera). The two never share a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Production,
    Training,
}

impl StoreError {
    pub(crate) fn not_allowed(zh: impl Into<String>, en: impl Into<String>) -> Self {
        StoreError::NotAllowed { zh: zh.into(), en: en.into() }
    }

    /// True for faults of the medium (full, read-only, locked) that may clear
    /// by themselves; the station keeps running and the operator retries.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::DiskFull | StoreError::ReadOnly | StoreError::Busy | StoreError::Io(_))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(ffi, ref msg) = e {
            match ffi.code {
                ErrorCode::DiskFull => return StoreError::DiskFull,
                ErrorCode::ReadOnly => return StoreError::ReadOnly,
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => return StoreError::Busy,
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    return StoreError::Corrupt(msg.clone().unwrap_or_else(|| ffi.to_string()))
                }
                _ => {}
            }
        }
        StoreError::Sqlite(e)
    }
}

/// The station database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(path).map_err(|e| open_error(path, e))?;
        let mut store = Store { conn, path: Some(path.to_path_buf()) };
        store.configure()?;
        // Nothing is written to a damaged database, not even a migration.
        store.check_before_writing()?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens a database restored from a backup that is behind its witness,
    /// to accept it as it is (`gradcap accept-restore`); damage is still refused.
    pub fn open_for_accepting_restore(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(|e| open_error(path, e))?;
        let mut store = Store { conn, path: Some(path.to_path_buf()) };
        store.configure()?;
        store.check_damage()?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing database without writing to it (verification, reports).
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let store = Store { conn, path: Some(path.to_path_buf()) };
        let version = store.schema_version()?;
        if version > schema::LATEST_VERSION {
            return Err(StoreError::SchemaTooNew { found: version, supported: schema::LATEST_VERSION });
        }
        Ok(store)
    }

    /// A private in-memory database (tests, dry runs).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        let mut store = Store { conn, path: None };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// A private in-memory training database (tests with drill codes).
    pub fn open_in_memory_training() -> Result<Self, StoreError> {
        let store = Self::open_in_memory()?;
        store.make_training()?;
        Ok(store)
    }

    /// Opens (creating if needed) a training database: drill codes are
    /// welcome, real codes are taken with a warning, exports are marked. A
    /// database that already holds production records is refused.
    pub fn open_training(path: &Path) -> Result<Self, StoreError> {
        let store = Self::open(path)?;
        store.make_training()?;
        Ok(store)
    }

    fn make_training(&self) -> Result<(), StoreError> {
        if self.mode()? == Mode::Training {
            return Ok(());
        }
        match self.conn.execute("INSERT INTO station_meta (key, value) VALUES ('mode', 'training')", []) {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(_, Some(msg))) if msg.contains("before its first record") => {
                Err(StoreError::NotATrainingDatabase)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Production or training (a database older than modes is production).
    pub fn mode(&self) -> Result<Mode, StoreError> {
        if self.schema_version()? < 6 {
            return Ok(Mode::Production);
        }
        let mode: Option<String> = rusqlite::OptionalExtension::optional(self.conn.query_row(
            "SELECT value FROM station_meta WHERE key = 'mode'",
            [],
            |r| r.get(0),
        ))?;
        Ok(if mode.as_deref() == Some("training") { Mode::Training } else { Mode::Production })
    }

    /// The file behind this store, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn configure(&self) -> Result<(), StoreError> {
        self.conn.busy_timeout(Duration::from_secs(5))?;
        // journal_mode answers with a row; WAL is refused only for in-memory
        // databases. Switching a new file to WAL needs it to itself, and
        // SQLite answers "busy" at once rather than through the busy handler
        // when another process is opening it too: tried again for the
        // busy timeout's length.
        let started = std::time::Instant::now();
        loop {
            match self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
                Ok(_) => break,
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < Duration::from_secs(5) =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )?;
        Ok(())
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        migrate_to(&mut self.conn, schema::LATEST_VERSION)
    }

    /// Caps the database file at `pages` pages (`PRAGMA max_page_count`): how
    /// tests make the disk "full" at an exact point. `None` lifts the cap.
    pub fn set_max_page_count(&self, pages: Option<u64>) -> Result<u64, StoreError> {
        let pages = pages.unwrap_or(0xFFFF_FFFE);
        Ok(self.conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| r.get(0))?)
    }

    /// Writes a consistent copy of the whole database to `dest` while the
    /// station keeps working (SQLite's online backup API).
    pub fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        use rusqlite::backup::Backup;
        let mut target = Connection::open(dest).map_err(|e| open_error(dest, e))?;
        {
            let backup = Backup::new(&self.conn, &mut target)?;
            // Small steps with a pause let the station's own writes through.
            backup.run_to_completion(512, Duration::from_millis(2), None)?;
        }
        target.execute_batch("PRAGMA journal_mode = DELETE;")?;
        Ok(())
    }

    /// Backs up the database at `db` into the folder `dir` as
    /// `gradcap-backup-{stamp}.sqlite`, on a connection of its own (the station
    /// keeps working), then verifies the copy. Written under a `.partial` name
    /// first, so an interrupted backup is recognisable and never mistaken for one.
    pub fn backup_file(db: &Path, dir: &Path, stamp: &str) -> Result<(PathBuf, VerifyReport), StoreError> {
        std::fs::create_dir_all(dir)?;
        // What killed backups left here goes first (11 of them once left 951 MB).
        let ours = |name: &str| name.starts_with("gradcap-backup-") && name.ends_with(".sqlite.partial");
        for stale in crate::paths::remove_stale_partials(dir, &ours) {
            tracing::info!("removed the unfinished backup {}", stale.display());
        }
        let final_path = dir.join(format!("gradcap-backup-{stamp}.sqlite"));
        let partial = dir.join(format!("gradcap-backup-{stamp}.sqlite.partial"));
        let _lock = crate::paths::PartialLock::take(&partial)?;
        let _ = std::fs::remove_file(&partial);
        let source = Store::open_read_only(db)?;
        source.backup_to(&partial)?;
        drop(source);
        // Opened for writing: Windows flushes only a handle with write access.
        std::fs::OpenOptions::new().write(true).open(&partial)?.sync_all()?;
        let report = Store::open_read_only(&partial)?.verify()?;
        crate::paths::replace(&partial, &final_path)?;
        Ok((final_path, report))
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

fn open_error(path: &Path, e: rusqlite::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Sqlite(inner) => {
            StoreError::CannotOpen { path: path.display().to_string(), reason: inner.to_string() }
        }
        other => other,
    }
}

/// Applies the forward migrations from the database's version up to `target`.
pub(crate) fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), StoreError> {
    // The version is read inside each step's IMMEDIATE transaction: two
    // processes opening a new database at once take turns, and the second
    // finds the work done instead of running a migration twice.
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > schema::LATEST_VERSION {
            return Err(StoreError::SchemaTooNew { found: version, supported: schema::LATEST_VERSION });
        }
        if version >= target {
            return Ok(());
        }
        let Some(sql) = usize::try_from(version).ok().and_then(|v| schema::MIGRATIONS.get(v)) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_is_at_the_latest_version() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.schema_version().unwrap(), schema::LATEST_VERSION);
    }

    /// One test per migration: the database at version `v` (with data written
    /// at that version where the schema allows) migrates forward to the latest.
    #[test]
    fn each_migration_applies_on_its_predecessor() {
        for v in 0..schema::LATEST_VERSION {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("m.sqlite");
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, v).unwrap();
            assert_eq!(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap(), v);
            if v >= 1 {
                // Data written at version v must survive the later migrations.
                conn.execute_batch(
                    "INSERT INTO sessions (station, session_date, created_at) VALUES ('1', '2026-06-01', 'now');
                     INSERT INTO records (session_id, seq, cjm, zjhm, xh, xm, payload, scanned_at)
                     VALUES (1, 1, 'T', '123X', '0021', '欧**娜', 'p', 'now');",
                )
                .unwrap();
            }
            drop(conn);
            let store = Store::open(&path).unwrap();
            assert_eq!(store.schema_version().unwrap(), schema::LATEST_VERSION);
            let names: Vec<String> = store
                .conn()
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for t in ["audit", "exported", "exports", "records", "roster", "schedule", "sessions", "takes"] {
                assert!(names.iter().any(|n| n == t), "table {t} after migrating from v{v}");
            }
            if v >= 1 {
                let xh: String = store.conn().query_row("SELECT xh FROM records", [], |r| r.get(0)).unwrap();
                assert_eq!(xh, "0021", "data kept from v{v}");
            }
        }
    }

    #[test]
    fn refuses_a_database_from_a_newer_build() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", schema::LATEST_VERSION + 1).unwrap();
        drop(conn);
        assert!(matches!(Store::open(&path), Err(StoreError::SchemaTooNew { .. })));
    }

    #[test]
    fn file_databases_use_wal_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let mode: String = store.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        let sync: i64 = store.conn().query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "FULL");
    }
}
