//! Where the station keeps its files: the OS's per-user data directory,
//! overridden by `--data-dir` or `GRADCAP_DATA_DIR`; `--db` overrides the
//! database file for every subcommand.

use std::path::{Path, PathBuf};

/// File name of the station database inside the data directory.
pub const DB_FILE_NAME: &str = "gradcap.sqlite";

/// Errors finding the data directory.
#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    #[error("找不到用户数据目录，请用 --data-dir 或 GRADCAP_DATA_DIR 指定 / no per-user data directory: set --data-dir or GRADCAP_DATA_DIR")]
    NoDataDir,
}

impl crate::text::Bilingual for PathsError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::NoDataDir => Text::new(
                "找不到用户数据目录，请用 --data-dir 或 GRADCAP_DATA_DIR 指定",
                "no per-user data directory: set --data-dir or GRADCAP_DATA_DIR",
            ),
        }
    }
}

/// The data directory: `explicit` (flag or environment) or the OS default
/// (e.g. `~/.local/share/gradcap` on Linux, `%APPDATA%\gradcap\data` on Windows).
pub fn data_dir(explicit: Option<&Path>) -> Result<PathBuf, PathsError> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    directories::ProjectDirs::from("cn", "gradcap", "gradcap")
        .map(|p| p.data_dir().to_path_buf())
        .ok_or(PathsError::NoDataDir)
}

/// The database path: `db` if given, else the data directory's database.
pub fn db_path(db: Option<&Path>, data_dir_override: Option<&Path>) -> Result<PathBuf, PathsError> {
    match db {
        Some(db) => Ok(db.to_path_buf()),
        None => Ok(data_dir(data_dir_override)?.join(DB_FILE_NAME)),
    }
}

/// Below this much free space the station warns (about 3 000 takes' worth).
pub const LOW_SPACE_BYTES: u64 = 1 << 30;

/// The training database that goes with a station database: beside it,
/// `NAME-training.sqlite`. Training never writes into the station's own file.
pub fn training_db(station_db: &Path) -> PathBuf {
    let stem = station_db.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "gradcap".into());
    station_db.with_file_name(format!("{stem}-training.sqlite"))
}

/// Free space on the disk holding `path` (its folder when it does not exist yet).
pub fn free_space(path: &Path) -> Option<u64> {
    let dir = if path.is_dir() { path } else { path.parent().filter(|p| !p.as_os_str().is_empty())? };
    fs4::available_space(dir).ok()
}

/// A drive the export can write to, as the export view lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drive {
    pub path: PathBuf,
    /// The volume label where the system gives one (Windows), else empty.
    pub label: String,
}

impl Drive {
    fn at(path: PathBuf) -> Self {
        Drive { path, label: String::new() }
    }

    /// `E:\ (KINGSTON)`, or the path alone.
    pub fn display(&self) -> String {
        if self.label.is_empty() {
            self.path.display().to_string()
        } else {
            format!("{} ({})", self.path.display(), self.label)
        }
    }
}

/// Mounted removable drives the export can write to. Linux: every mount
/// point under `/media` or `/run/media` (any depth: `/media/usb0` and
/// `/media/USER/LABEL` alike) and every mount of a block device the kernel
/// calls removable (`/sys/class/block/*/removable`), wherever mounted;
/// macOS: `/Volumes/*` but the system volume; Windows: the drive letters
/// `GetDriveTypeW` calls removable (with a medium), then fixed and network
/// drives other than the system drive (a USB hard disk calls itself fixed),
/// each with its volume label. Any folder can be typed instead.
pub fn removable_targets() -> Vec<Drive> {
    let mut out = Vec::new();
    // Bytes, not text: one mount point that is not UTF-8 must not hide the rest.
    if let Ok(mounts) = std::fs::read("/proc/self/mounts") {
        out = removable_mounts(&mounts, &block_device_is_removable).into_iter().map(Drive::at).collect();
    }
    for vol in std::fs::read_dir("/Volumes").into_iter().flatten().flatten() {
        let is_system = std::fs::canonicalize(vol.path()).map(|p| p == Path::new("/")).unwrap_or(false);
        if vol.path().is_dir() && !is_system && vol.file_name() != "Macintosh HD" {
            out.push(Drive::at(vol.path()));
        }
    }
    #[cfg(windows)]
    out.extend(windows::drives().into_iter().map(|d| Drive { path: d.root, label: d.label }));
    out
}

#[cfg(windows)]
mod windows;

/// Renames `from` over `to`. On Windows a file that another program holds
/// open without sharing its deletion (an antivirus scan, a preview, a backup
/// tool) cannot be replaced or removed for a moment: the rename is tried
/// again for up to [`REPLACE_RETRY_MS`]. Elsewhere it is one `rename`.
pub fn replace(from: &Path, to: &Path) -> std::io::Result<()> {
    let started = std::time::Instant::now();
    let mut pause_ms = 10;
    loop {
        match std::fs::rename(from, to) {
            Err(e) if held_by_another(&e) && started.elapsed().as_millis() < u128::from(REPLACE_RETRY_MS) => {
                std::thread::sleep(std::time::Duration::from_millis(pause_ms));
                pause_ms = (pause_ms * 2).min(200);
            }
            other => return other,
        }
    }
}

/// How long [`replace`] keeps trying while another program holds the file.
pub const REPLACE_RETRY_MS: u64 = 5_000;

/// Windows' "in use" answers: access denied (a file open without
/// FILE_SHARE_DELETE, or one being deleted), sharing and lock violations.
fn held_by_another(e: &std::io::Error) -> bool {
    cfg!(windows) && matches!(e.raw_os_error(), Some(5 | 32 | 33))
}

/// Writes a file a user or the station reads later so that it is whole or
/// not there: the bytes go to `NAME.partial` beside it, are flushed to the
/// drive (fsync; FlushFileBuffers on Windows), and the file is renamed into
/// place ([`replace`]), the folder synced where the system allows it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let partial = partial_path(path);
    let written = std::fs::File::create(&partial).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| replace(&partial, path)) {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    sync_dir(dir.unwrap_or(Path::new(".")));
    Ok(())
}

/// `NAME.partial` beside `path`.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// Syncs a folder's entries (a rename in it) to the drive: Unix only; on
/// Windows the rename is durable once the file's own buffers are flushed.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// The mount points in `mounts` (the text of `/proc/self/mounts`) that are
/// removable drives: under `/media` or `/run/media`, or a device that
/// `is_removable` (given `/dev/sdb1`) says is one. In mount order, once each.
pub fn removable_mounts(mounts: &[u8], is_removable: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for line in mounts.split(|&b| b == b'\n') {
        let mut fields = line.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty());
        let (Some(device), Some(point)) = (fields.next(), fields.next()) else { continue };
        let device = String::from_utf8_lossy(device);
        let point = unescape_mount(point);
        let under_media = [&b"/media/"[..], b"/run/media/"].iter().any(|root| point.starts_with(root));
        if (under_media || (device.starts_with("/dev/") && is_removable(&device))) && point != b"/" {
            let path = bytes_to_path(point);
            if !out.contains(&path) {
                out.push(path);
            }
        }
    }
    out
}

#[cfg(unix)]
fn bytes_to_path(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt as _;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn bytes_to_path(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// `/proc/self/mounts` writes a space as `\040`, a tab `\011`, a newline
/// `\012` and a backslash `\134`.
fn unescape_mount(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let code = bytes
            .get(i + 1..i + 4)
            .filter(|_| bytes[i] == b'\\')
            .and_then(|d| std::str::from_utf8(d).ok().and_then(|d| u8::from_str_radix(d, 8).ok()));
        match code {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// The kernel's `removable` flag of a block device (`/dev/sdb1`): the
/// partition's own, else its disk's.
fn block_device_is_removable(device: &str) -> bool {
    let Some(name) = device.strip_prefix("/dev/") else { return false };
    if name.contains('/') {
        return false;
    }
    let dir = Path::new("/sys/class/block").join(name);
    let flag = |d: &Path| std::fs::read_to_string(d.join("removable")).ok().map(|t| t.trim() == "1");
    flag(&dir)
        .or_else(|| std::fs::canonicalize(&dir).ok().and_then(|real| real.parent().and_then(flag)))
        .unwrap_or(false)
}

/// Keeps what a file name may hold on FAT/NTFS/ext4; Chinese stays.
pub fn safe_name(s: &str) -> String {
    let cleaned: String =
        s.trim().chars().map(|c| if c.is_control() || "/\\:*?\"<>|".contains(c) { '_' } else { c }).collect();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "_".into()
    } else {
        cleaned
    }
}

/// Makes the `.jpg` name `name` unique among `used` (compared without case)
/// by construction and records it as used: `{stem}_{tag}.jpg`, then
/// `{stem}_{tag}_{n}.jpg`; without a tag `{stem}_{n}.jpg` from 2.
pub fn unique_name(name: String, tag: Option<&str>, used: &mut std::collections::HashSet<String>) -> String {
    if used.insert(name.to_lowercase()) {
        return name;
    }
    let stem = name.strip_suffix(".jpg").or_else(|| name.strip_suffix(".JPG")).unwrap_or(&name).to_string();
    let tagged = match tag {
        Some(tag) => format!("{stem}_{}", safe_name(tag)),
        None => stem,
    };
    let mut candidate = match tag {
        Some(_) => format!("{tagged}.jpg"),
        None => format!("{tagged}_2.jpg"),
    };
    let mut n = if tag.is_some() { 2 } else { 3 };
    while !used.insert(candidate.to_lowercase()) {
        candidate = format!("{tagged}_{n}.jpg");
        n += 1;
    }
    candidate
}

/// Image files a replay camera plays (and the image crate decodes).
pub const FRAME_IMAGE_EXTENSIONS: [&str; 5] = ["png", "jpg", "jpeg", "bmp", "gif"];

/// The files in `dir` whose extension (any case) is one of `extensions`, sorted by name.
pub fn images_in(dir: &Path, extensions: &[&str]) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Image files named directly, and the images inside named folders (each
/// folder sorted; an unreadable folder gives none).
pub fn expand_images(inputs: &[PathBuf], extensions: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            out.extend(images_in(input, extensions).unwrap_or_default());
        } else {
            out.push(input.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_read_for_a_file_that_does_not_exist_yet() {
        let dir = tempfile::tempdir().unwrap();
        let space = free_space(&dir.path().join("gradcap.sqlite")).unwrap();
        assert!(space > 0);
    }

    #[test]
    fn removable_mounts_are_found_under_media_and_by_the_kernel_flag() {
        let mounts = "/dev/vda / ext4 rw 0 0
proc /proc proc rw 0 0
/dev/sdb1 /media/usb0 vfat rw 0 0
/dev/sdc1 /media/op/KINGSTON\\040USB vfat rw 0 0
/dev/sdd1 /run/media/op/DATA exfat rw 0 0
/dev/sde1 /mnt/stick vfat rw 0 0
/dev/sdf1 /mnt/backup ext4 rw 0 0
/dev/sde1 /mnt/stick vfat rw 0 0
tmpfs /run tmpfs rw 0 0
";
        let removable = |dev: &str| dev == "/dev/sde1" || dev == "/dev/vda";
        let found = removable_mounts(mounts.as_bytes(), &removable);
        let expected: Vec<PathBuf> =
            ["/media/usb0", "/media/op/KINGSTON USB", "/run/media/op/DATA", "/mnt/stick"].map(PathBuf::from).into();
        assert_eq!(found, expected, "the root file system is never offered; a fixed disk under /mnt is not either");
        // A mount point that is not UTF-8 (an escaped Latin-1 byte) is kept
        // exactly and hides nothing else.
        let odd = b"/dev/sdb1 /media/op/CAF\\351 vfat rw 0 0\n/dev/sdc1 /media/op/B vfat rw 0 0\n";
        let found = removable_mounts(odd, &|_| false);
        assert_eq!(found.len(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt as _;
            assert_eq!(found[0].as_os_str().as_bytes(), b"/media/op/CAF\xe9");
        }
    }

    #[test]
    fn db_flag_wins_then_data_dir() {
        let db = db_path(Some(Path::new("/x/a.sqlite")), Some(Path::new("/y"))).unwrap();
        assert_eq!(db, PathBuf::from("/x/a.sqlite"));
        let db = db_path(None, Some(Path::new("/y"))).unwrap();
        assert_eq!(db, PathBuf::from("/y/gradcap.sqlite"));
    }
}

/// A `.partial` (file or folder) being written by this process, said so by
/// a locked `NAME.partial.lock` beside it. A killed backup or merge leaves
/// its lock file unlocked: [`remove_stale_partials`] then removes both.
#[derive(Debug)]
pub struct PartialLock {
    lock_path: PathBuf,
    _file: std::fs::File,
}

impl PartialLock {
    /// Takes the lock of `partial`; fails when another process holds it.
    pub fn take(partial: &Path) -> std::io::Result<Self> {
        let lock_path = lock_path_of(partial);
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path)?;
        if fs4::FileExt::try_lock(&file).is_err() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!("{} is being written by another process", partial.display()),
            ));
        }
        Ok(PartialLock { lock_path, _file: file })
    }
}

impl Drop for PartialLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

fn lock_path_of(partial: &Path) -> PathBuf {
    let mut name = partial.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    partial.with_file_name(name)
}

/// Removes from `dir` every `.partial` whose lock file no process holds (a
/// backup or merge killed half-way), and the lock file; and, for names
/// `is_ours` accepts, a `.partial` with no lock file at all (left by a build
/// before the locks) once it is an hour old. Returns what went.
pub fn remove_stale_partials(dir: &Path, is_ours: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return removed };
    let remove = |partial: &Path| {
        if partial.is_dir() {
            std::fs::remove_dir_all(partial)
        } else {
            std::fs::remove_file(partial)
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        if let Some(partial_name) = name.strip_suffix(".lock").filter(|p| p.ends_with(".partial")) {
            let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) else { continue };
            if fs4::FileExt::try_lock(&file).is_err() {
                continue; // still being written
            }
            let partial = dir.join(partial_name);
            if !partial.exists() || remove(&partial).is_ok() {
                removed.push(partial);
                drop(file);
                let _ = std::fs::remove_file(&path);
            }
        } else if name.ends_with(".partial") && is_ours(&name) && !lock_path_of(&path).exists() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600));
            if old && remove(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    removed
}

/// The device a path is on (`st_dev` on Unix, the volume serial number on
/// Windows); the
/// export compares it, not the path, to know the drive is still the one chosen.
pub fn device_id(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(path).ok().map(|m| m.dev())
    }
    #[cfg(windows)]
    {
        windows::volume_serial(path)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = path;
        None
    }
}
