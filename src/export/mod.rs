//! End-of-day export to a USB drive or any folder, and everything done with
//! the bundles afterwards: verification, decryption, merging.
//!
//! Safe writing: everything is written into `{bundle}.partial` on the
//! target, each file synced and read back and compared by SHA-256, then the
//! folder is renamed into place; only then are the records marked exported,
//! in one database transaction. A fault (target removed or full, read-only,
//! a file that reads back different) leaves the database unchanged and the
//! half-written folder recognisably named; running the export again
//! completes it. Incremental by default: what is new since the last export.
//!
//! Bundle: `{school}_{station}_{date}_{batch}/` with `photos/` (480×640
//! deliverables named by a template, `{xh}.jpg` by default; a name already
//! taken gets `_{station}-{seq}`), `originals/`, `manifest.csv` (UTF-8 with
//! BOM), `manifest.xlsx`, `manifest.json`, `SHA256SUMS` (`sha256sum -c`
//! compatible) and `说明.txt`. Encrypted on request: the same files in one
//! tar, age-encrypted to a recipient, so that no plaintext touches the drive.

pub mod bundle;
pub mod crypt;
pub mod lookup;
pub mod merge;
pub mod purge;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

pub use crate::paths::{safe_name, unique_name};
pub use bundle::{
    bundle_to_check, read_manifest, verify_bundle, verify_bundle_with_progress, BundleReport, ManifestRow,
};
pub use crypt::{decrypt, keygen, DecryptReport};
pub use merge::{merge, MergeOptions, MergeReport};
pub use purge::{purge_handed_over, purge_preview, PurgeDone, PurgeError};

use crate::store::{ExportItem, ExportRecord, Record, Store, StoreError};
use bundle::{DirSink, Sink};

/// Export faults, phrased for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("写入 {path} 失败：{reason}；数据库未改动，重新导出即可完成 / writing {path} failed: {reason}; the database is unchanged, export again to complete")]
    Write { path: String, reason: String },
    #[error("{path} 读回的内容与写入不同（U 盘可能损坏）；数据库未改动 / {path} reads back different (faulty drive?); the database is unchanged")]
    Mismatch { path: String },
    #[error("数据库中的照片 {file} 与拍摄时的校验值不符，未导出；请运行 gradcap verify / the stored photo {file} does not match its checksum from capture; nothing exported, run gradcap verify")]
    Damaged { file: String },
    #[error("没有新的照片需要导出 / nothing new to export")]
    NothingToExport,
    #[error("无法生成清单：{0} / cannot write the manifest: {0}")]
    Manifest(String),
    #[error("不是导出包：{0} / not an export bundle: {0}")]
    NotABundle(String),
    #[error("文件名模板有误：{0}（可用 {{xh}} {{xm}} {{seq}} {{station}} {{cjm}} {{yxdm}} {{bh}} {{date}}）/ bad file-name template: {0} (placeholders: {{xh}} {{xm}} {{seq}} {{station}} {{cjm}} {{yxdm}} {{bh}} {{date}})")]
    Template(String),
    #[error("加密公钥无效：{0}（应以 age1 开头）/ not a valid age recipient: {0} (it starts with age1)")]
    Recipient(String),
    #[error("私钥文件无法使用：{0} / cannot use the identity file: {0}")]
    Identity(String),
    #[error("无法解密：{0} / cannot decrypt: {0}")]
    Decrypt(String),
    #[error("导出包不完整或已损坏：{0} / the bundle is incomplete or damaged: {0}")]
    BadBundle(String),
    #[error("{0} 已存在，未覆盖 / {0} already exists, not overwritten")]
    Exists(String),
    #[error("导出目标 {0} 不存在；请插好 U 盘并选择它（不会新建文件夹）/ the export target {0} does not exist: connect the drive and choose it (no folder is created)")]
    TargetMissing(String),
    #[error("导出目标 {0} 已不在所选的 U 盘上（U 盘被拔出，挂载点只剩空文件夹？）；数据库未改动 / the export target {0} is no longer on the drive chosen (drive pulled, its mount point left as an empty folder?): the database is unchanged")]
    WrongDevice(String),
    #[error("{count} 名学生在多个机位（或多天）被拍摄，未合并；加 --keep-duplicates 可同时保留并列出 / {count} students were photographed at more than one station (or day), not merged; --keep-duplicates keeps and lists them:\n{list}")]
    Duplicates { count: usize, list: String },
}

impl crate::text::Bilingual for ExportError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Store(f0) => f0.text(),
            Self::Write { path, reason } => Text::new(format!("写入 {path} 失败：{reason}；数据库未改动，重新导出即可完成"), format!("writing {path} failed: {reason}; the database is unchanged, export again to complete")),
            Self::Mismatch { path } => Text::new(format!("{path} 读回的内容与写入不同（U 盘可能损坏）；数据库未改动"), format!("{path} reads back different (faulty drive?); the database is unchanged")),
            Self::Damaged { file } => Text::new(format!("数据库中的照片 {file} 与拍摄时的校验值不符，未导出；请运行 gradcap verify"), format!("the stored photo {file} does not match its checksum from capture; nothing exported, run gradcap verify")),
            Self::NothingToExport => Text::new("没有新的照片需要导出", "nothing new to export"),
            Self::Manifest(f0) => Text::new(format!("无法生成清单：{f0}"), format!("cannot write the manifest: {f0}")),
            Self::NotABundle(f0) => Text::new(format!("不是导出包：{f0}"), format!("not an export bundle: {f0}")),
            Self::Template(f0) => Text::new(format!("文件名模板有误：{f0}（可用 {{xh}} {{xm}} {{seq}} {{station}} {{cjm}} {{yxdm}} {{bh}} {{date}}）"), format!("bad file-name template: {f0} (placeholders: {{xh}} {{xm}} {{seq}} {{station}} {{cjm}} {{yxdm}} {{bh}} {{date}})")),
            Self::Recipient(f0) => Text::new(format!("加密公钥无效：{f0}（应以 age1 开头）"), format!("not a valid age recipient: {f0} (it starts with age1)")),
            Self::Identity(f0) => Text::new(format!("私钥文件无法使用：{f0}"), format!("cannot use the identity file: {f0}")),
            Self::Decrypt(f0) => Text::new(format!("无法解密：{f0}"), format!("cannot decrypt: {f0}")),
            Self::BadBundle(f0) => Text::new(format!("导出包不完整或已损坏：{f0}"), format!("the bundle is incomplete or damaged: {f0}")),
            Self::Exists(f0) => Text::new(format!("{f0} 已存在，未覆盖"), format!("{f0} already exists, not overwritten")),
            Self::TargetMissing(f0) => Text::new(format!("导出目标 {f0} 不存在；请插好 U 盘并选择它（不会新建文件夹）"), format!("the export target {f0} does not exist: connect the drive and choose it (no folder is created)")),
            Self::WrongDevice(f0) => Text::new(format!("导出目标 {f0} 已不在所选的 U 盘上（U 盘被拔出，挂载点只剩空文件夹？）；数据库未改动"), format!("the export target {f0} is no longer on the drive chosen (drive pulled, its mount point left as an empty folder?): the database is unchanged")),
            Self::Duplicates { count, list } => Text::new(format!("{count} 名学生在多个机位（或多天）被拍摄，未合并；加 --keep-duplicates 可同时保留并列出"), format!("{count} students were photographed at more than one station (or day), not merged; --keep-duplicates keeps and lists them:\n{list}")),
        }
    }
}

pub(crate) fn write_err(path: &Path, e: impl std::fmt::Display) -> ExportError {
    let reason = e.to_string();
    let reason = if reason.contains("No space left") || reason.contains("os error 28") {
        format!("磁盘已满 / disk full ({reason})")
    } else if reason.contains("os error 2)") || reason.contains("No such file") || reason.contains("os error 5)") {
        format!("目标已不存在（U 盘被拔出？）/ the target is gone (drive removed?) ({reason})")
    } else {
        reason
    };
    ExportError::Write { path: path.display().to_string(), reason }
}

/// Checks an age recipient (public key) without exporting.
pub fn check_recipient(text: &str) -> Result<(), ExportError> {
    crypt::parse_recipient(text).map(|_| ())
}

/// The default photo file-name template.
pub const DEFAULT_NAME_TEMPLATE: &str = "{xh}.jpg";

/// How to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// Every photographed record again, not only what is new.
    pub full: bool,
    /// Encrypt to this age recipient (`age1…`).
    pub encrypt_to: Option<String>,
    /// Photo file names, e.g. `{xh}.jpg` or `{yxdm}_{xh}_{xm}.jpg`.
    pub name_template: String,
    /// The device the operator chose (`paths::device_id` of the drive when it
    /// was listed): a target on any other device — the drive pulled, its
    /// mount point left as an empty folder on the internal disk — is refused.
    pub device: Option<u64>,
    /// The studio camera's folder: each photo's RAW file (recorded by name
    /// and hash when it was shot) is copied from there into `originals/`
    /// beside the JPEG, checked against its hash. `None`: no RAW files.
    pub raw_from: Option<PathBuf>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            full: false,
            encrypt_to: None,
            name_template: DEFAULT_NAME_TEMPLATE.into(),
            device: None,
            raw_from: None,
        }
    }
}

/// Which part of the work a [`Progress`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Phase {
    Writing,
    Verifying,
}

/// How far an export (or its read-back) has come.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    pub phase: Phase,
    pub files_done: usize,
    pub files_total: usize,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// Lets a progress report through a few times a second: the first, then
/// one per `interval_ms`, and always the last of a phase (`files_done ==
/// files_total`). Also times the phase, for [`Rate`].
#[derive(Debug, Clone)]
pub struct Throttle {
    interval_ms: u128,
    phase: Option<Phase>,
    phase_started: std::time::Instant,
    last_shown: Option<std::time::Instant>,
}

impl Throttle {
    pub fn new(interval_ms: u64) -> Self {
        Throttle {
            interval_ms: u128::from(interval_ms),
            phase: None,
            phase_started: std::time::Instant::now(),
            last_shown: None,
        }
    }

    /// The rate to show for `p`, or `None` when it is too soon after the last.
    pub fn due(&mut self, p: &Progress) -> Option<Rate> {
        if self.phase != Some(p.phase) {
            self.phase = Some(p.phase);
            self.phase_started = std::time::Instant::now();
        }
        let due = self.last_shown.is_none_or(|t| t.elapsed().as_millis() >= self.interval_ms)
            || p.files_done == p.files_total;
        if !due {
            return None;
        }
        self.last_shown = Some(std::time::Instant::now());
        Some(Rate::measure(p, self.phase_started.elapsed()))
    }

    /// Whether anything was let through yet.
    pub fn shown_any(&self) -> bool {
        self.last_shown.is_some()
    }
}

/// Speed and time left of a phase, from its progress and elapsed time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub mb_per_s: f64,
    /// `None` until there is enough to estimate from.
    pub seconds_left: Option<f64>,
}

impl Rate {
    pub fn measure(p: &Progress, elapsed: std::time::Duration) -> Rate {
        let secs = elapsed.as_secs_f64();
        let mb_per_s = if secs > 0.05 { p.bytes_done as f64 / 1e6 / secs } else { 0.0 };
        let seconds_left = (p.bytes_done > 0 && secs > 0.2)
            .then(|| p.bytes_total.saturating_sub(p.bytes_done) as f64 / (p.bytes_done as f64 / secs));
        Rate { mb_per_s, seconds_left }
    }

    /// `写入 / writing 120/2005 files · 35.2/60.0 MB · 12.3 MB/s · 3 s left`.
    pub fn line(&self, p: &Progress) -> String {
        let phase = match p.phase {
            Phase::Writing => "写入 / writing",
            Phase::Verifying => "回读校验 / verifying",
        };
        let left = match self.seconds_left {
            Some(s) => format!(" · 剩余 / left {:.0} s", s.ceil()),
            None => String::new(),
        };
        format!(
            "{phase} {}/{} files · {:.1}/{:.1} MB · {:.1} MB/s{left}",
            p.files_done,
            p.files_total,
            p.bytes_done as f64 / 1e6,
            p.bytes_total as f64 / 1e6,
            self.mb_per_s
        )
    }
}

/// What an export did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportReport {
    pub bundle: PathBuf,
    pub batch: String,
    pub records: usize,
    pub files: usize,
    pub bytes: u64,
    pub encrypted: bool,
    /// RAW files copied into `originals/` (with `raw_from`).
    pub raw_files: usize,
    /// RAW files asked for that were not in the folder as recorded (gone,
    /// or changed): the export went on without them.
    pub raw_missing: Vec<String>,
}

/// The line `gradcap export` prints when the bundle is written and verified.
impl std::fmt::Display for ExportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "导出完成并已校验 / exported and verified{}: {} ({} 人 / students, {} files, {:.1} MB)",
            if self.encrypted { " (age 加密 / encrypted)" } else { "" },
            self.bundle.display(),
            self.records,
            self.files,
            self.bytes as f64 / 1e6
        )?;
        if self.raw_files > 0 {
            write!(f, "；RAW {} 个 / RAW files: {}", self.raw_files, self.raw_files)?;
        }
        if !self.raw_missing.is_empty() {
            write!(
                f,
                "\n未找到或已改变的 RAW 文件（未导出）/ RAW files missing or changed (not exported): {}",
                self.raw_missing.join(", ")
            )?;
        }
        Ok(())
    }
}

const TEMPLATE_FIELDS: [&str; 8] = ["xh", "xm", "seq", "station", "cjm", "yxdm", "bh", "date"];

/// The bytes of the RAW file `raw` in `folder`: under its recorded name, or
/// (when the name was replaced at capture, or the file renamed since) the
/// file of the same size and hash. `None` when no file there matches.
fn find_raw(folder: &Path, raw: &crate::store::RawFile) -> Option<Vec<u8>> {
    let matches = |path: &Path| {
        let size_matches = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == raw.bytes);
        if !size_matches {
            return None;
        }
        std::fs::read(path).ok().filter(|b| crate::store::sha256_hex(b) == raw.sha256)
    };
    if let Some(bytes) = matches(&folder.join(&raw.name)) {
        return Some(bytes);
    }
    std::fs::read_dir(folder).ok()?.flatten().find_map(|entry| matches(&entry.path()))
}

/// Checks a file-name template: known placeholders, balanced braces.
pub fn check_template(template: &str) -> Result<(), ExportError> {
    render_template(template, &|_| Some(String::new())).map(|_| ())
}

fn render_template(template: &str, value: &dyn Fn(&str) -> Option<String>) -> Result<String, ExportError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| ExportError::Template(format!("{template:?}: {{ without }}")))?;
        let field = &after[..close];
        if !TEMPLATE_FIELDS.contains(&field) {
            return Err(ExportError::Template(format!("{template:?}: {{{field}}}")));
        }
        let v = value(field).ok_or_else(|| ExportError::Template(format!("{template:?}: {{{field}}}")))?;
        out.push_str(&safe_name(&v));
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(ExportError::Template(format!("{template:?}: }} without {{")));
    }
    out.push_str(rest);
    if template.trim().is_empty() {
        return Err(ExportError::Template("empty".into()));
    }
    Ok(out)
}

/// The photo file name for `record` from `template`, always ending `.jpg`.
pub fn photo_file_name(template: &str, record: &Record, date: &str) -> Result<String, ExportError> {
    let c = &record.code;
    let name = render_template(template, &|field| {
        Some(match field {
            "xh" => c.xh.clone(),
            "xm" => c.xm.clone(),
            "seq" => record.display_seq(),
            "station" => record.station.clone(),
            "cjm" => c.cjm.clone(),
            "yxdm" => c.yxdm.clone(),
            "bh" => c.bh.clone(),
            "date" => date.to_string(),
            _ => return None,
        })
    })?;
    let name = safe_name(&name);
    Ok(if name.to_ascii_lowercase().ends_with(".jpg") { name } else { format!("{name}.jpg") })
}

/// `old` (a name a record went out with) is what the template makes of the
/// record now (`fresh`): `fresh` itself, or it with the tag [`unique_name`]
/// adds (`_{seq}`, then `_{seq}_{n}`). A name made by another template is not.
fn same_template_name(old: &str, fresh: &str, seq: &str) -> bool {
    let stem = fresh.strip_suffix(".jpg").or_else(|| fresh.strip_suffix(".JPG")).unwrap_or(fresh);
    let tagged = format!("{stem}_{}", safe_name(seq));
    let Some(rest) = old.strip_suffix(".jpg").and_then(|o| o.strip_prefix(&tagged)) else {
        return old == fresh;
    };
    rest.is_empty() || rest.strip_prefix('_').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Exports to `target` (a drive or folder): what is new, or with `full`
/// every photographed record again.
pub fn export(store: &mut Store, target: &Path, full: bool, now: &str) -> Result<ExportReport, ExportError> {
    export_with(store, target, &ExportOptions { full, ..ExportOptions::default() }, now, &mut |_| {})
}

/// [`export`] with every option, telling `progress` after each file.
pub fn export_with(
    store: &mut Store,
    target: &Path,
    options: &ExportOptions,
    now: &str,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ExportReport, ExportError> {
    check_template(&options.name_template)?;
    // The target is a folder that exists on the device chosen; none is created.
    if !target.is_dir() {
        return Err(ExportError::TargetMissing(target.display().to_string()));
    }
    let device = crate::paths::device_id(target);
    if options.device.is_some() && options.device != device {
        return Err(ExportError::WrongDevice(target.display().to_string()));
    }
    let recipient = options.encrypt_to.as_deref().map(crypt::parse_recipient).transpose()?;
    let items = store.export_items(options.full)?;
    if items.is_empty() {
        return Err(ExportError::NothingToExport);
    }
    let sessions = store.sessions()?;
    // `{date}` in a file name is the record's own shooting day.
    let day_of: HashMap<crate::store::SessionId, String> =
        sessions.iter().map(|s| (s.id, s.info.date.clone())).collect();
    let session = sessions.into_iter().last();
    let (school, station, date) = session
        .map(|s| (s.info.school_name, s.info.station, s.info.date))
        .unwrap_or_else(|| (String::new(), String::new(), String::new()));
    let school = if school.is_empty() { "school".to_string() } else { school };
    // A finished bundle already on the target under this name (a database
    // restored from a backup, another station's database with the same
    // name) is never replaced: the batch number moves on to a free name. A
    // `.partial` of the same name is this export's own earlier attempt.
    let mut number = store.next_export_number()?;
    // A training database's bundles say so in their name and manifest: they
    // must never be uploaded as a capture day.
    let training = store.mode()? == crate::store::Mode::Training;
    let marker = if training { "TRAINING_练习_" } else { "" };
    let (batch, name) = loop {
        let batch = format!("B{number:03}");
        let name = safe_name(&format!("{marker}{school}_{station}_{date}_{batch}"));
        if !target.join(&name).exists() && !store.export_batch_exists(&batch)? {
            break (batch, name);
        }
        number += 1;
    };
    let bundle = target.join(&name);
    let partial = target.join(format!("{name}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| write_err(&partial, e))?;
    }
    std::fs::create_dir_all(&partial).map_err(|e| write_err(&partial, e))?;
    let header: serde_json::Map<String, Value> = match json!({
        "batch": batch, "school": school, "station": station, "date": date, "exported_at": now, "full": options.full,
        "training": training,
        "pin_reset_at": store.last_pin_reset()?,
    }) {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };

    let mut state = Progress {
        phase: Phase::Writing,
        files_done: 0,
        files_total: items.len() * 2 + 5,
        bytes_done: 0,
        bytes_total: items.iter().map(|i| (i.take.original_bytes + i.take.deliverable_bytes) as u64).sum(),
    };
    let mut dir_sink = None;
    let mut age_sink = None;
    let sink: &mut dyn Sink = match &recipient {
        Some(r) => age_sink.insert(crypt::AgeSink::create(&partial.join(bundle::ENCRYPTED_FILE), r, &name, now)?),
        None => dir_sink.insert(DirSink::new(partial.clone())?),
    };
    let mut sums: BTreeMap<String, String> = BTreeMap::new();
    let mut rows: Vec<ManifestRow> = Vec::new();
    let mut lines = Vec::new();
    // A record keeps the file name it went out with before (same template),
    // so exporting twice never gives one record two different files; those
    // names are taken first, new records get what is left.
    let (earlier, ever_used) = store.exported_photo_files()?;
    let mut used = HashSet::new();
    let mut kept: Vec<Option<String>> = Vec::with_capacity(items.len());
    let mut fresh_names = Vec::with_capacity(items.len());
    for ExportItem { record, .. } in &items {
        let day = day_of.get(&record.session_id).unwrap_or(&date);
        let fresh = photo_file_name(&options.name_template, record, day)?;
        // Kept when this template made it and no earlier item took it already.
        let old = earlier
            .get(&record.id)
            .filter(|old| same_template_name(old, &fresh, &record.display_seq()) && used.insert(old.to_lowercase()));
        kept.push(old.cloned());
        fresh_names.push(fresh);
    }
    // Names records went out with (any export, any record) are never given
    // to another.
    used.extend(ever_used.iter().map(|n| n.to_lowercase()));
    let names: Vec<String> = items
        .iter()
        .zip(kept)
        .zip(fresh_names)
        .map(|((item, kept), fresh)| {
            kept.unwrap_or_else(|| unique_name(fresh, Some(&item.record.display_seq()), &mut used))
        })
        .collect();
    let (mut raw_files, mut raw_missing, mut raw_bytes) = (0usize, Vec::new(), 0u64);
    for (ExportItem { record, take }, file) in items.iter().zip(&names) {
        let file = file.clone();
        // SHA256SUMS carries the hashes stored at capture, so the final check
        // also catches an image damaged in the database, not only on the drive.
        let (original, deliverable) = store.take_images(take.id)?;
        sink.add(&format!("photos/{file}"), &deliverable, &take.deliverable_sha256)?;
        state.files_done += 1;
        state.bytes_done += deliverable.len() as u64;
        progress(&state);
        sink.add(&format!("originals/{file}"), &original, &take.original_sha256)?;
        state.files_done += 1;
        state.bytes_done += original.len() as u64;
        progress(&state);
        sums.insert(format!("photos/{file}"), take.deliverable_sha256.clone());
        sums.insert(format!("originals/{file}"), take.original_sha256.clone());
        if let Some(folder) = &options.raw_from {
            if let Some(raw) = store.camera_file_of_take(take.id)?.and_then(|f| f.raw) {
                let stem = std::path::Path::new(&file).file_stem().and_then(|s| s.to_str()).unwrap_or(&file);
                let ext = std::path::Path::new(&raw.name).extension().and_then(|e| e.to_str()).unwrap_or("raw");
                match find_raw(folder, &raw) {
                    Some(bytes) => {
                        let path = format!("originals/{stem}.{ext}");
                        sink.add(&path, &bytes, &raw.sha256)?;
                        state.bytes_done += bytes.len() as u64;
                        raw_bytes += bytes.len() as u64;
                        sums.insert(path, raw.sha256.clone());
                        raw_files += 1;
                    }
                    None => raw_missing.push(format!("{} ({})", raw.name, record.display_seq())),
                }
            }
        }
        let c = &record.code;
        // The photo checks: overall level, what failed, what the operator
        // accepted anyway, every measured value (empty for takes made before
        // checks existed).
        let assessment = serde_json::from_str::<crate::photo::checks::Assessment>(&take.checks_json).ok();
        let level = assessment.as_ref().map(|a| format!("{:?}", a.level()).to_lowercase()).unwrap_or_default();
        let failed = assessment.as_ref().map(|a| a.failed().join(";")).unwrap_or_default();
        let values_line = assessment.as_ref().map(|a| a.values_line()).unwrap_or_default();
        let values = [
            record.display_seq(),
            record.station.clone(),
            record.scanned_at.clone(),
            take.captured_at.clone(),
            c.cjm.clone(),
            c.xh.clone(),
            c.xm.clone(),
            c.zjhm.clone(),
            c.yxdm.clone(),
            c.bh.clone(),
            c.fy.clone(),
            c.cc.clone(),
            c.xllb.clone(),
            c.sjc.clone(),
            format!("photos/{file}"),
            take.deliverable_sha256.clone(),
            take.original_sha256.clone(),
            level,
            failed,
            take.accepted_failed.replace(',', ";"),
            values_line,
        ];
        rows.push(bundle::MANIFEST_COLUMNS.iter().map(|k| k.to_string()).zip(values).collect());
        lines.push(ExportRecord { record_id: record.id, take_id: take.id, photo_file: file });
    }
    let files = sums.len() + bundle::write_manifests(sink, &header, &rows, &mut sums)?;
    state.files_done = state.files_total;
    progress(&state);

    if let Some(age_sink) = age_sink {
        let (hash, _) = age_sink.finish()?;
        let readme = crypt::encrypted_readme(&name, &batch);
        let sums_text =
            format!("{hash}  {}\n{}  说明.txt\n", bundle::ENCRYPTED_FILE, crate::store::sha256_hex(readme.as_bytes()));
        let mut outer = DirSink { root: partial.clone(), written: Vec::new() };
        outer.add("说明.txt", readme.as_bytes(), "")?;
        outer.add("SHA256SUMS", sums_text.as_bytes(), "")?;
        outer.sync()?;
    }
    if let Some(dir_sink) = &dir_sink {
        dir_sink.sync()?;
    }
    // Everything written is read back and checked before it is called done.
    let check = verify_bundle_with_progress(&partial, progress)?;
    if !check.ok() {
        // Only on failure: was it the drive, or the photo in the database?
        for (ExportItem { record, take }, file) in items.iter().zip(&names) {
            let (original, deliverable) = store.take_images(take.id)?;
            for (bytes, sha256, sub) in
                [(&deliverable, &take.deliverable_sha256, "photos"), (&original, &take.original_sha256, "originals")]
            {
                if crate::store::sha256_hex(bytes) != *sha256 {
                    return Err(ExportError::Damaged { file: format!("{} ({sub}/{file})", record.display_seq()) });
                }
            }
        }
        return Err(ExportError::Mismatch { path: check.findings.join("; ") });
    }
    if bundle.exists() {
        return Err(ExportError::Exists(bundle.display().to_string()));
    }
    crate::paths::replace(&partial, &bundle).map_err(|e| write_err(&bundle, e))?;
    if let Ok(dir) = std::fs::File::open(target) {
        let _ = dir.sync_all();
    }
    // Still the same device, and the bundle still there, before anything is recorded.
    if crate::paths::device_id(target) != device || crate::paths::device_id(&bundle) != device {
        return Err(ExportError::WrongDevice(target.display().to_string()));
    }
    store.record_export(&batch, &bundle.display().to_string(), options.full, &lines, now)?;
    Ok(ExportReport {
        bundle,
        batch,
        records: rows.len(),
        files,
        bytes: state.bytes_total + raw_bytes,
        encrypted: options.encrypt_to.is_some(),
        raw_files,
        raw_missing,
    })
}
