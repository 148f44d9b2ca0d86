//! The export view: pick a drive (or type any folder), export what is new or
//! everything again, and see the verified exports so far. The export runs on
//! its own thread; the result (verified, or what went wrong) comes back as
//! the station's message, with a progress bar (files, MB, MB/s, time left)
//! meanwhile. Below: purge after handover (PIN and confirmation).

use egui::RichText;

use super::tr;
use crate::app::{Command, UiState};
use crate::settings::{Language, Settings};

pub fn show(ctx: &egui::Context, state: &mut UiState, settings: &Settings, lang: Language, out: &mut Vec<Command>) {
    egui::CentralPanel::default().show(ctx, |ui| {
        ui.heading(tr(lang, "导出到 U 盘", "Export to a USB drive"));
        if state.drives.is_empty() {
            ui.label(tr(lang, "未发现 U 盘：可直接填写任意文件夹", "No removable drive found: type any folder"));
        } else {
            ui.horizontal_wrapped(|ui| {
                ui.label(tr(lang, "发现的 U 盘：", "Drives found:"));
                for d in &state.drives {
                    let text = d.display().to_string();
                    if ui.selectable_label(state.export_target == text, &text).clicked() {
                        state.export_target = text;
                    }
                }
            });
        }
        ui.horizontal(|ui| {
            ui.label(tr(lang, "目标文件夹", "Target folder"));
            ui.add(egui::TextEdit::singleline(&mut state.export_target).desired_width(480.0));
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
                out.push(Command::Export { to: target.clone().into(), full: false, encrypt });
            }
            if ui.add_enabled(ready, egui::Button::new(tr(lang, "全部重新导出", "Export everything again"))).clicked()
            {
                out.push(Command::Export { to: target.clone().into(), full: true, encrypt });
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
                state.confirm = Some(Command::Purge {
                    before: state.purge_before.trim().to_string(),
                    pin: state.purge_pin.clone(),
                });
            }
        });
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
