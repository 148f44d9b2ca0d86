//! Printable PDF documents for a class: the photo capture register (登记表) that
//! students sign, and the end-of-class reconciliation sheet (核对单) that the
//! photographer and the college teacher sign.
//!
//! This module owns the page layout of both documents and the PDF writing,
//! including the font embedding: the CJK font (an OpenType font, CFF or
//! TrueType outlines) is passed in as bytes, only the glyphs actually used are
//! embedded (a subset made with `subsetter`), written as a CID-keyed Type0
//! font with `Identity-H` encoding and a `ToUnicode` map so that the Chinese
//! text can be searched and copied out of the PDF.
//!
//! Plain data in, bytes out: nothing here touches the file system or the clock,
//! so the same input gives byte-for-byte the same PDF.

use std::collections::HashMap;

use pdf_writer::types::{CidFontType, FontFlags, LineCapStyle, SystemInfo, TextRenderingMode, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

// ---------------------------------------------------------------------------
// Public data and errors
// ---------------------------------------------------------------------------

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

/// A student who was expected but not photographed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MissingStudent {
    /// Student number (学号).
    pub xh: String,
    /// Name, already masked by the caller.
    pub xm: String,
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
    /// Time of the first capture, as it should be printed.
    pub first_capture: String,
    /// Time of the last capture, as it should be printed.
    pub last_capture: String,
}

/// Why a PDF could not be made. The messages are bilingual, "中文 / English".
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The font bytes are not an OpenType/TrueType font that can be read.
    #[error("无法读取字体文件 / Cannot read the font: {0}")]
    FontParse(String),
    /// The font has neither CFF nor TrueType outlines (e.g. a CFF2 variable font).
    #[error(
        "不支持的字体格式（需要 CFF 或 TrueType 轮廓）/ Unsupported font format (CFF or TrueType outlines required)"
    )]
    UnsupportedFont,
    /// The font does not even have a glyph for `?`, used for missing characters.
    #[error("字体缺少基本字符 “?” / The font has no glyph for the basic character '?'")]
    FontIncomplete,
    /// Making the font subset failed.
    #[error("字体子集化失败 / Font subsetting failed: {0}")]
    Subset(String),
    /// The subset font lacks its CFF table (should not happen).
    #[error("子集字体缺少 CFF 表 / The font subset has no CFF table")]
    MissingCff,
}

impl crate::text::Bilingual for PdfError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::FontParse(f0) => Text::new("无法读取字体文件", format!("Cannot read the font: {f0}")),
            Self::UnsupportedFont => Text::new(
                "不支持的字体格式（需要 CFF 或 TrueType 轮廓）",
                "Unsupported font format (CFF or TrueType outlines required)",
            ),
            Self::FontIncomplete => {
                Text::new("字体缺少基本字符 “?”", "The font has no glyph for the basic character '?'")
            }
            Self::Subset(f0) => Text::new("字体子集化失败", format!("Font subsetting failed: {f0}")),
            Self::MissingCff => Text::new("子集字体缺少 CFF 表", "The font subset has no CFF table"),
        }
    }
}

// ---------------------------------------------------------------------------
// Page geometry (PDF points, origin bottom left)
// ---------------------------------------------------------------------------

const PAGE_W: f32 = 595.276; // A4
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 42.5; // 15 mm
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
/// Nothing but the footer goes below this line.
const BOTTOM_LIMIT: f32 = 52.0;
const FOOTER_Y: f32 = 28.0;

/// Top of the table (or first section) below the title and header block.
const BODY_TOP: f32 = 730.0;

// Register table.
const REG_HEAD_H: f32 = 28.0;
const REG_ROW_H: f32 = 25.0;
/// Column widths: 拍摄序号, 学号, 姓名, 班级, 签名.
const REG_COLS: [f32; 5] = [58.0, 88.0, 88.0, 134.0, CONTENT_W - 58.0 - 88.0 - 88.0 - 134.0];

/// Rows of students on each register page.
pub const REGISTER_ROWS_PER_PAGE: usize = ((BODY_TOP - REG_HEAD_H - BOTTOM_LIMIT) / REG_ROW_H) as usize;

// Reconciliation sheet.
const REC_HEAD_H: f32 = 24.0;
const REC_ROW_H: f32 = 20.0;
/// Column widths: 序号, 学号, 姓名, 备注.
const REC_COLS: [f32; 4] = [40.0, 130.0, 130.0, CONTENT_W - 40.0 - 130.0 - 130.0];
/// Height the two signature lines need.
const SIGN_BLOCK_H: f32 = 150.0;

const GRID_GRAY: f32 = 0.35;
const SHADE_GRAY: f32 = 0.90;
const ZEBRA_GRAY: f32 = 0.965;
const SOFT_TEXT_GRAY: f32 = 0.35;

const FONT_RES: Name<'static> = Name(b"F1");

// ---------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------

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
    finish_document(f, pages, &title)
}

/// Render the reconciliation sheet of one class: the counts, the list of
/// missing students, the first and last capture times and the signature lines
/// for the photographer and the college teacher.
pub fn reconciliation_pdf(r: &Reconciliation, font: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut f = FontCtx::new(font)?;
    let mut pages: Vec<Content> = Vec::new();

    let mut c = Content::new();
    draw_title(&mut f, &mut c, "学历照片采集核对单", "Capture reconciliation sheet");
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

    // Capture times and station.
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

    // Missing students.
    let section = format!("未到学生名单 / Missing students（{}）", r.missing.len());
    f.text_bold(&mut c, &section, MARGIN_X, y, 11.5, 0.0);
    y -= 8.0;
    let labels: [(&str, &str); 4] = [("序号", "No."), ("学号", "Student no."), ("姓名", "Name"), ("备注", "Note")];
    draw_table_header(&mut f, &mut c, y, REC_HEAD_H, &REC_COLS, &labels);
    y -= REC_HEAD_H;
    if r.missing.is_empty() {
        f.text(&mut c, "无 / None", MARGIN_X + 8.0, y - 15.0, 10.0, SOFT_TEXT_GRAY);
        y -= REC_ROW_H;
    }
    for (i, m) in r.missing.iter().enumerate() {
        if y - REC_ROW_H < BOTTOM_LIMIT {
            pages.push(std::mem::replace(&mut c, Content::new()));
            draw_title(&mut f, &mut c, "学历照片采集核对单", "Capture reconciliation sheet");
            draw_header_block(&mut f, &mut c, &r.header, None);
            y = BODY_TOP;
            let cont = "未到学生名单（续）/ Missing students (continued)";
            f.text_bold(&mut c, cont, MARGIN_X, y - 12.0, 11.5, 0.0);
            y -= 20.0;
            draw_table_header(&mut f, &mut c, y, REC_HEAD_H, &REC_COLS, &labels);
            y -= REC_HEAD_H;
        }
        let no = (i + 1).to_string();
        let cells: [&str; 3] = [&no, &m.xh, &m.xm];
        draw_row(&mut f, &mut c, y, REC_ROW_H, &REC_COLS, &cells, i % 2 == 1, 10.0);
        y -= REC_ROW_H;
    }

    // Signatures, kept together on one page.
    if y - SIGN_BLOCK_H < BOTTOM_LIMIT {
        pages.push(std::mem::replace(&mut c, Content::new()));
        draw_title(&mut f, &mut c, "学历照片采集核对单", "Capture reconciliation sheet");
        draw_header_block(&mut f, &mut c, &r.header, None);
        y = BODY_TOP + 10.0;
    }
    y -= 30.0;
    f.text(&mut c, "以上数据经双方核对无误。/ Both parties have checked the figures above.", MARGIN_X, y, 10.0, 0.0);
    y -= 48.0;
    for who in ["摄影师 / Photographer：", "学院老师 / Teacher："] {
        signature_line(&mut f, &mut c, who, y);
        y -= 46.0;
    }
    pages.push(c);

    let title = format!("学历照片采集核对单 {} / Capture reconciliation sheet", r.header.class);
    finish_document(f, pages, &title)
}

// ---------------------------------------------------------------------------
// Layout pieces
// ---------------------------------------------------------------------------

fn draw_title(f: &mut FontCtx<'_>, c: &mut Content, cn: &str, en: &str) {
    f.text_bold_center(c, cn, PAGE_W / 2.0, 800.0, 17.0);
    f.text_center(c, en, PAGE_W / 2.0, 784.0, 10.0, SOFT_TEXT_GRAY);
}

/// Two lines: school (and student count) / class, station, date.
fn draw_header_block(f: &mut FontCtx<'_>, c: &mut Content, h: &RegisterHeader, count: Option<usize>) {
    let y1 = 760.0;
    let y2 = 743.0;
    let size = 10.0;
    let right_w = 150.0;
    let left_w = CONTENT_W - right_w;

    let x = MARGIN_X;
    let w = f.text(c, "学校 / School：", x, y1, size, SOFT_TEXT_GRAY);
    f.text_fit(c, &h.school, x + w, y1, size, left_w - w - 10.0, 0.0);
    if let Some(n) = count {
        let x = MARGIN_X + left_w;
        let w = f.text(c, "人数 / Students：", x, y1, size, SOFT_TEXT_GRAY);
        f.text(c, &n.to_string(), x + w, y1, size, 0.0);
    }

    let cells: [(&str, &str, f32); 3] = [
        ("班级 / Class：", &h.class, left_w * 0.62),
        ("机位 / Station：", &h.station, left_w * 0.38),
        ("日期 / Date：", &h.date, right_w),
    ];
    let mut x = MARGIN_X;
    for (label, value, width) in cells {
        let w = f.text(c, label, x, y2, size, SOFT_TEXT_GRAY);
        f.text_fit(c, value, x + w, y2, size, width - w - 10.0, 0.0);
        x += width;
    }

    c.set_stroke_gray(0.0);
    c.set_line_width(0.8);
    c.move_to(MARGIN_X, y2 - 7.0);
    c.line_to(MARGIN_X + CONTENT_W, y2 - 7.0);
    c.stroke();
}

/// A shaded header row; each label is Chinese over a small English line.
fn draw_table_header(f: &mut FontCtx<'_>, c: &mut Content, top: f32, h: f32, cols: &[f32], labels: &[(&str, &str)]) {
    fill_rect(c, MARGIN_X, top - h, CONTENT_W, h, SHADE_GRAY);
    let mut x = MARGIN_X;
    for (w, (cn, en)) in cols.iter().zip(labels) {
        let cx = x + w / 2.0;
        f.text_center(c, cn, cx, top - h / 2.0 + 0.5, 9.5, 0.0);
        f.text_center(c, en, cx, top - h / 2.0 - 9.0, 7.0, SOFT_TEXT_GRAY);
        x += w;
    }
    grid_box(c, MARGIN_X, top, cols, &[h]);
}

/// One table row; cells beyond `cells` stay empty (the signature column).
#[allow(clippy::too_many_arguments)]
fn draw_row(
    f: &mut FontCtx<'_>,
    c: &mut Content,
    top: f32,
    h: f32,
    cols: &[f32],
    cells: &[&str],
    zebra: bool,
    size: f32,
) {
    if zebra {
        fill_rect(c, MARGIN_X, top - h, CONTENT_W, h, ZEBRA_GRAY);
    }
    let pad = 5.0;
    let baseline = top - h / 2.0 - size * 0.36;
    let mut x = MARGIN_X;
    for (w, text) in cols.iter().zip(cells) {
        f.text_fit(c, text, x + pad, baseline, size, w - 2.0 * pad, 0.0);
        x += w;
    }
    grid_box(c, MARGIN_X, top, cols, &[h]);
}

fn signature_line(f: &mut FontCtx<'_>, c: &mut Content, who: &str, y: f32) {
    let x = MARGIN_X;
    let w = f.text(c, who, x, y, 11.0, 0.0);
    let line_end = MARGIN_X + 300.0;
    c.set_stroke_gray(0.0);
    c.set_line_width(0.6);
    c.move_to(x + w + 4.0, y - 3.0);
    c.line_to(line_end, y - 3.0);
    c.stroke();

    let dx = MARGIN_X + 320.0;
    let w = f.text(c, "日期 / Date：", dx, y, 11.0, 0.0);
    c.move_to(dx + w + 4.0, y - 3.0);
    c.line_to(MARGIN_X + CONTENT_W, y - 3.0);
    c.stroke();
}

fn fill_rect(c: &mut Content, x: f32, y: f32, w: f32, h: f32, gray: f32) {
    c.set_fill_gray(gray);
    c.rect(x, y, w, h);
    c.fill_nonzero();
    c.set_fill_gray(0.0);
}

/// Outline and inner lines of a grid whose top left corner is (`x`, `top`).
fn grid_box(c: &mut Content, x: f32, top: f32, cols: &[f32], rows: &[f32]) {
    let width: f32 = cols.iter().sum();
    let height: f32 = rows.iter().sum();
    c.set_stroke_gray(GRID_GRAY);
    c.set_line_width(0.5);
    c.set_line_cap(LineCapStyle::ProjectingSquareCap);
    c.rect(x, top - height, width, height);
    let mut cx = x;
    for w in cols.iter().take(cols.len().saturating_sub(1)) {
        cx += w;
        c.move_to(cx, top);
        c.line_to(cx, top - height);
    }
    let mut cy = top;
    for h in rows.iter().take(rows.len().saturating_sub(1)) {
        cy -= h;
        c.move_to(x, cy);
        c.line_to(x + width, cy);
    }
    c.stroke();
    c.set_stroke_gray(0.0);
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------
// Text with the embedded font
// ---------------------------------------------------------------------------

/// Tabs and line breaks print as spaces, other control characters not at all.
fn printable(ch: char) -> Option<char> {
    match ch {
        '\t' | '\n' | '\r' => Some(' '),
        c if c.is_control() => None,
        c => Some(c),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outlines {
    Cff,
    TrueType,
}

/// The font being used: maps characters to glyphs, measures text and records
/// every glyph used, which then makes up the embedded subset.
struct FontCtx<'a> {
    data: &'a [u8],
    face: ttf_parser::Face<'a>,
    outlines: Outlines,
    units_per_em: f32,
    remapper: subsetter::GlyphRemapper,
    /// char -> (new glyph id, advance in 1/1000 em)
    cache: HashMap<char, (u16, f32)>,
    /// new glyph id -> the text it stands for (ToUnicode)
    unicode: HashMap<u16, char>,
    /// new glyph id -> advance in 1/1000 em
    widths: HashMap<u16, f32>,
    /// Glyph of `?`, drawn for characters the font lacks.
    fallback: ttf_parser::GlyphId,
}

impl<'a> FontCtx<'a> {
    fn new(data: &'a [u8]) -> Result<Self, PdfError> {
        let face = ttf_parser::Face::parse(data, 0).map_err(|e| PdfError::FontParse(e.to_string()))?;
        let raw = face.raw_face();
        let outlines = if raw.table(ttf_parser::Tag::from_bytes(b"CFF ")).is_some() {
            Outlines::Cff
        } else if raw.table(ttf_parser::Tag::from_bytes(b"glyf")).is_some() {
            Outlines::TrueType
        } else {
            return Err(PdfError::UnsupportedFont);
        };
        let fallback = face.glyph_index('?').ok_or(PdfError::FontIncomplete)?;
        let units_per_em = f32::from(face.units_per_em().max(1));
        Ok(Self {
            data,
            face,
            outlines,
            units_per_em,
            remapper: subsetter::GlyphRemapper::new(),
            cache: HashMap::new(),
            unicode: HashMap::new(),
            widths: HashMap::new(),
            fallback,
        })
    }

    /// New glyph id and advance (1/1000 em) of a character; marks the glyph used.
    fn glyph(&mut self, ch: char) -> (u16, f32) {
        if let Some(&g) = self.cache.get(&ch) {
            return g;
        }
        let (old, shown) = match self.face.glyph_index(ch) {
            Some(g) if g.0 != 0 => (g, ch),
            _ => (self.fallback, '?'),
        };
        let advance = self.face.glyph_hor_advance(old).map_or(0.0, f32::from);
        let width = advance * 1000.0 / self.units_per_em;
        let new = self.remapper.remap(old.0);
        self.unicode.entry(new).or_insert(shown);
        self.widths.insert(new, width);
        self.cache.insert(ch, (new, width));
        (new, width)
    }

    /// Encode text as 2-byte glyph ids (Identity-H) and measure it (points at `size`).
    fn encode(&mut self, s: &str, size: f32) -> (Vec<u8>, f32) {
        let mut bytes = Vec::with_capacity(s.len() * 2);
        let mut width = 0.0;
        for ch in s.chars().filter_map(printable) {
            let (gid, w) = self.glyph(ch);
            bytes.extend_from_slice(&gid.to_be_bytes());
            width += w;
        }
        (bytes, width * size / 1000.0)
    }

    fn width(&mut self, s: &str, size: f32) -> f32 {
        // Measuring marks glyphs as used; all measured text is drawn anyway.
        let mut width = 0.0;
        for ch in s.chars().filter_map(printable) {
            width += self.glyph(ch).1;
        }
        width * size / 1000.0
    }

    #[allow(clippy::too_many_arguments)]
    fn show(&mut self, c: &mut Content, s: &str, x: f32, y: f32, size: f32, gray: f32, bold: bool) -> f32 {
        let (bytes, width) = self.encode(s, size);
        if bytes.is_empty() {
            return 0.0;
        }
        c.save_state();
        c.set_fill_gray(gray);
        if bold {
            // There is one weight only: fake bold by also stroking the outlines.
            c.set_stroke_gray(gray);
            c.set_line_width(size * 0.035);
        }
        c.begin_text();
        c.set_font(FONT_RES, size);
        if bold {
            c.set_text_rendering_mode(TextRenderingMode::FillStroke);
        }
        c.next_line(x, y);
        c.show(Str(&bytes));
        c.end_text();
        c.restore_state();
        width
    }

    /// Draw text at a baseline position; returns its width.
    fn text(&mut self, c: &mut Content, s: &str, x: f32, y: f32, size: f32, gray: f32) -> f32 {
        self.show(c, s, x, y, size, gray, false)
    }

    fn text_bold(&mut self, c: &mut Content, s: &str, x: f32, y: f32, size: f32, gray: f32) -> f32 {
        self.show(c, s, x, y, size, gray, true)
    }

    fn text_center(&mut self, c: &mut Content, s: &str, cx: f32, y: f32, size: f32, gray: f32) {
        let w = self.width(s, size);
        self.show(c, s, cx - w / 2.0, y, size, gray, false);
    }

    fn text_bold_center(&mut self, c: &mut Content, s: &str, cx: f32, y: f32, size: f32) {
        let w = self.width(s, size);
        self.show(c, s, cx - w / 2.0, y, size, 0.0, true);
    }

    /// Draw text into `max_w`: shrink it down to 75 % of `size`, and if it is
    /// still too long cut it and end it with "…".
    #[allow(clippy::too_many_arguments)]
    fn text_fit(&mut self, c: &mut Content, s: &str, x: f32, y: f32, size: f32, max_w: f32, gray: f32) {
        if max_w <= 0.0 {
            return;
        }
        let natural = self.width(s, size);
        if natural <= max_w {
            self.text(c, s, x, y, size, gray);
            return;
        }
        let min_size = size * 0.75;
        let shrunk = size * max_w / natural;
        if shrunk >= min_size {
            self.text(c, s, x, y, shrunk, gray);
            return;
        }
        let ellipsis = self.width("…", min_size);
        let mut cut = String::new();
        let mut w = 0.0;
        for ch in s.chars() {
            let cw = self.width(&ch.to_string(), min_size);
            if w + cw + ellipsis > max_w {
                break;
            }
            cut.push(ch);
            w += cw;
        }
        cut.push('…');
        self.text(c, &cut, x, y, min_size, gray);
    }

    /// PostScript name of the font, as PDF name characters.
    fn postscript_name(&self) -> String {
        let name = self
            .face
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .find_map(|n| n.to_string())
            .unwrap_or_default();
        let clean: String =
            name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(56).collect();
        if clean.is_empty() {
            "GradcapSansSC-Regular".to_string()
        } else {
            clean
        }
    }

    /// Six capital letters that name this subset (PDF 9.6.4), derived from the
    /// glyphs in it so that the output is deterministic.
    fn subset_tag(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for g in self.remapper.remapped_gids() {
            for b in g.to_be_bytes() {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        (0..6)
            .map(|i| {
                let letter = ((hash >> (i * 5)) % 26) as u8;
                char::from(b'A' + letter)
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Document assembly
// ---------------------------------------------------------------------------

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// Add the page footers, subset and embed the font and write the PDF.
fn finish_document(mut f: FontCtx<'_>, mut pages: Vec<Content>, title: &str) -> Result<Vec<u8>, PdfError> {
    let total = pages.len();
    for (i, c) in pages.iter_mut().enumerate() {
        let footer = format!("第 {} 页 / 共 {} 页", i + 1, total);
        f.text_center(c, &footer, PAGE_W / 2.0, FOOTER_Y, 9.0, SOFT_TEXT_GRAY);
    }

    // The glyph set is complete only now, after every page has been laid out.
    let subset = subsetter::subset(f.data, 0, &f.remapper).map_err(|e| PdfError::Subset(e.to_string()))?;
    let font_program: Vec<u8> = match f.outlines {
        Outlines::Cff => {
            let raw = ttf_parser::RawFace::parse(&subset, 0).map_err(|e| PdfError::Subset(e.to_string()))?;
            raw.table(ttf_parser::Tag::from_bytes(b"CFF ")).ok_or(PdfError::MissingCff)?.to_vec()
        }
        Outlines::TrueType => subset,
    };

    let base_font = format!("{}+{}", f.subset_tag(), f.postscript_name());
    let base_font_type0 = format!("{base_font}-Identity-H");

    let mut alloc = Ref::new(1);
    let catalog_id = alloc.bump();
    let page_tree_id = alloc.bump();
    let info_id = alloc.bump();
    let type0_id = alloc.bump();
    let cid_id = alloc.bump();
    let descriptor_id = alloc.bump();
    let cmap_id = alloc.bump();
    let file_id = alloc.bump();
    let page_ids: Vec<(Ref, Ref)> = (0..pages.len()).map(|_| (alloc.bump(), alloc.bump())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(page_tree_id);
    pdf.pages(page_tree_id)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
    pdf.document_info(info_id)
        .title(TextStr(title))
        .creator(TextStr("gradcap"))
        .producer(TextStr("gradcap (pdf-writer)"));

    for ((page_id, content_id), content) in page_ids.iter().zip(pages) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(page_tree_id);
        page.contents(*content_id);
        page.resources().fonts().pair(FONT_RES, type0_id);
        page.finish();
        let data = deflate(&content.finish().into_vec());
        pdf.stream(*content_id, &data).filter(Filter::FlateDecode);
    }

    // Fonts: Type0 (Identity-H) -> CIDFont -> descriptor -> font program.
    let system_info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
    pdf.type0_font(type0_id)
        .base_font(Name(base_font_type0.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);

    let mut widths: Vec<f32> = Vec::with_capacity(usize::from(f.remapper.num_gids()));
    for new in 0..f.remapper.num_gids() {
        widths.push(f.widths.get(&new).copied().unwrap_or(0.0));
    }
    {
        let mut cid = pdf.cid_font(cid_id);
        cid.subtype(match f.outlines {
            Outlines::Cff => CidFontType::Type0,
            Outlines::TrueType => CidFontType::Type2,
        });
        cid.base_font(Name(base_font.as_bytes()));
        cid.system_info(system_info);
        cid.font_descriptor(descriptor_id);
        cid.default_width(1000.0);
        cid.widths().consecutive(0, widths.iter().copied());
        if f.outlines == Outlines::TrueType {
            cid.cid_to_gid_map_predefined(Name(b"Identity"));
        }
        cid.finish();
    }

    let scale = 1000.0 / f.units_per_em;
    let bbox = f.face.global_bounding_box();
    let ascent = f32::from(f.face.ascender()) * scale;
    let descent = f32::from(f.face.descender()) * scale;
    let cap_height = f.face.capital_height().map_or(ascent, |h| f32::from(h) * scale);
    {
        let mut d = pdf.font_descriptor(descriptor_id);
        d.name(Name(base_font.as_bytes()))
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                f32::from(bbox.x_min) * scale,
                f32::from(bbox.y_min) * scale,
                f32::from(bbox.x_max) * scale,
                f32::from(bbox.y_max) * scale,
            ))
            .italic_angle(0.0)
            .ascent(ascent)
            .descent(descent)
            .cap_height(cap_height)
            .stem_v(80.0);
        match f.outlines {
            Outlines::Cff => d.font_file3(file_id),
            Outlines::TrueType => d.font_file2(file_id),
        };
        d.finish();
    }

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
    let mut mapped: Vec<(u16, char)> = f.unicode.iter().map(|(g, c)| (*g, *c)).collect();
    mapped.sort_unstable();
    for (gid, ch) in mapped {
        cmap.pair(gid, ch);
    }
    let cmap_data = deflate(&cmap.finish().into_vec());
    pdf.cmap(cmap_id, &cmap_data).filter(Filter::FlateDecode);

    let file_data = deflate(&font_program);
    {
        let mut s = pdf.stream(file_id, &file_data);
        s.filter(Filter::FlateDecode);
        if f.outlines == Outlines::Cff {
            s.pair(Name(b"Subtype"), Name(b"CIDFontType0C"));
        }
        s.finish();
    }

    Ok(pdf.finish())
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    const FONT_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/GradcapSansSC-Regular.otf");

    fn font() -> Vec<u8> {
        std::fs::read(FONT_PATH).expect("read font")
    }

    fn header() -> RegisterHeader {
        RegisterHeader {
            school: "法学院 / Law School".into(),
            class: "法学 2101".into(),
            station: "机位 2".into(),
            date: "2025-06-03".into(),
        }
    }

    const NAMES: [&str; 5] = ["欧**娜", "阿***·**提", "李*", "王*", "张*丰"];
    const CLASSES: [&str; 3] = ["法学 2101", "汉语言文学(公费师范)2101", "20数（1）"];

    fn rows(n: usize) -> Vec<RegisterRow> {
        (1..=n)
            .map(|i| RegisterRow {
                seq: format!("2-{i:04}"),
                xh: format!("2021{:08}", 10_000 + i),
                xm: NAMES[(i - 1) % NAMES.len()].into(),
                class: CLASSES[(i - 1) % CLASSES.len()].into(),
            })
            .collect()
    }

    fn reconciliation(missing: usize) -> Reconciliation {
        Reconciliation {
            header: header(),
            expected: 75,
            scanned: 72,
            photographed: 70,
            skipped: 2,
            missing: (0..missing)
                .map(|i| MissingStudent { xh: format!("2021{:08}", 20_000 + i), xm: NAMES[i % NAMES.len()].into() })
                .collect(),
            first_capture: "2025-06-03 08:31:05".into(),
            last_capture: "2025-06-03 11:02:44".into(),
        }
    }

    /// Page count from the page tree (`/Count n` of the `/Pages` node).
    fn page_count(pdf: &[u8]) -> usize {
        let text = String::from_utf8_lossy(pdf);
        let at = text.find("/Type /Pages").expect("page tree");
        let rest = &text[at..];
        let at = rest.find("/Count ").expect("count");
        rest[at + 7..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("count number")
    }

    fn out_dir() -> PathBuf {
        let dir = std::env::temp_dir().join("gradcap-pdf-tests");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn have(tool: &str) -> bool {
        Command::new(tool).arg("-v").output().is_ok()
    }

    fn pdftotext(path: &Path) -> Option<String> {
        if !have("pdftotext") {
            eprintln!("pdftotext not found (apt-get install -y poppler-utils); skipping text round-trip");
            return None;
        }
        let out = Command::new("pdftotext").args(["-layout", "-enc", "UTF-8"]).arg(path).arg("-").output().unwrap();
        assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
        Some(String::from_utf8(out.stdout).unwrap())
    }

    /// Whether `needle` occurs in `text`, ignoring whitespace: pdftotext drops
    /// the narrow spaces between CJK characters and digits ("第 3 页" -> "第3页").
    fn has(text: &str, needle: &str) -> bool {
        let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        squash(text).contains(&squash(needle))
    }

    /// Page 1 as a PNG next to the PDF, for looking at (needs pdftoppm).
    fn preview(path: &Path) {
        if !have("pdftoppm") {
            eprintln!("pdftoppm not found; no PNG preview");
            return;
        }
        let prefix = path.with_extension("");
        let status = Command::new("pdftoppm")
            .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
            .arg(path)
            .arg(&prefix)
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[test]
    fn register_75_rows() {
        let font = font();
        let rows = rows(75);
        let pdf = register_pdf(&header(), &rows, &font).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert_eq!(REGISTER_ROWS_PER_PAGE, 26);
        assert_eq!(page_count(&pdf), 3);
        assert!(pdf.len() < 1_000_000, "register is {} bytes", pdf.len());
        eprintln!("register: {} bytes, {} pages", pdf.len(), page_count(&pdf));

        let path = out_dir().join("register.pdf");
        std::fs::write(&path, &pdf).unwrap();
        preview(&path);
        if let Some(text) = pdftotext(&path) {
            for needle in [
                "欧**娜",
                "阿***·**提",
                "2-0075",
                "2-0001",
                "签名",
                "汉语言文学(公费师范)2101",
                "20数（1）",
                "第 3 页 / 共 3 页",
                "学历照片采集登记表",
            ] {
                assert!(has(&text, needle), "{needle:?} not in text:\n{text}");
            }
        }
    }

    #[test]
    fn register_is_deterministic_and_small_sets_are_small() {
        let font = font();
        let a = register_pdf(&header(), &rows(3), &font).unwrap();
        let b = register_pdf(&header(), &rows(3), &font).unwrap();
        assert_eq!(a, b);
        assert_eq!(page_count(&a), 1);
        assert!(a.len() < 200_000, "{} bytes", a.len());
    }

    #[test]
    fn register_without_rows_has_one_page() {
        let pdf = register_pdf(&header(), &[], &font()).unwrap();
        assert_eq!(page_count(&pdf), 1);
    }

    #[test]
    fn reconciliation_sheet() {
        let font = font();
        let pdf = reconciliation_pdf(&reconciliation(5), &font).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert_eq!(page_count(&pdf), 1);
        assert!(pdf.len() < 1_000_000);
        eprintln!("reconciliation: {} bytes, {} pages", pdf.len(), page_count(&pdf));

        let path = out_dir().join("reconciliation.pdf");
        std::fs::write(&path, &pdf).unwrap();
        preview(&path);
        if let Some(text) = pdftotext(&path) {
            for needle in [
                "应拍",
                "已扫码",
                "未到",
                "欧**娜",
                "202100020000",
                "摄影师 / Photographer",
                "学院老师 / Teacher",
                "08:31:05",
                "11:02:44",
                "第 1 页 / 共 1 页",
            ] {
                assert!(has(&text, needle), "{needle:?} not in text:\n{text}");
            }
        }
    }

    #[test]
    fn reconciliation_with_many_missing_spans_pages() {
        let font = font();
        let pdf = reconciliation_pdf(&reconciliation(60), &font).unwrap();
        let pages = page_count(&pdf);
        assert!(pages >= 2, "{pages} pages");
        let path = out_dir().join("reconciliation-60.pdf");
        std::fs::write(&path, &pdf).unwrap();
        if let Some(text) = pdftotext(&path) {
            assert!(has(&text, "202100020059"));
            assert!(has(&text, &format!("第 {pages} 页 / 共 {pages} 页")));
            assert!(has(&text, "学院老师 / Teacher"));
        }
    }

    #[test]
    fn missing_characters_become_question_marks() {
        // U+2A6D6 (CJK Ext. B) is not in the font.
        let rows =
            vec![RegisterRow { seq: "1-0001".into(), xh: "1".into(), xm: "王\u{2A6D6}".into(), class: "x".into() }];
        let pdf = register_pdf(&header(), &rows, &font()).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let path = out_dir().join("missing-glyph.pdf");
        std::fs::write(&path, &pdf).unwrap();
        if let Some(text) = pdftotext(&path) {
            assert!(has(&text, "王?"), "{text}");
        }
    }

    #[test]
    fn sixty_distinct_full_names_stay_small() {
        // Worst case for the subset: 60 unmasked names, ~180 different hanzi.
        let rows: Vec<RegisterRow> = (0..60u32)
            .map(|i| {
                let name: String = (0..3).filter_map(|k| char::from_u32(0x4E00 + 97 * (3 * i + k) + 13)).collect();
                RegisterRow {
                    seq: format!("3-{:04}", i + 1),
                    xh: format!("2022{:08}", i),
                    xm: name,
                    class: CLASSES[i as usize % CLASSES.len()].into(),
                }
            })
            .collect();
        let pdf = register_pdf(&header(), &rows, &font()).unwrap();
        eprintln!("60 distinct names: {} bytes, {} pages", pdf.len(), page_count(&pdf));
        assert_eq!(page_count(&pdf), 3);
        assert!(pdf.len() < 300_000, "{} bytes", pdf.len());
    }

    #[test]
    fn truetype_fonts_work_too() {
        let path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
        let Ok(ttf) = std::fs::read(path) else {
            eprintln!("{path} not found; skipping the TrueType test");
            return;
        };
        let rows = vec![RegisterRow {
            seq: "1-0001".into(),
            xh: "2021001".into(),
            xm: "Zoë Müller".into(),
            class: "Law 2101".into(),
        }];
        let pdf = register_pdf(&header(), &rows, &ttf).unwrap();
        assert!(pdf.len() < 100_000, "{} bytes", pdf.len());
        let out = out_dir().join("truetype.pdf");
        std::fs::write(&out, &pdf).unwrap();
        if let Some(text) = pdftotext(&out) {
            assert!(has(&text, "Zoë Müller"), "{text}");
            assert!(has(&text, "2021001"), "{text}");
        }
    }

    #[test]
    fn overlong_cells_shrink_then_get_an_ellipsis() {
        let rows = vec![RegisterRow {
            seq: "1-0001".into(),
            xh: "2021001".into(),
            xm: "阿卜杜热合曼***·**买买提艾力".into(),
            class: "汉语言文学(公费师范)(中外合作办学)2101班第一组".into(),
        }];
        let pdf = register_pdf(&header(), &rows, &font()).unwrap();
        let path = out_dir().join("overlong.pdf");
        std::fs::write(&path, &pdf).unwrap();
        if let Some(text) = pdftotext(&path) {
            assert!(text.contains('…'), "{text}");
            assert!(has(&text, "汉语言文学(公费师范)"), "{text}");
        }
    }

    #[test]
    fn bad_font_is_an_error() {
        let err = register_pdf(&header(), &rows(1), b"not a font").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("字体") && msg.contains("font"), "{msg}");
    }
}
