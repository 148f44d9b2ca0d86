//! The photo capture register (登记表) of one class: one row per roster
//! student in 学号 order (or, without a roster, per scanned student in
//! number order), an empty column the students sign, the table header on
//! every page. Before sign-in the number column is blank for the student to
//! fill; after capture it carries the numbers and a status column. The
//! class's scans that no roster has follow the roster. `class_register`
//! reads it from the station database.

use pdf_writer::Content;

use super::font::FontCtx;
use super::{
    document_header, draw_header_block, draw_row, draw_table_header, draw_title, finish_document, DocumentError,
    Images, PdfError, BODY_TOP, BOTTOM_LIMIT, CONTENT_W, PAGE_W,
};
use crate::store::Store;

/// One student line on the register, already in sequence order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegisterRow {
    /// Capture sequence number, e.g. `2-0153`.
    pub seq: String,
    /// Student number (学号).
    pub xh: String,
    /// Name (姓名), already masked by the caller, e.g. `欧**娜`.
    pub xm: String,
    /// Class (班级).
    pub class: String,
    /// Photographed / skipped (reason) / waiting / not scanned, as printed;
    /// the status column is left out when every row's is empty (the form
    /// printed before sign-in).
    pub status: String,
}

/// The header block printed on every page of both documents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegisterHeader {
    /// School or college name.
    pub school: String,
    /// Class name.
    pub class: String,
    /// Capture station (机位).
    pub station: String,
    /// Date as the caller wants it printed, e.g. `2025-06-03`.
    pub date: String,
}

// Register table.
const REG_HEAD_H: f32 = 28.0;
const REG_ROW_H: f32 = 25.0;
/// Column widths: 拍摄序号, 学号, 姓名, 班级, 签名.
const REG_COLS: [f32; 5] = [58.0, 88.0, 88.0, 134.0, CONTENT_W - 58.0 - 88.0 - 88.0 - 134.0];
/// Column widths with the status column: 拍摄序号, 学号, 姓名, 班级, 状态, 签名.
const REG_COLS_STATUS: [f32; 6] = [54.0, 80.0, 74.0, 104.0, 110.0, CONTENT_W - 54.0 - 80.0 - 74.0 - 104.0 - 110.0];

/// Rows of students on each register page.
pub const REGISTER_ROWS_PER_PAGE: usize = ((BODY_TOP - REG_HEAD_H - BOTTOM_LIMIT) / REG_ROW_H) as usize;

/// Render the capture register of one class: one row per student in the order
/// given, an empty signature column, the table header repeated on every page and
/// "第 N 页 / 共 M 页" page numbers.
pub fn register_pdf(header: &RegisterHeader, rows: &[RegisterRow], font: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut f = FontCtx::new(font)?;
    let mut pages: Vec<Content> = Vec::new();

    let chunks: Vec<&[RegisterRow]> =
        if rows.is_empty() { vec![&[]] } else { rows.chunks(REGISTER_ROWS_PER_PAGE).collect() };

    let with_status = rows.iter().any(|r| !r.status.is_empty());
    let mut index = 0usize;
    for chunk in chunks {
        let mut c = Content::new();
        draw_title(&mut f, &mut c, "学历照片采集登记表", "Photo capture register");
        draw_header_block(&mut f, &mut c, header, Some(rows.len()));

        let mut y = BODY_TOP;
        let labels: &[(&str, &str)] = if with_status {
            &[
                ("拍摄序号", "Seq. no."),
                ("学号", "Student no."),
                ("姓名", "Name"),
                ("班级", "Class"),
                ("状态", "Status"),
                ("签名", "Signature"),
            ]
        } else {
            &[
                ("拍摄序号", "Seq. no."),
                ("学号", "Student no."),
                ("姓名", "Name"),
                ("班级", "Class"),
                ("签名", "Signature"),
            ]
        };
        let cols: &[f32] = if with_status { &REG_COLS_STATUS } else { &REG_COLS };
        draw_table_header(&mut f, &mut c, y, REG_HEAD_H, cols, labels);
        y -= REG_HEAD_H;

        if chunk.is_empty() {
            f.text_center(&mut c, "（无学生 / No students）", PAGE_W / 2.0, y - 20.0, 10.0, 0.0);
        }
        for row in chunk {
            let zebra = index % 2 == 1;
            if with_status {
                let cells: [&str; 5] = [&row.seq, &row.xh, &row.xm, &row.class, &row.status];
                draw_row(&mut f, &mut c, y, REG_ROW_H, cols, &cells, zebra, 9.5);
            } else {
                let cells: [&str; 4] = [&row.seq, &row.xh, &row.xm, &row.class];
                draw_row(&mut f, &mut c, y, REG_ROW_H, cols, &cells, zebra, 10.0);
            }
            y -= REG_ROW_H;
            index += 1;
        }
        pages.push(c);
    }

    let title = format!("学历照片采集登记表 {} / Photo capture register", header.class);
    finish_document(f, pages, &Images::default(), &title)
}

/// The register of `class` as a PDF, and the number of students on it.
/// `blank` (or nobody of the class scanned yet): the form printed before
/// sign-in, from the roster, numbers and status left for the day.
pub fn class_register(store: &Store, class: &str, blank: bool) -> Result<(Vec<u8>, usize), DocumentError> {
    let lines = store.register_lines(class)?;
    let nobody_scanned = lines.iter().all(|l| l.seq.is_empty());
    let blank = blank || nobody_scanned;
    let rows: Vec<RegisterRow> = lines
        .into_iter()
        .filter(|l| !(blank && l.not_on_roster))
        .map(|l| {
            let status = if blank { String::new() } else { l.status_text().to_string() };
            let seq = if blank { String::new() } else { l.seq };
            RegisterRow { seq, xh: l.xh, xm: l.xm, class: l.class, status }
        })
        .collect();
    if rows.is_empty() && blank {
        return Err(DocumentError::NoClass(class.to_string()));
    }
    let bytes = register_pdf(&document_header(store, class), &rows, crate::assets::CJK_FONT)?;
    Ok((bytes, rows.len()))
}
