//! The PDF engine and the station's printed documents, one file each: the
//! class register (`register.rs`, 登记表) and the reconciliation sheet
//! (`sheet.rs`, 核对单).
//!
//! The engine (here and in `font.rs`) lays out A4 pages: text in the CJK
//! font, tables, lines, and JPEG images placed as they are. The font (an
//! OpenType font, CFF or TrueType outlines) is passed in as bytes; only the
//! glyphs actually used are embedded (a subset made with `subsetter`), as a
//! CID-keyed Type0 font with `Identity-H` encoding and a `ToUnicode` map, so
//! the Chinese text can be searched and copied out of the PDF.
//!
//! Plain data in, bytes out: the engine touches neither the file system nor
//! the clock, so the same input gives byte-for-byte the same PDF. The
//! documents' `class_*` functions read their data from the station database.

mod font;
pub mod prints;
pub mod register;
pub mod sheet;
#[cfg(test)]
mod tests;

use std::path::Path;

use pdf_writer::types::{CidFontType, FontFlags, LineCapStyle, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::store::{Store, StoreError};
use font::{FontCtx, Outlines};
pub use register::{class_register, register_pdf, RegisterHeader, RegisterRow, REGISTER_ROWS_PER_PAGE};
pub use sheet::{
    class_report, reconciliation_pdf, reconciliation_sheet, write_reconciliation_sheets, MissingStudent,
    Reconciliation, UnmatchedScan,
};

/// Why a PDF could not be made.
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
    /// An image to place is not a JPEG a PDF can hold as it is.
    #[error("无法放入图像：{0} / cannot place the image: {0}")]
    Image(String),
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
            Self::Image(f0) => Text::new(format!("无法放入图像：{f0}"), format!("cannot place the image: {f0}")),
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

const GRID_GRAY: f32 = 0.35;
const SHADE_GRAY: f32 = 0.90;
const ZEBRA_GRAY: f32 = 0.965;
const SOFT_TEXT_GRAY: f32 = 0.35;

const FONT_RES: Name<'static> = Name(b"F1");

fn draw_title(f: &mut FontCtx<'_>, c: &mut Content, cn: &str, en: &str) {
    f.text_bold_center(c, cn, PAGE_W / 2.0, 800.0, 17.0);
    f.text_center(c, en, PAGE_W / 2.0, 784.0, 10.0, SOFT_TEXT_GRAY);
}

/// Two lines: school (and student count) / class, station, date.
fn draw_header_block(f: &mut FontCtx<'_>, c: &mut Content, h: &register::RegisterHeader, count: Option<usize>) {
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

/// A JPEG to place on a page. Its bytes go into the PDF as they are, so a
/// photo prints exactly as it was delivered, never re-encoded.
#[derive(Debug, Clone)]
pub struct Jpeg {
    data: Vec<u8>,
    width: u32,
    height: u32,
    colour: JpegColour,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JpegColour {
    Gray,
    Rgb,
}

impl Jpeg {
    /// Reads the picture's size and colours from its frame header. A file
    /// that is not a JPEG, or a CMYK or 12-bit one, is refused.
    pub fn new(data: Vec<u8>) -> Result<Self, PdfError> {
        let (marker, width, height, components, precision) =
            jpeg_frame(&data).ok_or_else(|| PdfError::Image("不是 JPEG 文件 / not a JPEG file".into()))?;
        // Baseline, extended and progressive Huffman JPEGs: what every PDF
        // reader shows. Lossless, hierarchical and arithmetic-coded ones not.
        if !(0xC0..=0xC2).contains(&marker) {
            return Err(PdfError::Image(format!(
                "JPEG 编码 SOF{} 不受支持 / JPEG coding SOF{} is not supported",
                marker - 0xC0,
                marker - 0xC0
            )));
        }
        if precision != 8 {
            return Err(PdfError::Image(format!("{precision} 位精度 / {precision}-bit samples")));
        }
        let colour = match components {
            1 => JpegColour::Gray,
            3 => JpegColour::Rgb,
            n => return Err(PdfError::Image(format!("{n} 个颜色分量 / {n} colour components"))),
        };
        if width == 0 || height == 0 {
            return Err(PdfError::Image("尺寸为零 / zero size".into()));
        }
        Ok(Jpeg { data, width, height, colour })
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

/// The SOF marker, width, height, components and sample precision from a
/// JPEG's frame header.
fn jpeg_frame(data: &[u8]) -> Option<(u8, u32, u32, u8, u8)> {
    if data.get(0..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    loop {
        // A marker, after any fill bytes.
        if *data.get(i)? != 0xFF {
            return None;
        }
        while *data.get(i + 1)? == 0xFF {
            i += 1;
        }
        let marker = *data.get(i + 1)?;
        i += 2;
        match marker {
            0x01 | 0xD0..=0xD7 => continue,
            // Image data or the end before any frame header.
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*data.get(i)?, *data.get(i + 1)?]));
        if len < 2 {
            return None;
        }
        // SOF0..SOF15, without DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let seg = data.get(i + 2..i + len)?;
            let precision = *seg.first()?;
            let height = u32::from(u16::from_be_bytes([*seg.get(1)?, *seg.get(2)?]));
            let width = u32::from(u16::from_be_bytes([*seg.get(3)?, *seg.get(4)?]));
            return Some((marker, width, height, *seg.get(5)?, precision));
        }
        i += len;
    }
}

/// The images of one document; every page may draw any of them.
#[derive(Debug, Default)]
pub struct Images {
    list: Vec<Jpeg>,
}

/// An image added to [`Images`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageRef(usize);

impl Images {
    /// Adds `jpeg` (once, however many times it is drawn).
    pub fn add(&mut self, jpeg: Jpeg) -> ImageRef {
        self.list.push(jpeg);
        ImageRef(self.list.len() - 1)
    }

    /// Draws `image` into the box with its lower left corner at (`x`, `y`),
    /// `w` × `h` points (the caller keeps the aspect ratio).
    pub fn draw(&self, c: &mut Content, image: ImageRef, x: f32, y: f32, w: f32, h: f32) {
        if image.0 >= self.list.len() {
            return;
        }
        c.save_state();
        c.transform([w, 0.0, 0.0, h, x, y]);
        c.x_object(Name(image_name(image.0).as_bytes()));
        c.restore_state();
    }
}

/// The resource name of the `n`th image.
fn image_name(n: usize) -> String {
    format!("Im{n}")
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// Add the page footers, subset and embed the font and write the PDF (A4).
fn finish_document(f: FontCtx<'_>, pages: Vec<Content>, images: &Images, title: &str) -> Result<Vec<u8>, PdfError> {
    finish_pages(f, pages, images, title, PageSetup { width_pt: PAGE_W, height_pt: PAGE_H, footers: true })
}

/// The size of a document's pages, and whether they carry page numbers.
#[derive(Debug, Clone, Copy)]
struct PageSetup {
    width_pt: f32,
    height_pt: f32,
    footers: bool,
}

/// [`finish_document`] for pages of any size.
fn finish_pages(
    mut f: FontCtx<'_>,
    mut pages: Vec<Content>,
    images: &Images,
    title: &str,
    setup: PageSetup,
) -> Result<Vec<u8>, PdfError> {
    let total = pages.len();
    if setup.footers {
        for (i, c) in pages.iter_mut().enumerate() {
            let footer = format!("第 {} 页 / 共 {} 页", i + 1, total);
            f.text_center(c, &footer, setup.width_pt / 2.0, FOOTER_Y, 9.0, SOFT_TEXT_GRAY);
        }
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
    let image_ids: Vec<Ref> = images.list.iter().map(|_| alloc.bump()).collect();

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
        page.media_box(Rect::new(0.0, 0.0, setup.width_pt, setup.height_pt));
        page.parent(page_tree_id);
        page.contents(*content_id);
        let mut resources = page.resources();
        resources.fonts().pair(FONT_RES, type0_id);
        if !image_ids.is_empty() {
            let mut x_objects = resources.x_objects();
            for (n, id) in image_ids.iter().enumerate() {
                x_objects.pair(Name(image_name(n).as_bytes()), *id);
            }
        }
        resources.finish();
        page.finish();
        let data = deflate(&content.finish().into_vec());
        pdf.stream(*content_id, &data).filter(Filter::FlateDecode);
    }

    // Images: each JPEG's bytes as they are, decoded by the reader (DCTDecode).
    for (jpeg, id) in images.list.iter().zip(&image_ids) {
        let mut image = pdf.image_xobject(*id, &jpeg.data);
        image.filter(Filter::DctDecode);
        image.width(i32::try_from(jpeg.width).unwrap_or(i32::MAX));
        image.height(i32::try_from(jpeg.height).unwrap_or(i32::MAX));
        match jpeg.colour {
            JpegColour::Gray => image.color_space().device_gray(),
            JpegColour::Rgb => image.color_space().device_rgb(),
        }
        image.bits_per_component(8);
        image.finish();
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

/// Errors making a class's documents from the station database.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error("名单中没有班级 {0} / no class {0} in the rosters")]
    NoClass(String),
    #[error("写入 / writing {path}: {reason}")]
    Write { path: String, reason: String },
}

impl crate::text::Bilingual for DocumentError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Store(f0) => f0.text(),
            Self::Pdf(f0) => f0.text(),
            Self::NoClass(f0) => Text::new(format!("名单中没有班级 {f0}"), format!("no class {f0} in the rosters")),
            Self::Write { path, reason } => Text::new("写入", format!("writing {path}: {reason}")),
        }
    }
}

/// School, station and date for a class's documents: from the newest session.
pub fn document_header(store: &Store, class: &str) -> RegisterHeader {
    let session = store.sessions().ok().and_then(|s| s.into_iter().last());
    RegisterHeader {
        school: session.as_ref().map(|s| s.info.school_name.clone()).unwrap_or_default(),
        class: class.to_string(),
        station: session.as_ref().map(|s| s.info.station.clone()).unwrap_or_default(),
        date: session.as_ref().map(|s| s.info.date.clone()).unwrap_or_default(),
    }
}

/// Writes `bytes` to `path`, making its folder first: whole or not at all
/// (`.partial`, flushed, renamed).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DocumentError> {
    crate::paths::write_atomic(path, bytes).map_err(|e| write_err(path, e))
}

fn write_err(path: &Path, e: std::io::Error) -> DocumentError {
    DocumentError::Write { path: path.display().to_string(), reason: e.to_string() }
}
