//! A small page builder on printpdf: text, wrapped table cells, tables that break across pages
//! with their header repeated, a totals block, and page numbers. It returns a PDF as bytes.
//!
//! Output is reproducible: the creation date is the run's `as_of`, the font resource has a fixed
//! name, and the trailer's document ID (which printpdf fills from a process-wide counter) is
//! replaced by one derived from the document's own bytes. The same inputs give the same bytes,
//! whatever order documents are rendered in.

use printpdf::{
    Color, FontId, LinePoint, Mm, OffsetDateTime, Op, PaintMode, ParsedFont, PdfDocument, PdfFont,
    PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem, TextMatrix,
};
use sha2::{Digest, Sha256};

use crate::error::DatasetError;
use crate::model::time::Timestamp;
use crate::render::template::Templates;

const PT_PER_MM: f32 = 72.0 / 25.4;
/// The font's resource name; its first six letters also tag the subset (`SETTLE+…`).
const FONT_ID: &str = "SETTLE";

/// The parsed font, shared by every document of a run.
pub struct Font {
    parsed: ParsedFont,
    units_per_em: f32,
    fallback_advance: f32,
}

impl Font {
    pub fn new(t: &Templates) -> Result<Font, DatasetError> {
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(&t.font, t.layout.font_index, &mut warnings)
            .ok_or_else(|| DatasetError::Template {
                file: t.layout.font.clone().into(),
                message: "not a TrueType/OpenType font this program can read".into(),
            })?;
        let units_per_em = f32::from(parsed.font_metrics.units_per_em.max(1));
        let fallback_advance = units_per_em / 2.0;
        Ok(Font {
            parsed,
            units_per_em,
            fallback_advance,
        })
    }

    /// Width of `text` at `size` points, in points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size / self.units_per_em
    }

    fn advance(&self, c: char) -> f32 {
        match self.parsed.lookup_glyph_index(c as u32) {
            Some(gid) => f32::from(self.parsed.get_horizontal_advance(gid)),
            None => self.fallback_advance,
        }
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
}

/// Horizontal alignment in a table column.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table column: its header, its share of the page width, and its alignment.
pub struct Column {
    pub label: String,
    pub weight: f32,
    pub align: Align,
}

impl Column {
    pub fn left(label: &str, weight: f32) -> Column {
        Column {
            label: label.to_string(),
            weight,
            align: Align::Left,
        }
    }

    pub fn right(label: &str, weight: f32) -> Column {
        Column {
            label: label.to_string(),
            weight,
            align: Align::Right,
        }
    }
}

/// How a table row is drawn.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RowKind {
    Body,
    Subtotal,
}

pub struct Row {
    pub cells: Vec<String>,
    pub kind: RowKind,
}

impl Row {
    pub fn body(cells: Vec<String>) -> Row {
        Row {
            cells,
            kind: RowKind::Body,
        }
    }

    pub fn subtotal(cells: Vec<String>) -> Row {
        Row {
            cells,
            kind: RowKind::Subtotal,
        }
    }
}

/// A document being laid out, page by page, top to bottom.
pub struct Doc<'a> {
    t: &'a Templates,
    font: &'a Font,
    title: String,
    pages: Vec<Page>,
    /// The top of the free space on the current page, in points from the bottom.
    y: f32,
}

fn rgb(hex: &str) -> Color {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0);
    let c = |shift: u32| ((v >> shift) & 0xFF) as f32 / 255.0;
    Color::Rgb(Rgb {
        r: c(16),
        g: c(8),
        b: c(0),
        icc_profile: None,
    })
}

fn point(x: f32, y: f32) -> Point {
    Point { x: Pt(x), y: Pt(y) }
}

impl<'a> Doc<'a> {
    /// Starts a document: the company block and the title on page 1.
    pub fn new(t: &'a Templates, font: &'a Font, title: &str) -> Doc<'a> {
        let mut doc = Doc {
            t,
            font,
            title: title.to_string(),
            pages: vec![Page::default()],
            y: 0.0,
        };
        doc.y = doc.top();
        let c = &t.company;
        let (left, right) = (doc.left(), doc.right());
        let size = t.layout.heading_size;
        doc.advance(size * 1.2);
        doc.text(left, doc.y, size, &c.name);
        doc.text(
            right - font.width(&c.name_en, size),
            doc.y,
            size,
            &c.name_en,
        );
        let small = t.layout.small_size;
        for line in [
            c.address.clone(),
            format!("{} · {}: {}", c.contact, t.label("tax_id"), c.tax_id),
        ] {
            doc.advance(small * t.layout.line_spacing);
            doc.text(left, doc.y, small, &line);
        }
        doc.advance(small);
        doc.rule(left, right, doc.y, 0.8);
        let size = t.layout.title_size;
        doc.advance(size * 1.6);
        let width = font.width(title, size);
        doc.text((left + right - width) / 2.0, doc.y, size, title);
        doc.advance(size * 0.8);
        doc
    }

    fn mm(v: f32) -> f32 {
        v * PT_PER_MM
    }

    fn top(&self) -> f32 {
        Self::mm(self.t.layout.page_height - self.t.layout.margin_top)
    }

    fn bottom(&self) -> f32 {
        Self::mm(self.t.layout.margin_bottom) + self.t.layout.small_size * 3.0
    }

    fn left(&self) -> f32 {
        Self::mm(self.t.layout.margin_left)
    }

    fn right(&self) -> f32 {
        Self::mm(self.t.layout.page_width - self.t.layout.margin_right)
    }

    fn page(&mut self) -> &mut Page {
        self.pages.last_mut().expect("a document always has a page")
    }

    fn advance(&mut self, by: f32) {
        self.y -= by;
    }

    /// Moves to a new page unless `height` points still fit on this one.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y - height >= self.bottom() {
            return false;
        }
        self.pages.push(Page::default());
        self.y = self.top();
        let size = self.t.layout.small_size;
        let header = format!("{} · {}", self.t.company.name, self.title);
        self.advance(size);
        let (left, right) = (self.left(), self.right());
        self.text(left, self.y, size, &header);
        self.advance(size * 0.8);
        self.rule(left, right, self.y, 0.5);
        self.advance(size);
        true
    }

    fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.page().text(x, y, size, text);
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, thickness: f32) {
        let color = rgb(&self.t.layout.rule_color);
        self.page().rule(color, x1, x2, y, thickness);
    }

    fn fill(&mut self, x: f32, y: f32, width: f32, height: f32, hex: &str) {
        let color = rgb(hex);
        let ops = self.page().graphics();
        ops.push(Op::SetFillColor { col: color });
        ops.push(rectangle(x, y, width, height, PaintMode::Fill));
    }

    fn outline(&mut self, x: f32, y: f32, width: f32, height: f32) {
        let color = rgb(&self.t.layout.rule_color);
        let ops = self.page().graphics();
        ops.push(Op::SetOutlineColor { col: color });
        ops.push(Op::SetOutlineThickness { pt: Pt(0.6) });
        ops.push(rectangle(x, y, width, height, PaintMode::Stroke));
    }

    /// Vertical space, in millimetres.
    pub fn space(&mut self, mm: f32) {
        self.advance(Self::mm(mm));
    }

    /// A section heading.
    pub fn heading(&mut self, text: &str) {
        let size = self.t.layout.heading_size;
        self.ensure(size * 4.0);
        self.advance(size * 1.4);
        let x = self.left();
        self.text(x, self.y, size, text);
        self.advance(size * 0.6);
    }

    /// A wrapped paragraph.
    pub fn paragraph(&mut self, text: &str) {
        let size = self.t.layout.body_size;
        let line_height = size * self.t.layout.line_spacing;
        for line in self.font.wrap(text, size, self.right() - self.left()) {
            self.ensure(line_height);
            self.advance(line_height);
            let x = self.left();
            self.text(x, self.y, size, &line);
        }
    }

    /// Label–value pairs in two columns of label and value.
    pub fn fields(&mut self, pairs: &[(String, String)]) {
        let size = self.t.layout.body_size;
        let line_height = size * self.t.layout.line_spacing;
        let half = (self.right() - self.left()) / 2.0;
        let label_width = half * 0.42;
        for chunk in pairs.chunks(2) {
            let wrapped: Vec<(Vec<String>, Vec<String>)> = chunk
                .iter()
                .map(|(l, v)| {
                    (
                        self.font.wrap(l, size, label_width - 4.0),
                        self.font.wrap(v, size, half - label_width - 6.0),
                    )
                })
                .collect();
            let lines = wrapped
                .iter()
                .map(|(l, v)| l.len().max(v.len()))
                .max()
                .unwrap_or(1);
            self.ensure(line_height * lines as f32);
            let top = self.y;
            for (i, (label, value)) in wrapped.iter().enumerate() {
                let x = self.left() + half * i as f32;
                for (k, l) in label.iter().enumerate() {
                    self.text(x, top - line_height * (k as f32 + 1.0), size, l);
                }
                for (k, v) in value.iter().enumerate() {
                    self.text(
                        x + label_width,
                        top - line_height * (k as f32 + 1.0),
                        size,
                        v,
                    );
                }
            }
            self.advance(line_height * lines as f32);
        }
    }

    /// A table; rows that do not fit go to the next page under a repeated header.
    pub fn table(&mut self, columns: &[Column], rows: &[Row]) {
        let total: f32 = columns.iter().map(|c| c.weight).sum();
        let width = self.right() - self.left();
        let widths: Vec<f32> = columns.iter().map(|c| c.weight / total * width).collect();
        let header = Row {
            cells: columns.iter().map(|c| c.label.clone()).collect(),
            kind: RowKind::Subtotal,
        };
        self.row(columns, &widths, &header, true);
        for row in rows {
            if self.row_fits(&widths, row) {
                self.row(columns, &widths, row, false);
            } else {
                self.ensure(f32::MAX);
                self.row(columns, &widths, &header, true);
                self.row(columns, &widths, row, false);
            }
        }
    }

    fn cell_lines(&self, widths: &[f32], row: &Row, size: f32) -> Vec<Vec<String>> {
        let pad = Self::mm(self.t.layout.cell_padding);
        row.cells
            .iter()
            .zip(widths)
            .map(|(c, w)| self.font.wrap(c, size, w - 2.0 * pad))
            .collect()
    }

    fn row_height(&self, widths: &[f32], row: &Row, size: f32) -> f32 {
        let pad = Self::mm(self.t.layout.cell_padding);
        let lines = self
            .cell_lines(widths, row, size)
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(1)
            .max(1);
        lines as f32 * size * self.t.layout.line_spacing + 2.0 * pad
    }

    fn row_fits(&self, widths: &[f32], row: &Row) -> bool {
        self.y - self.row_height(widths, row, self.t.layout.body_size) >= self.bottom()
    }

    fn row(&mut self, columns: &[Column], widths: &[f32], row: &Row, header: bool) {
        let size = if header {
            self.t.layout.small_size
        } else {
            self.t.layout.body_size
        };
        let pad = Self::mm(self.t.layout.cell_padding);
        let line_height = size * self.t.layout.line_spacing;
        let height = self.row_height(widths, row, size);
        if header {
            // Keep a header with at least one row beneath it.
            self.ensure(height + self.t.layout.body_size * 3.0);
        }
        let (left, right) = (self.left(), self.right());
        if header || row.kind == RowKind::Subtotal {
            let fill = if header {
                self.t.layout.header_fill.clone()
            } else {
                self.t.layout.subtotal_fill.clone()
            };
            self.fill(left, self.y - height, right - left, height, &fill);
        }
        let lines = self.cell_lines(widths, row, size);
        let mut x = left;
        for ((column, w), cell) in columns.iter().zip(widths).zip(&lines) {
            for (i, line) in cell.iter().enumerate() {
                let baseline = self.y - pad - line_height * i as f32 - size * 0.95;
                let tx = match column.align {
                    Align::Left => x + pad,
                    Align::Right => x + w - pad - self.font.width(line, size),
                };
                self.text(tx, baseline, size, line);
            }
            x += w;
        }
        self.advance(height);
        self.rule(left, right, self.y, if header { 0.6 } else { 0.25 });
    }

    /// Right-aligned label–value lines, such as a statement's totals.
    pub fn totals(&mut self, pairs: &[(String, String)]) {
        let size = self.t.layout.body_size + 0.5;
        let line_height = size * 1.6;
        self.ensure(line_height * pairs.len() as f32 + size);
        let right = self.right();
        let value_x = right - Self::mm(38.0);
        self.advance(size * 0.5);
        for (label, value) in pairs {
            self.advance(line_height);
            let lw = self.font.width(label, size);
            self.text(value_x - Self::mm(4.0) - lw, self.y, size, label);
            let vw = self.font.width(value, size);
            self.text(right - vw, self.y, size, value);
        }
        self.advance(size * 0.5);
    }

    /// A box for the partner's stamp and signature, kept whole on one page.
    pub fn signature_box(&mut self) {
        let height = Self::mm(28.0);
        self.ensure(height + Self::mm(4.0));
        self.space(4.0);
        let (left, right) = (self.left(), self.right());
        let half = (right - left) / 2.0;
        let top = self.y;
        self.outline(left, top - height, half - Self::mm(3.0), height);
        self.outline(
            left + half + Self::mm(3.0),
            top - height,
            half - Self::mm(3.0),
            height,
        );
        let size = self.t.layout.body_size;
        let stamp = self.t.label("stamp").to_string();
        let signature = self.t.label("signature").to_string();
        let date = self.t.label("date").to_string();
        self.text(left + Self::mm(3.0), top - size * 1.6, size, &stamp);
        self.text(
            left + half + Self::mm(6.0),
            top - size * 1.6,
            size,
            &signature,
        );
        self.text(
            left + half + Self::mm(6.0),
            top - height + Self::mm(6.0),
            size,
            &date,
        );
        self.advance(height);
    }

    /// Adds page numbers and the footer line, and returns the PDF's bytes.
    pub fn finish(mut self, footer: &str, as_of: Timestamp) -> Vec<u8> {
        let total = self.pages.len();
        let size = self.t.layout.small_size;
        let y = Self::mm(self.t.layout.margin_bottom) - size;
        let (left, right) = (self.left(), self.right());
        let color = rgb(&self.t.layout.rule_color);
        for (n, page) in self.pages.iter_mut().enumerate() {
            let label = self
                .t
                .label("page")
                .replace("{n}", &(n + 1).to_string())
                .replace("{total}", &total.to_string());
            page.rule(color.clone(), left, right, y + size * 1.6, 0.4);
            page.text(left, y, size, footer);
            page.text(right - self.font.width(&label, size), y, size, &label);
        }
        let mut doc = PdfDocument::new(&self.title);
        let date = OffsetDateTime::from_unix_timestamp(as_of.0).unwrap_or_else(|_| {
            OffsetDateTime::from_unix_timestamp(0).expect("the epoch is a valid date")
        });
        doc.metadata.info.creation_date = date;
        doc.metadata.info.modification_date = date;
        doc.metadata.info.metadata_date = date;
        doc.metadata.info.producer = format!("settle {}", env!("CARGO_PKG_VERSION"));
        doc.metadata.info.creator = "settle".into();
        doc.resources.fonts.map.insert(
            FontId(FONT_ID.into()),
            PdfFont::new(self.font.parsed.clone()),
        );
        let (w, h) = (self.t.layout.page_width, self.t.layout.page_height);
        let pages = self
            .pages
            .into_iter()
            .map(|page| PdfPage::new(Mm(w), Mm(h), page.finish()))
            .collect();
        doc.with_pages(pages);
        let options = PdfSaveOptions {
            optimize: false,
            subset_fonts: true,
            secure: true,
            image_optimization: None,
        };
        let mut warnings = Vec::new();
        let mut pdf = doc.to_lopdf_document(&options, &mut warnings);
        compress(&mut pdf);
        let mut bytes = Vec::new();
        // Writing to memory fails only when memory does.
        let _ = pdf.save_to(&mut bytes);
        content_id(bytes)
    }
}

/// Deflates every stream that may be compressed, at level 3 of 9. printpdf's own `optimize`
/// deflates at level 9, which took a quarter of the time of rendering a month's PDFs; level 3
/// makes them about 3% larger.
fn compress(pdf: &mut lopdf::Document) {
    use std::io::Write;
    for object in pdf.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.get(b"Filter").is_ok() {
            continue;
        }
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(3));
        if encoder.write_all(&stream.content).is_err() {
            continue;
        }
        if let Ok(deflated) = encoder.finish()
            && deflated.len() + 19 < stream.content.len()
        {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(deflated);
        }
    }
}

fn rectangle(x: f32, y: f32, width: f32, height: f32, mode: PaintMode) -> Op {
    Op::DrawRectangle {
        rectangle: Rect {
            x: Pt(x),
            y: Pt(y),
            width: Pt(width),
            height: Pt(height),
            mode: Some(mode),
            winding_order: None,
        },
    }
}

/// One page's drawing operations. Text is set in one text object for as long as no shape is
/// drawn between, each run placed by an absolute text matrix: a table of a thousand cells is then a
/// thousand placements and strings, not a thousand text objects with their font and colour.
#[derive(Default)]
struct Page {
    ops: Vec<Op>,
    /// The font size, while a text object is open.
    text_size: Option<f32>,
}

impl Page {
    fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        if text.is_empty() {
            return;
        }
        if self.text_size.is_none() {
            self.ops.push(Op::StartTextSection);
            self.ops.push(Op::SetFillColor {
                col: Color::Rgb(Rgb {
                    r: 0.0,
                    g: 0.0,
                    b: 0.0,
                    icc_profile: None,
                }),
            });
        }
        if self.text_size != Some(size) {
            self.ops.push(Op::SetFont {
                font: PdfFontHandle::External(FontId(FONT_ID.into())),
                size: Pt(size),
            });
            self.text_size = Some(size);
        }
        self.ops.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(Pt(x), Pt(y)),
        });
        self.ops.push(Op::ShowText {
            items: vec![TextItem::Text(text.to_string())],
        });
    }

    /// A horizontal line from `x1` to `x2`.
    fn rule(&mut self, color: Color, x1: f32, x2: f32, y: f32, thickness: f32) {
        let ops = self.graphics();
        ops.push(Op::SetOutlineColor { col: color });
        ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
        ops.push(Op::DrawLine {
            line: printpdf::Line {
                points: vec![
                    LinePoint {
                        p: point(x1, y),
                        bezier: false,
                    },
                    LinePoint {
                        p: point(x2, y),
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }

    /// The operations, for drawing shapes: closes the text object, where shapes may not go.
    fn graphics(&mut self) -> &mut Vec<Op> {
        if self.text_size.take().is_some() {
            self.ops.push(Op::EndTextSection);
        }
        &mut self.ops
    }

    fn finish(mut self) -> Vec<Op> {
        self.graphics();
        self.ops
    }
}

/// Replaces the two strings of the trailer's `/ID` with a digest of the document, leaving every
/// byte offset unchanged.
fn content_id(mut pdf: Vec<u8>) -> Vec<u8> {
    let Some(at) = pdf.windows(3).rposition(|w| w == b"/ID") else {
        return pdf;
    };
    let mut spans = Vec::new();
    let mut i = at + 3;
    while spans.len() < 2 && i < pdf.len() {
        let close = match pdf[i] {
            b'(' => Some(b')'),
            b'<' if pdf.get(i + 1) != Some(&b'<') => Some(b'>'),
            _ => None,
        };
        if let Some(close) = close {
            let start = i + 1;
            let end = pdf[start..]
                .iter()
                .position(|&b| b == close)
                .map_or(pdf.len(), |p| start + p);
            spans.push((start, end));
            i = end;
        }
        i += 1;
    }
    for &(s, e) in &spans {
        pdf[s..e].fill(b'0');
    }
    let digest = Sha256::digest(&pdf);
    let hex: Vec<u8> = digest
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect();
    for (s, e) in spans {
        for (k, byte) in pdf[s..e].iter_mut().enumerate() {
            *byte = hex[k % hex.len()];
        }
    }
    pdf
}

/// `1234567.5` → `1,234,567.50`: 2 decimals with thousands separators, for money in PDFs.
pub fn grouped(amount_2dp: &str) -> String {
    let (sign, digits) = match amount_2dp.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", amount_2dp),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{out}")
    } else {
        format!("{sign}{out}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(grouped("1234567.50"), "1,234,567.50");
        assert_eq!(grouped("-1234.00"), "-1,234.00");
        assert_eq!(grouped("999.99"), "999.99");
        assert_eq!(grouped("0.00"), "0.00");
    }

    #[test]
    fn wraps_chinese_and_latin() {
        let t = Templates::load(None).unwrap();
        let font = Font::new(&t).unwrap();
        let name = "杭州云栖科技有限公司杭州云栖科技有限公司";
        let lines = font.wrap(name, 8.0, 60.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), name);
        assert!(lines.iter().all(|l| font.width(l, 8.0) <= 60.0));
        let words = font.wrap("Withheld because of arrears", 8.0, 60.0);
        assert!(
            words
                .iter()
                .all(|l| !l.starts_with(' ') && font.width(l, 8.0) <= 60.0),
            "{words:?}"
        );
    }
}
