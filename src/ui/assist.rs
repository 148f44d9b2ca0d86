//! The student assistants' view: read-only. Which class is at this station
//! now and next (from the schedule); per class the counts and the students
//! still missing; search by 学号; a large "class complete ✓" or "N missing"
//! banner; and every scan that matches no roster or another class. Nothing
//! in it can change data, so it needs no PIN. It runs as a tab of the
//! station and as its own window (`gradcap assist`, a read-only process that
//! can sit on a second screen facing the queue).

use std::time::{Duration, Instant};

use egui::{Color32, RichText};

use super::state::{AssistState, Command, Pick, UiState};
use super::tr;
use crate::roster::worker::ReportWorker;
use crate::roster::ScheduleRow;
use crate::settings::Language;
use crate::store::Store;

fn state_label(state: &str, lang: Language) -> &'static str {
    match state {
        "waiting" => tr(lang, "已扫码待拍", "scanned, waiting"),
        "skipped" => tr(lang, "已跳过", "skipped"),
        _ => tr(lang, "未扫码", "not scanned"),
    }
}

/// The answer to a search by 学号: photographed (number and time), waiting
/// (number), skipped (reason), not scanned, or not on any roster — five
/// different answers.
pub fn search_answer(report: &crate::store::Report, xh: &str, lang: Language) -> String {
    if let Some(s) = report.students.iter().find(|s| s.xh == xh) {
        let who = format!("{} {} · {}", s.xh, s.xm, s.class);
        let at = s.at.as_deref().map(|t| super::short_time(t).chars().take(5).collect::<String>()).unwrap_or_default();
        let what = match (s.state, lang) {
            ("photographed", Language::Chinese) => format!("已拍：序号 {}，{at} 拍摄", s.seq),
            ("photographed", Language::English) => format!("photographed as {} at {at}", s.seq),
            ("waiting", Language::Chinese) => format!("已扫码待拍：序号 {}", s.seq),
            ("waiting", Language::English) => format!("waiting as {}", s.seq),
            ("skipped", Language::Chinese) => format!("已跳过（{}），序号 {}", s.reason, s.seq),
            ("skipped", Language::English) => format!("skipped ({}), number {}", s.reason, s.seq),
            (_, lang) => tr(lang, "未扫码", "not scanned").to_string(),
        };
        return format!("{who} · {what}");
    }
    let scanned = report.unmatched.iter().find(|u| u.xh == xh && u.reason == "not_on_roster");
    match (scanned, lang) {
        (Some(u), Language::Chinese) => format!("{xh}：不在任何名单中（已扫码，序号 {}）", u.seq),
        (Some(u), Language::English) => format!("{xh}: not on any roster (scanned as {})", u.seq),
        (None, lang) => format!("{xh}: {}", tr(lang, "不在任何名单中", "not on any roster")),
    }
}

/// Draws the view into `ui`.
pub fn show(ui: &mut egui::Ui, state: &mut AssistState, lang: Language) {
    let now = chrono::Local::now();
    let minutes = now.format("%H").to_string().parse::<u32>().unwrap_or(0) * 60
        + now.format("%M").to_string().parse::<u32>().unwrap_or(0);
    let (current, next) = state.current_and_next(minutes);
    let (current, next) = (current.cloned(), next.cloned());
    ui.horizontal_wrapped(|ui| {
        ui.heading(format!("{} {} · {}", tr(lang, "机位", "Station"), state.station, state.date));
        ui.separator();
        let slot = |r: &ScheduleRow| {
            format!("{} {} ({})", r.class, r.slot, r.head_count.map(|n| n.to_string()).unwrap_or_default())
        };
        ui.label(format!(
            "{}: {}",
            tr(lang, "当前班级", "Now"),
            current.as_ref().map(slot).unwrap_or_else(|| "—".into())
        ));
        ui.label(format!(
            "{}: {}",
            tr(lang, "下一班级", "Next"),
            next.as_ref().map(slot).unwrap_or_else(|| "—".into())
        ));
    });
    if let Some(e) = &state.error {
        ui.label(RichText::new(e).color(Color32::from_rgb(190, 30, 30)));
    }
    if state.report.classes.is_empty() {
        ui.label(
            RichText::new(tr(
                lang,
                "尚未导入名单：点“导入名单…”（或 gradcap roster import 文件）",
                "No roster yet: “Import a roster…” (or gradcap roster import FILE)",
            ))
            .size(22.0),
        );
        return;
    }
    if state.selected.as_ref().is_none_or(|s| !state.report.classes.iter().any(|c| &c.class == s)) {
        let scheduled = current.as_ref().or(next.as_ref()).map(|r| r.class.clone());
        state.selected = scheduled
            .filter(|c| state.report.classes.iter().any(|x| &x.class == c))
            .or_else(|| state.report.classes.first().map(|c| c.class.clone()));
    }
    ui.horizontal(|ui| {
        ui.label(tr(lang, "班级", "Class"));
        let selected = state.selected.clone().unwrap_or_default();
        egui::ComboBox::from_id_salt("assist-class").selected_text(&selected).show_ui(ui, |ui| {
            for c in &state.report.classes {
                ui.selectable_value(&mut state.selected, Some(c.class.clone()), &c.class);
            }
        });
        ui.separator();
        ui.label(tr(lang, "查学号", "Find 学号"));
        ui.add(egui::TextEdit::singleline(&mut state.search).desired_width(160.0));
    });
    let query = state.search.trim().to_string();
    if !query.is_empty() {
        ui.label(RichText::new(search_answer(&state.report, &query, lang)).size(20.0));
    }
    if !state.report.unmatched.is_empty() {
        // First, where it cannot be missed: a scan no roster has is a
        // student to look at now (a wrong class, a roster row missing).
        let amber = Color32::from_rgb(170, 100, 0);
        ui.label(
            RichText::new(format!(
                "{} {}",
                tr(lang, "与名单不符的扫码", "Scans that do not match the rosters:"),
                state.report.unmatched.len()
            ))
            .size(22.0)
            .strong()
            .color(amber),
        );
        egui::ScrollArea::vertical().id_salt("assist-unmatched-scroll").max_height(150.0).show(ui, |ui| {
            egui::Grid::new("assist-unmatched").striped(true).num_columns(5).show(ui, |ui| {
                for u in &state.report.unmatched {
                    ui.label(&u.seq);
                    ui.label(&u.xh);
                    ui.label(&u.xm);
                    ui.label(&u.code_class);
                    ui.label(if u.reason == "not_on_roster" {
                        tr(lang, "不在名单中", "not on any roster").to_string()
                    } else {
                        format!("{} {}", tr(lang, "名单班级", "roster class"), u.roster_class)
                    });
                    ui.end_row();
                }
            });
        });
        ui.separator();
    }
    let Some(class) = state.report.classes.iter().find(|c| Some(&c.class) == state.selected.as_ref()).cloned() else {
        return;
    };
    let (banner, color) = if class.missing == 0 {
        (format!("{} ✓", tr(lang, "班级完成", "Class complete")), Color32::from_rgb(22, 140, 60))
    } else {
        (format!("{} {}", class.missing, tr(lang, "人未拍", "missing")), Color32::from_rgb(190, 30, 30))
    };
    egui::Frame::new().fill(color).inner_margin(10.0).show(ui, |ui| {
        ui.set_min_width(ui.available_width());
        ui.label(RichText::new(format!("{}  {banner}", class.class)).size(44.0).strong().color(Color32::WHITE));
    });
    egui::Grid::new("assist-counts").num_columns(5).spacing([28.0, 6.0]).show(ui, |ui| {
        for h in [
            tr(lang, "应拍", "Expected"),
            tr(lang, "已扫码", "Scanned"),
            tr(lang, "已拍", "Photographed"),
            tr(lang, "跳过", "Skipped"),
            tr(lang, "未拍", "Missing"),
        ] {
            ui.label(h);
        }
        ui.end_row();
        for n in [class.expected, class.scanned, class.photographed, class.skipped, class.missing] {
            ui.label(RichText::new(n.to_string()).size(32.0).strong());
        }
        ui.end_row();
    });
    ui.separator();
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading(tr(lang, "未拍学生", "Students not yet photographed"));
        egui::Grid::new("assist-missing").striped(true).num_columns(4).show(ui, |ui| {
            for m in &class.missing_students {
                ui.label(&m.xh);
                ui.label(&m.xm);
                ui.label(state_label(m.state, lang));
                ui.label(&m.reason);
                ui.end_row();
            }
        });
        ui.separator();
        ui.heading(tr(lang, "全部班级", "All classes"));
        egui::Grid::new("assist-all").striped(true).num_columns(6).show(ui, |ui| {
            for c in &state.report.classes {
                ui.label(&c.class);
                ui.label(format!("{}/{}", c.photographed, c.expected));
                ui.label(format!("{} {}", tr(lang, "跳过", "skipped"), c.skipped));
                ui.label(if c.missing == 0 {
                    "✓".to_string()
                } else {
                    format!("{} {}", c.missing, tr(lang, "未拍", "missing"))
                });
                ui.end_row();
            }
        });
    });
}

/// The assistants' tab of the station's window: a button for the second
/// window, the office tasks (imports, the class's register and sheet, each
/// through a file dialog, the result shown here), then the figures.
pub fn show_tab(ctx: &egui::Context, ui_state: &mut UiState, lang: Language, out: &mut Vec<Command>) {
    egui::CentralPanel::default().show(ctx, |ui| {
        ui.horizontal_wrapped(|ui| {
            if ui.button(tr(lang, "在新窗口打开（可放到第二屏幕）", "Open in a new window (second screen)")).clicked()
            {
                out.push(Command::OpenAssistWindow);
            }
            ui.separator();
            let idle = !ui_state.office_running;
            if ui.add_enabled(idle, egui::Button::new(tr(lang, "导入名单…", "Import a roster…"))).clicked() {
                out.push(Command::Pick(Pick::Roster { valid_rows_only: ui_state.roster_valid_rows_only }));
            }
            ui.checkbox(&mut ui_state.roster_valid_rows_only, tr(lang, "只导入有效行", "valid rows only"));
            if ui.add_enabled(idle, egui::Button::new(tr(lang, "导入日程…", "Import a schedule…"))).clicked() {
                out.push(Command::Pick(Pick::Schedule));
            }
            let class = ui_state.assist.as_ref().and_then(|a| a.selected.clone());
            if let Some(class) = class {
                ui.separator();
                if ui.add_enabled(idle, egui::Button::new(tr(lang, "登记表 PDF…", "Register PDF…"))).clicked() {
                    out.push(Command::Pick(Pick::RegisterPdf { class: class.clone() }));
                }
                if ui.add_enabled(idle, egui::Button::new(tr(lang, "核对单 PDF…", "Sheet PDF…"))).clicked() {
                    out.push(Command::Pick(Pick::SheetPdf { class }));
                }
            }
            if ui_state.office_running {
                ui.spinner();
            }
        });
        super::office_outcome(ui, ui_state, lang);
        match ui_state.assist.as_mut() {
            Some(state) => show(ui, state, lang),
            None => {
                ui.label(tr(lang, "没有打开的数据库", "no database open"));
            }
        }
    });
}

/// How long the window's start waits for the first reading.
const FIRST_READING_WAIT: Duration = Duration::from_secs(3);

/// The assistants' view as its own window, read-only: the figures come
/// from a worker with its own read-only connection (the window never
/// queries the database itself).
pub struct AssistApp {
    state: AssistState,
    lang: Language,
    worker: Option<ReportWorker>,
    /// A training database: the banner is on this window too.
    training: bool,
}

impl std::fmt::Debug for AssistApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssistApp").field("state", &self.state).finish_non_exhaustive()
    }
}

impl AssistApp {
    /// `store` names the database (its file is read on the worker) and
    /// whether it is a training one.
    pub fn new(
        ctx: &egui::Context,
        store: Store,
        station: &str,
        date: &str,
        lang: Language,
        system_fonts: bool,
    ) -> Self {
        super::install_fonts(ctx, system_fonts);
        super::install_style(ctx);
        let mut state = AssistState::new(station, date);
        let training = store.mode().is_ok_and(|m| m == crate::store::Mode::Training);
        let worker = match store.path() {
            Some(db) => {
                let wake = ctx.clone();
                ReportWorker::start(
                    db.to_path_buf(),
                    station.to_string(),
                    date.to_string(),
                    crate::roster::worker::DEFAULT_INTERVAL_MS,
                    Box::new(move || wake.request_repaint()),
                )
                .map_err(|e| state.error = Some(e.to_string()))
                .ok()
            }
            None => {
                state.error = Some(
                    tr(lang, "内存数据库无法在助理窗口中读取", "an in-memory database cannot be read here").into(),
                );
                None
            }
        };
        let mut app = AssistApp { state, lang, worker, training };
        // The first frame shows figures, not an empty table: the first
        // reading is waited for here, at the window's start, and no longer.
        app.wait_first_reading(FIRST_READING_WAIT);
        app
    }

    pub fn state(&self) -> &AssistState {
        &self.state
    }

    /// Waits up to `timeout` for the worker's first reading.
    fn wait_first_reading(&mut self, timeout: Duration) -> bool {
        let started = Instant::now();
        while !self.state.read && started.elapsed() < timeout {
            if let Some(reading) = self.worker.as_ref().and_then(ReportWorker::latest) {
                self.state.apply(reading);
            } else {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.state.read
    }
}

impl eframe::App for AssistApp {
    fn update(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if let Some(reading) = self.worker.as_ref().and_then(ReportWorker::latest) {
            self.state.apply(reading);
        }
        if self.training {
            egui::TopBottomPanel::top("training")
                .frame(egui::Frame::new().fill(super::TRAINING_COLOR).inner_margin(8.0))
                .show(ctx, |ui| {
                    ui.label(RichText::new("练习模式 / TRAINING").size(28.0).strong().color(Color32::BLACK));
                });
        }
        egui::CentralPanel::default().show(ctx, |ui| show(ui, &mut self.state, self.lang));
        ctx.request_repaint_after(Duration::from_secs(1));
    }
}
