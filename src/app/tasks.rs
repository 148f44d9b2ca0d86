//! The window's long work as tasks: what each is, what it brings back, how
//! its result is shown. The work itself is the library's; the registry
//! ([`crate::task::Tasks`]) runs it off the UI thread.

use super::*;

/// The long work the operator starts from the window, one of each kind at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// The image store's pages, checked after the database opens.
    ImageStoreCheck,
    Backup,
    Export,
    Purge,
    BundleCheck,
    /// One student's takes and record for a correction (勘误).
    Correction,
    /// Asking the OS for its cameras (the settings view).
    CameraList,
    /// A class's print sheets.
    Prints,
    /// An office task: an import, a register or a sheet.
    Office,
}

impl TaskKind for Task {
    fn name(&self) -> &'static str {
        match self {
            Task::ImageStoreCheck => "db-check",
            Task::Backup => "backup",
            Task::Export => "export",
            Task::Purge => "purge",
            Task::BundleCheck => "bundle-check",
            Task::Correction => "student-export",
            Task::CameraList => "camera-list",
            Task::Prints => "prints",
            Task::Office => "office",
        }
    }
}

/// What a finished task brings back.
#[derive(Debug)]
pub enum TaskOutput {
    ImageStore(Result<(), StoreError>),
    Backup(Result<(PathBuf, bool), StoreError>),
    Export(Result<ExportReport, ExportError>),
    Purge(Result<PurgeDone, PurgeError>),
    BundleCheck(PathBuf, Result<BundleReport, ExportError>),
    Correction(Result<(PathBuf, usize), ExportError>),
    Cameras(Vec<String>),
    Prints(Result<crate::pdf::prints::PrintReport, crate::pdf::prints::PrintError>, PathBuf),
    Office(crate::ui::state::OfficeOutcome),
}

impl GradcapApp {
    /// 2. Tasks: what finished, and how far the running ones are.
    pub(super) fn poll_tasks(&mut self) {
        for (task, result) in self.tasks.poll() {
            match result {
                Ok(output) => self.task_done(output),
                Err(e) => {
                    if task == Task::Export {
                        self.ui.export_outcome = Some(ExportOutcome::Failed(e.to_string()));
                    }
                    self.fail(&e);
                }
            }
        }
        self.ui.export_running = self.tasks.is_running(Task::Export);
        self.ui.purge_running = self.tasks.is_running(Task::Purge);
        self.ui.backup_running = self.tasks.is_running(Task::Backup);
        self.ui.prints_running = self.tasks.is_running(Task::Prints);
        self.ui.office_running = self.tasks.is_running(Task::Office);
        if !self.tasks.is_running(Task::BundleCheck) {
            self.ui.bundle_checking = None;
        }
        self.ui.export_progress = match self.tasks.progress(Task::Export) {
            Some(p) => {
                let started = match &self.ui.export_progress {
                    Some((old, started)) if old.phase == p.phase => *started,
                    _ => Instant::now(),
                };
                Some((p, started))
            }
            None => None,
        };
    }

    pub(super) fn task_done(&mut self, output: TaskOutput) {
        match output {
            TaskOutput::ImageStore(Ok(())) => {}
            TaskOutput::ImageStore(Err(e)) => {
                self.startup_error = Some(e.to_string());
                self.fail(&e);
                self.image_store_damaged = Some(e);
            }
            TaskOutput::Backup(Ok((path, verified))) => self.say(messages::backup_done(&path, verified)),
            TaskOutput::Backup(Err(e)) => self.fail(&e),
            TaskOutput::Purge(Ok(done)) => self.say(messages::purged(&done.plan, done.vacuumed)),
            TaskOutput::Purge(Err(e)) => self.fail(&e),
            TaskOutput::Export(result) => {
                match &result {
                    Ok(r) => self.say(messages::exported(r)),
                    Err(e) => self.fail(e),
                }
                self.ui.export_outcome = Some(match result {
                    Ok(r) => ExportOutcome::Exported(r),
                    Err(e) => ExportOutcome::Failed(e.to_string()),
                });
                if let Some(st) = &self.station {
                    self.ui.export_history = st.export_history().unwrap_or_default();
                }
            }
            TaskOutput::BundleCheck(dir, result) => {
                self.ui.export_outcome = Some(match result {
                    Ok(report) => ExportOutcome::Checked { dir, report },
                    Err(e) => ExportOutcome::CheckFailed { dir, error: e.to_string() },
                });
            }
            TaskOutput::Correction(Ok((dir, files))) => self.say(messages::correction_written(&dir, files)),
            TaskOutput::Correction(Err(e)) => self.fail(&e),
            TaskOutput::Cameras(names) => self.ui.camera_names = names,
            TaskOutput::Prints(Ok(report), dir) => self.say(messages::prints_written(&report, &dir)),
            TaskOutput::Prints(Err(e), _) => self.fail(&e),
            TaskOutput::Office(outcome) => {
                if outcome.ok {
                    self.say(Feedback::new(ui::state::FeedbackKind::Success, "✓", outcome.title.clone()));
                } else {
                    self.say(Feedback::error(&outcome.title));
                }
                self.ui.office_outcome = Some(outcome);
            }
        }
    }

    pub(super) fn start_task(
        &mut self,
        task: Task,
        job: impl FnOnce(&ProgressSink<ExportProgress>) -> TaskOutput + Send + 'static,
    ) {
        if let Err(e) = self.tasks.start(task, job) {
            self.fail(&e);
        }
    }

    /// The image store's pages are checked on a task after opening (seconds
    /// on a big day); until the answer the station works, and a damaged
    /// store stops every capture with the reason on screen.
    pub(super) fn check_image_store(&mut self, db: PathBuf) {
        self.image_store_damaged = None;
        let job = move |_: &ProgressSink<ExportProgress>| {
            TaskOutput::ImageStore(Store::open_read_only(&db).and_then(|s| s.check_image_store()))
        };
        // A check of the database open before still running is dropped: this one counts.
        if let Err(e) = self.tasks.restart(Task::ImageStoreCheck, job) {
            self.fail(&e);
        }
    }
}

/// An export on its own connection (capture goes on while it writes), its
/// progress a few times a second.
pub(super) fn export(
    db: &Path,
    to: &Path,
    options: &crate::export::ExportOptions,
    progress: &ProgressSink<ExportProgress>,
) -> Result<ExportReport, ExportError> {
    let mut store = Store::open(db)?;
    let mut throttle = crate::export::Throttle::new(100);
    let mut report = |p: &ExportProgress| {
        if throttle.due(p).is_some() {
            progress.report(p.clone());
        }
    };
    crate::export::export_with(&mut store, to, options, &crate::station::now(), &mut report)
}

/// A class's print sheets from its own read-only connection (capture goes
/// on while they are cut and written).
pub(super) fn prints(
    db: &Path,
    class: &str,
    options: &crate::pdf::prints::PrintOptions,
    to: &Path,
) -> Result<crate::pdf::prints::PrintReport, crate::pdf::prints::PrintError> {
    let store = Store::open_read_only(db)?;
    let sources = crate::pdf::prints::class_sources(&store, class)?;
    crate::pdf::prints::write_prints(class, sources, options, to, &mut |_, _| {})
}
