//! The font of the documents: maps characters to glyphs, measures and draws
//! text, and records every glyph used, which then makes up the embedded
//! subset (see the module above for how it is written into the PDF).

use std::collections::HashMap;

use pdf_writer::types::TextRenderingMode;
use pdf_writer::{Content, Str};

use super::{PdfError, FONT_RES};
/// Tabs and line breaks print as spaces, other control characters not at all.
pub(super) fn printable(ch: char) -> Option<char> {
    match ch {
        '\t' | '\n' | '\r' => Some(' '),
        c if c.is_control() => None,
        c => Some(c),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Outlines {
    Cff,
    TrueType,
}

/// The font being used: maps characters to glyphs, measures text and records
/// every glyph used, which then makes up the embedded subset.
pub(super) struct FontCtx<'a> {
    pub(super) data: &'a [u8],
    pub(super) face: ttf_parser::Face<'a>,
    pub(super) outlines: Outlines,
    pub(super) units_per_em: f32,
    pub(super) remapper: subsetter::GlyphRemapper,
    /// char -> (new glyph id, advance in 1/1000 em)
    pub(super) cache: HashMap<char, (u16, f32)>,
    /// new glyph id -> the text it stands for (ToUnicode)
    pub(super) unicode: HashMap<u16, char>,
    /// new glyph id -> advance in 1/1000 em
    pub(super) widths: HashMap<u16, f32>,
    /// Glyph of `?`, drawn for characters the font lacks.
    pub(super) fallback: ttf_parser::GlyphId,
}

impl<'a> FontCtx<'a> {
    pub(super) fn new(data: &'a [u8]) -> Result<Self, PdfError> {
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
    pub(super) fn glyph(&mut self, ch: char) -> (u16, f32) {
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
    pub(super) fn encode(&mut self, s: &str, size: f32) -> (Vec<u8>, f32) {
        let mut bytes = Vec::with_capacity(s.len() * 2);
        let mut width = 0.0;
        for ch in s.chars().filter_map(printable) {
            let (gid, w) = self.glyph(ch);
            bytes.extend_from_slice(&gid.to_be_bytes());
            width += w;
        }
        (bytes, width * size / 1000.0)
    }

    pub(super) fn width(&mut self, s: &str, size: f32) -> f32 {
        // Measuring marks glyphs as used; all measured text is drawn anyway.
        let mut width = 0.0;
        for ch in s.chars().filter_map(printable) {
            width += self.glyph(ch).1;
        }
        width * size / 1000.0
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn show(&mut self, c: &mut Content, s: &str, x: f32, y: f32, size: f32, gray: f32, bold: bool) -> f32 {
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
    pub(super) fn text(&mut self, c: &mut Content, s: &str, x: f32, y: f32, size: f32, gray: f32) -> f32 {
        self.show(c, s, x, y, size, gray, false)
    }

    pub(super) fn text_bold(&mut self, c: &mut Content, s: &str, x: f32, y: f32, size: f32, gray: f32) -> f32 {
        self.show(c, s, x, y, size, gray, true)
    }

    pub(super) fn text_center(&mut self, c: &mut Content, s: &str, cx: f32, y: f32, size: f32, gray: f32) {
        let w = self.width(s, size);
        self.show(c, s, cx - w / 2.0, y, size, gray, false);
    }

    pub(super) fn text_bold_center(&mut self, c: &mut Content, s: &str, cx: f32, y: f32, size: f32) {
        let w = self.width(s, size);
        self.show(c, s, cx - w / 2.0, y, size, 0.0, true);
    }

    /// Draw text into `max_w`: shrink it down to 75 % of `size`, and if it is
    /// still too long cut it and end it with "…".
    #[allow(clippy::too_many_arguments)]
    pub(super) fn text_fit(&mut self, c: &mut Content, s: &str, x: f32, y: f32, size: f32, max_w: f32, gray: f32) {
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
    pub(super) fn postscript_name(&self) -> String {
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
    pub(super) fn subset_tag(&self) -> String {
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
