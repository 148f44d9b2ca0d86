//! Views and widgets. Views are drawn from [`state`] alone and push
//! [`Command`]s; they never touch the database or the station. Chinese
//! first, English on request; every message text lives in [`messages`].

pub mod assist;
pub mod export_view;
pub mod messages;
pub mod operator;
pub mod records;
pub mod settings_view;
pub mod state;

use egui::{Color32, RichText};
use image::RgbImage;

use crate::settings::Language;
use state::{Command, FeedbackKind, UiState, View};

/// System fonts that carry rarer name characters (CJK extensions), tried in
/// order as fallbacks after the embedded font.
const SYSTEM_FALLBACKS: [&str; 8] = [
    "C:\\Windows\\Fonts\\simsunb.ttf",
    "C:\\Windows\\Fonts\\msyh.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
];

/// egui's default fonts, then the embedded CJK font, then system fallbacks.
pub fn install_fonts(ctx: &egui::Context, system_fonts: bool) {
    let mut fonts = egui::FontDefinitions::default();
    fonts
        .font_data
        .insert("gradcap-cjk".into(), std::sync::Arc::new(egui::FontData::from_static(crate::assets::CJK_FONT)));
    let mut fallbacks = vec!["gradcap-cjk".to_string()];
    if system_fonts {
        for (i, path) in SYSTEM_FALLBACKS.iter().enumerate() {
            if let Ok(bytes) = std::fs::read(path) {
                let key = format!("system-{i}");
                fonts.font_data.insert(key.clone(), std::sync::Arc::new(egui::FontData::from_owned(bytes)));
                fallbacks.push(key);
            }
        }
    }
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        if let Some(list) = fonts.families.get_mut(&family) {
            list.extend(fallbacks.iter().cloned());
        }
    }
    ctx.set_fonts(fonts);
}

/// Larger text than egui's default: the operator reads from a distance.
pub fn install_style(ctx: &egui::Context) {
    ctx.style_mut(|style| {
        use egui::{FontFamily, FontId, TextStyle};
        style.text_styles = [
            (TextStyle::Small, FontId::new(13.0, FontFamily::Proportional)),
            (TextStyle::Body, FontId::new(17.0, FontFamily::Proportional)),
            (TextStyle::Button, FontId::new(17.0, FontFamily::Proportional)),
            (TextStyle::Heading, FontId::new(24.0, FontFamily::Proportional)),
            (TextStyle::Monospace, FontId::new(16.0, FontFamily::Monospace)),
        ]
        .into();
        style.spacing.button_padding = egui::vec2(10.0, 6.0);
    });
}

/// `zh` or `en` by the interface language.
pub fn tr<'a>(lang: Language, zh: &'a str, en: &'a str) -> &'a str {
    match lang {
        Language::Chinese => zh,
        Language::English => en,
    }
}

/// Keys that also produce a Text event (handled as characters).
pub fn key_types_text(key: egui::Key) -> bool {
    // Letters, digits and punctuation (`/`, `+`, `=` of Base64) type a character.
    use egui::Key::{ArrowDown, ArrowLeft, ArrowRight, ArrowUp};
    // The arrows have one-character symbols (⏴ ⏵) but type nothing: they stay keys.
    key == egui::Key::Space
        || (key.symbol_or_name().chars().count() == 1 && !matches!(key, ArrowUp | ArrowDown | ArrowLeft | ArrowRight))
}

/// An egui image of an RGB frame, subsampled to at most `max_width` wide.
pub fn preview_image(rgb: &RgbImage, max_width: u32) -> egui::ColorImage {
    let step = rgb.width().div_ceil(max_width.max(1)).max(1);
    let (w, h) = (rgb.width() / step, rgb.height() / step);
    let mut pixels = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            let p = rgb.get_pixel(x * step, y * step);
            pixels.push(Color32::from_rgb(p[0], p[1], p[2]));
        }
    }
    egui::ColorImage { size: [w as usize, h as usize], pixels, source_size: egui::vec2(w as f32, h as f32) }
}

/// An egui image of a (small) RGB image.
pub fn color_image(rgb: &RgbImage) -> egui::ColorImage {
    egui::ColorImage::from_rgb([rgb.width() as usize, rgb.height() as usize], rgb.as_raw())
}

/// A copy at most `max_side` on its longest side (scan thumbnails).
pub fn small_frame(rgb: &RgbImage, max_side: u32) -> RgbImage {
    let scale = max_side as f32 / rgb.width().max(rgb.height()).max(1) as f32;
    if scale >= 1.0 {
        return rgb.clone();
    }
    let w = ((rgb.width() as f32 * scale) as u32).max(1);
    let h = ((rgb.height() as f32 * scale) as u32).max(1);
    image::imageops::thumbnail(rgb, w, h)
}

/// `HH:MM:SS` from a stored RFC 3339 time.
pub fn short_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

pub fn feedback_color(kind: FeedbackKind) -> Color32 {
    match kind {
        FeedbackKind::Success => Color32::from_rgb(22, 140, 60),
        FeedbackKind::Duplicate => Color32::from_rgb(200, 130, 0),
        FeedbackKind::Rejected => Color32::from_rgb(190, 30, 30),
        FeedbackKind::Info => Color32::from_rgb(40, 90, 160),
    }
}

/// What the top bar draws.
#[derive(Debug)]
pub struct StatusBar<'a> {
    pub view: View,
    pub ui: &'a UiState,
    /// Why the station cannot work, shown in red under the bar.
    pub startup_error: Option<&'a str>,
    pub lang: Language,
}

/// The top bar: where we are, the counts, camera and storage, the views.
pub fn status_bar(ctx: &egui::Context, app: &StatusBar<'_>, out: &mut Vec<Command>) {
    let lang = app.lang;
    egui::TopBottomPanel::top("status").show(ctx, |ui| {
        ui.horizontal_wrapped(|ui| {
            for (view, zh, en) in [
                (View::Operator, "拍摄", "Capture"),
                (View::Records, "记录", "Records"),
                (View::Assist, "助理核对", "Sign-in check"),
                (View::Export, "导出", "Export"),
                (View::Settings, "设置", "Settings"),
            ] {
                if ui.selectable_label(app.view == view, tr(lang, zh, en)).clicked() {
                    out.push(Command::Show(view));
                }
            }
            ui.separator();
            if let Some(session) = &app.ui.snapshot.session {
                let i = &session.info;
                ui.label(RichText::new(format!("{} {}", tr(lang, "机位", "Station"), i.station)).strong());
                ui.label(format!("{} {} {}", i.school_name, i.school_code, i.date));
            }
            ui.separator();
            let c = app.ui.snapshot.counts;
            ui.label(format!(
                "{} {}  {} {}  {} {}",
                tr(lang, "待拍", "waiting"),
                c.waiting,
                tr(lang, "已拍", "photographed"),
                c.photographed,
                tr(lang, "跳过", "skipped"),
                c.skipped
            ));
            ui.separator();
            let cam_color =
                if app.ui.camera_ok { Color32::from_rgb(22, 140, 60) } else { Color32::from_rgb(190, 30, 30) };
            ui.label(RichText::new(format!("● {}", app.ui.camera_label)).color(cam_color));
            ui.separator();
            let storage = RichText::new(format!("{} {}", tr(lang, "数据库", "DB"), app.ui.storage_label)).small();
            if app.ui.storage_low {
                ui.label(storage.color(Color32::from_rgb(190, 30, 30)).strong());
                ui.label(
                    RichText::new(tr(
                        lang,
                        "磁盘空间不足，请尽快导出并清理",
                        "low disk space: export and free space soon",
                    ))
                    .color(Color32::from_rgb(190, 30, 30)),
                );
            } else {
                ui.label(storage);
            }
        });
        if app.ui.dialog_open {
            ui.label(
                RichText::new(tr(
                    lang,
                    "文件对话框已打开：选择或取消后继续；看不到它时请在任务栏中找到它",
                    "a file dialog is open: choose or cancel it to go on; if you cannot see it, find it on the taskbar",
                ))
                .color(Color32::from_rgb(40, 90, 160)),
            );
        }
        if let Some(err) = app.startup_error {
            ui.label(RichText::new(err).color(Color32::from_rgb(190, 30, 30)).strong());
        }
    });
}

/// Confirmation of a destructive action: the only modal that holds up the station.
pub fn confirm_dialog(ctx: &egui::Context, state: &mut UiState, lang: Language, out: &mut Vec<Command>) {
    let Some(pending) = state.confirm.clone() else { return };
    let text = match &pending {
        Command::Void { .. } => {
            tr(lang, "确定作废这条记录吗？照片会保留。", "Void this record? Its photos are kept.").to_string()
        }
        Command::RequestReshoot { .. } => tr(
            lang,
            "确定重拍这位已拍学生吗？下一张照片将属于他/她。",
            "Re-shoot this photographed student? The next photo goes to them.",
        )
        .to_string(),
        Command::Purge { before, .. } => {
            let plan = state.purge_plan.as_ref();
            let (records, takes, mb) = plan.map(|p| (p.records, p.takes, p.bytes as f64 / 1e6)).unwrap_or((0, 0, 0.0));
            match lang {
                Language::Chinese => format!(
                    "确定删除 {before} 之前拍摄、已导出并校验的 {records} 名学生的 {takes} 张照片图像（{mb:.1} MB）吗？\n此操作不可撤销；记录、校验值和操作日志保留。"
                ),
                Language::English => format!(
                    "Delete the images of {takes} takes of {records} verified-exported students shot before {before} ({mb:.1} MB)?\nThis cannot be undone; records, checksums and the log stay."
                ),
            }
        }
        Command::SaveSettingsConfirmed(new) => {
            let (old, next) = (state.snapshot.session.as_ref().map(|s| s.info.clone()), new.session_info());
            let (station, date) = old.map(|i| (i.station, i.date)).unwrap_or_default();
            let n = state.session_change_waiting;
            match lang {
                Language::Chinese => format!(
                    "改为机位 {} / {} 是新的拍摄场次。\n机位 {station} / {date} 还有 {n} 名学生在等待：他们留在该场次的队列中（显示在“其他场次仍在等待”），改回该机位和日期即可继续拍摄；\n若他们在新场次扫码，将领到新号，旧号自动记为跳过并注明去向。",
                    next.station, next.date
                ),
                Language::English => format!(
                    "Station {} / {} is a new session.\n{n} students are still waiting at station {station} / {date}: they stay in that session's queue (shown under \"still waiting elsewhere\"); switch back to continue with them.\nIf they scan at the new session they get a new number there and the old one is closed as skipped, saying where they went.",
                    next.station, next.date
                ),
            }
        }
        _ => String::new(),
    };
    egui::Window::new(tr(lang, "请确认", "Please confirm")).collapsible(false).resizable(false).show(ctx, |ui| {
        ui.label(RichText::new(text).size(20.0));
        ui.horizontal(|ui| {
            if ui.button(tr(lang, "确定", "Confirm")).clicked() {
                out.push(pending.clone());
            }
            if ui.button(tr(lang, "取消", "Cancel")).clicked() {
                out.push(Command::CancelPrompt);
            }
        });
    });
}

/// The message of the last scan or action, on every view, large enough to
/// read from two metres, yet clearly smaller than the current student's
/// number: a scan's answer is labelled "just scanned" with an icon whose
/// shape tells a new number from a duplicate.
pub fn feedback_panel(ctx: &egui::Context, state: &UiState, lang: Language) {
    egui::TopBottomPanel::bottom("feedback").exact_height(104.0).show(ctx, |ui| {
        let Some(fb) = &state.feedback else {
            ui.centered_and_justified(|ui| {
                ui.label(RichText::new(tr(lang, "请出示图像采集码", "Show your capture code")).size(34.0).weak());
            });
            return;
        };
        let color = feedback_color(fb.kind);
        egui::Frame::new().fill(color).inner_margin(10.0).show(ui, |ui| {
            ui.set_min_size(ui.available_size());
            ui.horizontal_centered(|ui| {
                if let Some(icon) = fb.scan_icon {
                    ui.label(RichText::new(icon).size(44.0).color(Color32::WHITE));
                    ui.vertical(|ui| {
                        ui.label(RichText::new(tr(lang, "刚扫描", "just scanned")).size(16.0).color(Color32::WHITE));
                        ui.label(RichText::new(&fb.big).size(40.0).strong().color(Color32::WHITE));
                    });
                } else {
                    ui.label(RichText::new(&fb.big).size(44.0).strong().color(Color32::WHITE));
                }
                ui.add_space(20.0);
                let earlier_width = if state.earlier.is_empty() { 0.0 } else { 300.0 };
                ui.vertical(|ui| {
                    ui.set_max_width((ui.available_width() - earlier_width).max(200.0));
                    let (first, second) = fb.text.in_order(lang);
                    ui.add(egui::Label::new(RichText::new(first).size(26.0).strong().color(Color32::WHITE)).wrap());
                    ui.add(egui::Label::new(RichText::new(second).size(16.0).color(Color32::WHITE)).wrap());
                });
                earlier_messages(ui, state, lang);
            });
        });
    });
}

/// The two messages before the current one, small, at the band's right end:
/// an amber warning replaced a second later by a rescan's answer stays readable.
fn earlier_messages(ui: &mut egui::Ui, state: &UiState, lang: Language) {
    if state.earlier.is_empty() {
        return;
    }
    ui.with_layout(egui::Layout::top_down(egui::Align::Max), |ui| {
        ui.label(RichText::new(tr(lang, "之前", "earlier")).size(13.0).color(Color32::WHITE));
        for fb in state.earlier.iter().take(2) {
            let (first, _) = fb.text.in_order(lang);
            let line = format!("{} · {first}", fb.big);
            egui::Frame::new().fill(feedback_color(fb.kind)).inner_margin(2.0).show(ui, |ui| {
                ui.add(egui::Label::new(RichText::new(line).size(14.0).color(Color32::WHITE)).truncate());
            });
        }
    });
}

/// The training banner: on every screen while training, impossible to miss.
pub fn training_banner(ctx: &egui::Context, training: bool, lang: Language, out: &mut Vec<Command>) {
    if !training {
        return;
    }
    egui::TopBottomPanel::top("training").frame(egui::Frame::new().fill(TRAINING_COLOR).inner_margin(8.0)).show(
        ctx,
        |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new("练习模式 / TRAINING").size(30.0).strong().color(Color32::BLACK));
                ui.label(
                    RichText::new(tr(
                        lang,
                        "练习数据库：这里的记录和照片不是正式采集数据，导出包标有 TRAINING",
                        "training database: nothing here is real capture data; exports are marked TRAINING",
                    ))
                    .size(18.0)
                    .color(Color32::BLACK),
                );
                if ui.button(RichText::new(tr(lang, "退出练习", "Leave training")).size(18.0)).clicked() {
                    out.push(Command::LeaveTraining);
                }
            });
        },
    );
}

/// The training banner's colour (also the training marks in the views).
pub const TRAINING_COLOR: Color32 = Color32::from_rgb(255, 170, 0);

/// The last office task's result (an import with its refused rows, a PDF,
/// a key, a decrypted or merged bundle), in a green or red frame.
pub fn office_outcome(ui: &mut egui::Ui, state: &state::UiState, lang: Language) {
    let Some(outcome) = &state.office_outcome else { return };
    let colour = if outcome.ok { egui::Color32::from_rgb(22, 140, 60) } else { egui::Color32::from_rgb(190, 30, 30) };
    egui::Frame::group(ui.style()).stroke(egui::Stroke::new(2.0_f32, colour)).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(egui::RichText::new(outcome.title.get(lang)).strong().color(colour));
        egui::ScrollArea::vertical().id_salt("office-lines").max_height(140.0).show(ui, |ui| {
            for line in &outcome.lines {
                ui.label(line);
            }
        });
    });
}
