//! The native windows (eframe): the station and the assistants' read-only
//! sign-in check. Window titles, sizes and the renderer live here, so the
//! binary starts a window without knowing egui or eframe.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{AppOptions, GradcapApp};
use crate::settings::Language;
use crate::store::Store;

/// A window that did not open.
#[derive(Debug)]
pub enum WindowError {
    Start(String),
}

impl std::error::Error for WindowError {}

/// The bilingual text, joined as the CLI prints it (written once, below).
impl std::fmt::Display for WindowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", crate::text::Bilingual::text(self))
    }
}

impl crate::text::Bilingual for WindowError {
    fn text(&self) -> crate::text::Text {
        match self {
            Self::Start(reason) if is_no_opengl(reason) => crate::text::Text::new(
                format!(
                    "无法启动图形界面：这台电脑没有可用的 OpenGL 2（远程桌面、虚拟机或过旧的显卡驱动）。\
                     请更新显卡驱动，或在这台电脑本机上（不经远程桌面）运行；命令行（gradcap export、verify 等）仍可使用。（{reason}）"
                ),
                format!(
                    "cannot start the GUI: this computer offers no OpenGL 2 (a remote-desktop session, a virtual \
                     machine or an old graphics driver). Update the graphics driver or run it on the computer itself, \
                     not over remote desktop; the commands (gradcap export, verify …) still work. ({reason})"
                ),
            ),
            Self::Start(reason) => {
                crate::text::Text::new(format!("无法启动图形界面：{reason}"), format!("cannot start the GUI: {reason}"))
            }
        }
    }
}

/// glutin's and eframe's words for a missing or too old OpenGL.
fn is_no_opengl(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    ["glutin", "opengl", "no gl", "gl config", "wgl", "egl"].iter().any(|w| r.contains(w))
}

/// Says a window that did not open where a person sees it: on Windows, whose
/// station is started by a double click and has no console to read, in a
/// message box too.
pub fn report_start_error(e: &WindowError) {
    let text = crate::text::Bilingual::text(e);
    if cfg!(windows) {
        let _ = rfd::MessageDialog::new()
            .set_level(rfd::MessageLevel::Error)
            .set_title("gradcap")
            .set_description(format!("{}\n\n{}", text.zh, text.en))
            .set_buttons(rfd::MessageButtons::Ok)
            .show();
    }
}

/// Opens the station's window and runs it until it is closed.
pub fn run_station(opts: AppOptions) -> Result<(), WindowError> {
    let native = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title("gradcap 学历照片采集站")
            .with_inner_size([1366.0, 800.0])
            .with_min_inner_size([1024.0, 640.0]),
        ..Default::default()
    };
    eframe::run_native(
        "gradcap",
        native,
        Box::new(move |cc| {
            let mut opts = opts;
            if opts.picker.is_none() {
                opts.picker = Some(Arc::new(crate::app::dialogs::NativeDialogs::owned_by(cc)));
            }
            Ok(Box::new(GradcapApp::new(&cc.egui_ctx, opts)))
        }),
    )
    .map_err(|e| WindowError::Start(e.to_string()))
}

/// Opens the assistants' sign-in check on `store` (read-only) for a station
/// and day; closes by itself after `exit_after` (smoke tests).
pub fn run_assist(
    store: Store,
    station: String,
    date: String,
    language: Language,
    exit_after: Option<Duration>,
) -> Result<(), WindowError> {
    let native = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title("gradcap 助理核对 / sign-in check")
            .with_inner_size([1100.0, 800.0]),
        ..Default::default()
    };
    let deadline = exit_after.map(|d| Instant::now() + d);
    eframe::run_native(
        "gradcap-assist",
        native,
        Box::new(move |cc| {
            let app = crate::ui::assist::AssistApp::new(&cc.egui_ctx, store, &station, &date, language, true);
            Ok(Box::new(Deadline { app, deadline }))
        }),
    )
    .map_err(|e| WindowError::Start(e.to_string()))
}

/// Wraps an app with an optional closing time (smoke tests).
struct Deadline<A> {
    app: A,
    deadline: Option<Instant>,
}

impl<A: eframe::App> eframe::App for Deadline<A> {
    fn update(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.app.update(ctx, frame);
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}
