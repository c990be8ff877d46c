//! The PDFs' one font: its metrics for layout (widths, line wrapping), and its embedding once a
//! document is laid out.
//!
//! Pages show text by the font's original glyph ids (a Type 0 font, Identity-H), so each page can
//! be written as soon as it is full. Only at the end, when the document knows every glyph it used,
//! is the font subset (printpdf's subsetter): a `/CIDToGIDMap` maps the original ids to the
//! subset's, `/W` gives the widths layout used, and `/ToUnicode` maps each glyph back to its
//! character so that text can be searched and extracted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::io;

use printpdf::ParsedFont;

use super::content::Glyphs;
use super::writer::Writer;
use crate::error::DatasetError;
use crate::render::template::Templates;

/// The font's resource name in every page; its first six letters also tag the subset
/// (`SETTLE+…`).
pub const FONT_RESOURCE: &str = "SETTLE";

/// The parsed font, shared by every document of a run.
pub struct Font {
    parsed: ParsedFont,
    units_per_em: f32,
    fallback_advance: f32,
    /// The glyph of each character of the Basic Multilingual Plane ([`NO_GLYPH`] where the font
    /// has none), and each glyph's advance: read once from the font's tables. Layout asks for
    /// them once per character printed, and the font's `cmap` lookup was a tenth of a 10M-line
    /// run with PDFs.
    bmp: Box<[u32]>,
    advances: Box<[u16]>,
}

/// A character the font has no glyph for, in [`Font`]'s table.
const NO_GLYPH: u32 = u32::MAX;

impl Font {
    pub fn new(t: &Templates) -> Result<Font, DatasetError> {
        let unreadable = |message: &str| DatasetError::Template {
            file: t.layout.font.clone().into(),
            message: message.into(),
        };
        if !truetype_outlines(&t.font, t.layout.font_index) {
            return Err(unreadable(
                "not a TrueType font (a .ttf, or a .ttc of TrueType faces) this program can embed",
            ));
        }
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(&t.font, t.layout.font_index, &mut warnings)
            .ok_or_else(|| unreadable("not a TrueType/OpenType font this program can read"))?;
        let units_per_em = f32::from(parsed.font_metrics.units_per_em.max(1));
        let fallback_advance = units_per_em / 2.0;
        let bmp = (0..=u32::from(u16::MAX))
            .map(|c| parsed.lookup_glyph_index(c).map_or(NO_GLYPH, u32::from))
            .collect();
        let advances = (0..=parsed.maxp_table.num_glyphs)
            .map(|g| parsed.get_horizontal_advance(g))
            .collect();
        Ok(Font {
            parsed,
            units_per_em,
            fallback_advance,
            bmp,
            advances,
        })
    }

    /// The font's glyph for `c`, if it has one.
    fn lookup(&self, c: char) -> Option<u16> {
        match self.bmp.get(c as usize) {
            Some(&NO_GLYPH) => None,
            Some(&g) => Some(g as u16),
            None => self.parsed.lookup_glyph_index(c as u32),
        }
    }

    /// A glyph's advance in font units.
    fn glyph_advance(&self, gid: u16) -> u16 {
        match self.advances.get(usize::from(gid)) {
            Some(&a) => a,
            None => self.parsed.get_horizontal_advance(gid),
        }
    }

    /// Width of `text` at `size` points, in points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size / self.units_per_em
    }

    /// The glyph that shows `c`: 0 (the font's "missing" glyph) where it has none.
    pub fn glyph(&self, c: char) -> u16 {
        self.lookup(c).unwrap_or(0)
    }

    fn advance(&self, c: char) -> f32 {
        match self.lookup(c) {
            Some(gid) => f32::from(self.glyph_advance(gid)),
            None => self.fallback_advance,
        }
    }

    /// A glyph's advance in thousandths of an em, as `/W` gives it: glyph 0 stands for every
    /// character the font lacks, which layout gives half an em.
    fn width_1000(&self, gid: u16) -> i64 {
        let advance = if gid == 0 {
            self.fallback_advance
        } else {
            f32::from(self.glyph_advance(gid))
        };
        (advance * 1000.0 / self.units_per_em).round() as i64
    }

    /// Splits `text` into lines no wider than `width` points: at spaces where a line has one,
    /// anywhere in a run of Chinese, and mid-word only when a word alone is too long.
    pub fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_width = 0.0;
            let mut last_space: Option<usize> = None;
            for c in paragraph.chars() {
                let w = self.advance(c) * size / self.units_per_em;
                if line_width + w > width && !line.is_empty() {
                    match last_space.filter(|_| c.is_ascii() && !c.is_whitespace()) {
                        Some(at) => {
                            let rest = line[at + 1..].to_string();
                            line.truncate(at);
                            lines.push(std::mem::take(&mut line));
                            line = rest;
                        }
                        None => lines.push(std::mem::take(&mut line)),
                    }
                    line_width = self.width(&line, size);
                    last_space = None;
                }
                if c == ' ' && line.is_empty() {
                    continue;
                }
                if c == ' ' {
                    last_space = Some(line.len());
                }
                line.push(c);
                line_width += w;
            }
            lines.push(line.trim_end().to_string());
        }
        lines
    }

    /// Writes the font as object `n` (reserved before), subset to `glyphs`, with the objects it
    /// refers to.
    pub fn embed(&self, w: &mut Writer, n: u32, glyphs: &Glyphs) -> io::Result<()> {
        let used: BTreeMap<u16, String> =
            glyphs.iter().map(|(&g, &c)| (g, c.to_string())).collect();
        let subset = printpdf::subset_font(&self.parsed, &used)
            .map_err(|e| io::Error::other(format!("the font cannot be subset: {e}")))?;
        let name = format!(
            "{FONT_RESOURCE}+{}",
            self.parsed
                .font_name
                .as_deref()
                .map(pdf_name)
                .unwrap_or_else(|| "Font".into())
        );

        let program = w.reserve();
        w.stream(
            program,
            &format!("/Length1 {}", subset.bytes.len()),
            &subset.bytes,
        );

        // Two bytes per CID, up to the highest glyph used: the subset's glyph id.
        let max = glyphs.keys().next_back().copied().unwrap_or(0) as usize;
        let mut map = vec![0u8; 2 * (max + 1)];
        for (&old, &(new, _)) in &subset.glyph_mapping {
            let at = 2 * old as usize;
            if let Some(slot) = map.get_mut(at..at + 2) {
                slot.copy_from_slice(&new.to_be_bytes());
            }
        }
        let cid_to_gid = w.reserve();
        w.stream(cid_to_gid, "", &map);

        let to_unicode = w.reserve();
        w.stream(to_unicode, "", to_unicode_cmap(glyphs).as_bytes());

        let m = &self.parsed.pdf_font_metrics;
        let scale = |v: f32| (v * 1000.0 / self.units_per_em).round() as i64;
        let ascent = scale(self.parsed.font_metrics.ascent);
        let descent = scale(self.parsed.font_metrics.descent);
        let cap_height = self.parsed.font_metrics.cap_height.map_or(ascent, scale);
        let italic_angle = if m.caret_slope_rise == 0 {
            0
        } else {
            (-f32::from(m.caret_slope_run)
                .atan2(f32::from(m.caret_slope_rise))
                .to_degrees())
            .round() as i64
        };
        // Flags (PDF 32000-1, table 123): non-symbolic, and italic when the caret slants.
        let flags = 32 | if italic_angle != 0 { 64 } else { 0 };
        // No table holds the stem width; estimate it from the weight as producers do.
        let stem_v = if m.us_weight_class == 0 {
            80
        } else {
            50 + (f32::from(m.us_weight_class) / 65.0).powi(2).round() as i64
        };
        let descriptor = w.reserve();
        w.object(
            descriptor,
            format!(
                "<</Type/FontDescriptor/FontName/{name}/Flags {flags}/FontBBox[{} {} {} {}]\
                 /ItalicAngle {italic_angle}/Ascent {ascent}/Descent {descent}\
                 /CapHeight {cap_height}/StemV {stem_v}/FontFile2 {program} 0 R>>",
                scale(f32::from(m.x_min)),
                scale(f32::from(m.y_min)),
                scale(f32::from(m.x_max)),
                scale(f32::from(m.y_max)),
            )
            .as_bytes(),
        );

        // Runs of consecutive ids: `first[w1 w2 …]`. Glyph 0 stands for missing characters.
        let mut ids: BTreeSet<u16> = glyphs.keys().copied().collect();
        ids.insert(0);
        let mut widths = String::new();
        let mut previous: Option<u16> = None;
        for gid in ids {
            if previous.is_some_and(|p| p + 1 == gid) {
                widths.push(' ');
            } else {
                if previous.is_some() {
                    widths.push(']');
                }
                let _ = write!(widths, "{gid}[");
            }
            let _ = write!(widths, "{}", self.width_1000(gid));
            previous = Some(gid);
        }
        widths.push(']');
        w.object(
            n,
            format!(
                "<</Type/Font/Subtype/Type0/BaseFont/{name}/Encoding/Identity-H\
                 /DescendantFonts[<</Type/Font/Subtype/CIDFontType2/BaseFont/{name}\
                 /CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>\
                 /FontDescriptor {descriptor} 0 R/DW 1000/W[{widths}]\
                 /CIDToGIDMap {cid_to_gid} 0 R>>]/ToUnicode {to_unicode} 0 R>>"
            )
            .as_bytes(),
        );
        Ok(())
    }
}

/// Whether face `index` of `bytes` (a font file or a collection) has TrueType (`glyf`) outlines,
/// the only kind a `/CIDToGIDMap` can renumber.
fn truetype_outlines(bytes: &[u8], index: usize) -> bool {
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let face = if bytes.starts_with(b"ttcf") {
        match u32_at(12 + 4 * index) {
            Some(offset) => offset as usize,
            None => return false,
        }
    } else {
        0
    };
    matches!(
        bytes.get(face..face + 4),
        Some(b"\x00\x01\x00\x00" | b"true")
    )
}

/// A font name as a PDF name: letters and digits only, as the names fonts carry mostly are.
fn pdf_name(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// The `/ToUnicode` CMap: each glyph id to its character, in UTF-16BE.
fn to_unicode_cmap(glyphs: &Glyphs) -> String {
    let mut cmap = String::from(
        "/CIDInit/ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo<</Registry(Adobe)/Ordering(UCS)/Supplement 0>>def\n\
         /CMapName/Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000><FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &char)> = glyphs.iter().collect();
    for chunk in entries.chunks(100) {
        let _ = writeln!(cmap, "{} beginbfchar", chunk.len());
        for (gid, c) in chunk {
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(cmap, "<{gid:04X}><{hex}>");
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict/CMap defineresource pop\nend\nend\n");
    cmap
}
