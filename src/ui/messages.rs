//! Every message the station's window shows, in one place, in both
//! languages: what a scan, a photo decision or a finished task means for
//! the operator. The app picks the message; the feedback band draws it.

use std::path::Path;

use super::state::{Feedback, FeedbackKind};
use crate::export::ExportReport;
use crate::station::Outcome;
use crate::store::PurgePlan;
use crate::text::{Bilingual, Text};

/// The answer to a station event, or None for a take to review (the review
/// pane shows it instead).
pub fn outcome(outcome: &Outcome, training: bool) -> Option<Feedback> {
    use FeedbackKind::*;
    let fb = match outcome {
        Outcome::Queued(r) if training && !r.code.is_drill() => Feedback::new(
            Duplicate,
            r.display_seq(),
            Text::new(
                format!(
                    "练习模式：这是真实学生的采集码，只记入练习数据库，不会上传。已取号 {} 学号 {}",
                    r.display_seq(),
                    r.code.xh
                ),
                format!(
                    "training: this is a real student's code; it goes into the training database only and is never uploaded. Number {} ({})",
                    r.display_seq(),
                    r.code.xh
                ),
            ),
        )
        .scanned("✚"),
        Outcome::Queued(r) => Feedback::new(
            Success,
            r.display_seq(),
            Text::new(
                format!("已取号 {} {} 学号 {}", r.display_seq(), r.code.xm, r.code.xh),
                format!("number {} for {} ({})", r.display_seq(), r.code.xm, r.code.xh),
            ),
        )
        .scanned("✚"),
        Outcome::AlreadyWaiting(r) => Feedback::new(
            Duplicate,
            r.display_seq(),
            Text::new(
                format!("已在队列中，序号仍为 {}", r.display_seq()),
                format!("already waiting: still number {}", r.display_seq()),
            ),
        )
        .scanned("↻"),
        Outcome::AlreadyPhotographed(r) => {
            let at = r.status_at.as_deref().map(super::short_time).unwrap_or_default();
            Feedback::new(
                Duplicate,
                r.display_seq(),
                Text::new(
                    format!("已拍过：序号 {}，{} 拍摄，不可重复采集", r.display_seq(), at),
                    format!("already photographed: number {} at {at}; no second capture", r.display_seq()),
                ),
            )
            .scanned("⛔")
        }
        Outcome::Rejected(reason) => Feedback::new(Rejected, "✗", reason.text()).scanned("✗"),
        Outcome::TakeReady { .. } => return None,
        Outcome::Accepted(r) => Feedback::new(
            Success,
            format!("✓ {}", r.display_seq()),
            Text::new(
                format!("{} 已拍摄完成，请下一位", r.display_seq()),
                format!("{} photographed: next, please", r.display_seq()),
            ),
        ),
        Outcome::ReadyForReshoot(r) => Feedback::info(
            r.display_seq(),
            Text::new(format!("重拍 {}", r.display_seq()), format!("re-shoot {}", r.display_seq())),
        ),
        Outcome::Skipped(r) => Feedback::info(
            r.display_seq(),
            Text::new(
                format!("{} 已跳过：{}", r.display_seq(), r.status_reason),
                format!("{} skipped: {}", r.display_seq(), r.status_reason),
            ),
        ),
        Outcome::Voided(r) => Feedback::info(
            r.display_seq(),
            Text::new(
                format!("{} 已作废：{}", r.display_seq(), r.status_reason),
                format!("{} voided: {}", r.display_seq(), r.status_reason),
            ),
        ),
        Outcome::ReshootRequested(r) => Feedback::info(
            r.display_seq(),
            Text::new(
                format!("下一张照片将重拍 {}", r.display_seq()),
                format!("the next photo re-shoots {}", r.display_seq()),
            ),
        ),
        Outcome::ReshootCancelled(r) => Feedback::info(
            r.display_seq(),
            Text::new(format!("已取消 {} 的重拍", r.display_seq()), format!("re-shoot of {} cancelled", r.display_seq())),
        ),
        Outcome::ShotHeld(file) => shot_held(file),
        Outcome::ShotKnown(name) => Feedback::info(
            "📷",
            Text::new(
                format!("相机文件 {name} 已处理过，不会再次绑定"),
                format!("camera file {name} was handled before: it is not bound again"),
            ),
        ),
    };
    Some(fb)
}

/// A studio camera file that did not become a take: in the tray, or unreadable.
pub fn shot_held(file: &crate::store::CameraFileRow) -> Feedback {
    let why = crate::station::ingest::HoldReason::describe(&file.reason);
    let name = &file.name;
    if file.status == crate::store::CameraFileStatus::Unreadable {
        return Feedback::new(
            FeedbackKind::Rejected,
            "📷✗",
            Text::new(
                format!("相机文件 {name} 无法使用（{}），未绑定，文件仍在文件夹中", why.zh),
                format!("camera file {name} cannot be used ({}): not bound, it stays in the folder", why.en),
            ),
        );
    }
    Feedback::new(
        FeedbackKind::Duplicate,
        "📷?",
        Text::new(
            format!("相机照片 {name} 未绑定（{}），已放入待绑定区：绑定到当前学生或放弃", why.zh),
            format!(
                "camera photo {name} not bound ({}): it is in the tray, bind it to the student or discard it",
                why.en
            ),
        ),
    )
}

/// The photo's backdrop is not the colour of the session's first photos.
pub fn backdrop_drift(distance: f32) -> Feedback {
    Feedback::new(
        FeedbackKind::Duplicate,
        "⚠",
        Text::new(
            format!("背景颜色与本场前几张照片相差 {distance:.0}：曝光或白平衡变了（深色/白色上衣？），请在设置中锁定摄像头曝光和白平衡"),
            format!("the backdrop is {distance:.0} from the session's first photos: exposure or white balance moved (a dark or white shirt?); lock the webcam's exposure and white balance in settings"),
        ),
    )
}

/// The shutter key while the studio camera takes the photos itself.
pub fn press_camera_shutter() -> Feedback {
    Feedback::info(
        "📷",
        Text::new("照片由相机拍摄：请按相机快门", "the studio camera takes the photo: press its shutter"),
    )
}

/// The shutter key with the station triggering the studio camera.
pub fn studio_armed(window_s: u32) -> Feedback {
    Feedback::info(
        "📷",
        Text::new(
            format!("快门已按下：{window_s} 秒内到达的相机照片绑定到当前学生"),
            format!("shutter pressed: a camera photo arriving within {window_s} s binds to the current student"),
        ),
    )
}

/// A tray file that is no longer in the folder as it was.
pub fn shot_gone(name: &str) -> Feedback {
    Feedback::new(
        FeedbackKind::Rejected,
        "📷✗",
        Text::new(
            format!("相机文件 {name} 已不在文件夹中（或已被修改），无法绑定"),
            format!("camera file {name} is no longer in the folder (or was changed): it cannot be bound"),
        ),
    )
}

pub fn tray_empty() -> Feedback {
    Feedback::info("📷", Text::new("待绑定区没有相机照片", "no camera photo waits in the tray"))
}

pub fn shot_discarded(name: &str) -> Feedback {
    Feedback::info(
        "📷",
        Text::new(
            format!("已放弃相机照片 {name}（文件仍在文件夹中）"),
            format!("camera photo {name} discarded (the file stays in the folder)"),
        ),
    )
}

/// More takes of one student than the shot limit: the operator may have
/// forgotten to scan the next student.
pub fn shot_limit(seq: &str, takes: i64, limit: u32) -> Feedback {
    Feedback::new(
        FeedbackKind::Duplicate,
        format!("⚠ {takes}"),
        Text::new(
            format!("{seq} 已拍 {takes} 张（超过 {limit} 张）：是否忘了扫下一位学生的码？"),
            format!("{seq} has {takes} takes (more than {limit}): did you forget to scan the next student?"),
        ),
    )
}

/// The scanner sent part of a code.
pub fn scan_fragment(chars: usize) -> Feedback {
    Feedback::new(
        FeedbackKind::Rejected,
        "✗",
        Text::new(
            format!("扫码枪只送来 {chars} 个字符，不是完整的采集码：请重新扫描"),
            format!("the scanner sent only {chars} characters, not a whole capture code: scan again"),
        ),
    )
}

pub fn no_camera_found() -> Feedback {
    Feedback::new(FeedbackKind::Rejected, "📷", Text::new("未检测到摄像头", "no camera found"))
}

pub fn camera_connected() -> Feedback {
    Feedback::info("📷", Text::new("已连接摄像头", "camera connected"))
}

pub fn no_camera_picture() -> Feedback {
    Feedback::new(FeedbackKind::Rejected, "✗", Text::new("没有摄像头画面，无法拍摄", "no camera picture: cannot shoot"))
}

pub fn decide_current_photo_first() -> Feedback {
    Feedback::info(
        "!",
        Text::new("请先确认（Enter）或重拍（R）当前照片", "accept (Enter) or re-shoot (R) the current photo first"),
    )
}

pub fn training(entered: bool) -> Feedback {
    let text = if entered {
        Text::new(
            "已进入练习模式：练习数据库，演练码可用，不影响正式数据",
            "training mode: its own database, drill codes welcome, real data untouched",
        )
    } else {
        Text::new("已退出练习模式：回到正式采集数据库", "left training: back on the station's real database")
    };
    Feedback::info("✓", text)
}

pub fn settings_saved() -> Feedback {
    Feedback::info("✓", Text::new("设置已保存", "settings saved"))
}

pub fn session_corrected() -> Feedback {
    Feedback::info(
        "✓",
        Text::new(
            "设置已保存；本场次信息已更正，编号和队列不变",
            "settings saved; the session is corrected, numbers and queue unchanged",
        ),
    )
}

pub fn session_change_waits_for_photo() -> Feedback {
    Feedback::new(
        FeedbackKind::Rejected,
        "!",
        Text::new(
            "设置已保存；当前照片确认（或该学生跳过）后切换到新场次",
            "settings saved; the new session starts once the current photo is accepted (or the student skipped)",
        ),
    )
}

pub fn pin_set() -> Feedback {
    Feedback::info("PIN", Text::new("操作员 PIN 已设置", "operator PIN set"))
}

pub fn settings_warning(warning: Text) -> Feedback {
    Feedback::info("!", warning)
}

pub fn backup_done(path: &Path, verified: bool) -> Feedback {
    if verified {
        Feedback::info(
            "✓",
            Text::new(
                format!("备份完成并已校验：{}", path.display()),
                format!("backup written and verified: {}", path.display()),
            ),
        )
    } else {
        Feedback::new(
            FeedbackKind::Rejected,
            "!",
            Text::new(
                format!("备份已写入但校验未通过：{}", path.display()),
                format!("backup written but it does not verify: {}", path.display()),
            ),
        )
    }
}

pub fn nothing_to_purge(before: &str) -> Feedback {
    Feedback::info(
        "",
        Text::new(
            format!("{before} 之前没有已导出并校验、可删除的照片"),
            format!("nothing to delete: no verified-exported photos shot before {before}"),
        ),
    )
}

pub fn purged(plan: &PurgePlan, vacuumed: bool) -> Feedback {
    Feedback::new(
        FeedbackKind::Success,
        "✓",
        Text::new(
            format!(
                "已删除 {} 名学生的 {} 张照片图像（{:.1} MB）{}，校验通过",
                plan.records,
                plan.takes,
                plan.bytes as f64 / 1e6,
                if vacuumed { "" } else { "；空间稍后回收" }
            ),
            format!(
                "deleted the images of {} takes of {} students ({:.1} MB){}; verify passes",
                plan.takes,
                plan.records,
                plan.bytes as f64 / 1e6,
                if vacuumed { "" } else { "; space is reclaimed later" }
            ),
        ),
    )
}

pub fn exported(report: &ExportReport) -> Feedback {
    Feedback::new(
        FeedbackKind::Success,
        "✓",
        Text::new(
            format!("导出完成并已校验：{} 人，{}", report.records, report.bundle.display()),
            format!("exported and verified: {} students, {}", report.records, report.bundle.display()),
        ),
    )
}

pub fn prints_written(report: &crate::pdf::prints::PrintReport, dir: &Path) -> Feedback {
    Feedback::new(
        FeedbackKind::Success,
        "✓",
        Text::new(
            format!("冲印排版完成：{} 人，{} 张相纸，{}", report.students, report.sheets, dir.display()),
            format!("print sheets written: {} students, {} sheets, {}", report.students, report.sheets, dir.display()),
        ),
    )
}

pub fn dialog_busy() -> Feedback {
    Feedback::info("…", Text::new("已有一个文件对话框打开", "a file dialog is open already"))
}

pub fn correction_written(dir: &Path, files: usize) -> Feedback {
    Feedback::new(
        FeedbackKind::Success,
        "✓",
        Text::new(
            format!("已导出该学生的 {files} 个文件到 {}", dir.display()),
            format!("wrote the student's {files} files to {}", dir.display()),
        ),
    )
}

pub fn assist_window_failed(reason: &std::io::Error) -> Feedback {
    Feedback::error(&Text::new(
        format!("无法打开助理窗口：{reason}"),
        format!("cannot open the assistants' window: {reason}"),
    ))
}

/// The first accept of a photo with failed checks: what failed, and how to
/// use it anyway.
pub fn failed_checks_armed(failed: &[Text], accept_key: &str, reshoot_key: &str, window_s: u64) -> Feedback {
    let zh: Vec<&str> = failed.iter().map(|c| c.zh.as_str()).collect();
    let en: Vec<&str> = failed.iter().map(|c| c.en.as_str()).collect();
    Feedback::new(
        FeedbackKind::Rejected,
        "⚠",
        Text::new(
            format!(
                "照片未通过：{}。确要使用，请在 {window_s} 秒内再按一次 {accept_key}；重拍请按 {reshoot_key}",
                zh.join("；")
            ),
            format!(
                "the photo fails: {}. To use it anyway press {accept_key} again within {window_s} s; {reshoot_key} re-shoots",
                en.join("; ")
            ),
        ),
    )
}
