//! Joining the bundles of several stations (or days) into one verified
//! bundle for upload.
//!
//! Every input bundle is verified first. A record exported more than once
//! (an incremental export after a re-shoot, or a full export) is the same
//! station, seq and cjm: the newest export wins. The same student — same
//! cjm, or same 院校代码 + 学号 — photographed as two different records
//! (two stations, or two days) is refused, listing every case; with
//! `keep_duplicates` both are kept and listed. Station and seq stay in the
//! manifest; file names stay, a clash gets `_{station}-{seq}`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::bundle::{read_manifest_doc, verify_bundle, write_manifests, DirSink, ManifestRow, Sink};
use super::{safe_name, unique_name, write_err, ExportError};
use crate::store::sha256_hex;

/// How to merge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeOptions {
    /// Keep (and list) a student photographed at two stations instead of refusing.
    pub keep_duplicates: bool,
}

/// The same student found as two or more records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Duplicate {
    /// `cjm` or `xh`.
    pub key: String,
    pub value: String,
    /// `{station}-{seq} ({bundle})` of each record.
    pub records: Vec<String>,
}

/// What a merge did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MergeReport {
    pub bundle: PathBuf,
    pub bundles: usize,
    pub records: usize,
    /// Rows left out because a newer export of the same record was merged.
    pub superseded: usize,
    pub duplicates: Vec<Duplicate>,
}

impl MergeReport {
    /// What `gradcap merge` prints for people: the merged bundle, then every duplicate.
    pub fn lines(&self) -> Vec<String> {
        let head = format!(
            "合并完成并已校验 / merged and verified: {} ({} bundles, {} 人 / students, {} superseded rows)",
            self.bundle.display(),
            self.bundles,
            self.records,
            self.superseded
        );
        let duplicates =
            self.duplicates.iter().map(|d| format!("DUPLICATE  {} {}: {}", d.key, d.value, d.records.join(", ")));
        std::iter::once(head).chain(duplicates).collect()
    }
}

struct Entry {
    dir: PathBuf,
    bundle_name: String,
    exported_at: String,
    row: ManifestRow,
}

impl Entry {
    fn get(&self, key: &str) -> &str {
        self.row.get(key).map(String::as_str).unwrap_or_default()
    }
    fn label(&self) -> String {
        format!("{} ({})", self.get("seq"), self.bundle_name)
    }
}

/// Finds every student present as more than one record.
pub fn find_duplicates(entries: &[&ManifestRow], labels: &[String]) -> Vec<Duplicate> {
    let mut out: Vec<Duplicate> = Vec::new();
    for key in ["cjm", "xh"] {
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, row) in entries.iter().enumerate() {
            let value = row.get(key).map(String::as_str).unwrap_or_default();
            if value.is_empty() {
                continue;
            }
            // 学号 is unique within a school only.
            let group = if key == "xh" {
                format!("{}/{value}", row.get("yxdm").map(String::as_str).unwrap_or_default())
            } else {
                value.to_string()
            };
            groups.entry(group).or_default().push(i);
        }
        for (group, members) in groups {
            let records: Vec<String> = members.iter().map(|&i| labels[i].clone()).collect();
            // The same records found by cjm and by 学号: one student, listed once.
            if members.len() > 1 && !out.iter().any(|d| d.records == records) {
                let value = group.rsplit_once('/').map(|(_, v)| v.to_string()).unwrap_or(group);
                out.push(Duplicate { key: key.into(), value, records });
            }
        }
    }
    out
}

/// Merges `bundles` into one new bundle under `to`.
pub fn merge(bundles: &[PathBuf], to: &Path, options: &MergeOptions, now: &str) -> Result<MergeReport, ExportError> {
    if bundles.is_empty() {
        return Err(ExportError::NotABundle("no bundles given".into()));
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut school = String::new();
    let mut names = Vec::new();
    for dir in bundles {
        let check = verify_bundle(dir)?;
        let bundle_name = dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if check.encrypted {
            return Err(ExportError::NotABundle(format!(
                "{bundle_name}: 已加密，请先 gradcap decrypt / encrypted, run gradcap decrypt first"
            )));
        }
        if !check.ok() {
            return Err(ExportError::BadBundle(format!("{bundle_name}: {}", check.findings.join("; "))));
        }
        let (header, rows) = read_manifest_doc(dir)?;
        if school.is_empty() {
            school = header.get("school").and_then(Value::as_str).unwrap_or_default().to_string();
        }
        let exported_at = header.get("exported_at").and_then(Value::as_str).unwrap_or_default().to_string();
        names.push(bundle_name.clone());
        for row in rows {
            entries.push(Entry {
                dir: dir.clone(),
                bundle_name: bundle_name.clone(),
                exported_at: exported_at.clone(),
                row,
            });
        }
    }
    // One record exported several times: the newest export wins.
    let mut newest: HashMap<(String, String, String), usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let key = (e.get("station").to_string(), e.get("seq").to_string(), e.get("cjm").to_string());
        match newest.get(&key) {
            Some(&j) if entries[j].exported_at > e.exported_at => {}
            _ => {
                newest.insert(key, i);
            }
        }
    }
    let mut kept: Vec<usize> = newest.into_values().collect();
    kept.sort_by(|&a, &b| {
        let (x, y) = (&entries[a], &entries[b]);
        (x.get("station"), x.get("scanned_at"), x.get("seq")).cmp(&(
            y.get("station"),
            y.get("scanned_at"),
            y.get("seq"),
        ))
    });
    let superseded = entries.len() - kept.len();
    let rows: Vec<&ManifestRow> = kept.iter().map(|&i| &entries[i].row).collect();
    let labels: Vec<String> = kept.iter().map(|&i| entries[i].label()).collect();
    let duplicates = find_duplicates(&rows, &labels);
    if !duplicates.is_empty() && !options.keep_duplicates {
        let list: Vec<String> =
            duplicates.iter().map(|d| format!("  {} {}: {}", d.key, d.value, d.records.join(", "))).collect();
        return Err(ExportError::Duplicates { count: duplicates.len(), list: list.join("\n") });
    }

    let school_name = if school.is_empty() { "school".to_string() } else { school.clone() };
    let stamp = chrono::DateTime::parse_from_rfc3339(now)
        .map(|t| t.format("%Y%m%d-%H%M%S").to_string())
        .unwrap_or_else(|_| safe_name(now));
    let name = safe_name(&format!("{school_name}_merged_{stamp}"));
    let bundle = to.join(&name);
    if bundle.exists() {
        return Err(ExportError::Exists(bundle.display().to_string()));
    }
    let ours = |name: &str| name.contains("_merged_") && name.ends_with(".partial");
    for stale in crate::paths::remove_stale_partials(to, &ours) {
        tracing::info!("removed the unfinished merge {}", stale.display());
    }
    let partial = to.join(format!("{name}.partial"));
    let _lock = crate::paths::PartialLock::take(&partial).map_err(|e| write_err(&partial, e))?;
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| write_err(&partial, e))?;
    }
    let mut sink = DirSink::new(partial.clone())?;
    let mut used = HashSet::new();
    let mut sums = BTreeMap::new();
    let mut out_rows = Vec::with_capacity(kept.len());
    for &i in &kept {
        let e = &entries[i];
        let photo = e.get("photo_file").to_string();
        let file = photo.strip_prefix("photos/").unwrap_or(&photo).to_string();
        let new_file = unique_name(file.clone(), Some(e.get("seq")), &mut used);
        for (sub, key) in [("photos", "photo_sha256"), ("originals", "original_sha256")] {
            let src = e.dir.join(sub).join(&file);
            let bytes = super::bundle::read_bundle_file(&e.dir, &format!("{sub}/{file}"))
                .map_err(|err| ExportError::BadBundle(format!("{}: {err}", src.display())))?;
            // Checked again here: a bundle may change between its check and its copy.
            if sha256_hex(&bytes) != e.get(key) {
                return Err(ExportError::BadBundle(format!("{}: changed while merging", src.display())));
            }
            let rel = format!("{sub}/{new_file}");
            sink.add(&rel, &bytes, e.get(key))?;
            sums.insert(rel, e.get(key).to_string());
        }
        let mut row = e.row.clone();
        row.insert("photo_file".into(), format!("photos/{new_file}"));
        out_rows.push(row);
    }
    let stations: std::collections::BTreeSet<&str> = kept.iter().map(|&i| entries[i].get("station")).collect();
    let header = match json!({
        "batch": "merged", "school": school, "station": stations.into_iter().collect::<Vec<_>>().join(","),
        "date": "", "exported_at": now, "full": false, "merged_from": names,
        "duplicates": duplicates,
    }) {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    write_manifests(&mut sink, &header, &out_rows, &mut sums)?;
    sink.sync()?;
    let check = verify_bundle(&partial)?;
    if !check.ok() {
        return Err(ExportError::Mismatch { path: check.findings.join("; ") });
    }
    crate::paths::replace(&partial, &bundle).map_err(|e| write_err(&bundle, e))?;
    if let Ok(dir) = std::fs::File::open(to) {
        let _ = dir.sync_all();
    }
    Ok(MergeReport { bundle, bundles: bundles.len(), records: out_rows.len(), superseded, duplicates })
}
