//! Native file and folder dialogs for the office tasks (rfd: on Linux the
//! XDG desktop portal over D-Bus, so the build needs no GTK development
//! package; the system's own dialog elsewhere). A dialog is asked on its
//! own thread (`file-dialog`) so the window keeps drawing the camera and
//! the queue while it is open; the chosen path comes back through a channel
//! the frame loop polls. Tests put [`ChosenPaths`] in its place.

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
    fn pick(&self, title: &str, kind: &PickKind) -> Vec<PathBuf>;
}

/// The system's dialogs.
#[derive(Debug, Default)]
pub struct NativeDialogs;

impl PathPicker for NativeDialogs {
    fn pick(&self, title: &str, kind: &PickKind) -> Vec<PathBuf> {
        let dialog = rfd::FileDialog::new().set_title(title);
        match kind {
            PickKind::OpenFile { extensions } => dialog.add_filter("", extensions).pick_file().into_iter().collect(),
            PickKind::SaveFile { name } => dialog.set_file_name(name).save_file().into_iter().collect(),
            PickKind::Folder => dialog.pick_folder().into_iter().collect(),
            PickKind::Folders => dialog.pick_folders().unwrap_or_default(),
        }
    }
}

/// Paths chosen in advance, answered in order (tests: the dialog replaced
/// by a chosen path). Empty: cancelled.
#[derive(Debug, Default)]
pub struct ChosenPaths {
    paths: Mutex<VecDeque<Vec<PathBuf>>>,
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
            answers.push_back(paths);
        }
    }

    /// The dialogs asked so far (title, kind).
    pub fn asked(&self) -> Vec<(String, PickKind)> {
        self.asked.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

impl PathPicker for ChosenPaths {
    fn pick(&self, title: &str, kind: &PickKind) -> Vec<PathBuf> {
        if let Ok(mut asked) = self.asked.lock() {
            asked.push((title.to_string(), kind.clone()));
        }
        self.paths.lock().ok().and_then(|mut p| p.pop_front()).unwrap_or_default()
    }
}

/// The dialog that is open, if one is, and the answers coming back.
pub struct Dialogs {
    picker: Arc<dyn PathPicker>,
    answers_tx: Sender<(Pick, Vec<PathBuf>)>,
    answers: Receiver<(Pick, Vec<PathBuf>)>,
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
            let path = picker.pick(&title, &kind);
            let _ = tx.send((asked, path));
            // A frame, to take the answer.
            wake();
        });
        if spawned.is_ok() {
            self.open = Some(pick);
        }
        spawned.is_ok()
    }

    /// The answer of the dialog that closed, if one did: the pick and the
    /// paths (none: cancelled).
    pub fn poll(&mut self) -> Option<(Pick, Vec<PathBuf>)> {
        let answer = self.answers.try_recv().ok()?;
        self.open = None;
        Some(answer)
    }
}
