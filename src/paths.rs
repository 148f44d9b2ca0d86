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

/// Free space on the disk holding `path` (its folder when it does not exist yet).
pub fn free_space(path: &Path) -> Option<u64> {
    let dir = if path.is_dir() { path } else { path.parent().filter(|p| !p.as_os_str().is_empty())? };
    fs4::available_space(dir).ok()
}

/// Mounted removable drives the export can write to: `/media/USER/*` and
/// `/run/media/USER/*` on Linux, `/Volumes/*` on macOS, drive letters D–Z on
/// Windows. Any folder can be typed instead.
pub fn removable_targets() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in ["/media", "/run/media"] {
        for user in std::fs::read_dir(root).into_iter().flatten().flatten() {
            for mount in std::fs::read_dir(user.path()).into_iter().flatten().flatten() {
                if mount.path().is_dir() {
                    out.push(mount.path());
                }
            }
        }
    }
    for vol in std::fs::read_dir("/Volumes").into_iter().flatten().flatten() {
        if vol.path().is_dir() && vol.file_name() != "Macintosh HD" {
            out.push(vol.path());
        }
    }
    if cfg!(windows) {
        for letter in b'D'..=b'Z' {
            let p = PathBuf::from(format!("{}:\\", letter as char));
            if p.is_dir() {
                out.push(p);
            }
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
    fn db_flag_wins_then_data_dir() {
        let db = db_path(Some(Path::new("/x/a.sqlite")), Some(Path::new("/y"))).unwrap();
        assert_eq!(db, PathBuf::from("/x/a.sqlite"));
        let db = db_path(None, Some(Path::new("/y"))).unwrap();
        assert_eq!(db, PathBuf::from("/y/gradcap.sqlite"));
    }
}
