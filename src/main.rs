//! The `gradcap` command line. No subcommand starts the station (the GUI);
//! subcommands run the station's tools.
//!
//! Exit codes: 0 success, 1 a check or an input failed, 2 usage error.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use clap::Parser;
use serde_json::{json, Value};

use gradcap::cli::{Cli, Command, PinAction, RosterAction, ScheduleAction};
use gradcap::code::{self, drill};
use gradcap::simulate::{self, SimulateOptions};
use gradcap::store::Store;
use gradcap::{paths, roster, scan};

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

/// `eprint!` that never panics (progress lines).
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let _ = gradcap::process_start();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GRADCAP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
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

fn run_station(cli: &Cli) -> Result<ExitCode> {
    use gradcap::app::{AppOptions, CameraChoice};
    let data_dir = paths::data_dir(cli.data_dir.as_deref())?;
    let db_path = paths::db_path(cli.db.as_deref(), cli.data_dir.as_deref())?;
    let camera = if cli.demo {
        CameraChoice::Demo
    } else if let Some(dir) = &cli.replay {
        CameraChoice::Replay { dir: dir.clone(), fps: cli.replay_fps }
    } else {
        CameraChoice::Auto
    };
    let opts = AppOptions {
        db_path,
        settings_path: data_dir.join(gradcap::settings::SETTINGS_FILE_NAME),
        camera,
        exit_after: cli.exit_after.filter(|s| *s > 0.0).map(std::time::Duration::from_secs_f64),
        gun: Default::default(),
        system_fonts: true,
        sound: gradcap::sound::Sound::Speaker,
        training: cli.training || cli.demo,
    };
    gradcap::app::window::run_station(opts)?;
    Ok(ExitCode::SUCCESS)
}

fn run(cli: Cli) -> Result<ExitCode> {
    let db = || paths::db_path(cli.db.as_deref(), cli.data_dir.as_deref());
    match cli.command {
        None => run_station(&cli),
        Some(Command::Decode { raw, json, texts, images }) => decode(raw, json, &texts, &images),
        Some(Command::Codes { roster, out, school_code }) => codes(&roster, &out, &school_code),
        Some(Command::Simulate { students, roster, station, seed, school_code, date }) => {
            // Simulated students carry drill codes: a training database, the
            // station's own training file unless --db names one.
            let path = if cli.db.is_some() { db()? } else { paths::training_db(&db()?) };
            let store = Store::open_training(&path).with_context(|| format!("数据库 / database {}", path.display()))?;
            let mut opts = SimulateOptions::new(students, &station, seed);
            opts.school_code = school_code;
            if let Some(date) = date {
                opts.date = date;
            }
            if let Some(roster) = roster {
                opts.roster = Some(roster::read_roster(&roster)?);
            }
            let report = simulate::run(store, &opts)?;
            outln!("{}", serde_json::to_string(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Roster { action: RosterAction::Import { file, valid_rows_only } }) => {
            let policy = if valid_rows_only { roster::RowPolicy::ValidRowsOnly } else { roster::RowPolicy::Strict };
            let import = roster::read_roster_with(&file, policy)?;
            let mut store = open_store(&db()?)?;
            let summary =
                store.import_roster(&import.entries, &file.display().to_string(), &gradcap::station::now())?;
            outln!("名单已导入 / roster imported: {} 新增 added, {} 更新 updated", summary.added, summary.updated);
            for note in &import.notes {
                outln!("  {note}");
            }
            for p in &import.rejected {
                outln!("未导入 / skipped: {p}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Schedule { action: ScheduleAction::Import { file } }) => {
            let rows = roster::read_schedule(&file)?;
            let mut store = open_store(&db()?)?;
            let summary = store.import_schedule(&rows, &file.display().to_string(), &gradcap::station::now())?;
            outln!("日程已导入 / schedule imported: {} 新增 added, {} 更新 updated", summary.added, summary.updated);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Report { class, json, pdf }) => report(&db()?, class.as_deref(), json, pdf.as_deref()),
        Some(Command::Register { class, pdf }) => {
            let store = open_existing(&db()?)?;
            let (bytes, students) = roster::documents::class_register(&store, &class)?;
            roster::documents::write_file(&pdf, &bytes)?;
            outln!("登记表 / register: {} ({} 人 / students)", pdf.display(), students);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Assist { station, date, exit_after }) => {
            let data_dir = paths::data_dir(cli.data_dir.as_deref())?;
            // A read-only window never renames or writes anything.
            let (settings, _) =
                gradcap::settings::Settings::load_read_only(&data_dir.join(gradcap::settings::SETTINGS_FILE_NAME));
            let info = settings.session_info();
            let station = station.unwrap_or(info.station);
            let date = date.unwrap_or(info.date);
            let store = open_existing(&db()?)?;
            let exit_after = exit_after.filter(|s| *s > 0.0).map(std::time::Duration::from_secs_f64);
            gradcap::app::window::run_assist(store, station, date, settings.language, exit_after)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Backup { to }) => {
            let path = db()?;
            if !path.exists() {
                bail!("数据库不存在 / no database at {}", path.display());
            }
            let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
            let (file, report) = Store::backup_file(&path, &to, &stamp)?;
            outln!(
                "备份完成 / backup written: {} ({} records, {} takes)",
                file.display(),
                report.records,
                report.takes
            );
            if !report.ok() {
                for f in &report.findings {
                    outln!("FAIL  {}: {}", f.check, f.message);
                }
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Export { to, full, encrypt_to, name_template }) => {
            let path = db()?;
            if !path.exists() {
                bail!("数据库不存在 / no database at {}", path.display());
            }
            let mut store = open_store(&path)?;
            let options = gradcap::export::ExportOptions { full, encrypt_to, name_template, device: None };
            let mut meter = ProgressLine::new();
            let report = gradcap::export::export_with(&mut store, &to, &options, &gradcap::station::now(), &mut |p| {
                meter.show(p)
            })?;
            meter.done();
            outln!(
                "导出完成并已校验 / exported and verified{}: {} ({} 人 / students, {} files, {:.1} MB)",
                if report.encrypted { " (age 加密 / encrypted)" } else { "" },
                report.bundle.display(),
                report.records,
                report.files,
                report.bytes as f64 / 1e6
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Decrypt { bundle, identity, to }) => {
            let report = gradcap::export::decrypt(&bundle, &identity, &to)?;
            outln!(
                "解密完成并已校验 / decrypted and verified: {} ({} 人 / students, {} files)",
                report.bundle.display(),
                report.records,
                report.files
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Keygen { out }) => {
            let recipient = gradcap::export::keygen(&out, &gradcap::station::now())?;
            errln!(
                "私钥已写入 {}，请妥善保管，切勿放在工作站上 / identity written to {}: keep it safe, not on the station",
                out.display(),
                out.display()
            );
            outln!("{recipient}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Merge { bundles, to, keep_duplicates, json }) => {
            let options = gradcap::export::MergeOptions { keep_duplicates };
            let report = gradcap::export::merge(&bundles, &to, &options, &gradcap::station::now())?;
            if json {
                outln!("{}", serde_json::to_string(&report)?);
            } else {
                outln!(
                    "合并完成并已校验 / merged and verified: {} ({} bundles, {} 人 / students, {} superseded rows)",
                    report.bundle.display(),
                    report.bundles,
                    report.records,
                    report.superseded
                );
                for d in &report.duplicates {
                    outln!("DUPLICATE  {} {}: {}", d.key, d.value, d.records.join(", "));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::VerifyBundle { dir, json }) => {
            let report = gradcap::export::verify_bundle(&dir)?;
            if json {
                outln!("{}", serde_json::to_string(&report)?);
            } else {
                outln!("{}: {} records, {} files checked", dir.display(), report.records, report.files_checked);
                for f in &report.findings {
                    outln!("FAIL  {f}");
                }
                if report.ok() {
                    outln!("ok    complete and intact");
                }
            }
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Some(Command::Purge { before, pin, yes }) => purge(&db()?, &before, pin, yes),
        Some(Command::Pin { action: PinAction::Reset { yes } }) => {
            let path = db()?;
            if !path.exists() {
                bail!("数据库不存在 / no database at {}", path.display());
            }
            let mut store = open_store(&path)?;
            outln!(
                "重置操作员 PIN：此操作会永久记入操作日志，之后每个导出包的清单都会注明重置时间 / resetting the operator PIN: \
                 this stays in the audit log for ever, and every later export's manifest names the time of the reset"
            );
            if !yes && prompt("输入 RESET 确认 / type RESET to confirm: ")?.trim() != "RESET" {
                outln!("已取消 / cancelled");
                return Ok(ExitCode::from(1));
            }
            store.reset_pin(&gradcap::station::now())?;
            outln!("PIN 已重置；请在设置中设置新 PIN / PIN reset: set a new one in settings");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Photo { json, out, images }) => {
            let data_dir = paths::data_dir(cli.data_dir.as_deref())?;
            let (settings, _) =
                gradcap::settings::Settings::load(&data_dir.join(gradcap::settings::SETTINGS_FILE_NAME));
            photo_command(&images, &out, json, &settings)
        }
        Some(Command::Lookup { query, json, export }) => lookup(&db()?, &query, json, export.as_deref()),
        Some(Command::AcceptRestore) => {
            let path = db()?;
            if !path.exists() {
                bail!("数据库不存在 / no database at {}", path.display());
            }
            let mut store = Store::open_for_accepting_restore(&path)?;
            match store.accept_restore(&gradcap::station::now())? {
                Some(lost) => outln!("已接受恢复的数据库；已记入操作日志：{lost} / restored database accepted; recorded in the audit log: {lost}"),
                None => outln!("数据库不落后于见证文件，无需接受 / the database is not behind its witness: nothing to accept"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Verify { json }) => {
            let path = db()?;
            if !path.exists() {
                bail!("数据库不存在 / no database at {}", path.display());
            }
            let store = Store::open_read_only(&path)?;
            let report = store.verify()?;
            if json {
                outln!("{}", serde_json::to_string(&report)?);
            } else {
                outln!(
                    "{}: {} sessions, {} records ({} photographed), {} takes, {} audit rows",
                    path.display(),
                    report.sessions,
                    report.records,
                    report.photographed,
                    report.takes,
                    report.audit_rows
                );
                for check in gradcap::store::verify::CHECKS {
                    let failed: Vec<_> = report.findings.iter().filter(|f| f.check == check).collect();
                    if failed.is_empty() {
                        outln!("ok    {check}");
                    } else {
                        for f in failed {
                            outln!("FAIL  {check}: {}", f.message);
                        }
                    }
                }
            }
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

/// Export progress on stderr (a terminal only): files, MB, MB/s, time left.
struct ProgressLine {
    throttle: gradcap::export::Throttle,
    terminal: bool,
}

impl ProgressLine {
    fn new() -> Self {
        ProgressLine {
            throttle: gradcap::export::Throttle::new(200),
            terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }

    fn show(&mut self, p: &gradcap::export::Progress) {
        if !self.terminal {
            return;
        }
        if let Some(rate) = self.throttle.due(p) {
            err!("\r\x1b[2K{}", rate.line(p));
        }
    }

    fn done(&self) {
        if self.terminal && self.throttle.shown_any() {
            errln!();
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

fn photo_command(
    images: &[PathBuf],
    out: &Path,
    as_json: bool,
    settings: &gradcap::settings::Settings,
) -> Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("创建 / creating {}", out.display()))?;
    let mut failed = 0;
    let mut used = std::collections::HashSet::new();
    for file in images {
        // Each image on its own: one that cannot be read or made into a photo
        // is reported and the rest go on.
        let result = gradcap::photo::check_file(file, out, &settings.photo_checks, settings.size_range(), &mut used)
            .map(|done| (done.checked, done.deliverable, done.path))
            .map_err(|e| e.to_string());
        let (checked, deliverable, path) = match result {
            Ok(done) => done,
            Err(error) => {
                failed += 1;
                if as_json {
                    outln!("{}", json!({"file": file.display().to_string(), "error": error}));
                } else {
                    errln!("{}: {error}", file.display());
                }
                continue;
            }
        };
        let a = &checked.assessment;
        if !a.auto_crop {
            errln!("{}: 未找到人脸，已居中裁切 / no face found: centred crop", file.display());
        }
        // Image-left eye first, whatever the model's point order.
        let eyes = a.face.map(|f| {
            let r = |v: f32| (f64::from(v) * 10.0).round() / 10.0;
            let (left, right) =
                if f.left_eye[0] <= f.right_eye[0] { (f.left_eye, f.right_eye) } else { (f.right_eye, f.left_eye) };
            json!([[r(left[0]), r(left[1])], [r(right[0]), r(right[1])]])
        });
        if as_json {
            let checks: Vec<Value> = a
                .checks
                .iter()
                .map(|c| {
                    json!({"name": c.name, "value": c.value, "threshold": c.threshold, "pass": c.pass,
                           "level": c.level, "message_zh": c.message_zh, "message_en": c.message_en})
                })
                .collect();
            outln!(
                "{}",
                json!({"file": file.display().to_string(), "deliverable": path.display().to_string(), "eyes": eyes,
                       "auto_crop": a.auto_crop, "level": a.level(), "bytes": deliverable.jpeg.len(),
                       "size_fit": deliverable.fit, "quality": deliverable.quality,
                       "checks": checks})
            );
        } else {
            outln!("{} → {} ({:?}, {} bytes)", file.display(), path.display(), a.level(), deliverable.jpeg.len());
            for c in &a.checks {
                outln!("  {:<22} {:>5}  {}", c.name, if c.pass { "ok" } else { "FAIL" }, c.message_zh);
            }
        }
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn prompt(question: &str) -> Result<String> {
    err!("{question}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

fn purge(db: &Path, before: &str, pin: Option<String>, yes: bool) -> Result<ExitCode> {
    if !db.exists() {
        bail!("数据库不存在 / no database at {}", db.display());
    }
    // The PIN is the database's own (a settings file brings none).
    let mut store = open_store(db)?;
    if !store.has_pin()? {
        bail!("尚未设置操作员 PIN，请先在设置中设置 / no operator PIN is set: set one in settings first");
    }
    let pin = match pin {
        Some(p) => p,
        None => prompt("操作员 PIN / operator PIN: ")?,
    };
    if let Err(e) = store.check_pin(&pin, &gradcap::station::now()) {
        bail!("{e}");
    }
    let plan = store.purge_candidates(before)?;
    outln!(
        "将删除 {} 名已导出并校验学生（{} 之前拍摄）的 {} 张照片图像，共 {:.1} MB；记录、校验值和操作日志保留 / \
         deletes the images of {} takes of {} verified-exported students shot before {} ({:.1} MB); records, checksums \
         and the audit log stay",
        plan.records,
        before,
        plan.takes,
        plan.bytes as f64 / 1e6,
        plan.takes,
        plan.records,
        before,
        plan.bytes as f64 / 1e6
    );
    if plan.takes == 0 {
        outln!("没有可删除的照片 / nothing to purge");
        return Ok(ExitCode::SUCCESS);
    }
    if !yes {
        let answer = prompt("确认删除请输入 yes / type yes to delete: ")?;
        if answer != "yes" {
            outln!("已取消，未删除任何数据 / cancelled: nothing was deleted");
            return Ok(ExitCode::from(1));
        }
    }
    drop(store);
    let (done, findings) = match gradcap::export::purge_handed_over(db, before, &gradcap::station::now()) {
        Ok(done) => (done, Vec::new()),
        Err(gradcap::export::PurgeError::Verify { done, findings }) => (*done, findings),
        Err(e) => return Err(e.into()),
    };
    outln!(
        "已删除 / purged: {} takes of {} students; database {:.1} MB → {:.1} MB",
        done.plan.takes,
        done.plan.records,
        done.db_bytes_before as f64 / 1e6,
        done.db_bytes_after as f64 / 1e6
    );
    if let Some(e) = &done.vacuum_error {
        errln!("VACUUM 未完成（数据已删除，空间稍后可回收）/ VACUUM did not finish (the data is deleted; space can be reclaimed later): {e}");
    }
    if !findings.is_empty() {
        for f in &findings {
            outln!("FAIL  {}: {}", f.check, f.message);
        }
        return Ok(ExitCode::from(1));
    }
    outln!("ok    verify");
    Ok(ExitCode::SUCCESS)
}

fn lookup(db: &Path, query: &str, as_json: bool, export: Option<&Path>) -> Result<ExitCode> {
    let store = open_existing(db)?;
    let found = gradcap::export::lookup::find_records(&store, query, 50)?;
    if found.is_empty() {
        errln!("未找到 / nothing found for {query}");
        return Ok(ExitCode::from(1));
    }
    if let Some(dir) = export {
        for (r, fields) in &found {
            gradcap::export::lookup::export_student(&store, r, fields, dir)?;
        }
    }
    let (records, out): (Vec<_>, Vec<_>) = found.into_iter().map(|(r, f)| (r, Value::Object(f))).unzip();
    if as_json {
        for v in &out {
            outln!("{v}");
        }
    } else {
        for (r, v) in records.iter().zip(&out) {
            outln!(
                "{} {} 学号 {} {} — {} {}",
                r.display_seq(),
                r.code.xm,
                r.code.xh,
                r.code.bh,
                r.status.label_zh(),
                r.status_reason
            );
            outln!("  扫码 scanned {}  cjm {}", r.scanned_at, r.code.cjm);
            for t in v["takes"].as_array().into_iter().flatten() {
                outln!(
                    "  照片 take {} {} primary={} rejected={}{}",
                    t["take_no"],
                    t["captured_at"],
                    t["primary"],
                    !t["rejected_at"].is_null(),
                    t["purged_at"]
                        .as_str()
                        .map(|at| format!(" 交接后已删除图像 / images purged {at}"))
                        .unwrap_or_default()
                );
            }
            for a in v["audit"].as_array().into_iter().flatten() {
                outln!(
                    "  {} {} {}",
                    a["at"].as_str().unwrap_or(""),
                    a["action"].as_str().unwrap_or(""),
                    a["detail"].as_str().unwrap_or("")
                );
            }
        }
    }
    if let Some(dir) = export {
        errln!("已导出 / exported to {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn report(db: &Path, class: Option<&str>, as_json: bool, pdf: Option<&Path>) -> Result<ExitCode> {
    let store = open_existing(db)?;
    let report = roster::documents::class_report(&store, class)?;
    if as_json {
        outln!("{}", serde_json::to_string(&report)?);
    } else {
        outln!("班级 class | 应拍 expected | 已扫码 scanned | 已拍 photographed | 跳过 skipped | 未拍 missing");
        for c in &report.classes {
            outln!("{} | {} | {} | {} | {} | {}", c.class, c.expected, c.scanned, c.photographed, c.skipped, c.missing);
            for m in &c.missing_students {
                outln!("    未拍 missing: {} {} ({})", m.xh, m.xm, m.state);
            }
        }
        for u in &report.unmatched {
            outln!(
                "不符 mismatch: {} {} {} 码上班级 code class {:?} 名单 roster {:?} ({})",
                u.seq,
                u.xh,
                u.xm,
                u.code_class,
                u.roster_class,
                u.reason
            );
        }
    }
    if let Some(out) = pdf {
        roster::documents::write_reconciliation_sheets(&store, &report, class.is_some(), out)?;
        errln!("核对单 / reconciliation sheets: {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Images `decode` reads: the replay camera's, and PGM (the scanner's own test frames).
const DECODE_IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "gif", "bmp", "pgm"];

fn decode(raw: bool, as_json: bool, texts: &[String], images: &[PathBuf]) -> Result<ExitCode> {
    let mut all_ok = true;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut emit = |value: Value, human: String| -> Result<()> {
        if as_json {
            writeln!(out, "{value}")?;
        } else {
            writeln!(out, "{human}")?;
        }
        Ok(())
    };
    for text in texts {
        if raw {
            emit(json!({"input": text, "text": text}), text.clone())?;
            continue;
        }
        match code::parse(text) {
            Ok(c) => {
                let mut obj = c.to_json();
                obj.insert("input".into(), Value::String(text.clone()));
                emit(Value::Object(obj), describe(&c))?;
            }
            Err(e) => {
                all_ok = false;
                // A refused text that may hold a clear name or ID number is not echoed.
                let shown = code::refused_input_shown(text, &e);
                emit(json!({"input": shown, "error": e.to_string()}), format!("{shown}: {e}"))?;
            }
        }
    }
    let files = paths::expand_images(images, &DECODE_IMAGE_EXTENSIONS);
    if !images.is_empty() && files.is_empty() {
        let shown: Vec<String> = images.iter().map(|p| p.display().to_string()).collect();
        errln!("没有可识读的图片：{} / no images to decode in {}", shown.join(", "), shown.join(", "));
        return Ok(ExitCode::from(1));
    }
    for path in files {
        let file = path.display().to_string();
        let t = Instant::now();
        let result = scan::decode_file(&path);
        let elapsed_ms = (t.elapsed().as_secs_f64() * 1e5).round() / 100.0;
        let found = match result {
            Ok(found) if !found.is_empty() => found,
            Ok(_) => {
                all_ok = false;
                let e = scan::ScanError::NoCode.to_string();
                emit(json!({"file": file, "error": e, "ms": elapsed_ms}), format!("{file}: {e}"))?;
                continue;
            }
            Err(e) => {
                all_ok = false;
                emit(json!({"file": file, "error": e.to_string()}), format!("{file}: {e}"))?;
                continue;
            }
        };
        if raw {
            let value = if found.len() == 1 {
                json!({"file": file, "text": found[0], "ms": elapsed_ms})
            } else {
                json!({"file": file, "texts": found, "ms": elapsed_ms})
            };
            emit(value, format!("{file}: {}", found.join(" | ")))?;
            continue;
        }
        // The first text that is a capture code; else the reason the first is not.
        let parsed: Vec<_> = found.iter().map(|t| code::parse(t)).collect();
        match parsed.iter().find_map(|p| p.as_ref().ok()) {
            Some(c) => {
                let mut obj = c.to_json();
                obj.insert("file".into(), Value::String(file.clone()));
                emit(Value::Object(obj), format!("{file}: {}", describe(c)))?;
            }
            None => {
                all_ok = false;
                let e = parsed.into_iter().find_map(Result::err).map(|e| e.to_string()).unwrap_or_default();
                emit(json!({"file": file, "error": e}), format!("{file}: {e}"))?;
            }
        }
    }
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn describe(c: &code::CaptureCode) -> String {
    format!("{} {} 学号 {} 证件尾号 {} {} {} cjm={}", c.xm, c.bh, c.xh, c.zjhm, c.fy, c.cc, c.cjm)
}

fn codes(roster_path: &Path, out: &Path, school_code: &str) -> Result<ExitCode> {
    drill::check_school_code(school_code)?;
    let entries = roster::read_roster(roster_path)?;
    let students: Vec<_> = entries.iter().map(|e| e.to_drill_student()).collect();
    drill::write_drill_codes(&students, out, school_code, chrono::Utc::now().timestamp_millis())?;
    outln!("{} 个演练码已写入 / drill codes written to {}", entries.len(), out.display());
    Ok(ExitCode::SUCCESS)
}
