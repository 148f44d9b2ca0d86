//! The office tasks in the window: a dialog picks the path, then the
//! library does the work on a task (roster and schedule imports with their
//! refused rows listed by number, the register and the reconciliation
//! sheet as PDFs, print sheets into a folder), and the result is shown in
//! the assistants' tab. The same library functions as the CLI's.

use super::*;
use crate::ui::state::{OfficeOutcome, Pick};

impl GradcapApp {
    /// 2. (with the tasks) Dialogs: the paths the open one gave back, as a command.
    pub(super) fn poll_dialogs(&mut self) -> Vec<Command> {
        let answer = self.dialogs.poll();
        self.ui.dialog_open = self.dialogs.is_open();
        match answer {
            Some((pick, Ok(paths))) if !paths.is_empty() => vec![Command::Picked(pick, paths)],
            // No dialog could be shown: say why and what else does the job.
            Some((_, Err(e))) => {
                self.fail(&e);
                Vec::new()
            }
            // Cancelled: nothing happens.
            _ => Vec::new(),
        }
    }

    /// What the picked paths are for.
    pub(super) fn picked(&mut self, pick: Pick, mut paths: Vec<PathBuf>) {
        let db = self.db_path();
        let Some(path) = paths.first().cloned() else { return };
        match pick {
            Pick::Keygen => self.start_office(move || office_keygen(&path)),
            // One dialog after the other: the bundle, its key, where it goes.
            Pick::DecryptBundle => self.ask_next(Pick::DecryptIdentity { bundle: path }),
            Pick::DecryptIdentity { bundle } => self.ask_next(Pick::DecryptTo { bundle, identity: path }),
            Pick::DecryptTo { bundle, identity } => {
                self.start_office(move || office_decrypt(&bundle, &identity, &path));
            }
            Pick::MergeBundles => {
                paths.sort();
                self.ask_next(Pick::MergeTo { bundles: paths });
            }
            Pick::MergeTo { bundles } => self.start_office(move || office_merge(&bundles, &path)),
            Pick::StudentFolder { record } => {
                self.start_task(Task::Correction, move |_| {
                    TaskOutput::Correction(crate::export::lookup::export_correction(&db, record, &path))
                });
            }
            Pick::ExportTarget => self.ui.export_target = path.display().to_string(),
            Pick::PrintsFolder { class, jpeg } => {
                self.start_prints(class, jpeg, Some(path));
            }
            Pick::Roster { valid_rows_only } => {
                self.start_office(move || office_import_roster(&db, &path, valid_rows_only));
            }
            Pick::Schedule => self.start_office(move || office_import_schedule(&db, &path)),
            Pick::RegisterPdf { class } => self.start_office(move || office_register(&db, &class, &path)),
            Pick::SheetPdf { class } => self.start_office(move || office_sheet(&db, &class, &path)),
        }
    }

    /// A class's print sheets on a task: into `to`, else `prints/` under the
    /// export target (or beside the database).
    pub(super) fn start_prints(&mut self, class: String, jpeg: bool, to: Option<PathBuf>) {
        if self.tasks.is_running(Task::Prints) {
            return;
        }
        let table = &self.settings.prints;
        let made = crate::pdf::prints::Package::parse(&table.package, &table.sizes).and_then(|package| {
            let paper = crate::pdf::prints::paper_named(&table.paper, &table.papers)?.clone();
            Ok(crate::pdf::prints::PrintOptions {
                package,
                paper,
                caption: table.caption,
                jpeg_sheets: jpeg,
                thresholds: self.settings.photo_checks,
            })
        });
        let options = match made {
            Ok(options) => options,
            Err(e) => return self.fail(&e),
        };
        let db = self.db_path();
        let target = self.ui.export_target.trim().to_string();
        let base =
            if target.is_empty() { db.parent().unwrap_or(Path::new(".")).to_path_buf() } else { PathBuf::from(target) };
        let to = to.unwrap_or_else(|| base.join("prints"));
        self.start_task(Task::Prints, move |_| {
            let result = tasks::prints(&db, &class, &options, &to);
            TaskOutput::Prints(result, to)
        });
    }

    fn ask_next(&mut self, pick: Pick) {
        let title = super::dialogs::title(&pick).get(self.lang()).to_string();
        if !self.dialogs.ask(pick, title) {
            self.say(messages::dialog_busy());
        }
    }

    fn start_office(&mut self, work: impl FnOnce() -> OfficeOutcome + Send + 'static) {
        self.ui.office_outcome = None;
        self.start_task(Task::Office, move |_| TaskOutput::Office(work()));
    }
}

fn refused(title: Text, e: &dyn Bilingual) -> OfficeOutcome {
    OfficeOutcome { ok: false, title, lines: e.text().to_string().lines().map(str::to_string).collect() }
}

/// A roster file into the station database: refused whole with every bad
/// row named, unless only the valid rows are asked for.
fn office_import_roster(db: &Path, file: &Path, valid_rows_only: bool) -> OfficeOutcome {
    let title_bad = Text::new("名单未导入", "roster not imported");
    let policy =
        if valid_rows_only { crate::roster::RowPolicy::ValidRowsOnly } else { crate::roster::RowPolicy::Strict };
    let import = match crate::roster::read_roster_with(file, policy) {
        Ok(import) => import,
        Err(e) => return refused(title_bad, &e),
    };
    let summary = Store::open(db)
        .and_then(|mut s| s.import_roster(&import.entries, &file.display().to_string(), &crate::station::now()));
    match summary {
        Ok(summary) => OfficeOutcome {
            ok: true,
            title: Text::new(
                format!("名单已导入：{} 新增，{} 更新", summary.added, summary.updated),
                format!("roster imported: {} added, {} updated", summary.added, summary.updated),
            ),
            lines: import
                .notes
                .iter()
                .cloned()
                .chain(import.rejected.iter().map(|p| format!("未导入 / skipped: {p}")))
                .collect(),
        },
        Err(e) => refused(title_bad, &e),
    }
}

fn office_import_schedule(db: &Path, file: &Path) -> OfficeOutcome {
    let title_bad = Text::new("日程未导入", "schedule not imported");
    let rows = match crate::roster::read_schedule(file) {
        Ok(rows) => rows,
        Err(e) => return refused(title_bad, &e),
    };
    match Store::open(db)
        .and_then(|mut s| s.import_schedule(&rows, &file.display().to_string(), &crate::station::now()))
    {
        Ok(summary) => OfficeOutcome {
            ok: true,
            title: Text::new(
                format!("日程已导入：{} 新增，{} 更新", summary.added, summary.updated),
                format!("schedule imported: {} added, {} updated", summary.added, summary.updated),
            ),
            lines: Vec::new(),
        },
        Err(e) => refused(title_bad, &e),
    }
}

fn office_register(db: &Path, class: &str, out: &Path) -> OfficeOutcome {
    let title_bad = Text::new("登记表未生成", "register not made");
    let made = Store::open_read_only(db)
        .map_err(crate::pdf::DocumentError::from)
        .and_then(|store| crate::pdf::class_register(&store, class, false))
        .and_then(|(bytes, students)| crate::pdf::write_file(out, &bytes).map(|()| students));
    match made {
        Ok(students) => OfficeOutcome {
            ok: true,
            title: Text::new(
                format!("登记表已生成（{students} 人）"),
                format!("register written ({students} students)"),
            ),
            lines: vec![out.display().to_string()],
        },
        Err(e) => refused(title_bad, &e),
    }
}

fn office_sheet(db: &Path, class: &str, out: &Path) -> OfficeOutcome {
    let title_bad = Text::new("核对单未生成", "sheet not made");
    let made = Store::open_read_only(db).map_err(crate::pdf::DocumentError::from).and_then(|store| {
        let report = crate::pdf::class_report(&store, Some(class))?;
        crate::pdf::write_reconciliation_sheets(&store, &report, true, out)
    });
    match made {
        Ok(()) => OfficeOutcome {
            ok: true,
            title: Text::new("核对单已生成", "reconciliation sheet written"),
            lines: vec![out.display().to_string()],
        },
        Err(e) => refused(title_bad, &e),
    }
}

/// A new age key pair: the identity written where picked (never over a
/// file), the recipient shown to be put in settings.
fn office_keygen(out: &Path) -> OfficeOutcome {
    match crate::export::keygen(out, &crate::station::now()) {
        Ok(recipient) => OfficeOutcome {
            ok: true,
            title: Text::new(
                "密钥已生成：把下面的公钥填入设置的“导出加密公钥”；私钥文件请妥善保管，勿放在工作站上",
                "key pair made: put the recipient below into settings' encryption key; keep the identity file safe, not on the station",
            ),
            lines: vec![recipient, out.display().to_string()],
        },
        Err(e) => refused(Text::new("密钥未生成", "no key pair made"), &e),
    }
}

fn office_decrypt(bundle: &Path, identity: &Path, to: &Path) -> OfficeOutcome {
    match crate::export::decrypt(bundle, identity, to) {
        Ok(done) => OfficeOutcome {
            ok: true,
            title: Text::new("导出包已解密并校验", "bundle decrypted and verified"),
            lines: done.to_string().lines().map(str::to_string).collect(),
        },
        Err(e) => refused(Text::new("导出包未解密", "bundle not decrypted"), &e),
    }
}

fn office_merge(bundles: &[PathBuf], to: &Path) -> OfficeOutcome {
    let options = crate::export::MergeOptions { keep_duplicates: false };
    match crate::export::merge(bundles, to, &options, &crate::station::now()) {
        Ok(report) => OfficeOutcome {
            ok: true,
            title: Text::new("导出包已合并并校验", "bundles merged and verified"),
            lines: report.lines(),
        },
        Err(e) => refused(Text::new("导出包未合并", "bundles not merged"), &e),
    }
}
