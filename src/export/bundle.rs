//! The bundle on disk: where its files go (a plain folder, or one age-encrypted
//! tar), the manifests, and the check of a finished bundle (`verify-bundle`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{write_err, ExportError, Phase, Progress};
use crate::store::sha256_hex;

/// Columns of `manifest.csv` / `.xlsx` / `.json`, in order.
pub const MANIFEST_COLUMNS: [&str; 21] = [
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
    "check_level",
    "checks_failed",
    "accepted_failed",
    "check_values",
];

/// One manifest row: column → text.
pub type ManifestRow = BTreeMap<String, String>;

/// Where a bundle's files are written.
pub(crate) trait Sink {
    /// Adds the file `rel` (e.g. `photos/2020001.jpg`); `sha256` is the hash
    /// the bytes must have (the one stored at capture).
    fn add(&mut self, rel: &str, bytes: &[u8], sha256: &str) -> Result<(), ExportError>;
}

/// A plain bundle: files written into a folder, synced together at the end.
pub(crate) struct DirSink {
    pub root: PathBuf,
    pub written: Vec<PathBuf>,
}

impl DirSink {
    pub fn new(root: PathBuf) -> Result<Self, ExportError> {
        for dir in [root.join("photos"), root.join("originals")] {
            std::fs::create_dir_all(&dir).map_err(|e| write_err(&dir, e))?;
        }
        Ok(DirSink { root, written: Vec::new() })
    }

    /// Syncs every written file and the folders to the drive.
    pub fn sync(&self) -> Result<(), ExportError> {
        // Opened for writing: Windows flushes only a handle with write access.
        // A few at a time: the drive works on several flushes at once.
        let sync = |path: &PathBuf| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.sync_all())
                .map_err(|e| write_err(path, e))
        };
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(2, 4);
        let chunk = self.written.len().div_ceil(workers).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .written
                .chunks(chunk)
                .map(|paths| {
                    let work = move || paths.iter().try_for_each(sync);
                    std::thread::Builder::new().name("bundle-sync".into()).spawn_scoped(scope, work).map_err(|_| paths)
                })
                .collect();
            for handle in handles {
                match handle {
                    Ok(h) => h.join().unwrap_or_else(|_| Err(write_err(&self.root, "sync thread stopped")))?,
                    // No thread: this one syncs that share itself.
                    Err(paths) => paths.iter().try_for_each(sync)?,
                }
            }
            Ok::<(), ExportError>(())
        })?;
        for dir in [self.root.join("photos"), self.root.join("originals"), self.root.clone()] {
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Sink for DirSink {
    fn add(&mut self, rel: &str, bytes: &[u8], _sha256: &str) -> Result<(), ExportError> {
        // The hash is checked when everything is read back (verify_bundle).
        let path = self.root.join(rel);
        let mut f = std::fs::File::create(&path).map_err(|e| write_err(&path, e))?;
        f.write_all(bytes).map_err(|e| write_err(&path, e))?;
        self.written.push(path);
        Ok(())
    }
}

/// Builds the manifests and `SHA256SUMS` and adds them to the sink; returns
/// the number of files added.
pub(crate) fn write_manifests(
    sink: &mut dyn Sink,
    header: &serde_json::Map<String, Value>,
    rows: &[ManifestRow],
    sums: &mut BTreeMap<String, String>,
) -> Result<usize, ExportError> {
    let mut csv_bytes = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut csv_bytes);
        w.write_record(MANIFEST_COLUMNS).map_err(|e| ExportError::Manifest(e.to_string()))?;
        for r in rows {
            w.write_record(MANIFEST_COLUMNS.iter().map(|k| r.get(*k).map(String::as_str).unwrap_or_default()))
                .map_err(|e| ExportError::Manifest(e.to_string()))?;
        }
        w.flush().map_err(|e| ExportError::Manifest(e.to_string()))?;
    }
    let mut doc = header.clone();
    doc.insert(
        "records".into(),
        Value::Array(
            rows.iter()
                .map(|r| {
                    Value::Object(
                        MANIFEST_COLUMNS
                            .iter()
                            .map(|k| (k.to_string(), Value::String(r.get(*k).cloned().unwrap_or_default())))
                            .collect(),
                    )
                })
                .collect(),
        ),
    );
    let json_bytes = serde_json::to_vec_pretty(&doc).map_err(|e| ExportError::Manifest(e.to_string()))?;
    let xlsx_bytes = manifest_xlsx(rows)?;
    let text = |k: &str| header.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let readme = format!(
        "gradcap 导出包 / export bundle {}\n学校 {} · 机位 {} · {} · {} 人 / students\n\
         photos/     学历照片 480×640 / diploma photos\noriginals/  原始照片 / original captures\n\
         manifest.csv / manifest.xlsx / manifest.json  清单 / manifest\n\
         SHA256SUMS  校验值，可用 `sha256sum -c SHA256SUMS` 或 `gradcap verify-bundle` 检查 / checksums\n",
        text("batch"),
        text("school"),
        text("station"),
        text("date"),
        rows.len()
    );
    for (file, bytes) in [
        ("manifest.csv", csv_bytes.as_slice()),
        ("manifest.json", json_bytes.as_slice()),
        ("manifest.xlsx", xlsx_bytes.as_slice()),
        ("说明.txt", readme.as_bytes()),
    ] {
        let hash = sha256_hex(bytes);
        sink.add(file, bytes, &hash)?;
        sums.insert(file.to_string(), hash);
    }
    let sums_text: String = sums.iter().map(|(f, h)| format!("{h}  {f}\n")).collect();
    sink.add("SHA256SUMS", sums_text.as_bytes(), &sha256_hex(sums_text.as_bytes()))?;
    Ok(5)
}

fn manifest_xlsx(rows: &[ManifestRow]) -> Result<Vec<u8>, ExportError> {
    let err = |e: rust_xlsxwriter::XlsxError| ExportError::Manifest(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in MANIFEST_COLUMNS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).map_err(err)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, h) in MANIFEST_COLUMNS.iter().enumerate() {
            // Text cells: a 学号 must never become a number in Excel.
            sheet
                .write_string(r as u32 + 1, c as u16, row.get(*h).map(String::as_str).unwrap_or_default())
                .map_err(err)?;
        }
    }
    book.save_to_buffer().map_err(err)
}

/// What `verify-bundle` found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BundleReport {
    pub files_checked: usize,
    pub records: usize,
    /// The bundle is age-encrypted: only the ciphertext's checksums could be
    /// checked (`gradcap decrypt` checks the rest).
    pub encrypted: bool,
    pub findings: Vec<String>,
}

impl BundleReport {
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }

    /// What `gradcap verify-bundle` prints for people about the bundle `dir`.
    pub fn lines(&self, dir: &Path) -> Vec<String> {
        let mut lines =
            vec![format!("{}: {} records, {} files checked", dir.display(), self.records, self.files_checked)];
        lines.extend(self.findings.iter().map(|f| format!("FAIL  {f}")));
        if self.ok() {
            lines.push("ok    complete and intact".into());
        }
        lines
    }
}

/// Name of the encrypted archive inside an encrypted bundle.
pub const ENCRYPTED_FILE: &str = "bundle.tar.age";

/// Files every plain bundle has besides its photos and originals.
pub const REQUIRED_FILES: [&str; 5] = ["manifest.csv", "manifest.json", "manifest.xlsx", "说明.txt", "SHA256SUMS"];

/// A path as SHA256SUMS or a manifest may name it: relative, inside the
/// bundle, at most one folder deep (`photos/x.jpg`), no `..`.
fn is_bundle_path(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    parts.len() <= 2
        && parts.iter().all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains('\\') && !p.contains(':'))
        && (parts.len() == 1 || parts[0] == "photos" || parts[0] == "originals")
}

/// What an operating system leaves on a drive by itself (macOS `.DS_Store`
/// and `._*` files, Windows `Thumbs.db`, `desktop.ini`): never part of a
/// bundle, and not a fault of one. Bundle files never start with a dot.
fn is_os_litter(name: &str) -> bool {
    name.starts_with('.') || name.eq_ignore_ascii_case("Thumbs.db") || name.eq_ignore_ascii_case("desktop.ini")
}

/// SHA-256 of a file, read in pieces into `buf` (an encrypted bundle is
/// one large file).
/// The most a file read whole from a bundle (a manifest, a photo or an
/// original) may hold — a DSLR original is a few tens of MB: such reads never
/// go past it, whatever a crafted file says.
pub const MAX_BUNDLE_FILE_BYTES: u64 = 64 << 20;

/// Opens `rel` inside the bundle `dir` only if it is a regular file there:
/// no component is a symbolic link, and the file is no device, FIFO or
/// socket (a link to `/dev/zero` or a FIFO once hung the check). The last
/// component is opened without following a link and without blocking, and
/// checked on the open handle, so nothing can be swapped in between. Bundles
/// are data, never paths to follow.
pub(crate) fn open_bundle_file(dir: &Path, rel: &str) -> std::io::Result<std::fs::File> {
    let refuse = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{rel}: {why}"));
    let mut path = dir.to_path_buf();
    for part in rel.split('/') {
        path.push(part);
        if std::fs::symlink_metadata(&path)?.file_type().is_symlink() {
            return Err(refuse("is a symbolic link; only regular files inside the bundle are read"));
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(&path).map_err(|e| match e.raw_os_error() {
        #[cfg(unix)]
        Some(libc::ELOOP) => refuse("is a symbolic link; only regular files inside the bundle are read"),
        _ => e,
    })?;
    if !file.metadata()?.is_file() {
        return Err(refuse("is not a regular file"));
    }
    Ok(file)
}

/// The whole of a bundle file (a manifest, a photo for `merge`), read
/// through [`open_bundle_file`] and never past [`MAX_BUNDLE_FILE_BYTES`].
/// Hashing streams instead (an encrypted bundle is one large file).
pub(crate) fn read_bundle_file(dir: &Path, rel: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let file = open_bundle_file(dir, rel)?;
    if file.metadata()?.len() > MAX_BUNDLE_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{rel}: larger than a photo or manifest"),
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_BUNDLE_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_BUNDLE_FILE_BYTES {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{rel}: grew past the limit")));
    }
    Ok(bytes)
}

fn hash_file(dir: &Path, rel: &str, buf: &mut [u8]) -> std::io::Result<(String, u64)> {
    use sha2::Digest as _;
    use std::io::Read as _;
    // Streamed in pieces: no size limit here (an encrypted bundle is one
    // file of every photo), but only a regular file inside the bundle.
    let mut f = open_bundle_file(dir, rel)?;
    let mut hasher = sha2::Sha256::new();
    let mut total = 0u64;
    loop {
        let n = f.read(buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((crate::store::digest_hex(&hasher.finalize()), total))
}

/// Hashes `files` (inside `dir`) on a few named threads, one file at a
/// time each, telling `done` (on the calling thread) the size of each file
/// as it is finished. Results in the order of `files`.
fn hash_files(dir: &Path, files: &[String], done: &mut dyn FnMut(u64)) -> Vec<std::io::Result<(String, u64)>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4).min(files.len());
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<std::io::Result<(String, u64)>>> = files.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut started = 0;
        for _ in 0..workers {
            let (tx, next) = (tx.clone(), &next);
            let work = move || {
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    if tx.send((i, hash_file(dir, file, &mut buf))).is_err() {
                        break;
                    }
                }
            };
            if std::thread::Builder::new().name("bundle-hash".into()).spawn_scoped(scope, work).is_ok() {
                started += 1;
            }
        }
        drop(tx);
        if started == 0 {
            // No thread could be started: the calling thread does it all.
            let mut buf = vec![0u8; 1 << 20];
            for (i, file) in files.iter().enumerate() {
                let r = hash_file(dir, file, &mut buf);
                done(r.as_ref().map(|(_, len)| *len).unwrap_or(0));
                results[i] = Some(r);
            }
            return;
        }
        for (i, r) in rx {
            done(r.as_ref().map(|(_, len)| *len).unwrap_or(0));
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(r);
            }
        }
    });
    results.into_iter().map(|r| r.unwrap_or_else(|| Err(std::io::Error::other("not read")))).collect()
}

/// Checks a bundle: every file in SHA256SUMS present with its hash, the
/// manifests present, every manifest row's photo and original listed, no
/// stray files.
pub fn verify_bundle(dir: &Path) -> Result<BundleReport, ExportError> {
    verify_bundle_with_progress(dir, &mut |_| {})
}

/// [`verify_bundle`], telling `progress` after each file read.
pub fn verify_bundle_with_progress(
    dir: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<BundleReport, ExportError> {
    let sums_path = dir.join("SHA256SUMS");
    let sums = read_bundle_file(dir, "SHA256SUMS")
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| ExportError::NotABundle(format!("{}: {e}", sums_path.display())))?;
    let mut report = BundleReport::default();
    let mut listed = HashSet::new();
    let entries: Vec<&str> = sums.lines().filter(|l| !l.trim().is_empty()).collect();
    let bytes_total = entries
        .iter()
        .filter_map(|l| l.split_once("  "))
        .filter(|(_, f)| is_bundle_path(f))
        .filter_map(|(_, f)| std::fs::symlink_metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum();
    let mut state =
        Progress { phase: Phase::Verifying, files_done: 0, files_total: entries.len(), bytes_done: 0, bytes_total };
    // file → its hash as read now: every file is read and hashed once.
    let mut actual: HashMap<String, String> = HashMap::new();
    let mut expected: Vec<(String, String)> = Vec::new();
    for line in entries {
        let Some((hash, file)) = line.split_once("  ") else {
            report.findings.push(format!("SHA256SUMS: malformed line {line:?}"));
            continue;
        };
        if !is_bundle_path(file) {
            report.findings.push(format!("SHA256SUMS: {file:?} is not a path inside the bundle"));
            continue;
        }
        listed.insert(file.to_string());
        expected.push((file.to_string(), hash.to_string()));
    }
    let files: Vec<String> = expected.iter().map(|(f, _)| f.clone()).collect();
    state.files_total = files.len();
    let results = hash_files(dir, &files, &mut |len| {
        state.files_done += 1;
        state.bytes_done += len;
        progress(&state);
    });
    for ((file, hash), result) in expected.into_iter().zip(results) {
        match result {
            Ok((got, _)) => {
                if got == hash {
                    report.files_checked += 1;
                } else {
                    report.findings.push(format!("{file}: content differs from its checksum"));
                }
                actual.insert(file, got);
            }
            Err(e) => report.findings.push(format!("{file}: missing ({e})")),
        }
    }
    if listed.contains(ENCRYPTED_FILE) && !dir.join("manifest.json").exists() {
        report.encrypted = true;
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name != "SHA256SUMS" && !listed.contains(&name) && !is_os_litter(&name) {
                report.findings.push(format!("{name}: not in SHA256SUMS"));
            }
        }
        return Ok(report);
    }
    for required in REQUIRED_FILES {
        if required != "SHA256SUMS" && !listed.contains(required) {
            report.findings.push(format!("{required}: missing from the bundle and from SHA256SUMS"));
        }
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !REQUIRED_FILES.contains(&name.as_str()) && name != "photos" && name != "originals" && !is_os_litter(&name) {
            report.findings.push(format!("{name}: not part of a bundle (stray file)"));
        }
    }
    for sub in ["photos", "originals"] {
        for entry in std::fs::read_dir(dir.join(sub)).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let rel = format!("{sub}/{name}");
            if !listed.contains(&rel) && !is_os_litter(&name) {
                report.findings.push(format!("{rel}: not in SHA256SUMS"));
            }
        }
    }
    for row in read_manifest(dir)? {
        report.records += 1;
        let photo = row.get("photo_file").cloned().unwrap_or_default();
        let seq = row.get("seq").cloned().unwrap_or_default();
        let original = photo.replacen("photos/", "originals/", 1);
        if !photo.starts_with("photos/") || !is_bundle_path(&photo) {
            report.findings.push(format!("manifest row {seq}: photo_file {photo:?} is not a file in photos/"));
            continue;
        }
        for (file, key) in [(photo, "photo_sha256"), (original, "original_sha256")] {
            if !listed.contains(&file) {
                report.findings.push(format!("manifest row {seq}: {file} is not in the bundle"));
            } else if let Some(got) = actual.get(&file) {
                if Some(got) != row.get(key) {
                    report.findings.push(format!("manifest row {seq}: {file} differs from the manifest"));
                }
            }
        }
    }
    Ok(report)
}

/// The rows of a bundle's `manifest.json`.
pub fn read_manifest(dir: &Path) -> Result<Vec<ManifestRow>, ExportError> {
    Ok(read_manifest_doc(dir)?.1)
}

/// `manifest.json`: its header fields and its rows.
pub(crate) fn read_manifest_doc(dir: &Path) -> Result<(serde_json::Map<String, Value>, Vec<ManifestRow>), ExportError> {
    let bytes =
        read_bundle_file(dir, "manifest.json").map_err(|e| ExportError::NotABundle(format!("manifest.json: {e}")))?;
    let doc: Value =
        serde_json::from_slice(&bytes).map_err(|e| ExportError::NotABundle(format!("manifest.json: {e}")))?;
    let Value::Object(mut header) = doc else {
        return Err(ExportError::NotABundle("manifest.json: not an object".into()));
    };
    let records = header.remove("records");
    let rows = records
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|row| {
            row.as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                .collect()
        })
        .collect();
    Ok((header, rows))
}

/// The bundle "check a bundle" means for the folder `target` the operator
/// typed or chose, given the bundle `last` written or checked before: the
/// folder itself when it is a bundle (it has `SHA256SUMS`); else `last`
/// when it lies inside it; else the newest bundle directly inside it (a
/// drive holding several days); else `target`, which the check then
/// reports as no bundle. A result never outlives a change of the folder.
pub fn bundle_to_check(target: &Path, last: Option<&Path>) -> PathBuf {
    if target.join("SHA256SUMS").is_file() {
        return target.to_path_buf();
    }
    if let Some(last) = last.filter(|l| l.parent() == Some(target) && l.join("SHA256SUMS").is_file()) {
        return last.to_path_buf();
    }
    let newest = std::fs::read_dir(target)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("SHA256SUMS").is_file())
        .filter_map(|p| {
            let modified = std::fs::metadata(p.join("SHA256SUMS")).and_then(|m| m.modified()).ok()?;
            Some((modified, p))
        })
        .max();
    newest.map(|(_, p)| p).unwrap_or_else(|| target.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("SHA256SUMS"), "").unwrap();
        dir.to_path_buf()
    }

    #[test]
    fn the_bundle_checked_follows_the_folder_chosen() {
        let tmp = tempfile::tempdir().unwrap();
        let (e, f) = (tmp.path().join("E"), tmp.path().join("F"));
        let on_e = bundle(&e.join("school_1_20261208-1000"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        let newer_on_e = bundle(&e.join("school_1_20261208-1700"));
        // The folder is a bundle: that one.
        assert_eq!(bundle_to_check(&on_e, Some(&newer_on_e)), on_e);
        // The drive, with the bundle just written on it: that one.
        assert_eq!(bundle_to_check(&e, Some(&on_e)), on_e);
        // Another drive chosen since: never the first drive's bundle.
        std::fs::create_dir_all(&f).unwrap();
        assert_eq!(bundle_to_check(&f, Some(&on_e)), f);
        let on_f = bundle(&f.join("school_1_20261209-0900"));
        assert_eq!(bundle_to_check(&f, Some(&on_e)), on_f);
        // Nothing known: the newest bundle on the drive.
        assert_eq!(bundle_to_check(&e, None), newer_on_e);
        // A folder that is gone: itself, for the check to report.
        let gone = tmp.path().join("gone");
        assert_eq!(bundle_to_check(&gone, Some(&on_e)), gone);
    }
}
