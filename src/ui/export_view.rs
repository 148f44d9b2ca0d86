//! The export view: pick a drive (or type any folder), export what is new or
//! everything again, check a bundle on a drive, and see the verified exports
//! so far. The export runs on its own thread with a progress bar (files, MB,
//! MB/s, time left); its result — verified, or what went wrong and that the
//! database is unchanged — stays on the view until the next one. Below:
//! purge after handover (PIN, then a confirmation saying what goes).

use egui::RichText;

use super::state::{Command, ExportOutcome, Pick, UiState};
use super::tr;
use crate::photo::checks::Level;
use crate::settings::{Language, Settings};
use crate::ui::operator::level_color;

pub fn show(ctx: &egui::Context, state: &mut UiState, settings: &Settings, lang: Language, out: &mut Vec<Command>) {
    egui::CentralPanel::default().show(ctx, |ui| {
        ui.heading(tr(lang, "导出到 U 盘", "Export to a USB drive"));
        ui.horizontal_wrapped(|ui| {
            if state.drives.is_empty() {
                ui.label(tr(lang, "未发现 U 盘：可直接填写任意文件夹", "No removable drive found: type any folder"));
            } else {
                ui.label(tr(lang, "发现的 U 盘：", "Drives found:"));
                for d in &state.drives {
                    let path = d.path.display().to_string();
                    if ui.selectable_label(state.export_target == path, d.display()).clicked() {
                        state.export_target = path;
                    }
                }
            }
            if ui.button(tr(lang, "刷新", "Refresh")).clicked() {
                out.push(Command::RefreshDrives);
            }
        });
        ui.horizontal(|ui| {
            ui.label(tr(lang, "目标文件夹", "Target folder"));
            ui.add(egui::TextEdit::singleline(&mut state.export_target).desired_width(480.0));
            if ui.button(tr(lang, "浏览…", "Browse…")).clicked() {
                out.push(Command::Pick(Pick::ExportTarget));
            }
        });
        let recipient = settings.export_recipient.trim();
        ui.horizontal(|ui| {
            ui.add_enabled(
                !recipient.is_empty(),
                egui::Checkbox::new(&mut state.export_encrypt, tr(lang, "加密（age）", "Encrypt (age)")),
            );
            if recipient.is_empty() {
                ui.weak(tr(lang, "在设置中填写加密公钥后可用", "set an encryption key in settings to use this"));
            } else {
                ui.weak(format!("{} {}…", tr(lang, "公钥", "key"), recipient.chars().take(16).collect::<String>()));
            }
        });
        let encrypt = state.export_encrypt && !recipient.is_empty();
        let camera_folder = settings.shots.folder.trim();
        if !camera_folder.is_empty() {
            ui.checkbox(
                &mut state.export_raw,
                tr(
                    lang,
                    "同时导出相机 RAW 文件（从相机文件夹复制并校验）",
                    "Also export the camera's RAW files (copied from its folder and checked)",
                ),
            );
        }
        let raw = state.export_raw && !camera_folder.is_empty();
        let target = state.export_target.trim().to_string();
        let ready = !target.is_empty() && !state.export_running;
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    ready,
                    egui::Button::new(RichText::new(tr(lang, "导出新照片", "Export what is new")).strong()),
                )
                .clicked()
            {
                out.push(Command::Export { to: target.clone().into(), full: false, encrypt, raw });
            }
            if ui.add_enabled(ready, egui::Button::new(tr(lang, "全部重新导出", "Export everything again"))).clicked()
            {
                out.push(Command::Export { to: target.clone().into(), full: true, encrypt, raw });
            }
            let can_check = state.bundle_checking.is_none() && !target.is_empty();
            if ui.add_enabled(can_check, egui::Button::new(tr(lang, "校验导出包", "Check a bundle"))).clicked() {
                // Which bundle the folder means is found by the task
                // (export::bundle_to_check), never from an old result.
                let last = match &state.export_outcome {
                    Some(ExportOutcome::Exported(r)) => Some(r.bundle.clone()),
                    Some(ExportOutcome::Checked { dir, .. } | ExportOutcome::CheckFailed { dir, .. }) => {
                        Some(dir.clone())
                    }
                    _ => None,
                };
                out.push(Command::CheckBundle { target: target.clone().into(), last });
            }
            if state.bundle_checking.is_some() {
                ui.spinner();
            }
        });
        if state.export_running {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(tr(
                    lang,
                    "正在写入、回读并校验…拍摄可继续",
                    "Writing, reading back and verifying… capture goes on",
                ));
            });
            if let Some((p, started)) = &state.export_progress {
                let rate = crate::export::Rate::measure(p, started.elapsed());
                let fraction = if p.bytes_total > 0 { p.bytes_done as f32 / p.bytes_total as f32 } else { 0.0 };
                ui.add(egui::ProgressBar::new(fraction).show_percentage().desired_width(560.0));
                ui.label(rate.line(p));
            }
        }
        outcome(ui, state, lang);
        ui.separator();
        prints(ui, state, settings, lang, out);
        ui.separator();
        office_tools(ui, state, lang, out);
        ui.separator();
        ui.heading(tr(lang, "已完成的导出", "Verified exports"));
        history(ui, state, lang);
        ui.separator();
        ui.heading(tr(lang, "交接后删除照片", "Delete photos after handover"));
        ui.label(tr(
            lang,
            "仅删除已导出并校验的学生在所选日期之前拍摄的照片图像；记录、校验值和操作日志保留。需要 PIN。",
            "Deletes only the images of verified-exported students shot before the chosen day; records, checksums \
             and the audit log stay. Needs the PIN.",
        ));
        ui.horizontal(|ui| {
            ui.label(tr(lang, "此日期之前（YYYY-MM-DD）", "Shot before (YYYY-MM-DD)"));
            ui.add(egui::TextEdit::singleline(&mut state.purge_before).desired_width(110.0));
            ui.label("PIN");
            ui.add(egui::TextEdit::singleline(&mut state.purge_pin).password(true).desired_width(80.0));
            let ready = !state.purge_running
                && chrono::NaiveDate::parse_from_str(state.purge_before.trim(), "%Y-%m-%d").is_ok()
                && !state.purge_pin.is_empty();
            let label = if state.purge_running {
                tr(lang, "删除中…", "Deleting…")
            } else {
                tr(lang, "删除…", "Delete…")
            };
            if ui.add_enabled(ready, egui::Button::new(label)).clicked() {
                out.push(Command::AskPurge {
                    before: state.purge_before.trim().to_string(),
                    pin: state.purge_pin.clone(),
                });
            }
        });
    });
}

/// The office's bundle tools, each through its dialogs: a key pair for
/// encrypted exports, decrypting a bundle, merging the stations' bundles.
fn office_tools(ui: &mut egui::Ui, state: &UiState, lang: Language, out: &mut Vec<Command>) {
    ui.heading(tr(lang, "办公室工具", "Office tools"));
    ui.horizontal_wrapped(|ui| {
        let idle = !state.office_running;
        for (pick, zh, en) in [
            (Pick::Keygen, "生成加密密钥…", "Make an encryption key…"),
            (Pick::DecryptBundle, "解密导出包…", "Decrypt a bundle…"),
            (Pick::MergeBundles, "合并各机位导出包…", "Merge the stations' bundles…"),
        ] {
            if ui.add_enabled(idle, egui::Button::new(tr(lang, zh, en))).clicked() {
                out.push(Command::Pick(pick));
            }
        }
        if state.office_running {
            ui.spinner();
        }
    });
    super::office_outcome(ui, state, lang);
}

/// Print sheets of a class: the settings' package and paper, into `prints/`
/// under the target folder.
fn prints(ui: &mut egui::Ui, state: &mut UiState, settings: &Settings, lang: Language, out: &mut Vec<Command>) {
    ui.heading(tr(lang, "冲印排版", "Print sheets"));
    if state.print_classes.is_empty() {
        ui.weak(tr(lang, "还没有已拍的学生", "no photographed students yet"));
        return;
    }
    ui.horizontal(|ui| {
        ui.label(tr(lang, "班级", "Class"));
        egui::ComboBox::from_id_salt("print-class").selected_text(state.print_class.clone()).show_ui(ui, |ui| {
            for c in &state.print_classes {
                ui.selectable_value(&mut state.print_class, c.clone(), c);
            }
        });
        ui.label(format!(
            "{} {} · {} {}",
            tr(lang, "套餐", "package"),
            settings.prints.package,
            tr(lang, "相纸", "paper"),
            settings.prints.paper
        ));
        ui.checkbox(&mut state.print_jpeg, tr(lang, "JPEG 相纸文件（冲印店）", "JPEG sheets (photo lab)"));
        let ready = !state.prints_running && !state.print_class.is_empty();
        if ui.add_enabled(ready, egui::Button::new(tr(lang, "生成冲印排版", "Make print sheets"))).clicked() {
            out.push(Command::Prints { class: state.print_class.clone(), jpeg: state.print_jpeg, to: None });
        }
        let pick = Pick::PrintsFolder { class: state.print_class.clone(), jpeg: state.print_jpeg };
        if ui.add_enabled(ready, egui::Button::new(tr(lang, "选择文件夹生成…", "Into a folder…"))).clicked()
        {
            out.push(Command::Pick(pick));
        }
        if state.prints_running {
            ui.spinner();
        }
    });
}

/// The last export's or bundle check's result, in a coloured frame.
fn outcome(ui: &mut egui::Ui, state: &UiState, lang: Language) {
    let Some(outcome) = &state.export_outcome else { return };
    let (level, title, lines): (Level, String, Vec<String>) = match outcome {
        ExportOutcome::Exported(r) => (
            Level::Green,
            tr(lang, "✓ 导出完成，已回读校验", "✓ Exported, read back and verified").to_string(),
            vec![
                format!(
                    "{} {} · {} {} · {:.1} MB{}",
                    r.records,
                    tr(lang, "人", "students"),
                    r.files,
                    tr(lang, "个文件", "files"),
                    r.bytes as f64 / 1e6,
                    if r.encrypted { tr(lang, " · 已加密", " · encrypted") } else { "" }
                ),
                format!("{} {} → {}", tr(lang, "批次", "batch"), r.batch, r.bundle.display()),
            ],
        ),
        ExportOutcome::Failed(e) => {
            (Level::Red, tr(lang, "✗ 导出未完成", "✗ Export not completed").to_string(), vec![e.clone()])
        }
        ExportOutcome::Checked { dir, report } if report.ok() => (
            Level::Green,
            tr(lang, "✓ 导出包完整无误", "✓ The bundle is complete and intact").to_string(),
            vec![
                dir.display().to_string(),
                if report.encrypted {
                    format!(
                        "{} {} {}",
                        tr(lang, "已加密：密文校验通过", "encrypted: the ciphertext checks out"),
                        report.files_checked,
                        tr(lang, "个文件", "files")
                    )
                } else {
                    format!(
                        "{} {} · {} {}",
                        report.records,
                        tr(lang, "人", "students"),
                        report.files_checked,
                        tr(lang, "个文件校验通过", "files checked")
                    )
                },
            ],
        ),
        ExportOutcome::Checked { dir, report } => (
            Level::Red,
            format!("✗ {} {}", tr(lang, "导出包有问题：", "The bundle has faults:"), report.findings.len()),
            std::iter::once(dir.display().to_string()).chain(report.findings.iter().take(12).cloned()).collect(),
        ),
        ExportOutcome::CheckFailed { dir, error } => (
            Level::Red,
            tr(lang, "✗ 无法校验", "✗ Cannot check").to_string(),
            vec![dir.display().to_string(), error.clone()],
        ),
    };
    let color = level_color(level);
    egui::Frame::group(ui.style()).stroke(egui::Stroke::new(2.0_f32, color)).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(RichText::new(title).size(20.0).strong().color(color));
        for line in lines {
            ui.add(egui::Label::new(line).wrap());
        }
    });
}

fn history(ui: &mut egui::Ui, state: &UiState, lang: Language) {
    egui::ScrollArea::vertical().id_salt("export-history").max_height(180.0).show(ui, |ui| {
        egui::Grid::new("export-history").striped(true).num_columns(4).show(ui, |ui| {
            for (batch, target, at, records) in &state.export_history {
                ui.label(batch);
                ui.label(super::short_time(at));
                ui.label(format!("{records} {}", tr(lang, "人", "students")));
                ui.label(target);
                ui.end_row();
            }
        });
    });
}
