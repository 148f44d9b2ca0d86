//! The export view: pick a drive (or type any folder), export what is new or
//! everything again, and see the verified exports so far. The export runs on
//! its own thread; the result (verified, or what went wrong) comes back as
//! the station's message.

use egui::RichText;

use super::tr;
use crate::app::{Command, UiState};
use crate::settings::Language;

pub fn show(ctx: &egui::Context, state: &mut UiState, lang: Language, out: &mut Vec<Command>) {
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
                out.push(Command::Export { to: target.clone().into(), full: false });
            }
            if ui.add_enabled(ready, egui::Button::new(tr(lang, "全部重新导出", "Export everything again"))).clicked()
            {
                out.push(Command::Export { to: target.clone().into(), full: true });
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
        }
        ui.separator();
        ui.heading(tr(lang, "已完成的导出", "Verified exports"));
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
