//! The settings view: station, school, operator, date, camera, photo size,
//! keys, language and the operator PIN. Edits a draft; Save applies it.

use egui::RichText;

use super::state::{Command, UiState};
use super::tr;
use crate::settings::{Language, Settings};

pub fn show(ctx: &egui::Context, state: &mut UiState, current: &Settings, lang: Language, out: &mut Vec<Command>) {
    egui::CentralPanel::default().show(ctx, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.heading(tr(lang, "设置", "Settings"));
            let draft = state.settings_draft.get_or_insert_with(|| current.clone());
            egui::Grid::new("settings").num_columns(2).spacing([16.0, 8.0]).show(ui, |ui| {
                let text = |ui: &mut egui::Ui, label: &str, value: &mut String| {
                    ui.label(label);
                    ui.text_edit_singleline(value);
                    ui.end_row();
                };
                text(ui, tr(lang, "机位", "Station"), &mut draft.station);
                text(ui, tr(lang, "学校名称", "School name"), &mut draft.school_name);
                text(ui, tr(lang, "院校代码", "School code"), &mut draft.school_code);
                text(ui, tr(lang, "摄影师", "Operator"), &mut draft.operator);
                text(ui, tr(lang, "拍摄日期（空为今天）", "Session date (empty: today)"), &mut draft.session_date);
                ui.label(tr(lang, "摄像头", "Camera"));
                let first = tr(lang, "第一个摄像头", "first camera").to_string();
                let shown = if draft.camera_name.is_empty() { first.clone() } else { draft.camera_name.clone() };
                egui::ComboBox::from_id_salt("camera").selected_text(shown).show_ui(ui, |ui| {
                    ui.selectable_value(&mut draft.camera_name, String::new(), first);
                    for name in &state.camera_names {
                        ui.selectable_value(&mut draft.camera_name, name.clone(), name);
                    }
                });
                ui.end_row();
                ui.label(tr(lang, "分辨率 / 帧率", "Resolution / fps"));
                ui.horizontal(|ui| {
                    ui.add(egui::DragValue::new(&mut draft.camera_width).range(320..=4096));
                    ui.label("×");
                    ui.add(egui::DragValue::new(&mut draft.camera_height).range(240..=2160));
                    ui.add(egui::DragValue::new(&mut draft.camera_fps).range(5..=60));
                });
                ui.end_row();
                ui.label(tr(lang, "照片大小（KB）", "Photo size (KB)"));
                ui.horizontal(|ui| {
                    ui.add(egui::DragValue::new(&mut draft.min_kb).range(1..=500));
                    ui.label("–");
                    ui.add(egui::DragValue::new(&mut draft.max_kb).range(1..=500));
                });
                ui.end_row();
                text(ui, tr(lang, "导出照片文件名", "Export photo file name"), &mut draft.photo_name_template);
                text(
                    ui,
                    tr(lang, "导出加密公钥（age1…）", "Export encryption key (age1…)"),
                    &mut draft.export_recipient,
                );
                text(
                    ui,
                    tr(lang, "冲印套餐（如 8×二寸 或 4×二寸+8×一寸）", "Print package (e.g. 8×二寸 or 4×二寸+8×一寸)"),
                    &mut draft.prints.package,
                );
                ui.label(tr(lang, "冲印相纸", "Print paper"));
                ui.horizontal(|ui| {
                    let papers: Vec<String> = draft.prints.papers.iter().map(|p| p.name.clone()).collect();
                    for paper in papers {
                        ui.selectable_value(&mut draft.prints.paper, paper.clone(), paper);
                    }
                    ui.checkbox(&mut draft.prints.caption, tr(lang, "相纸边缘印序号、学号、姓名", "Caption on the sheet's edge"));
                });
                ui.end_row();
                text(ui, tr(lang, "拍摄键", "Shoot key"), &mut draft.keys.shoot);
                text(ui, tr(lang, "确认键", "Accept key"), &mut draft.keys.accept);
                text(ui, tr(lang, "重拍键", "Re-shoot key"), &mut draft.keys.reshoot);
                text(ui, tr(lang, "跳过键", "Skip key"), &mut draft.keys.skip);
                text(ui, tr(lang, "绑定相机照片键", "Bind camera photo key"), &mut draft.keys.bind);
                ui.label(tr(lang, "语言", "Language"));
                ui.horizontal(|ui| {
                    ui.radio_value(&mut draft.language, Language::Chinese, "中文");
                    ui.radio_value(&mut draft.language, Language::English, "English");
                });
                ui.end_row();
            });
            ui.separator();
            shots(ui, draft, lang);
            egui::CollapsingHeader::new(tr(lang, "照片检查阈值", "Photo check thresholds")).show(ui, |ui| {
                thresholds(ui, &mut draft.photo_checks, lang);
            });
            if ui.button(RichText::new(tr(lang, "保存设置", "Save settings")).strong()).clicked() {
                out.push(Command::SaveSettings(Box::new(draft.clone())));
            }
            ui.separator();
            ui.heading(tr(lang, "备份数据库", "Back up the database"));
            ui.label(tr(
                lang,
                "拍摄中随时可备份：整个数据库的一致副本，写完后自动校验。",
                "Any time, even mid-class: a consistent copy of the whole database, verified after writing.",
            ));
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(&mut state.backup_dir).desired_width(420.0));
                let label = if state.backup_running {
                    tr(lang, "备份中…", "Backing up…")
                } else {
                    tr(lang, "立即备份", "Back up now")
                };
                if ui.add_enabled(!state.backup_running, egui::Button::new(label)).clicked() {
                    out.push(Command::Backup(state.backup_dir.clone().into()));
                }
            });
            ui.separator();
            ui.heading(tr(lang, "操作员 PIN", "Operator PIN"));
            ui.label(if state.pin_set {
                tr(
                    lang,
                    "已设置（保存在本机位数据库中）。作废、重拍已拍学生和交接后删除需要 PIN；更改需要原 PIN。",
                    "Set (kept in this station's database). Void, re-shoot and purge need it; changing it needs the current one.",
                )
            } else {
                tr(
                    lang,
                    "尚未设置：作废和重拍已拍学生在设置 PIN 前不可用。",
                    "Not set: void and re-shoot stay locked until a PIN is set.",
                )
            });
            ui.horizontal(|ui| {
                if state.pin_set {
                    ui.label(tr(lang, "原 PIN", "Current PIN"));
                    ui.add(egui::TextEdit::singleline(&mut state.old_pin).password(true).desired_width(100.0));
                }
                ui.label(tr(lang, "新 PIN", "New PIN"));
                ui.add(egui::TextEdit::singleline(&mut state.new_pin).password(true).desired_width(100.0));
                if ui.button(tr(lang, "设置新 PIN", "Set new PIN")).clicked() {
                    out.push(Command::SetPin { new: state.new_pin.clone(), old: state.old_pin.clone() });
                }
            });
        });
    });
}

/// What makes the photo (webcam or the studio camera's folder), the shot
/// rules, and the webcam's exposure and white balance lock.
fn shots(ui: &mut egui::Ui, draft: &mut Settings, lang: Language) {
    use crate::settings::ShotSource;
    use crate::station::ingest::ShotTrigger;
    ui.heading(tr(lang, "拍摄来源", "Shot source"));
    egui::Grid::new("shots").num_columns(2).spacing([16.0, 8.0]).show(ui, |ui| {
        let shots = &mut draft.shots;
        ui.label(tr(lang, "照片由", "Photos from"));
        ui.horizontal(|ui| {
            ui.radio_value(&mut shots.source, ShotSource::Webcam, tr(lang, "摄像头（快门键）", "webcam (shutter key)"));
            ui.radio_value(
                &mut shots.source,
                ShotSource::Folder,
                tr(lang, "相机联机文件夹（单反/微单）", "studio camera's tethering folder (DSLR)"),
            );
        });
        ui.end_row();
        if shots.source == ShotSource::Folder {
            ui.label(tr(lang, "相机照片文件夹", "Camera folder"));
            ui.add(egui::TextEdit::singleline(&mut shots.folder).desired_width(420.0).hint_text("D:\\EOS\\2026-12-02"));
            ui.end_row();
            ui.label(tr(lang, "谁按快门", "Who fires the camera"));
            ui.horizontal(|ui| {
                ui.radio_value(
                    &mut shots.trigger,
                    ShotTrigger::Camera,
                    tr(lang, "摄影师按相机快门", "the photographer, on the camera"),
                );
                ui.radio_value(
                    &mut shots.trigger,
                    ShotTrigger::Station,
                    tr(lang, "采集站快门键", "the station's shutter key"),
                );
            });
            ui.end_row();
            if shots.trigger == ShotTrigger::Station {
                ui.label(tr(lang, "快门后等待（秒）", "Window after the key (s)"));
                ui.add(egui::DragValue::new(&mut shots.window_s).range(1..=120));
                ui.end_row();
                ui.label(tr(lang, "触发命令（可空）", "Trigger command (optional)"));
                ui.add(
                    egui::TextEdit::singleline(&mut shots.trigger_command)
                        .desired_width(420.0)
                        .hint_text("gphoto2 --trigger-capture"),
                );
                ui.end_row();
            }
            ui.label(tr(lang, "连拍间隔（毫秒）", "Burst gap (ms)"));
            ui.add(egui::DragValue::new(&mut shots.burst_ms).range(0..=10_000));
            ui.end_row();
        }
        ui.label(tr(lang, "每人张数提醒（超过）", "Warn above takes per student"));
        ui.add(egui::DragValue::new(&mut shots.limit).range(1..=50));
        ui.end_row();
        let lock = |ui: &mut egui::Ui,
                    label: &str,
                    value: &mut Option<i64>,
                    default: i64,
                    range: std::ops::RangeInclusive<i64>| {
            ui.label(label);
            ui.horizontal(|ui| {
                let mut locked = value.is_some();
                ui.checkbox(&mut locked, tr(lang, "锁定", "lock"));
                match (locked, value.as_mut()) {
                    (true, Some(v)) => {
                        ui.add(egui::DragValue::new(v).range(range));
                    }
                    (true, None) => *value = Some(default),
                    (false, _) => *value = None,
                }
            });
            ui.end_row();
        };
        lock(ui, tr(lang, "摄像头曝光", "Webcam exposure"), &mut draft.camera_exposure, 156, 1..=10_000);
        lock(
            ui,
            tr(lang, "摄像头白平衡（K）", "Webcam white balance (K)"),
            &mut draft.camera_white_balance,
            5500,
            2000..=10_000,
        );
    });
}

/// The photo-check thresholds (one table; README lists their meaning).
fn thresholds(ui: &mut egui::Ui, t: &mut crate::photo::checks::Thresholds, lang: Language) {
    let range = |ui: &mut egui::Ui, label: &str, v: &mut [f32; 2], max: f32| {
        ui.label(label);
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(&mut v[0]).range(0.0..=max));
            ui.label("–");
            ui.add(egui::DragValue::new(&mut v[1]).range(0.0..=max));
        });
        ui.end_row();
    };
    let one = |ui: &mut egui::Ui, label: &str, v: &mut f32, max: f32| {
        ui.label(label);
        ui.add(egui::DragValue::new(v).range(0.0..=max).speed(0.1));
        ui.end_row();
    };
    egui::Grid::new("thresholds").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
        range(ui, tr(lang, "眼睛距上边（px）", "Eyes from the top (px)"), &mut t.eye_height_px, 640.0);
        range(ui, tr(lang, "脸宽（px）", "Face width (px)"), &mut t.face_width_px, 480.0);
        one(ui, tr(lang, "头部倾斜上限（°）", "Most head tilt (°)"), &mut t.eye_tilt_max_deg, 45.0);
        range(ui, tr(lang, "头顶距上边（px）", "Top of the head from the top (px)"), &mut t.head_top_px, 640.0);
        one(ui, tr(lang, "清晰度下限", "Least sharpness"), &mut t.sharpness_min, 100.0);
        range(ui, tr(lang, "面部亮度（0–255）", "Face brightness (0–255)"), &mut t.exposure, 255.0);
        one(ui, tr(lang, "背景色差上限", "Most background colour distance"), &mut t.background_distance_max, 450.0);
        one(ui, tr(lang, "背景不均匀上限", "Most background spread"), &mut t.background_spread_max, 128.0);
        one(ui, tr(lang, "睁眼开度下限（%）", "Least eye opening (%)"), &mut t.eyes_open_min_pct, 100.0);
        one(ui, tr(lang, "嘴唇张开上限（%）", "Most lip opening (%)"), &mut t.mouth_open_max_pct, 100.0);
        one(ui, tr(lang, "露齿上限（%）", "Most teeth showing (%)"), &mut t.teeth_max_pct, 100.0);
        one(ui, tr(lang, "头部左右转动上限（°）", "Most head turn (°)"), &mut t.head_yaw_max_deg, 90.0);
        one(ui, tr(lang, "头部抬低上限（°）", "Most head raise or lower (°)"), &mut t.head_pitch_max_deg, 90.0);
        one(
            ui,
            tr(lang, "面部光线均匀下限（%）", "Least even light on the face (%)"),
            &mut t.illumination_uniformity_min_pct,
            100.0,
        );
        one(
            ui,
            tr(lang, "面部死黑或过曝上限（%）", "Most crushed or blown face (%)"),
            &mut t.exposure_clipping_max_pct,
            100.0,
        );
        one(ui, tr(lang, "眼镜反光上限（%）", "Most glare on glasses (%)"), &mut t.glasses_glare_max_pct, 100.0);
        one(
            ui,
            tr(lang, "衣服与背景色差下限", "Least clothing–backdrop colour distance"),
            &mut t.clothing_distance_min,
            441.0,
        );
    });
}
