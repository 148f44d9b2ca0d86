//! Windows' own answers about drives: which drive letters exist and of what
//! kind (`GetDriveTypeW`), their volume labels and serial numbers
//! (`GetVolumeInformationW`), and the volume a path is on
//! (`GetVolumePathNameW`). The only `unsafe` code in gradcap: each call is
//! given NUL-terminated UTF-16 it owns and buffers whose length it states.
#![allow(unsafe_code)]

use std::ffi::OsStr;
use std::os::windows::ffi::{OsStrExt as _, OsStringExt as _};
use std::path::{Path, PathBuf};

use windows_sys::Win32::Storage::FileSystem::{
    GetDriveTypeW, GetLogicalDrives, GetVolumeInformationW, GetVolumePathNameW,
};

// winbase.h's drive types (the values of GetDriveTypeW).
const DRIVE_REMOVABLE: u32 = 2;
const DRIVE_FIXED: u32 = 3;
const DRIVE_REMOTE: u32 = 4;

/// One drive letter: its root (`E:\`), whether Windows calls it removable,
/// and its volume label (empty when it has none).
#[derive(Debug, Clone)]
pub struct Drive {
    pub root: PathBuf,
    pub removable: bool,
    pub label: String,
}

fn wide(s: &OsStr) -> Vec<u16> {
    s.encode_wide().chain(Some(0)).collect()
}

fn from_wide(buf: &[u16]) -> String {
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    std::ffi::OsString::from_wide(&buf[..end]).to_string_lossy().into_owned()
}

/// The label and serial number of the volume whose root is `root`
/// (NUL-terminated); `None` when it has no medium (an empty card reader).
fn volume_info(root: &[u16]) -> Option<(String, u32)> {
    let mut label = [0u16; 261];
    let mut serial = 0u32;
    // SAFETY: `root` is NUL-terminated; `label` is writable for the length
    // given; the serial is a valid u32; the unused outputs are null, which
    // the call allows.
    let ok = unsafe {
        GetVolumeInformationW(
            root.as_ptr(),
            label.as_mut_ptr(),
            label.len() as u32,
            &mut serial,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    (ok != 0).then(|| (from_wide(&label), serial))
}

/// Every drive letter an export could write to: removable drives with a
/// medium first, then fixed and network drives other than the system drive
/// (a USB hard disk calls itself fixed). CD drives and empty readers are left out.
pub fn drives() -> Vec<Drive> {
    // SAFETY: no arguments; returns a bit mask.
    let mask = unsafe { GetLogicalDrives() };
    let system = std::env::var("SystemDrive").unwrap_or_else(|_| "C:".into()).to_ascii_uppercase();
    let mut removable = Vec::new();
    let mut others = Vec::new();
    for i in 0..26u8 {
        if mask & (1 << i) == 0 {
            continue;
        }
        let letter = (b'A' + i) as char;
        let root = format!("{letter}:\\");
        let root_w = wide(OsStr::new(&root));
        // SAFETY: `root_w` is NUL-terminated UTF-16.
        let kind = unsafe { GetDriveTypeW(root_w.as_ptr()) };
        let is_system = root.starts_with(&system);
        let wanted = kind == DRIVE_REMOVABLE || ((kind == DRIVE_FIXED || kind == DRIVE_REMOTE) && !is_system);
        if !wanted || letter < 'C' {
            continue;
        }
        let Some((label, _)) = volume_info(&root_w) else { continue };
        let drive = Drive { root: PathBuf::from(root), removable: kind == DRIVE_REMOVABLE, label };
        if drive.removable {
            removable.push(drive);
        } else {
            others.push(drive);
        }
    }
    removable.extend(others);
    removable
}

/// The serial number of the volume `path` is on: what tells the drive chosen
/// from another one mounted at the same letter later.
pub fn volume_serial(path: &Path) -> Option<u64> {
    let absolute = std::path::absolute(path).ok()?;
    let path_w = wide(absolute.as_os_str());
    let mut root = vec![0u16; path_w.len().max(261) + 1];
    // SAFETY: `path_w` is NUL-terminated; `root` is writable for the length given.
    let ok = unsafe { GetVolumePathNameW(path_w.as_ptr(), root.as_mut_ptr(), root.len() as u32) };
    if ok == 0 {
        return None;
    }
    let end = root.iter().position(|&c| c == 0)?;
    root.truncate(end + 1);
    volume_info(&root).map(|(_, serial)| u64::from(serial))
}
