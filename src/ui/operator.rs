//! The operator view: the live preview with the crop frame and guide bands,
//! the current student (the queue head) in very large type with the face
//! seen at scan time, the photo under review, the waiting queue, and the
//! feedback of the last scan, large enough to read from two metres.

use egui::{Align2, Color32, FontId, Rect, RichText, Stroke, StrokeKind, Vec2};

use super::state::{Command, UiState};
use super::{short_time, tr};
use crate::photo::checks::{Assessment, Hint, Level};
use crate::scan::gun::GunKey;
use crate::settings::{Keys, Language, Settings};

/// The eye band and the hairline band of the 640-px-high deliverable, as
/// the photo checks in settings have them (DOMAIN.md: 200–300 and 50–110).
fn bands(settings: &Settings) -> ((f32, f32), (f32, f32)) {
    let t = &settings.photo_checks;
    ((t.eye_height_px[0], t.eye_height_px[1]), (t.head_top_px[0], t.head_top_px[1]))
}

pub fn show(ctx: &egui::Context, state: &mut UiState, settings: &Settings, lang: Language, out: &mut Vec<Command>) {
    egui::SidePanel::right("student").min_width(400.0).resizable(false).show(ctx, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            // Camera photos that were not bound come first: each waits for
            // the operator to bind it or set it aside.
            if let Some(studio) = state.studio.as_ref().filter(|s| !s.tray.is_empty()) {
                studio_panel(ui, studio, state, settings, lang, out);
                ui.separator();
            }
            // A photo waiting for its decision comes next, its buttons at
            // the top: it is what the operator must act on now.
            if state.review.is_some() {
                review(ui, state, settings, lang, out);
                ui.separator();
                current_student(ui, state, lang);
            } else {
                current_student(ui, state, lang);
                ui.separator();
                review(ui, state, settings, lang, out);
            }
            skip_prompt(ui, state, lang, out);
            if let Some(studio) = state.studio.as_ref().filter(|s| s.tray.is_empty()) {
                ui.separator();
                studio_panel(ui, studio, state, settings, lang, out);
            }
            ui.separator();
            queue(ui, state, lang);
        });
    });
    egui::CentralPanel::default().show(ctx, |ui| {
        if state.no_camera {
            no_camera(ui, state, lang, out);
        } else {
            preview(ui, state, settings, lang);
        }
    });
}

/// No camera: say so plainly, capture nothing, and offer what to do.
fn no_camera(ui: &mut egui::Ui, state: &UiState, lang: Language, out: &mut Vec<Command>) {
    ui.vertical_centered(|ui| {
        ui.add_space(60.0);
        ui.label(RichText::new("📷").size(64.0));
        ui.label(RichText::new(tr(lang, "未检测到摄像头", "No camera found")).size(40.0).strong());
        ui.label(
            RichText::new(tr(
                lang,
                "请连接 USB 摄像头后点“重新检测”，或在设置中选择摄像头。没有摄像头时不会拍摄任何照片；扫码枪仍可取号。",
                "Connect a USB camera and press \"Look again\", or choose one in settings. Nothing is photographed without a camera; the scanner gun still gives numbers.",
            ))
            .size(18.0),
        );
        ui.add_space(16.0);
        ui.horizontal(|ui| {
            if ui.button(RichText::new(tr(lang, "重新检测", "Look again")).size(22.0)).clicked() {
                out.push(Command::RetryCamera);
            }
            if ui.button(RichText::new(tr(lang, "选择摄像头（设置）", "Choose a camera (settings)")).size(22.0)).clicked() {
                out.push(Command::Show(super::state::View::Settings));
            }
            if !state.training
                && ui
                    .button(
                        RichText::new(tr(lang, "开始练习（演示摄像头，单独的练习数据库）", "Start training (demo camera, its own database)"))
                            .size(22.0),
                    )
                    .clicked()
            {
                out.push(Command::StartTraining);
            }
        });
    });
}

fn current_student(ui: &mut egui::Ui, state: &UiState, lang: Language) {
    ui.heading(tr(lang, "当前学生（队首）", "Current student (queue head)"));
    let Some(head) = &state.snapshot.head else {
        ui.label(RichText::new(tr(lang, "队列为空：请扫码", "Queue empty: scan a code")).size(28.0).weak());
        return;
    };
    if head.reshoot_pending {
        ui.label(RichText::new(tr(lang, "重拍", "RE-SHOOT")).size(22.0).strong().color(Color32::from_rgb(200, 130, 0)));
    }
    ui.horizontal(|ui| {
        ui.vertical(|ui| {
            ui.label(RichText::new(head.display_seq()).size(112.0).strong());
            ui.label(RichText::new(&head.code.xm).size(40.0).strong());
            ui.label(RichText::new(format!("{} {}", tr(lang, "学号", "No."), head.code.xh)).size(22.0));
            let class = if head.code.bh.is_empty() { &head.code.fy } else { &head.code.bh };
            ui.label(RichText::new(class).size(20.0));
            ui.label(format!("{} {}", tr(lang, "证件尾号", "ID tail"), head.code.zjhm));
        });
        if let Some((_, tex)) = &state.head_thumb {
            let size = tex.size_vec2();
            let scale = 150.0 / size.y.max(1.0);
            ui.add(egui::Image::new((tex.id(), size * scale)));
        }
    });
}

fn review(ui: &mut egui::Ui, state: &UiState, settings: &Settings, lang: Language, out: &mut Vec<Command>) {
    let keys = &settings.keys;
    if state.shooting {
        ui.label(RichText::new(tr(lang, "正在生成照片…", "Making the photo…")).size(20.0));
    }
    let Some((review, tex)) = &state.review else {
        ui.label(format!("{} [{}]", tr(lang, "拍摄", "Shoot"), keys.shoot));
        if ui.add_enabled(state.snapshot.head.is_some(), egui::Button::new(tr(lang, "拍摄", "Shoot"))).clicked() {
            out.push(Command::Shoot);
        }
        return;
    };
    ui.label(
        RichText::new(format!("{} {}", tr(lang, "待确认照片", "Photo to check"), review.record.display_seq()))
            .size(20.0)
            .strong(),
    );
    let failed = !review.assessment.failed().is_empty();
    let armed = state
        .accept_armed
        .is_some_and(|(id, at)| id == review.take.id && at.elapsed() <= super::state::ACCEPT_FAILED_WINDOW);
    ui.horizontal(|ui| {
        let accept = match (failed, armed) {
            (false, _) => tr(lang, "确认", "Accept"),
            (true, false) => tr(lang, "仍要确认…（需按两次）", "Accept anyway… (press twice)"),
            (true, true) => tr(lang, "再按一次：仍然确认（将记录）", "Press again: accept anyway (recorded)"),
        };
        if ui.button(RichText::new(format!("{accept} [{}]", keys.accept)).size(22.0)).clicked() {
            out.push(Command::Accept);
        }
        if ui.button(RichText::new(format!("{} [{}]", tr(lang, "重拍", "Re-shoot"), keys.reshoot)).size(22.0)).clicked()
        {
            out.push(Command::Reshoot);
        }
    });
    ui.horizontal(|ui| {
        let response = ui.add(egui::Image::new((tex.id(), Vec2::new(240.0, 320.0))));
        // Where the checks found the eyes, and the spec's bands.
        let r = response.rect;
        let painter = ui.painter_at(r);
        let to_screen = |x: f32, y: f32| r.min + Vec2::new(x * r.width() / 480.0, y * r.height() / 640.0);
        let eyes = Color32::from_rgb(0, 230, 120);
        let (eye_band, hair_band) = bands(settings);
        for y in [eye_band.0, eye_band.1] {
            painter.line_segment([to_screen(0.0, y), to_screen(480.0, y)], Stroke::new(1.0_f32, eyes));
        }
        for y in [hair_band.0, hair_band.1] {
            painter.line_segment(
                [to_screen(0.0, y), to_screen(480.0, y)],
                Stroke::new(1.0_f32, Color32::from_rgb(255, 200, 0)),
            );
        }
        if let Some(face) = &review.assessment.face {
            for eye in [face.left_eye, face.right_eye] {
                painter.circle_stroke(
                    to_screen(eye[0], eye[1]),
                    4.0,
                    Stroke::new(1.5_f32, Color32::from_rgb(255, 60, 200)),
                );
            }
        }
        checks_list(ui, &review.assessment, lang);
    });
    let kb = review.bytes as f32 / 1024.0;
    let size_text = format!("{kb:.1} KB, Q{}", review.take.deliverable_quality);
    if review.in_range {
        ui.label(size_text);
    } else {
        ui.label(
            RichText::new(format!("{size_text} — {}", tr(lang, "大小超出范围", "size out of range")))
                .color(Color32::from_rgb(200, 130, 0)),
        );
    }
}

/// The studio camera's folder: how it is watched, the last file, and the
/// tray of files not bound (each bound to the head or set aside by hand).
fn studio_panel(
    ui: &mut egui::Ui,
    studio: &super::state::StudioView,
    state: &UiState,
    settings: &Settings,
    lang: Language,
    out: &mut Vec<Command>,
) {
    use crate::camera::folder::FolderState;
    let amber = Color32::from_rgb(200, 130, 0);
    let red = Color32::from_rgb(200, 40, 40);
    let green = Color32::from_rgb(30, 150, 60);
    ui.heading(tr(lang, "相机（文件夹）", "Studio camera (folder)"));
    let status = &studio.status;
    let folder = status.folder.display().to_string();
    let (text, colour) = match &status.state {
        None | Some(FolderState::Starting) => (tr(lang, "正在打开", "opening").to_string(), amber),
        Some(FolderState::Watching) => (format!("● {}", tr(lang, "监视中", "watching")), green),
        Some(FolderState::Polling) => (format!("● {}", tr(lang, "监视中（定时查看）", "watching (listing)")), green),
        Some(FolderState::Missing) => {
            (tr(lang, "文件夹不存在：请检查路径或连接", "folder missing: check the path or the drive").to_string(), red)
        }
        Some(FolderState::Unreadable(e)) => (format!("{}: {e}", tr(lang, "文件夹无法读取", "folder unreadable")), red),
    };
    ui.label(RichText::new(text).color(colour).strong());
    ui.label(RichText::new(folder).small());
    if studio.armed {
        ui.label(
            RichText::new(tr(
                lang,
                "快门窗口打开：下一张相机照片绑定到当前学生",
                "shutter window open: the next camera photo binds to the current student",
            ))
            .color(green),
        );
    }
    if let Some((name, what)) = &status.last_file {
        ui.label(format!("{} {name} — {}", tr(lang, "最近文件", "Last file"), what.get(lang)));
    }
    if let Some(last) = status.ignored.last() {
        ui.label(
            RichText::new(format!(
                "{} {} ({last})",
                tr(lang, "已忽略非照片文件", "non-photo files ignored:"),
                status.ignored.len()
            ))
            .small(),
        );
    }
    if status.raw_waiting > 0 {
        ui.label(
            RichText::new(format!(
                "{} {}",
                tr(lang, "RAW 文件等待 JPEG：", "RAW files waiting for their JPEG:"),
                status.raw_waiting
            ))
            .small(),
        );
    }
    for (name, why) in status.unreadable.iter().rev().take(3) {
        ui.label(
            RichText::new(format!(
                "{} {name}: {why}",
                tr(lang, "照片文件无法读取（请检查权限）", "photo file cannot be read:")
            ))
            .color(red),
        );
    }
    if studio.tray.is_empty() {
        return;
    }
    ui.label(
        RichText::new(format!("{} {}", tr(lang, "待绑定的相机照片", "Unbound camera photos"), studio.tray.len()))
            .size(20.0)
            .strong()
            .color(amber),
    );
    let can_bind = state.snapshot.head.is_some() && state.review.is_none() && !state.shooting;
    for (i, file) in studio.tray.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            let why = crate::station::ingest::HoldReason::describe(&file.reason);
            ui.label(RichText::new(&file.name).strong());
            ui.label(RichText::new(format!("{} · {}", short_time(&file.seen_at), why.get(lang))).small());
            let key = if i == 0 { format!(" [{}]", settings.keys.bind) } else { String::new() };
            let bind = egui::Button::new(format!("{}{key}", tr(lang, "绑定到当前学生", "Bind to current student")));
            if ui
                .add_enabled(can_bind, bind)
                .on_disabled_hover_text(tr(
                    lang,
                    "需有学生在队首且没有待确认的照片",
                    "needs a student at the head and no photo under review",
                ))
                .clicked()
            {
                out.push(Command::BindShot(file.id));
            }
            if ui.button(tr(lang, "放弃", "Discard")).clicked() {
                out.push(Command::DiscardShot(file.id));
            }
        });
    }
}

/// Colour of a check level.
/// The command of a key the operator pressed by hand. While the skip
/// dialog is open it holds every other shortcut: its number keys pick a
/// reason and Escape cancels.
pub fn shortcut(key: &GunKey, keys: &Keys, skip_prompt: bool) -> Option<Command> {
    if skip_prompt {
        return match key {
            GunKey::Char(c) => c
                .to_digit(10)
                .and_then(|d| SKIP_REASONS.get((d as usize).checked_sub(1)?))
                .map(|(zh, en)| Command::Skip(format!("{zh} / {en}"))),
            GunKey::Other(name) if name == "Escape" => Some(Command::CancelPrompt),
            _ => None,
        };
    }
    let name = match key {
        GunKey::Char(' ') => "Space".to_string(),
        GunKey::Char(c) => c.to_uppercase().collect(),
        GunKey::Enter => "Enter".to_string(),
        GunKey::Other(n) => n.clone(),
    };
    let is = |k: &str| k.eq_ignore_ascii_case(&name);
    if is(&keys.shoot) {
        Some(Command::Shoot)
    } else if is(&keys.accept) {
        Some(Command::Accept)
    } else if is(&keys.reshoot) {
        Some(Command::Reshoot)
    } else if is(&keys.skip) {
        Some(Command::AskSkip)
    } else if is(&keys.bind) {
        Some(Command::BindOldestShot)
    } else {
        None
    }
}

pub fn level_color(level: Level) -> Color32 {
    match level {
        Level::Green => Color32::from_rgb(30, 150, 60),
        Level::Amber => Color32::from_rgb(210, 140, 0),
        Level::Red => Color32::from_rgb(200, 40, 40),
    }
}

/// The checks of a photo: a dot per check and its message.
fn checks_list(ui: &mut egui::Ui, assessment: &Assessment, lang: Language) {
    ui.vertical(|ui| {
        ui.set_max_width(300.0);
        let (zh, en) = match assessment.level() {
            Level::Green => ("照片检查全部通过", "all photo checks pass"),
            Level::Amber => ("通过，有接近限值的项", "passes, some values near a limit"),
            Level::Red => ("有不合格项：建议重拍", "checks failed: re-shoot advised"),
        };
        ui.label(RichText::new(tr(lang, zh, en)).strong().color(level_color(assessment.level())));
        if !assessment.auto_crop {
            ui.label(
                RichText::new(tr(lang, "未找到人脸，已居中裁切", "no face found: centred crop"))
                    .color(level_color(Level::Amber)),
            );
        }
        for c in &assessment.checks {
            ui.horizontal(|ui| {
                ui.label(RichText::new("●").color(level_color(c.level)));
                let text = match lang {
                    Language::Chinese => &c.message_zh,
                    Language::English => &c.message_en,
                };
                ui.add(egui::Label::new(RichText::new(text).small()).wrap())
                    .on_hover_text(format!("{}: {:?} / {}", c.name, c.value, c.threshold));
            });
        }
    });
}

/// The reasons to skip, picked with the keys 1, 2, 3 while the dialog is open.
pub const SKIP_REASONS: [(&str, &str); 3] =
    [("未到", "no-show"), ("已离开", "left the queue"), ("未带采集码", "no capture code")];

fn skip_prompt(ui: &mut egui::Ui, state: &mut UiState, lang: Language, out: &mut Vec<Command>) {
    if !state.skip_prompt {
        if state.snapshot.head.is_some() && ui.button(tr(lang, "跳过（未到）…", "Skip (no-show)…")).clicked()
        {
            out.push(Command::AskSkip);
        }
        return;
    }
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(RichText::new(tr(lang, "跳过原因", "Reason to skip")).strong());
        ui.label(
            RichText::new(tr(
                lang,
                "按 1–3 选择原因，Esc 取消；对话框打开时拍摄、确认、重拍快捷键暂停",
                "press 1–3 for a reason, Esc cancels; shoot, accept and re-shoot keys are held while this is open",
            ))
            .small(),
        );
        ui.horizontal_wrapped(|ui| {
            for (i, (zh, en)) in SKIP_REASONS.iter().enumerate() {
                if ui.button(format!("{} {}", i + 1, tr(lang, zh, en))).clicked() {
                    out.push(Command::Skip(format!("{zh} / {en}")));
                }
            }
        });
        ui.horizontal(|ui| {
            ui.text_edit_singleline(&mut state.skip_other);
            let other = state.skip_other.trim().to_string();
            if ui.add_enabled(!other.is_empty(), egui::Button::new(tr(lang, "其他原因", "Other reason"))).clicked()
            {
                out.push(Command::Skip(other));
            }
        });
        if ui.button(tr(lang, "取消 [Esc]", "Cancel [Esc]")).clicked() {
            out.push(Command::CancelPrompt);
        }
    });
}

fn queue(ui: &mut egui::Ui, state: &UiState, lang: Language) {
    // Students of another station or day stay in their own queue, shown here.
    if !state.snapshot.waiting_elsewhere.is_empty() {
        ui.label(
            RichText::new(tr(lang, "其他场次仍在等待", "Still waiting elsewhere"))
                .strong()
                .color(Color32::from_rgb(200, 130, 0)),
        );
        for (session, n) in &state.snapshot.waiting_elsewhere {
            ui.label(format!(
                "{} {} · {} · {n} {}",
                tr(lang, "机位", "station"),
                session.info.station,
                session.info.date,
                tr(lang, "人", "students")
            ));
        }
        ui.separator();
    }
    ui.heading(format!("{} ({})", tr(lang, "等待队列", "Waiting queue"), state.snapshot.waiting.len()));
    egui::Grid::new("queue").striped(true).num_columns(4).show(ui, |ui| {
        for r in state.snapshot.waiting.iter().take(30) {
            ui.label(RichText::new(r.display_seq()).strong());
            ui.label(&r.code.xm);
            ui.label(&r.code.xh);
            ui.label(if r.code.bh.is_empty() { &r.code.fy } else { &r.code.bh });
            ui.end_row();
        }
    });
    if let Some(head) = &state.snapshot.head {
        ui.label(
            RichText::new(format!("{} {}", tr(lang, "扫码时间", "scanned"), short_time(&head.scanned_at))).small(),
        );
    }
}

fn preview(ui: &mut egui::Ui, state: &UiState, settings: &Settings, lang: Language) {
    let (eye_band, hair_band) = bands(settings);
    let Some(tex) = &state.preview else {
        ui.centered_and_justified(|ui| {
            ui.label(RichText::new(tr(lang, "没有摄像头画面", "No camera picture")).size(32.0).weak());
        });
        return;
    };
    let avail = ui.available_size();
    let [w, h] = state.preview_size;
    let aspect = w as f32 / h.max(1) as f32;
    let size = if avail.x / avail.y.max(1.0) > aspect {
        Vec2::new(avail.y * aspect, avail.y)
    } else {
        Vec2::new(avail.x, avail.x / aspect)
    };
    let response = ui.add(egui::Image::new((tex.id(), size)));
    let rect = response.rect;
    // The 3:4 crop the deliverable will be cut from — placed by the face the
    // framing worker found, centred without one — and its guide bands.
    let [fw, fh] = state.frame_size;
    let to_screen = |x: f32, y: f32| {
        rect.min + Vec2::new(x * rect.width() / fw.max(1) as f32, y * rect.height() / fh.max(1) as f32)
    };
    let framing = state.framing.as_ref().filter(|f| f.frame_size == state.frame_size);
    let crop = match framing {
        Some(f) => Rect::from_min_max(
            to_screen(f.crop.x as f32, f.crop.y as f32),
            to_screen((f.crop.x + f.crop.width) as f32, (f.crop.y + f.crop.height) as f32),
        ),
        None => {
            let crop_h = rect.height().min(rect.width() * 4.0 / 3.0);
            Rect::from_center_size(rect.center(), Vec2::new(crop_h * 3.0 / 4.0, crop_h))
        }
    };
    let painter = ui.painter_at(rect);
    let dim = Color32::from_black_alpha(110);
    painter.rect_filled(Rect::from_min_max(rect.min, egui::pos2(crop.left(), rect.bottom())), 0.0, dim);
    painter.rect_filled(Rect::from_min_max(egui::pos2(crop.right(), rect.top()), rect.max), 0.0, dim);
    painter.rect_filled(
        Rect::from_min_max(egui::pos2(crop.left(), rect.top()), egui::pos2(crop.right(), crop.top())),
        0.0,
        dim,
    );
    painter.rect_filled(
        Rect::from_min_max(egui::pos2(crop.left(), crop.bottom()), egui::pos2(crop.right(), rect.bottom())),
        0.0,
        dim,
    );
    painter.rect_stroke(crop, 0.0, Stroke::new(2.0_f32, Color32::WHITE), StrokeKind::Inside);
    if let Some(f) = framing {
        if let Some(face) = &f.face {
            for eye in [face.left_eye, face.right_eye] {
                painter.circle_stroke(
                    to_screen(eye[0], eye[1]),
                    5.0,
                    Stroke::new(2.0_f32, Color32::from_rgb(255, 60, 200)),
                );
            }
        }
        let good = f.hints == [Hint::Good];
        let text: Vec<&str> = f
            .hints
            .iter()
            .map(|h| {
                let (zh, en) = h.text();
                tr(lang, zh, en)
            })
            .collect();
        let color = if good { level_color(Level::Green) } else { level_color(Level::Amber) };
        let galley = painter.layout_no_wrap(text.join(" · "), FontId::proportional(26.0), Color32::WHITE);
        let at = rect.center_top() + Vec2::new(-galley.size().x / 2.0, 10.0);
        painter.rect_filled(Rect::from_min_size(at, galley.size()).expand(6.0), 6.0, color);
        painter.galley(at, galley, Color32::WHITE);
    }
    let band = |(top, bottom): (f32, f32), color: Color32, label: &str| {
        let y0 = crop.top() + crop.height() * top / 640.0;
        let y1 = crop.top() + crop.height() * bottom / 640.0;
        let r = Rect::from_min_max(egui::pos2(crop.left(), y0), egui::pos2(crop.right(), y1));
        painter.rect_filled(r, 0.0, color.gamma_multiply(0.18));
        painter.line_segment([r.left_top(), r.right_top()], Stroke::new(1.0_f32, color));
        painter.line_segment([r.left_bottom(), r.right_bottom()], Stroke::new(1.0_f32, color));
        painter.text(r.left_top() + Vec2::new(4.0, 2.0), Align2::LEFT_TOP, label, FontId::proportional(14.0), color);
    };
    band(hair_band, Color32::from_rgb(255, 200, 0), tr(lang, "发际线", "hairline"));
    band(eye_band, Color32::from_rgb(0, 230, 120), tr(lang, "眼睛", "eyes"));
}
