//! The photo capture register (登记表) of one class: one row per scanned
//! student in sequence order, an empty column the students sign, the table
//! header on every page. `class_register` reads it from the station database.

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

    let mut index = 0usize;
    for chunk in chunks {
        let mut c = Content::new();
        draw_title(&mut f, &mut c, "学历照片采集登记表", "Photo capture register");
        draw_header_block(&mut f, &mut c, header, Some(rows.len()));

        let mut y = BODY_TOP;
        let labels: [(&str, &str); 5] = [
            ("拍摄序号", "Seq. no."),
            ("学号", "Student no."),
            ("姓名", "Name"),
            ("班级", "Class"),
            ("签名", "Signature"),
        ];
        draw_table_header(&mut f, &mut c, y, REG_HEAD_H, &REG_COLS, &labels);
        y -= REG_HEAD_H;

        if chunk.is_empty() {
            f.text_center(&mut c, "（无学生 / No students）", PAGE_W / 2.0, y - 20.0, 10.0, 0.0);
        }
        for row in chunk {
            let zebra = index % 2 == 1;
            let cells: [&str; 4] = [&row.seq, &row.xh, &row.xm, &row.class];
            draw_row(&mut f, &mut c, y, REG_ROW_H, &REG_COLS, &cells, zebra, 10.0);
            y -= REG_ROW_H;
            index += 1;
        }
        pages.push(c);
    }

    let title = format!("学历照片采集登记表 {} / Photo capture register", header.class);
    finish_document(f, pages, &Images::default(), &title)
}

/// The register of `class` as a PDF, and the number of students on it.
pub fn class_register(store: &Store, class: &str) -> Result<(Vec<u8>, usize), DocumentError> {
    let rows: Vec<RegisterRow> = store
        .register_lines(class)?
        .into_iter()
        .map(|l| RegisterRow { seq: l.seq, xh: l.xh, xm: l.xm, class: l.class })
        .collect();
    let bytes = register_pdf(&document_header(store, class), &rows, crate::assets::CJK_FONT)?;
    Ok((bytes, rows.len()))
}
