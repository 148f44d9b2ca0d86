//! Native file and folder dialogs for the office tasks (rfd: on Linux the
//! XDG desktop portal over D-Bus, so the build needs no GTK development
//! package; the shell's dialog on Windows). A dialog is asked on its own thread (`file-dialog`) so the
//! window keeps drawing the camera and the queue while it is open; the
//! chosen path comes back through a channel the frame loop polls. Tests put
//! [`ChosenPaths`] in its place.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

pub use crate::ui::state::Pick;

/// The kind of dialog a [`Pick`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickKind {
    /// An existing file, of these extensions.
    OpenFile { extensions: &'static [&'static str] },
    /// A file to write, with this name proposed.
    SaveFile { name: String },
    /// A folder.
    Folder,
    /// One or more folders.
    Folders,
}

/// The dialog's title for `pick`, in both languages.
pub fn title(pick: &Pick) -> crate::text::Text {
    use crate::text::Text;
    match pick {
        Pick::Roster { .. } => Text::new("选择名单文件（xlsx / xls / csv）", "Choose a roster (xlsx / xls / csv)"),
        Pick::Schedule => Text::new("选择日程文件（xlsx / csv）", "Choose a schedule (xlsx / csv)"),
        Pick::RegisterPdf { class } => {
            Text::new(format!("保存 {class} 的登记表"), format!("Save the register of {class}"))
        }
        Pick::SheetPdf { class } => Text::new(format!("保存 {class} 的核对单"), format!("Save the sheet of {class}")),
        Pick::PrintsFolder { class, .. } => {
            Text::new(format!("{class} 的冲印排版存放到"), format!("Folder for the print sheets of {class}"))
        }
        Pick::ExportTarget => Text::new("选择导出目标文件夹", "Choose the export's target folder"),
        Pick::Keygen => Text::new("保存私钥文件（勿放在工作站上）", "Save the identity file (not on the station)"),
        Pick::DecryptBundle => Text::new("选择加密的导出包", "Choose the encrypted bundle"),
        Pick::DecryptIdentity { .. } => Text::new("选择私钥文件", "Choose the identity file"),
        Pick::DecryptTo { .. } => Text::new("解密后的导出包存放到", "Folder for the decrypted bundle"),
        Pick::MergeBundles => Text::new("选择各机位的导出包（可多选）", "Choose the stations' bundles (several)"),
        Pick::MergeTo { .. } => Text::new("合并后的导出包存放到", "Folder for the merged bundle"),
        Pick::StudentFolder { .. } => {
            Text::new("该学生的照片与记录存放到", "Folder for the student's photos and record")
        }
    }
}

/// The dialog `pick` needs.
pub fn kind(pick: &Pick) -> PickKind {
    match pick {
        Pick::Roster { .. } | Pick::Schedule => PickKind::OpenFile { extensions: &["xlsx", "xls", "csv"] },
        Pick::RegisterPdf { class } => {
            PickKind::SaveFile { name: format!("{}-登记表.pdf", crate::paths::safe_name(class)) }
        }
        Pick::SheetPdf { class } => {
            PickKind::SaveFile { name: format!("{}-核对单.pdf", crate::paths::safe_name(class)) }
        }
        Pick::Keygen => PickKind::SaveFile { name: "gradcap-identity.txt".into() },
        Pick::DecryptIdentity { .. } => PickKind::OpenFile { extensions: &["txt", "key", "age"] },
        Pick::MergeBundles => PickKind::Folders,
        Pick::PrintsFolder { .. }
        | Pick::ExportTarget
        | Pick::DecryptBundle
        | Pick::DecryptTo { .. }
        | Pick::MergeTo { .. }
        | Pick::StudentFolder { .. } => PickKind::Folder,
    }
}

/// Shows a dialog and answers with the paths chosen (none: cancelled).
/// Called on the dialog thread, never on the UI's.
pub trait PathPicker: Send + Sync + std::fmt::Debug {
    fn pick(&self, title: &str, kind: &PickKind) -> Result<Vec<PathBuf>, PickError>;
}

/// Why no dialog could be shown (as opposed to the user cancelling it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickError {
    #[error("no desktop session bus: file dialogs cannot be shown")]
    NoSessionBus,
    #[error("no XDG desktop portal with a file chooser: file dialogs cannot be shown")]
    NoPortal,
}

impl crate::text::Bilingual for PickError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        let cli = "命令行可做同样的事（gradcap roster import、register、sheet、prints、merge、keygen、decrypt）";
        let cli_en =
            "the command line does the same (gradcap roster import, register, sheet, prints, merge, keygen, decrypt)";
        match self {
            Self::NoSessionBus => Text::new(
                format!("无法打开文件对话框：没有桌面会话总线（D-Bus）。请在桌面会话中运行；{cli}"),
                format!("cannot open a file dialog: no desktop session bus (D-Bus); run in a desktop session, or {cli_en}"),
            ),
            Self::NoPortal => Text::new(
                format!("无法打开文件对话框：本机没有 XDG 桌面门户（请安装 xdg-desktop-portal 和 xdg-desktop-portal-gtk）；{cli}"),
                format!(
                    "cannot open a file dialog: this machine has no XDG desktop portal (install xdg-desktop-portal and xdg-desktop-portal-gtk), or {cli_en}"
                ),
            ),
        }
    }
}

/// Whether a file dialog can be shown on this Linux desktop: a session bus
/// (`DBUS_SESSION_BUS_ADDRESS`, or `bus` in `XDG_RUNTIME_DIR`) and, in one
/// of the data folders, the portal's D-Bus service and a portal backend
/// that offers a file chooser. Without them rfd's dialog returns nothing,
/// which would look like a cancel.
pub fn portal_status(session_bus: bool, data_dirs: &[PathBuf]) -> Result<(), PickError> {
    if !session_bus {
        return Err(PickError::NoSessionBus);
    }
    let service = data_dirs.iter().any(|d| d.join("dbus-1/services/org.freedesktop.portal.Desktop.service").is_file());
    let chooser = data_dirs.iter().any(|d| {
        std::fs::read_dir(d.join("xdg-desktop-portal/portals")).into_iter().flatten().flatten().any(|e| {
            e.path().extension().is_some_and(|x| x == "portal")
                && std::fs::read_to_string(e.path())
                    .is_ok_and(|t| t.contains("org.freedesktop.impl.portal.FileChooser"))
        })
    });
    if service && chooser {
        Ok(())
    } else {
        Err(PickError::NoPortal)
    }
}

/// [`portal_status`] of this session, from its environment.
#[cfg(target_os = "linux")]
fn this_desktop() -> Result<(), PickError> {
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).join("bus").exists());
    let dirs = std::env::var("XDG_DATA_DIRS").ok().filter(|v| !v.is_empty());
    let dirs: Vec<PathBuf> =
        dirs.as_deref().unwrap_or("/usr/local/share:/usr/share").split(':').map(PathBuf::from).collect();
    portal_status(bus, &dirs)
}

/// The system's dialogs. On Linux owned by the station's window when made
/// with [`NativeDialogs::owned_by`] (the portal keeps the dialog in front of
/// it). On Windows without an owner: a dialog owned by the window from the
/// dialog's thread left the window without input for seconds after it
/// closed under Wine; the top bar says a dialog is open instead, in case it
/// went behind the window.
#[derive(Debug, Default)]
pub struct NativeDialogs {
    base: rfd::FileDialog,
}

impl NativeDialogs {
    /// Dialogs owned by `window` (the eframe creation context or frame);
    /// on Windows the same as [`Default`].
    pub fn owned_by<W>(window: &W) -> Self
    where
        W: raw_window_handle::HasWindowHandle + raw_window_handle::HasDisplayHandle + ?Sized,
    {
        if cfg!(windows) {
            return NativeDialogs::default();
        }
        NativeDialogs { base: rfd::FileDialog::new().set_parent(window) }
    }
}

/// The name of the file-type filter for `extensions` ("xlsx / xls / csv"):
/// the portal refuses a filter without a name ("invalid filter: name is
/// empty") and Windows shows the name in its type list.
pub fn filter_name(extensions: &[&str]) -> String {
    extensions.join(" / ")
}

impl PathPicker for NativeDialogs {
    fn pick(&self, title: &str, kind: &PickKind) -> Result<Vec<PathBuf>, PickError> {
        #[cfg(target_os = "linux")]
        this_desktop()?;
        let dialog = self.base.clone().set_title(title);
        Ok(match kind {
            PickKind::OpenFile { extensions } => {
                dialog.add_filter(filter_name(extensions), extensions).pick_file().into_iter().collect()
            }
            PickKind::SaveFile { name } => dialog.set_file_name(name).save_file().into_iter().collect(),
            PickKind::Folder => dialog.pick_folder().into_iter().collect(),
            PickKind::Folders => dialog.pick_folders().unwrap_or_default(),
        })
    }
}

/// Paths chosen in advance, answered in order (tests: the dialog replaced
/// by a chosen path). Empty: cancelled.
#[derive(Debug, Default)]
pub struct ChosenPaths {
    paths: Mutex<VecDeque<Result<Vec<PathBuf>, PickError>>>,
    asked: Mutex<Vec<(String, PickKind)>>,
}

impl ChosenPaths {
    /// The next answer: one path.
    pub fn push(&self, path: PathBuf) {
        self.push_many(vec![path]);
    }

    /// The next answer: several paths (folders picked together).
    pub fn push_many(&self, paths: Vec<PathBuf>) {
        if let Ok(mut answers) = self.paths.lock() {
            answers.push_back(Ok(paths));
        }
    }

    /// The next dialog cannot be shown at all.
    pub fn push_error(&self, e: PickError) {
        if let Ok(mut answers) = self.paths.lock() {
            answers.push_back(Err(e));
        }
    }

    /// The dialogs asked so far (title, kind).
    pub fn asked(&self) -> Vec<(String, PickKind)> {
        self.asked.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

impl PathPicker for ChosenPaths {
    fn pick(&self, title: &str, kind: &PickKind) -> Result<Vec<PathBuf>, PickError> {
        if let Ok(mut asked) = self.asked.lock() {
            asked.push((title.to_string(), kind.clone()));
        }
        self.paths.lock().ok().and_then(|mut p| p.pop_front()).unwrap_or(Ok(Vec::new()))
    }
}

/// The dialog that is open, if one is, and the answers coming back.
pub struct Dialogs {
    picker: Arc<dyn PathPicker>,
    answers_tx: Sender<(Pick, Result<Vec<PathBuf>, PickError>)>,
    answers: Receiver<(Pick, Result<Vec<PathBuf>, PickError>)>,
    open: Option<Pick>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for Dialogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialogs").field("open", &self.open).finish_non_exhaustive()
    }
}

impl Dialogs {
    pub fn new(picker: Arc<dyn PathPicker>, wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        let (answers_tx, answers) = channel();
        Dialogs { picker, answers_tx, answers, open: None, wake }
    }

    /// Opens the dialog `pick` needs, titled in `title`. False when one is
    /// open already or no thread could be had.
    pub fn ask(&mut self, pick: Pick, title: String) -> bool {
        if self.open.is_some() {
            return false;
        }
        let (picker, tx, kind, asked) = (self.picker.clone(), self.answers_tx.clone(), kind(&pick), pick.clone());
        let wake = self.wake.clone();
        let spawned = std::thread::Builder::new().name("file-dialog".into()).spawn(move || {
            tracing::info!("file dialog open: {title}");
            let path = picker.pick(&title, &kind);
            match &path {
                Ok(paths) => tracing::info!("file dialog closed: {} path(s) chosen", paths.len()),
                Err(e) => tracing::warn!("file dialog: {e}"),
            }
            let _ = tx.send((asked, path));
            // A frame, to take the answer.
            wake();
        });
        if spawned.is_ok() {
            self.open = Some(pick);
        }
        spawned.is_ok()
    }

    /// Whether a dialog is open (it may be behind another window).
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The answer of the dialog that closed, if one did: the pick and the
    /// paths (none: cancelled), or why no dialog could be shown.
    pub fn poll(&mut self) -> Option<(Pick, Result<Vec<PathBuf>, PickError>)> {
        let answer = self.answers.try_recv().ok()?;
        self.open = None;
        Some(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_filter_has_a_name() {
        for pick in [Pick::Schedule, Pick::DecryptIdentity { bundle: PathBuf::from("b") }] {
            let PickKind::OpenFile { extensions } = kind(&pick) else { panic!("{pick:?} opens a file") };
            let name = filter_name(extensions);
            assert!(!name.is_empty() && extensions.iter().all(|e| name.contains(e)), "{name}");
        }
        assert_eq!(filter_name(&["xlsx", "xls", "csv"]), "xlsx / xls / csv");
    }

    #[test]
    fn a_dialog_needs_a_session_bus_the_portal_and_a_file_chooser() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_path_buf();
        assert_eq!(portal_status(false, std::slice::from_ref(&data)), Err(PickError::NoSessionBus));
        assert_eq!(portal_status(true, std::slice::from_ref(&data)), Err(PickError::NoPortal));
        std::fs::create_dir_all(data.join("dbus-1/services")).unwrap();
        std::fs::write(data.join("dbus-1/services/org.freedesktop.portal.Desktop.service"), "[D-BUS Service]\n")
            .unwrap();
        // The portal alone, with a backend that has no file chooser: still none.
        std::fs::create_dir_all(data.join("xdg-desktop-portal/portals")).unwrap();
        std::fs::write(
            data.join("xdg-desktop-portal/portals/wlr.portal"),
            "Interfaces=org.freedesktop.impl.portal.Screenshot;\n",
        )
        .unwrap();
        assert_eq!(portal_status(true, std::slice::from_ref(&data)), Err(PickError::NoPortal));
        std::fs::write(
            data.join("xdg-desktop-portal/portals/gtk.portal"),
            "[portal]\nInterfaces=org.freedesktop.impl.portal.FileChooser;org.freedesktop.impl.portal.AppChooser;\n",
        )
        .unwrap();
        // Found in any of the data folders.
        let other = dir.path().join("elsewhere");
        assert_eq!(portal_status(true, &[other, data]), Ok(()));
        use crate::text::Bilingual as _;
        let text = PickError::NoPortal.text();
        assert!(text.zh.contains("xdg-desktop-portal") && text.en.contains("gradcap roster import"), "{text:?}");
    }
}
