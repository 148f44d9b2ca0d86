//! The `gradcap` command line. No subcommand starts the station (the GUI);
//! subcommands run the station's tools. This file parses, calls the library
//! and prints: what each command does lives in the library, and each result
//! says itself (`Display`, `lines()`, JSON) where it is made.
//!
//! Exit codes: 0 success, 1 a check or an input failed, 2 usage error.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::Parser;
use serde_json::Value;

use gradcap::cli::{seconds, Cli, Command, PinAction, ProgressLine, RosterAction, ScheduleAction};
use gradcap::code::drill;
use gradcap::export::lookup;
use gradcap::scan::batch::{self, Reading};
use gradcap::settings::Settings;
use gradcap::simulate::{self, SimulateOptions};
use gradcap::station::now;
use gradcap::store::Store;
use gradcap::{export, paths, roster, scan};

/// `println!` that reports a closed stdout (`gradcap report | head -1`) as
/// an error instead of panicking; `main` ends quietly on a broken pipe.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?
    }};
}

/// `eprintln!` that never panics on a closed stderr (the message is lost, not the run).
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let _ = gradcap::process_start();
    gradcap::cli::init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => code,
        // The reader went away (`| head`): what it wanted it has; end quietly.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("错误 / error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// Exit 0 when a check passed, 1 when it did not.
fn passed(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_lines(lines: impl IntoIterator<Item = String>) -> Result<()> {
    for line in lines {
        outln!("{line}");
    }
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode> {
    let db = || cli.db_path();
    // A command that reads or changes the station's data needs its database.
    let existing_db = || -> Result<PathBuf> {
        let path = cli.db_path()?;
        if !path.exists() {
            bail!("数据库不存在 / no database at {}", path.display());
        }
        Ok(path)
    };
    let Some(command) = &cli.command else {
        if let Err(e) = gradcap::app::window::run_station(cli.station_options()?) {
            gradcap::app::window::report_start_error(&e);
            return Err(e.into());
        }
        return Ok(ExitCode::SUCCESS);
    };
    match command {
        Command::Decode { raw, json, live, texts, images } => {
            let effort = if *live { scan::Effort::Live } else { scan::Effort::Thorough };
            decode(*raw, effort, *json, texts, images)
        }
        Command::Codes { roster, out, school_code } => {
            drill::check_school_code(school_code)?;
            let students: Vec<_> = roster::read_roster(roster)?.iter().map(|e| e.to_drill_student()).collect();
            drill::write_drill_codes(&students, out, school_code, chrono::Utc::now().timestamp_millis())?;
            outln!("{} 个演练码已写入 / drill codes written to {}", students.len(), out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate { students, roster, station, seed, school_code, date, shots_folder } => {
            // Simulated students carry drill codes: a training database, the
            // station's own training file unless --db names one.
            let path = if cli.db.is_some() { db()? } else { paths::training_db(&db()?) };
            let store = Store::open_training(&path).with_context(|| format!("数据库 / database {}", path.display()))?;
            let mut opts = SimulateOptions::new(*students, station, *seed);
            opts.school_code.clone_from(school_code);
            opts.shots_folder.clone_from(shots_folder);
            if let Some(date) = date {
                opts.date.clone_from(date);
            }
            if let Some(roster) = roster {
                opts.roster = Some(roster::read_roster(roster)?);
            }
            outln!("{}", serde_json::to_string(&simulate::run(store, &opts)?)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Roster { action: RosterAction::Import { file, valid_rows_only } } => {
            let policy = if *valid_rows_only { roster::RowPolicy::ValidRowsOnly } else { roster::RowPolicy::Strict };
            let import = roster::read_roster_with(file, policy)?;
            let summary = open_store(&db()?)?.import_roster(&import.entries, &file.display().to_string(), &now())?;
            outln!("名单已导入 / roster imported: {} 新增 added, {} 更新 updated", summary.added, summary.updated);
            print_lines(import.notes.iter().map(|note| format!("  {note}")))?;
            print_lines(import.rejected.iter().map(|p| format!("未导入 / skipped: {p}")))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schedule { action: ScheduleAction::Import { file } } => {
            let rows = roster::read_schedule(file)?;
            let summary = open_store(&db()?)?.import_schedule(&rows, &file.display().to_string(), &now())?;
            outln!("日程已导入 / schedule imported: {} 新增 added, {} 更新 updated", summary.added, summary.updated);
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { class, json, pdf } => {
            let store = open_existing(&db()?)?;
            let report = gradcap::pdf::class_report(&store, class.as_deref())?;
            if *json {
                outln!("{}", serde_json::to_string(&report)?);
            } else {
                print_lines(report.lines())?;
            }
            if let Some(out) = pdf {
                gradcap::pdf::write_reconciliation_sheets(&store, &report, class.is_some(), out)?;
                errln!("核对单 / reconciliation sheets: {}", out.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Prints { class, to, package, paper, format, bundle, no_caption } => {
            use gradcap::pdf::prints;
            let (settings, _) = Settings::load_read_only(&cli.settings_path()?);
            let table = &settings.prints;
            let package = prints::Package::parse(package.as_deref().unwrap_or(&table.package), &table.sizes)?;
            let paper = prints::paper_named(paper.as_deref().unwrap_or(&table.paper), &table.papers)?.clone();
            let options = prints::PrintOptions {
                package,
                paper,
                caption: table.caption && !*no_caption,
                jpeg_sheets: format == "jpg",
                thresholds: settings.photo_checks,
            };
            let mut progress = |done: usize, total: usize| errln!("冲印 / prints: {done}/{total}");
            let report = match bundle {
                Some(dir) => {
                    prints::write_prints(class, prints::bundle_sources(dir, class)?, &options, to, &mut progress)?
                }
                None => {
                    let store = open_existing(&db()?)?;
                    let sources = prints::class_sources(&store, class)?;
                    prints::write_prints(class, sources, &options, to, &mut progress)?
                }
            };
            outln!(
                "冲印 / prints: {} 人 / students, {} 张相纸 / sheets → {}",
                report.students,
                report.sheets,
                to.display()
            );
            for file in &report.files {
                outln!("{}", file.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Register { class, pdf, blank } => {
            let (bytes, students) = gradcap::pdf::class_register(&open_existing(&db()?)?, class, *blank)?;
            gradcap::pdf::write_file(pdf, &bytes)?;
            outln!("登记表 / register: {} ({} 人 / students)", pdf.display(), students);
            Ok(ExitCode::SUCCESS)
        }
        Command::Assist { station, date, exit_after } => {
            // A read-only window never renames or writes anything.
            let (settings, _) = Settings::load_read_only(&cli.settings_path()?);
            let info = settings.session_info();
            let station = station.clone().unwrap_or(info.station);
            let date = date.clone().unwrap_or(info.date);
            let store = open_existing(&db()?)?;
            gradcap::app::window::run_assist(store, station, date, settings.language, seconds(*exit_after))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { to } => {
            let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
            let (file, report) = Store::backup_file(&existing_db()?, to, &stamp)?;
            outln!(
                "备份完成 / backup written: {} ({} records, {} takes)",
                file.display(),
                report.records,
                report.takes
            );
            print_lines(report.findings.iter().map(|f| format!("FAIL  {}: {}", f.check, f.message)))?;
            Ok(passed(report.ok()))
        }
        Command::Export { to, full, encrypt_to, name_template, raw_from } => {
            let mut store = open_store(&existing_db()?)?;
            let options = export::ExportOptions {
                full: *full,
                encrypt_to: encrypt_to.clone(),
                name_template: name_template.clone(),
                device: None,
                raw_from: raw_from.clone(),
            };
            let mut meter = ProgressLine::new();
            let report = export::export_with(&mut store, to, &options, &now(), &mut |p| meter.show(p))?;
            meter.done();
            outln!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Decrypt { bundle, identity, to } => {
            outln!("{}", export::decrypt(bundle, identity, to)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen { out } => {
            let recipient = export::keygen(out, &now())?;
            let shown = out.display();
            errln!("私钥已写入 {shown}，请妥善保管，切勿放在工作站上 / identity written to {shown}: keep it safe, not on the station");
            outln!("{recipient}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Merge { bundles, to, keep_duplicates, json } => {
            let options = export::MergeOptions { keep_duplicates: *keep_duplicates };
            let report = export::merge(bundles, to, &options, &now())?;
            if *json {
                outln!("{}", serde_json::to_string(&report)?);
            } else {
                print_lines(report.lines())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifyBundle { dir, json } => {
            let report = export::verify_bundle(dir)?;
            if *json {
                outln!("{}", serde_json::to_string(&report)?);
            } else {
                print_lines(report.lines(dir))?;
            }
            Ok(passed(report.ok()))
        }
        Command::Purge { before, pin, yes } => purge(&existing_db()?, before, pin.clone(), *yes),
        Command::Pin { action: PinAction::Set } => {
            let mut store = open_store(&existing_db()?)?;
            let old = if store.has_pin()? { Some(prompt("当前 PIN / current PIN: ")?) } else { None };
            let new = prompt("新 PIN（4–8 位数字）/ new PIN (4–8 digits): ")?;
            if prompt("再输入一次新 PIN / the new PIN again: ")? != new {
                errln!("两次输入的 PIN 不一致，未更改 / the two PINs differ: nothing changed");
                return Ok(ExitCode::from(1));
            }
            store.set_pin(&new, old.as_deref(), &now())?;
            outln!("{}", if old.is_some() { "PIN 已更改 / PIN changed" } else { "PIN 已设置 / PIN set" });
            Ok(ExitCode::SUCCESS)
        }
        Command::Pin { action: PinAction::Reset { yes } } => {
            let mut store = open_store(&existing_db()?)?;
            outln!(
                "重置操作员 PIN：此操作会永久记入操作日志，之后每个导出包的清单都会注明重置时间 / resetting the operator PIN: \
                 this stays in the audit log for ever, and every later export's manifest names the time of the reset"
            );
            if !yes && prompt("输入 RESET 确认 / type RESET to confirm: ")?.trim() != "RESET" {
                outln!("已取消 / cancelled");
                return Ok(ExitCode::from(1));
            }
            store.reset_pin(&now())?;
            outln!("PIN 已重置；请在设置中设置新 PIN / PIN reset: set a new one in settings");
            Ok(ExitCode::SUCCESS)
        }
        Command::Photo { json, out, images } => {
            let (settings, _) = Settings::load(&cli.settings_path()?);
            photo(images, out, *json, &settings)
        }
        Command::Lookup { query, json, export } => lookup(&db()?, query, *json, export.as_deref()),
        Command::AcceptRestore => {
            let mut store = Store::open_for_accepting_restore(&existing_db()?)?;
            match store.accept_restore(&now())? {
                Some(lost) => outln!("已接受恢复的数据库；已记入操作日志：{lost} / restored database accepted; recorded in the audit log: {lost}"),
                None => outln!("数据库不落后于见证文件，无需接受 / the database is not behind its witness: nothing to accept"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { json } => {
            let path = existing_db()?;
            let report = Store::open_read_only(&path)?.verify()?;
            if *json {
                outln!("{}", serde_json::to_string(&report)?);
            } else {
                print_lines(report.lines(&path))?;
            }
            Ok(passed(report.ok()))
        }
    }
}

/// A database for a writing command: checked like the station's, and its
/// image store's pages too (a command can spend the seconds).
fn open_store(path: &Path) -> Result<Store> {
    let store = Store::open(path).with_context(|| format!("数据库 / database {}", path.display()))?;
    store.check_image_store().with_context(|| format!("数据库 / database {}", path.display()))?;
    Ok(store)
}

fn open_existing(path: &Path) -> Result<Store> {
    if !path.exists() {
        bail!("数据库不存在 / no database at {}", path.display());
    }
    Store::open_read_only(path).with_context(|| format!("数据库 / database {}", path.display()))
}

fn prompt(question: &str) -> Result<String> {
    let _ = write!(std::io::stderr(), "{question}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

fn decode(raw: bool, effort: scan::Effort, as_json: bool, texts: &[String], images: &[PathBuf]) -> Result<ExitCode> {
    let reading = if raw { Reading::Raw } else { Reading::CaptureCode };
    let mut out = std::io::stdout().lock();
    let result = batch::decode_inputs(reading, effort, texts, images, &mut |answer| {
        writeln!(out, "{}", if as_json { answer.json.to_string() } else { answer.line.clone() })
    });
    match result {
        Ok(all_ok) => Ok(passed(all_ok)),
        Err(e @ batch::BatchError::NoImages(_)) => {
            errln!("{e}");
            Ok(ExitCode::from(1))
        }
        // Said as before the batch moved into the library (and a closed pipe is seen as one).
        Err(batch::BatchError::Output(io)) => Err(io.into()),
    }
}

/// Each image on its own: one that cannot be read or made into a photo is
/// reported and the rest go on.
fn photo(images: &[PathBuf], out: &Path, as_json: bool, settings: &Settings) -> Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("创建 / creating {}", out.display()))?;
    let mut failed = 0;
    let mut used = std::collections::HashSet::new();
    for file in images {
        match gradcap::photo::check_file(file, out, &settings.photo_checks, settings.size_range(), &mut used) {
            Ok(done) => {
                if !done.checked.assessment.auto_crop {
                    errln!("{}: 未找到人脸，已居中裁切 / no face found: centred crop", file.display());
                }
                if as_json {
                    outln!("{}", done.to_json(file));
                } else {
                    print_lines(done.lines(file))?;
                }
            }
            Err(error) => {
                failed += 1;
                if as_json {
                    outln!("{}", serde_json::json!({"file": file.display().to_string(), "error": error.to_string()}));
                } else {
                    errln!("{}: {error}", file.display());
                }
            }
        }
    }
    Ok(passed(failed == 0))
}

fn purge(db: &Path, before: &str, pin: Option<String>, yes: bool) -> Result<ExitCode> {
    // The PIN is the database's own (a settings file brings none).
    let mut store = open_store(db)?;
    if !store.has_pin()? {
        bail!("尚未设置操作员 PIN，请先在设置中设置 / no operator PIN is set: set one in settings first");
    }
    let pin = match pin {
        Some(p) => p,
        None => prompt("操作员 PIN / operator PIN: ")?,
    };
    if let Err(e) = store.check_pin(&pin, &now()) {
        bail!("{e}");
    }
    let plan = store.purge_candidates(before)?;
    outln!("{}", export::purge::plan_line(&plan));
    if plan.takes == 0 {
        outln!("没有可删除的照片 / nothing to purge");
        return Ok(ExitCode::SUCCESS);
    }
    if !yes && prompt("确认删除请输入 yes / type yes to delete: ")? != "yes" {
        outln!("已取消，未删除任何数据 / cancelled: nothing was deleted");
        return Ok(ExitCode::from(1));
    }
    drop(store);
    let (done, findings) = match export::purge_handed_over(db, before, &now()) {
        Ok(done) => (done, Vec::new()),
        Err(export::PurgeError::Verify { done, findings }) => (*done, findings),
        Err(e) => return Err(e.into()),
    };
    outln!("{done}");
    if let Some(e) = &done.vacuum_error {
        errln!("VACUUM 未完成（数据已删除，空间稍后可回收）/ VACUUM did not finish (the data is deleted; space can be reclaimed later): {e}");
    }
    print_lines(findings.iter().map(|f| format!("FAIL  {}: {}", f.check, f.message)))?;
    if !findings.is_empty() {
        return Ok(ExitCode::from(1));
    }
    outln!("ok    verify");
    Ok(ExitCode::SUCCESS)
}

fn lookup(db: &Path, query: &str, as_json: bool, export: Option<&Path>) -> Result<ExitCode> {
    let store = open_existing(db)?;
    let found = lookup::find_records(&store, query, 50)?;
    if found.is_empty() {
        errln!("未找到 / nothing found for {query}");
        return Ok(ExitCode::from(1));
    }
    if let Some(dir) = export {
        for (record, fields) in &found {
            lookup::export_student(&store, record, fields, dir)?;
        }
    }
    for found in &found {
        if as_json {
            outln!("{}", Value::Object(found.1.clone()));
        } else {
            print_lines(lookup::record_lines(found))?;
        }
    }
    if let Some(dir) = export {
        errln!("已导出 / exported to {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
