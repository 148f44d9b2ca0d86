//! The records view: search by sequence number, 学号, masked name or token;
//! a record shows all its takes and its audit trail. Void and re-shoot of a
//! photographed student need the operator PIN and a confirmation.

use egui::{Color32, RichText, Vec2};

use super::state::{Command, Pick, UiState};
use super::{short_time, tr};
use crate::settings::Language;
use crate::store::RecordStatus;

/// A record's state in the interface language.
pub fn status_label(status: RecordStatus, lang: Language) -> &'static str {
    tr(lang, status.label_zh(), status.label_en())
}

/// An audit action as words (the stored name stays on hover).
pub fn audit_action_label(action: &str, lang: Language) -> String {
    let (zh, en) = match action {
        "session_opened" => ("场次开始", "session opened"),
        "session_updated" | "session_corrected" => ("场次信息更正", "session corrected"),
        "scanned" => ("扫码取号", "scanned, numbered"),
        "rescan_waiting" => ("重复扫码（仍在队列）", "scanned again while waiting"),
        "scan_refused_photographed" => ("重复扫码（已拍，拒绝）", "scan refused: already photographed"),
        "take_captured" => ("拍摄照片", "photo taken"),
        "take_rejected" => ("照片重拍", "photo rejected for a re-shoot"),
        "camera_file_held" => ("相机照片待绑定", "camera file held unbound"),
        "camera_file_discarded" => ("相机照片已放弃", "camera file discarded"),
        "camera_file_unreadable" => ("相机照片无法读取", "camera file does not decode"),
        "camera_raw_recorded" => ("记录 RAW 文件", "RAW file recorded"),
        "accepted" => ("照片确认", "photo accepted"),
        "reshoot_accepted" => ("重拍照片确认", "re-shot photo accepted"),
        "skipped" => ("跳过", "skipped"),
        "voided" => ("作废", "voided"),
        "reshoot_requested" => ("申请重拍", "re-shoot requested"),
        "reshoot_cancelled" => ("取消重拍", "re-shoot cancelled"),
        "exported" => ("已导出", "exported"),
        "purged" => ("交接后删除图像", "images deleted after handover"),
        "roster_imported" => ("导入名单", "roster imported"),
        "schedule_imported" => ("导入日程", "schedule imported"),
        other => return other.replace('_', " "),
    };
    tr(lang, zh, en).to_string()
}

pub fn show(ctx: &egui::Context, state: &mut UiState, lang: Language, out: &mut Vec<Command>) {
    egui::SidePanel::left("search").min_width(420.0).show(ctx, |ui| {
        ui.heading(tr(lang, "查找记录", "Find a record"));
        ui.label(tr(lang, "序号、学号、脱敏姓名或采集码", "Number, student no., masked name or token"));
        let response = ui.add(egui::TextEdit::singleline(&mut state.search).hint_text("2-0153").desired_width(300.0));
        let enter = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button(tr(lang, "查找", "Search")).clicked() || enter {
            out.push(Command::Search(state.search.clone()));
        }
        ui.separator();
        if let Some(q) = &state.searched {
            if state.results.is_empty() {
                let text = match lang {
                    Language::Chinese => format!("没有找到“{q}”的记录"),
                    Language::English => format!("no record found for \"{q}\""),
                };
                ui.label(RichText::new(text).size(18.0).color(Color32::from_rgb(190, 30, 30)));
            }
        }
        egui::ScrollArea::vertical().show(ui, |ui| {
            egui::Grid::new("results").striped(true).num_columns(4).show(ui, |ui| {
                for r in &state.results {
                    if ui.link(r.display_seq()).clicked() {
                        out.push(Command::Select(r.id));
                    }
                    ui.label(&r.code.xm);
                    ui.label(&r.code.xh);
                    ui.label(status_label(r.status, lang));
                    ui.end_row();
                }
            });
        });
    });
    egui::CentralPanel::default().show(ctx, |ui| {
        let Some(detail) = state.detail.clone() else {
            ui.label(tr(lang, "选择一条记录查看照片和操作记录", "Pick a record to see its photos and audit trail"));
            return;
        };
        let r = &detail.record;
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.label(RichText::new(format!("{}  {}", r.display_seq(), r.code.xm)).size(36.0).strong());
            egui::Grid::new("fields").num_columns(2).show(ui, |ui| {
                let rows = [
                    (tr(lang, "学号", "Student no."), r.code.xh.clone()),
                    (tr(lang, "班级", "Class"), r.code.bh.clone()),
                    (tr(lang, "分院", "College"), r.code.fy.clone()),
                    (tr(lang, "层次", "Level"), r.code.cc.clone()),
                    (tr(lang, "证件尾号", "ID tail"), r.code.zjhm.clone()),
                    (tr(lang, "采集码", "Token"), r.code.cjm.clone()),
                    (tr(lang, "扫码时间", "Scanned"), short_time(&r.scanned_at)),
                    (tr(lang, "状态", "Status"), format!("{} {}", status_label(r.status, lang), r.status_reason)),
                ];
                for (k, v) in rows {
                    ui.label(k);
                    ui.label(v);
                    ui.end_row();
                }
            });
            ui.separator();
            ui.heading(tr(lang, "照片", "Takes"));
            ui.horizontal_wrapped(|ui| {
                for take in &detail.takes {
                    ui.vertical(|ui| {
                        if let Some((_, tex)) = state.detail_textures.iter().find(|(id, _)| *id == take.id) {
                            ui.add(egui::Image::new((tex.id(), Vec2::new(120.0, 160.0))));
                        }
                        let mut label = format!("#{} {}", take.take_no, short_time(&take.captured_at));
                        if take.is_primary {
                            label.push_str(tr(lang, " 主照片", " primary"));
                        }
                        if take.rejected_at.is_some() {
                            label.push_str(tr(lang, " 已驳回", " rejected"));
                        }
                        if take.purged_at.is_some() {
                            label.push_str(tr(lang, " 交接后已删除图像", " images deleted after handover"));
                        }
                        ui.label(label);
                    });
                }
            });
            if ui
                .button(tr(
                    lang,
                    "导出此学生的照片和记录（勘误）",
                    "Export this student's photos and record (correction)",
                ))
                .on_hover_text(tr(
                    lang,
                    "写入导出页的目标文件夹（未填写时写入数据库旁的 corrections 文件夹）",
                    "into the export view's target folder (or a corrections folder beside the database)",
                ))
                .clicked()
            {
                out.push(Command::ExportStudent(r.id));
            }
            if ui.button(tr(lang, "导出此学生到文件夹…", "Export this student into a folder…")).clicked() {
                out.push(Command::Pick(Pick::StudentFolder { record: r.id }));
            }
            ui.separator();
            ui.heading(tr(lang, "操作记录", "Audit trail"));
            egui::Grid::new("audit").striped(true).num_columns(3).show(ui, |ui| {
                for a in &detail.audit {
                    ui.label(short_time(&a.at));
                    ui.label(audit_action_label(&a.action, lang)).on_hover_text(&a.action);
                    ui.label(RichText::new(&a.detail).small());
                    ui.end_row();
                }
            });
            ui.separator();
            ui.heading(tr(lang, "更正（需要 PIN）", "Corrections (PIN required)"));
            ui.horizontal(|ui| {
                ui.label(tr(lang, "原因", "Reason"));
                ui.text_edit_singleline(&mut state.action_reason);
                ui.label("PIN");
                ui.add(egui::TextEdit::singleline(&mut state.action_pin).password(true).desired_width(80.0));
            });
            let ready = !state.action_reason.trim().is_empty() && !state.action_pin.is_empty();
            ui.horizontal(|ui| {
                let can_void = r.status != RecordStatus::Voided;
                if ui.add_enabled(ready && can_void, egui::Button::new(tr(lang, "作废", "Void"))).clicked() {
                    state.confirm = Some(Command::Void {
                        record: r.id,
                        reason: state.action_reason.clone(),
                        pin: state.action_pin.clone(),
                    });
                }
                let can_reshoot = r.status == RecordStatus::Photographed && !r.reshoot_pending;
                if ui.add_enabled(ready && can_reshoot, egui::Button::new(tr(lang, "重拍", "Re-shoot"))).clicked() {
                    state.confirm = Some(Command::RequestReshoot {
                        record: r.id,
                        reason: state.action_reason.clone(),
                        pin: state.action_pin.clone(),
                    });
                }
                if r.reshoot_pending && ui.button(tr(lang, "取消重拍", "Cancel re-shoot")).clicked() {
                    out.push(Command::CancelReshoot(r.id));
                }
            });
            if !ready {
                ui.label(
                    RichText::new(tr(lang, "填写原因和 PIN 后可操作", "Enter a reason and the PIN"))
                        .color(Color32::GRAY),
                );
            }
        });
    });
}
