//! The reconciliation sheet (核对单) of one class, signed at the end of the
//! class by the photographer and the college teacher: the counts, the
//! students missing, the first and last capture, two signature lines. Also
//! the reconciliation report it prints, read from the station database.

use std::path::Path;

use pdf_writer::Content;

use super::font::FontCtx;
use super::register::RegisterHeader;
use super::{
    document_header, draw_header_block, draw_row, draw_table_header, draw_title, fill_rect, finish_document, grid_box,
    len_u32, signature_line, write_err, write_file, DocumentError, Images, PdfError, BODY_TOP, BOTTOM_LIMIT, CONTENT_W,
    MARGIN_X, SHADE_GRAY, SOFT_TEXT_GRAY,
};
use crate::store::{ClassReport, Report, Store, Unmatched};

/// A student who was expected but not photographed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MissingStudent {
    /// Student number (学号).
    pub xh: String,
    /// Name, already masked by the caller.
    pub xm: String,
    /// 备注: skipped (reason), waiting, not scanned.
    pub note: String,
}

/// A scan of the class that no roster row has, or whose roster row is in
/// another class.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnmatchedScan {
    /// Capture number, e.g. `2-0153`.
    pub seq: String,
    pub xh: String,
    /// Name, already masked by the caller.
    pub xm: String,
    /// Why it does not match, as printed.
    pub why: String,
}

/// The figures of one class for the reconciliation sheet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reconciliation {
    pub header: RegisterHeader,
    /// 应拍: students on the roster.
    pub expected: u32,
    /// 已扫码: students whose code was scanned.
    pub scanned: u32,
    /// 已拍: students photographed.
    pub photographed: u32,
    /// 跳过: students skipped.
    pub skipped: u32,
    /// 未到: students who did not come, listed on the sheet.
    pub missing: Vec<MissingStudent>,
    /// Scans that match no roster row of the class: their own section, at the top.
    pub unmatched: Vec<UnmatchedScan>,
    /// Time of the first capture, as it should be printed.
    pub first_capture: String,
    /// Time of the last capture, as it should be printed.
    pub last_capture: String,
}

// Reconciliation sheet.
const REC_HEAD_H: f32 = 24.0;
const REC_ROW_H: f32 = 20.0;
/// Column widths: 序号, 学号, 姓名, 备注.
const REC_COLS: [f32; 4] = [40.0, 130.0, 130.0, CONTENT_W - 40.0 - 130.0 - 130.0];
/// Column widths of the unmatched scans: 拍摄序号, 学号, 姓名, 原因.
const UNMATCHED_COLS: [f32; 4] = [70.0, 110.0, 110.0, CONTENT_W - 70.0 - 110.0 - 110.0];
/// Height the two signature lines need.
const SIGN_BLOCK_H: f32 = 150.0;
/// Height a section's title takes above its table.
const SECTION_H: f32 = 8.0;

const TITLE: (&str, &str) = ("学历照片采集核对单", "Capture reconciliation sheet");

/// The pages being written: the current one and those done.
struct Pages<'a> {
    f: FontCtx<'a>,
    done: Vec<Content>,
    c: Content,
    y: f32,
}

impl Pages<'_> {
    fn new_page(&mut self, header: &RegisterHeader) {
        self.done.push(std::mem::replace(&mut self.c, Content::new()));
        draw_title(&mut self.f, &mut self.c, TITLE.0, TITLE.1);
        draw_header_block(&mut self.f, &mut self.c, header, None);
        self.y = BODY_TOP;
    }

    /// A titled table, continued on new pages (its title and header again).
    fn table(
        &mut self,
        header: &RegisterHeader,
        title: &str,
        continued: &str,
        labels: &[(&str, &str); 4],
        cols: &[f32; 4],
        rows: &[[String; 4]],
    ) {
        if self.y - SECTION_H - REC_HEAD_H - REC_ROW_H - 12.0 < BOTTOM_LIMIT {
            self.new_page(header);
            self.y -= 12.0;
        }
        self.f.text_bold(&mut self.c, title, MARGIN_X, self.y, 11.5, 0.0);
        self.y -= SECTION_H;
        draw_table_header(&mut self.f, &mut self.c, self.y, REC_HEAD_H, cols, labels);
        self.y -= REC_HEAD_H;
        if rows.is_empty() {
            self.f.text(&mut self.c, "无 / None", MARGIN_X + 8.0, self.y - 15.0, 10.0, SOFT_TEXT_GRAY);
            self.y -= REC_ROW_H;
        }
        for (i, row) in rows.iter().enumerate() {
            if self.y - REC_ROW_H < BOTTOM_LIMIT {
                self.new_page(header);
                self.f.text_bold(&mut self.c, continued, MARGIN_X, self.y - 12.0, 11.5, 0.0);
                self.y -= 20.0;
                draw_table_header(&mut self.f, &mut self.c, self.y, REC_HEAD_H, cols, labels);
                self.y -= REC_HEAD_H;
            }
            let cells: [&str; 4] = [&row[0], &row[1], &row[2], &row[3]];
            draw_row(&mut self.f, &mut self.c, self.y, REC_ROW_H, cols, &cells, i % 2 == 1, 10.0);
            self.y -= REC_ROW_H;
        }
        self.y -= 22.0;
    }

    /// The two signature lines (with room checked by the caller).
    fn signatures(&mut self) {
        self.y -= 8.0;
        let line = "以上数据经双方核对无误。/ Both parties have checked the figures above.";
        self.f.text(&mut self.c, line, MARGIN_X, self.y, 10.0, 0.0);
        self.y -= 48.0;
        for who in ["摄影师 / Photographer：", "学院老师 / Teacher："] {
            signature_line(&mut self.f, &mut self.c, who, self.y);
            self.y -= 46.0;
        }
        self.y -= 10.0;
    }
}

/// Height a table of `rows` rows takes.
fn table_h(rows: usize) -> f32 {
    SECTION_H + REC_HEAD_H + REC_ROW_H * rows.max(1) as f32 + 22.0
}

/// Render the reconciliation sheet of one class: the counts, the first and
/// last capture times, the scans that match no roster (their own section,
/// first), the missing students with why (备注), and the signature lines
/// for the photographer and the college teacher. The counts and the
/// signatures stay on one page: when the lists do not fit between them, the
/// signatures come right after the counts and the lists follow.
pub fn reconciliation_pdf(r: &Reconciliation, font: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut c = Content::new();
    let mut f = FontCtx::new(font)?;
    draw_title(&mut f, &mut c, TITLE.0, TITLE.1);
    draw_header_block(&mut f, &mut c, &r.header, None);

    // Counts: five boxes across the page.
    let mut y = BODY_TOP;
    let box_h = 62.0;
    let counts: [(&str, &str, u32); 5] = [
        ("应拍", "Expected", r.expected),
        ("已扫码", "Scanned", r.scanned),
        ("已拍", "Photographed", r.photographed),
        ("跳过", "Skipped", r.skipped),
        ("未到", "Missing", len_u32(r.missing.len())),
    ];
    let box_w = CONTENT_W / counts.len() as f32;
    let label_h = 28.0;
    fill_rect(&mut c, MARGIN_X, y - label_h, CONTENT_W, label_h, SHADE_GRAY);
    for (i, (cn, en, n)) in counts.iter().enumerate() {
        let cx = MARGIN_X + box_w * (i as f32 + 0.5);
        f.text_center(&mut c, cn, cx, y - 13.0, 10.5, 0.0);
        f.text_center(&mut c, en, cx, y - 23.5, 7.5, SOFT_TEXT_GRAY);
        f.text_center(&mut c, &n.to_string(), cx, y - box_h + 10.0, 20.0, 0.0);
    }
    grid_box(&mut c, MARGIN_X, y, &[box_w; 5], &[label_h, box_h - label_h]);
    y -= box_h + 22.0;

    // Capture times.
    let time_line = [
        ("首张拍摄 / First capture：", r.first_capture.as_str()),
        ("末张拍摄 / Last capture：", r.last_capture.as_str()),
    ];
    let half = CONTENT_W / 2.0;
    for (i, (label, value)) in time_line.iter().enumerate() {
        let x = MARGIN_X + half * i as f32;
        let w = f.text(&mut c, label, x, y, 10.0, SOFT_TEXT_GRAY);
        f.text_fit(&mut c, value, x + w, y, 10.0, half - w - 8.0, 0.0);
    }
    y -= 30.0;

    let mut p = Pages { f, done: Vec::new(), c, y };
    let unmatched_h = if r.unmatched.is_empty() { 0.0 } else { table_h(r.unmatched.len()) };
    let all_fit = p.y - unmatched_h - table_h(r.missing.len()) - SIGN_BLOCK_H >= BOTTOM_LIMIT;
    if !all_fit {
        p.signatures();
    }
    if !r.unmatched.is_empty() {
        let rows: Vec<[String; 4]> =
            r.unmatched.iter().map(|u| [u.seq.clone(), u.xh.clone(), u.xm.clone(), u.why.clone()]).collect();
        p.table(
            &r.header,
            &format!("未匹配名单的扫码 / Scans matching no roster（{}）", r.unmatched.len()),
            "未匹配名单的扫码（续）/ Scans matching no roster (continued)",
            &[("拍摄序号", "Seq. no."), ("学号", "Student no."), ("姓名", "Name"), ("原因", "Why")],
            &UNMATCHED_COLS,
            &rows,
        );
    }
    let rows: Vec<[String; 4]> = r
        .missing
        .iter()
        .enumerate()
        .map(|(i, m)| [(i + 1).to_string(), m.xh.clone(), m.xm.clone(), m.note.clone()])
        .collect();
    p.table(
        &r.header,
        &format!("未到学生名单 / Missing students（{}）", r.missing.len()),
        "未到学生名单（续）/ Missing students (continued)",
        &[("序号", "No."), ("学号", "Student no."), ("姓名", "Name"), ("备注", "Note")],
        &REC_COLS,
        &rows,
    );
    if all_fit {
        p.signatures();
    }
    let Pages { f, mut done, c, .. } = p;
    done.push(c);

    let title = format!("学历照片采集核对单 {} / Capture reconciliation sheet", r.header.class);
    finish_document(f, done, &Images::default(), &title)
}

/// The reconciliation of one class (`Some`) or of all; a named class the
/// rosters do not have is an error.
pub fn class_report(store: &Store, class: Option<&str>) -> Result<Report, DocumentError> {
    let report = store.report(class)?;
    match class {
        Some(c) if report.classes.is_empty() => Err(DocumentError::NoClass(c.to_string())),
        _ => Ok(report),
    }
}

/// The reconciliation sheet of one class as a PDF.
/// `unmatched`: the report's scans that match no roster; those of this class
/// (by the code or by the roster) are printed.
pub fn reconciliation_sheet(store: &Store, c: &ClassReport, unmatched: &[Unmatched]) -> Result<Vec<u8>, DocumentError> {
    let unmatched: Vec<&Unmatched> =
        unmatched.iter().filter(|u| u.code_class == c.class || u.roster_class == c.class).collect();
    // `2024-06-01T09:12:30…` → `09:12:30`.
    let short = |t: &Option<String>| t.as_deref().map(|t| t.get(11..19).unwrap_or(t).to_string()).unwrap_or_default();
    let r = Reconciliation {
        header: document_header(store, &c.class),
        expected: c.expected as u32,
        scanned: c.scanned as u32,
        photographed: c.photographed as u32,
        skipped: c.skipped as u32,
        missing: c
            .missing_students
            .iter()
            .map(|m| MissingStudent {
                xh: m.xh.clone(),
                xm: m.xm.clone(),
                note: crate::store::standing_text(m.state, &m.reason).to_string(),
            })
            .collect(),
        unmatched: unmatched
            .iter()
            .map(|u| UnmatchedScan {
                seq: u.seq.clone(),
                xh: u.xh.clone(),
                xm: u.xm.clone(),
                why: match u.reason {
                    "class_differs" => format!("名单中在 {0} 班 / on the roster of {0}", u.roster_class),
                    _ => "不在名单中 / not on any roster".to_string(),
                },
            })
            .collect(),
        first_capture: short(&c.first_capture),
        last_capture: short(&c.last_capture),
    };
    Ok(reconciliation_pdf(&r, crate::assets::CJK_FONT)?)
}

/// Writes the sheets of `report`: the first class's into the file `out`
/// when `one_class`, else one `{class}-核对单.pdf` per class into the folder `out`.
pub fn write_reconciliation_sheets(
    store: &Store,
    report: &Report,
    one_class: bool,
    out: &Path,
) -> Result<(), DocumentError> {
    if one_class {
        if let Some(c) = report.classes.first() {
            write_file(out, &reconciliation_sheet(store, c, &report.unmatched)?)?;
        }
    } else {
        std::fs::create_dir_all(out).map_err(|e| write_err(out, e))?;
        for c in &report.classes {
            let file = out.join(format!("{}-核对单.pdf", crate::paths::safe_name(&c.class)));
            write_file(&file, &reconciliation_sheet(store, c, &report.unmatched)?)?;
        }
    }
    Ok(())
}
