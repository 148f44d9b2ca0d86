//! End-of-day export to a USB drive or any folder, and the check of a bundle.
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
//! deliverables, `{xh}.jpg`; a repeated 学号 gets `_{station}-{seq}`),
//! `originals/`, `manifest.csv` (UTF-8 with BOM), `manifest.xlsx`,
//! `manifest.json`, `SHA256SUMS` (`sha256sum -c` compatible) and `说明.txt`.

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::store::{sha256_hex, ExportItem, ExportRecord, Store, StoreError};

/// Export faults, phrased for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("写入 {path} 失败：{reason}；数据库未改动，重新导出即可完成 / writing {path} failed: {reason}; the database is unchanged, export again to complete")]
    Write { path: String, reason: String },
    #[error("{path} 读回的内容与写入不同（U 盘可能损坏）；数据库未改动 / {path} reads back different (faulty drive?); the database is unchanged")]
    Mismatch { path: String },
    #[error("没有新的照片需要导出 / nothing new to export")]
    NothingToExport,
    #[error("无法生成清单：{0} / cannot write the manifest: {0}")]
    Manifest(String),
    #[error("不是导出包：{0} / not an export bundle: {0}")]
    NotABundle(String),
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> ExportError {
    let reason = e.to_string();
    let reason = if reason.contains("No space left") || reason.contains("os error 28") {
        format!("磁盘已满 / disk full ({reason})")
    } else {
        reason
    };
    ExportError::Write { path: path.display().to_string(), reason }
}

/// What an export did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportReport {
    pub bundle: PathBuf,
    pub batch: String,
    pub records: usize,
    pub files: usize,
    pub bytes: u64,
}

/// Writes one file (synced later, all together, so the drive can batch).
fn write_file(path: &Path, bytes: &[u8], written: &mut Vec<PathBuf>) -> Result<(), ExportError> {
    let mut f = std::fs::File::create(path).map_err(|e| write_err(path, e))?;
    f.write_all(bytes).map_err(|e| write_err(path, e))?;
    written.push(path.to_path_buf());
    Ok(())
}

/// Syncs every written file and their folders to the drive.
fn sync_all(written: &[PathBuf], dirs: &[PathBuf]) -> Result<(), ExportError> {
    for path in written {
        std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(|e| write_err(path, e))?;
    }
    for dir in dirs {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Keeps what a file name may hold on FAT/NTFS/ext4; Chinese stays.
pub fn safe_name(s: &str) -> String {
    let cleaned: String =
        s.trim().chars().map(|c| if c.is_control() || "/\\:*?\"<>|".contains(c) { '_' } else { c }).collect();
    if cleaned.is_empty() {
        "_".into()
    } else {
        cleaned
    }
}

const MANIFEST_COLUMNS: [&str; 17] = [
    "seq",
    "station",
    "scanned_at",
    "captured_at",
    "cjm",
    "xh",
    "xm",
    "zjhm",
    "yxdm",
    "bh",
    "fy",
    "cc",
    "xllb",
    "sjc",
    "photo_file",
    "photo_sha256",
    "original_sha256",
];

/// Exports to `target` (a drive or folder). `full` exports every
/// photographed record again; otherwise only what is new.
pub fn export(store: &mut Store, target: &Path, full: bool, now: &str) -> Result<ExportReport, ExportError> {
    let items = store.export_items(full)?;
    if items.is_empty() {
        return Err(ExportError::NothingToExport);
    }
    let session = store.sessions()?.into_iter().last();
    let (school, station, date) = session
        .map(|s| (s.info.school_name, s.info.station, s.info.date))
        .unwrap_or_else(|| (String::new(), String::new(), String::new()));
    let batch = format!("B{:03}", store.next_export_number()?);
    let school = if school.is_empty() { "school".to_string() } else { school };
    let name = safe_name(&format!("{school}_{station}_{date}_{batch}"));
    let bundle = target.join(&name);
    let partial = target.join(format!("{name}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| write_err(&partial, e))?;
    }
    for dir in [partial.join("photos"), partial.join("originals")] {
        std::fs::create_dir_all(&dir).map_err(|e| write_err(&dir, e))?;
    }
    let mut sums: BTreeMap<String, String> = BTreeMap::new();
    let mut rows: Vec<BTreeMap<&str, String>> = Vec::new();
    let mut lines = Vec::new();
    let mut used = HashSet::new();
    let mut bytes_total = 0u64;
    let mut written: Vec<PathBuf> = Vec::new();
    for ExportItem { record, take } in &items {
        let mut file = format!("{}.jpg", safe_name(&record.code.xh));
        if !used.insert(file.clone()) {
            file = format!("{}_{}.jpg", safe_name(&record.code.xh), record.display_seq());
            used.insert(file.clone());
        }
        // SHA256SUMS carries the hashes stored at capture, so the final check
        // also catches an image damaged in the database, not only on the drive.
        let (original, deliverable) = store.take_images(take.id)?;
        write_file(&partial.join("photos").join(&file), &deliverable, &mut written)?;
        write_file(&partial.join("originals").join(&file), &original, &mut written)?;
        bytes_total += (deliverable.len() + original.len()) as u64;
        sums.insert(format!("photos/{file}"), take.deliverable_sha256.clone());
        sums.insert(format!("originals/{file}"), take.original_sha256.clone());
        let c = &record.code;
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
        ];
        rows.push(MANIFEST_COLUMNS.iter().copied().zip(values).collect());
        lines.push(ExportRecord { record_id: record.id, take_id: take.id, photo_file: file });
    }
    // Manifests.
    let mut csv_bytes = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut csv_bytes);
        w.write_record(MANIFEST_COLUMNS).map_err(|e| ExportError::Manifest(e.to_string()))?;
        for r in &rows {
            w.write_record(MANIFEST_COLUMNS.iter().map(|k| r[k].as_str()))
                .map_err(|e| ExportError::Manifest(e.to_string()))?;
        }
        w.flush().map_err(|e| ExportError::Manifest(e.to_string()))?;
    }
    let json_doc = json!({
        "batch": batch, "school": school, "station": station, "date": date, "exported_at": now, "full": full,
        "records": rows.iter().map(|r| Value::Object(r.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())).collect::<Vec<_>>(),
    });
    let json_bytes = serde_json::to_vec_pretty(&json_doc).map_err(|e| ExportError::Manifest(e.to_string()))?;
    let xlsx_bytes = manifest_xlsx(&rows)?;
    let readme = format!(
        "gradcap 导出包 / export bundle {batch}\n学校 {school} · 机位 {station} · {date} · {} 人 / students\n\
         photos/     学历照片 480×640 / diploma photos\noriginals/  原始照片 / original captures\n\
         manifest.csv / manifest.xlsx / manifest.json  清单 / manifest\n\
         SHA256SUMS  校验值，可用 `sha256sum -c SHA256SUMS` 或 `gradcap verify-bundle` 检查 / checksums\n",
        rows.len()
    );
    for (file, bytes) in [
        ("manifest.csv", csv_bytes.as_slice()),
        ("manifest.json", json_bytes.as_slice()),
        ("manifest.xlsx", xlsx_bytes.as_slice()),
        ("说明.txt", readme.as_bytes()),
    ] {
        write_file(&partial.join(file), bytes, &mut written)?;
        sums.insert(file.to_string(), sha256_hex(bytes));
    }
    let sums_text: String = sums.iter().map(|(f, h)| format!("{h}  {f}\n")).collect();
    write_file(&partial.join("SHA256SUMS"), sums_text.as_bytes(), &mut written)?;
    sync_all(&written, &[partial.join("photos"), partial.join("originals"), partial.clone()])?;
    // Everything written is read back and checked before it is called done.
    let check = verify_bundle(&partial)?;
    if !check.ok() {
        return Err(ExportError::Mismatch { path: check.findings.join("; ") });
    }
    if bundle.exists() {
        std::fs::remove_dir_all(&bundle).map_err(|e| write_err(&bundle, e))?;
    }
    std::fs::rename(&partial, &bundle).map_err(|e| write_err(&bundle, e))?;
    if let Ok(dir) = std::fs::File::open(target) {
        let _ = dir.sync_all();
    }
    store.record_export(&batch, &bundle.display().to_string(), full, &lines, now)?;
    Ok(ExportReport { bundle, batch, records: rows.len(), files: sums.len() + 1, bytes: bytes_total })
}

fn manifest_xlsx(rows: &[BTreeMap<&str, String>]) -> Result<Vec<u8>, ExportError> {
    let err = |e: rust_xlsxwriter::XlsxError| ExportError::Manifest(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in MANIFEST_COLUMNS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).map_err(err)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, h) in MANIFEST_COLUMNS.iter().enumerate() {
            // Text cells: a 学号 must never become a number in Excel.
            sheet.write_string(r as u32 + 1, c as u16, &row[h]).map_err(err)?;
        }
    }
    book.save_to_buffer().map_err(err)
}

/// What `verify-bundle` found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BundleReport {
    pub files_checked: usize,
    pub records: usize,
    pub findings: Vec<String>,
}

impl BundleReport {
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Checks a bundle: every file in SHA256SUMS present with its hash, every
/// manifest row's photo and original listed, no stray files.
pub fn verify_bundle(dir: &Path) -> Result<BundleReport, ExportError> {
    let sums_path = dir.join("SHA256SUMS");
    let sums = std::fs::read_to_string(&sums_path)
        .map_err(|e| ExportError::NotABundle(format!("{}: {e}", sums_path.display())))?;
    let mut report = BundleReport::default();
    let mut listed = HashSet::new();
    // file → its hash as read now: every file is read and hashed once.
    let mut actual: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for line in sums.lines().filter(|l| !l.trim().is_empty()) {
        let Some((hash, file)) = line.split_once("  ") else {
            report.findings.push(format!("SHA256SUMS: malformed line {line:?}"));
            continue;
        };
        listed.insert(file.to_string());
        match std::fs::read(dir.join(file)) {
            Ok(bytes) => {
                let got = sha256_hex(&bytes);
                if got == hash {
                    report.files_checked += 1;
                } else {
                    report.findings.push(format!("{file}: content differs from its checksum"));
                }
                actual.insert(file.to_string(), got);
            }
            Err(e) => report.findings.push(format!("{file}: missing ({e})")),
        }
    }
    for sub in ["photos", "originals"] {
        for entry in std::fs::read_dir(dir.join(sub)).into_iter().flatten().flatten() {
            let rel = format!("{sub}/{}", entry.file_name().to_string_lossy());
            if !listed.contains(&rel) {
                report.findings.push(format!("{rel}: not in SHA256SUMS"));
            }
        }
    }
    let manifest =
        std::fs::read(dir.join("manifest.json")).map_err(|e| ExportError::NotABundle(format!("manifest.json: {e}")))?;
    let manifest: Value =
        serde_json::from_slice(&manifest).map_err(|e| ExportError::NotABundle(format!("manifest.json: {e}")))?;
    for row in manifest["records"].as_array().into_iter().flatten() {
        report.records += 1;
        let photo = row["photo_file"].as_str().unwrap_or_default();
        let original = photo.replacen("photos/", "originals/", 1);
        for (file, key) in [(photo.to_string(), "photo_sha256"), (original, "original_sha256")] {
            if !listed.contains(&file) {
                report.findings.push(format!("manifest row {}: {file} is not in the bundle", row["seq"]));
            } else if let Some(got) = actual.get(&file) {
                if Some(got.as_str()) != row[key].as_str() {
                    report.findings.push(format!("manifest row {}: {file} differs from the manifest", row["seq"]));
                }
            }
        }
    }
    Ok(report)
}
