//! The correction lookup (勘误): one student's record as the capture unit
//! answers a school — the code's fields, station, number, times, every take
//! and the audit trail — and that student's files written to a folder.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::{write_err, ExportError};
use crate::store::{Record, Store};

/// The record with its takes and audit trail, as `gradcap lookup --json` prints it.
pub fn record_json(store: &Store, r: &Record) -> Result<Map<String, Value>, ExportError> {
    let takes = store.takes(r.id)?;
    let audit = store.audit_for_record(r.id)?;
    let mut fields = r.code.to_json();
    fields.insert("seq".into(), json!(r.display_seq()));
    fields.insert("station".into(), json!(r.station));
    fields.insert("scanned_at".into(), json!(r.scanned_at));
    fields.insert("status".into(), json!(r.status.as_str()));
    fields.insert("status_reason".into(), json!(r.status_reason));
    fields.insert("status_at".into(), json!(r.status_at));
    fields.insert(
        "takes".into(),
        json!(takes
            .iter()
            .map(|t| json!({
                "take_no": t.take_no, "primary": t.is_primary, "rejected_at": t.rejected_at,
                "captured_at": t.captured_at, "deliverable_sha256": t.deliverable_sha256,
                "deliverable_bytes": t.deliverable_bytes, "original_sha256": t.original_sha256,
                "original_width": t.original_width, "original_height": t.original_height,
                "purged_at": t.purged_at
            }))
            .collect::<Vec<_>>()),
    );
    fields.insert(
        "audit".into(),
        json!(audit.iter().map(|a| json!({"at": a.at, "action": a.action, "detail": a.detail})).collect::<Vec<_>>()),
    );
    Ok(fields)
}

/// Writes one student's files into `dir`: every take's deliverable and
/// original (`{seq}_{xh}_take{n}_deliverable.jpg`, `…_original.jpg`; images
/// deleted after handover are left out) and `fields` — the record as
/// [`record_json`] made it — as `{seq}_{xh}.json`. Returns the files written.
pub fn export_student(
    store: &Store,
    r: &Record,
    fields: &Map<String, Value>,
    dir: &Path,
) -> Result<Vec<PathBuf>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let stem = format!("{}_{}", r.display_seq(), crate::code::drill::file_stem(&r.code.xh));
    let mut written = Vec::new();
    let mut write = |name: String, bytes: &[u8]| -> Result<(), ExportError> {
        let path = dir.join(name);
        crate::paths::write_atomic(&path, bytes).map_err(|e| write_err(&path, e))?;
        written.push(path);
        Ok(())
    };
    for t in store.takes(r.id)?.iter().filter(|t| t.purged_at.is_none()) {
        let (original, deliverable) = store.take_images(t.id)?;
        write(format!("{stem}_take{}_deliverable.jpg", t.take_no), &deliverable)?;
        write(format!("{stem}_take{}_original.jpg", t.take_no), &original)?;
    }
    let text = serde_json::to_string_pretty(fields).map_err(|e| ExportError::Manifest(e.to_string()))?;
    write(format!("{stem}.json"), text.as_bytes())?;
    Ok(written)
}

/// The correction export (勘误) of one record, on its own read-only
/// connection (the station keeps working): the student's files in
/// `base/勘误_{seq}_{xh}`. Returns that folder and the number of files.
pub fn export_correction(
    db: &Path,
    record: crate::store::RecordId,
    base: &Path,
) -> Result<(PathBuf, usize), ExportError> {
    let store = Store::open_read_only(db)?;
    let r = store.record(record)?;
    let dir = base.join(format!("勘误_{}_{}", r.display_seq(), super::safe_name(&r.code.xh)));
    let fields = record_json(&store, &r)?;
    let files = export_student(&store, &r, &fields, &dir)?;
    Ok((dir, files.len()))
}

/// A record a lookup found, with its fields as [`record_json`] makes them.
pub type FoundRecord = (Record, Map<String, Value>);

/// A correction lookup (勘误): the records that match `query` (token, 学号,
/// number or masked name; at most `limit`), each with its fields as
/// [`record_json`] makes them.
pub fn find_records(store: &Store, query: &str, limit: usize) -> Result<Vec<FoundRecord>, ExportError> {
    let records = store.search_records(query, limit)?;
    records
        .into_iter()
        .map(|r| {
            let fields = record_json(store, &r)?;
            Ok((r, fields))
        })
        .collect()
}

/// What `gradcap lookup` prints for people about one record found: its
/// number, student and state, when it was scanned, every take and the audit.
pub fn record_lines((r, fields): &FoundRecord) -> Vec<String> {
    let mut lines = vec![
        format!(
            "{} {} 学号 {} {} — {} {}",
            r.display_seq(),
            r.code.xm,
            r.code.xh,
            r.code.bh,
            r.status.label_zh(),
            r.status_reason
        ),
        format!("  扫码 scanned {}  cjm {}", r.scanned_at, r.code.cjm),
    ];
    let list = |key: &str| fields.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    for t in list("takes") {
        let purged =
            t["purged_at"].as_str().map(|at| format!(" 交接后已删除图像 / images purged {at}")).unwrap_or_default();
        lines.push(format!(
            "  照片 take {} {} primary={} rejected={}{purged}",
            t["take_no"],
            t["captured_at"],
            t["primary"],
            !t["rejected_at"].is_null()
        ));
    }
    for a in list("audit") {
        let field = |k: &str| a[k].as_str().unwrap_or("").to_string();
        lines.push(format!("  {} {} {}", field("at"), field("action"), field("detail")));
    }
    lines
}
