//! The page builder every PDF is laid out with: text, wrapped table cells, tables that break
//! across pages with their header repeated, a totals block, and page numbers.
//!
//! Pages are written to the destination as they fill, so a document of any length is laid out in
//! bounded memory: what is kept is each page's object numbers and the set of glyphs used. The
//! footer of each page ("page n of total") is a small form XObject written at the end, once the
//! total is known, then the font subset, the page tree and the document information.
//!
//! Output is reproducible: the dates are the run's `as_of`, the font resource has a fixed name,
//! and the document ID is a digest of the document's own bytes. The same inputs give the same
//! bytes, whatever order documents are rendered in.

use std::io::{self, Write};

use super::content::{Content, Glyphs, Rgb};
use super::font::{FONT_RESOURCE, Font};
use super::image::Image;
use super::writer::{Writer, text_string};
use crate::model::time::Timestamp;
use crate::render::template::Templates;

const PT_PER_MM: f32 = 72.0 / 25.4;
/// The name each page gives its footer XObject.
const FOOTER: &str = "Footer";

/// Horizontal alignment in a table column.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table column: its header, its share of the page width, its alignment, and whether its
/// cells are kept whole (ids and numbers: set smaller when too wide, never broken across lines).
pub struct Column {
    pub label: String,
    pub weight: f32,
    pub align: Align,
    pub whole: bool,
}

impl Column {
    pub fn left(label: &str, weight: f32) -> Column {
        Column {
            label: label.to_string(),
            weight,
            align: Align::Left,
            whole: false,
        }
    }

    /// A right-aligned column of figures, kept whole.
    pub fn right(label: &str, weight: f32) -> Column {
        Column {
            label: label.to_string(),
            weight,
            align: Align::Right,
            whole: true,
        }
    }

    /// A left-aligned column of ids, kept whole.
    pub fn id(label: &str, weight: f32) -> Column {
        Column {
            whole: true,
            ..Column::left(label, weight)
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

/// What page 1 opens with: the issuer's names and its details, or the notice that no issuer is
/// configured.
pub struct Letterhead<'i> {
    pub name: String,
    pub name_en: String,
    pub lines: Vec<String>,
    /// The issuer's logo, printed at the left of the names.
    pub logo: Option<&'i Image>,
}

/// The name pages give the logo's image XObject.
const LOGO: &str = "Logo";
/// The logo's height on the page, in millimetres.
const LOGO_HEIGHT: f32 = 12.0;
/// The colour of a draft's mark: the frame around 草稿 DRAFT at the top of every page.
const MARK_COLOR: &str = "#C0392B";

/// The sizes a table is set in, in points: its rows' text, its header's, and the padding inside
/// each cell.
#[derive(Copy, Clone, Debug)]
struct Style {
    body: f32,
    header: f32,
    pad: f32,
}

/// A document being laid out, page by page, top to bottom.
pub struct Doc<'a> {
    t: &'a Templates,
    font: &'a Font,
    title: String,
    /// The line each page after the first opens with.
    running: String,
    out: Writer<'a>,
    /// The page being laid out.
    page: Content,
    /// The content stream of each page written so far.
    pages: Vec<u32>,
    glyphs: Glyphs,
    /// The font's object, written at the end.
    font_object: u32,
    /// The logo's image object, written first.
    logo: Option<u32>,
    /// The top of the free space on the current page, in points from the bottom.
    y: f32,
    /// A draft's mark, printed framed at the top right of every page (R9); `None` for a
    /// document of record.
    mark: Option<String>,
}

impl<'a> Doc<'a> {
    /// Starts a document written to `out`: the letterhead and the title on page 1. `running` is
    /// the line every later page opens with, until [`Doc::running`] changes it.
    pub fn new(
        t: &'a Templates,
        font: &'a Font,
        title: &str,
        letterhead: &Letterhead,
        running: String,
        out: &'a mut dyn Write,
    ) -> Doc<'a> {
        let mut out = Writer::new(out);
        let font_object = out.reserve();
        let mut doc = Doc {
            t,
            font,
            title: title.to_string(),
            running,
            out,
            page: Content::default(),
            pages: Vec::new(),
            glyphs: Glyphs::new(),
            font_object,
            logo: None,
            y: 0.0,
            mark: None,
        };
        doc.y = doc.top();
        let (mut left, right) = (doc.left(), doc.right());
        if let Some(image) = letterhead.logo {
            let height = Self::mm(LOGO_HEIGHT);
            let width = (height * image.width as f32 / image.height as f32).min(Self::mm(45.0));
            let n = doc.embed(image);
            doc.logo = Some(n);
            let top = doc.y;
            doc.page.image(LOGO, left, top - height, width, height);
            left += width + Self::mm(3.0);
        }
        let size = t.layout.heading_size;
        let start = doc.y;
        doc.advance(size * 1.2);
        doc.text(left, doc.y, size, &letterhead.name);
        let width = font.width(&letterhead.name_en, size);
        doc.text(right - width, doc.y, size, &letterhead.name_en);
        let small = t.layout.small_size;
        for line in &letterhead.lines {
            for wrapped in font.wrap(line, small, right - left) {
                doc.advance(small * t.layout.line_spacing);
                doc.text(left, doc.y, small, &wrapped);
            }
        }
        if letterhead.logo.is_some() {
            doc.y = doc.y.min(start - Self::mm(LOGO_HEIGHT));
        }
        doc.advance(small);
        let left = doc.left();
        doc.rule(left, right, doc.y, 0.8);
        let size = t.layout.title_size;
        doc.advance(size * 1.6);
        let width = font.width(title, size);
        doc.text((left + right - width) / 2.0, doc.y, size, title);
        doc.advance(size * 0.8);
        doc
    }

    /// Writes `image` (and its alpha as a soft mask) as an image XObject; returns its object.
    fn embed(&mut self, image: &Image) -> u32 {
        let size = format!(
            "/Type/XObject/Subtype/Image/Width {}/Height {}/BitsPerComponent 8",
            image.width, image.height
        );
        let mask = image.alpha.as_ref().map(|alpha| {
            let n = self.out.reserve();
            self.out
                .stream(n, &format!("{size}/ColorSpace/DeviceGray"), alpha);
            format!("/SMask {n} 0 R")
        });
        let space = if image.colors == 3 {
            "/DeviceRGB"
        } else {
            "/DeviceGray"
        };
        let n = self.out.reserve();
        self.out.stream(
            n,
            &format!("{size}/ColorSpace{space}{}", mask.unwrap_or_default()),
            &image.samples,
        );
        n
    }

    /// Marks every page with `text`, framed at the top right: a draft's 草稿 DRAFT.
    pub fn mark(&mut self, text: String) {
        self.mark = Some(text);
    }

    /// The line later pages open with: the document, its number, party, period and currency.
    pub fn running(&mut self, line: String) {
        self.running = line;
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

    /// Writes out the page laid out so far, ending with a call of its footer.
    fn write_page(&mut self) {
        let mut page = std::mem::take(&mut self.page);
        page.form(FOOTER);
        let n = self.out.reserve();
        self.out.stream(n, "", &page.finish());
        self.pages.push(n);
    }

    fn advance(&mut self, by: f32) {
        self.y -= by;
    }

    /// Moves to a new page unless `height` points still fit on this one.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y - height >= self.bottom() {
            return false;
        }
        self.write_page();
        self.y = self.top();
        let size = self.t.layout.small_size;
        let (left, right) = (self.left(), self.right());
        let lines = self.font.wrap(&self.running.clone(), size, right - left);
        for line in lines {
            self.advance(size * self.t.layout.line_spacing);
            self.text(left, self.y, size, &line);
        }
        self.advance(size * 0.5);
        self.rule(left, right, self.y, 0.5);
        self.advance(size);
        true
    }

    fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.page
            .text(self.font, &mut self.glyphs, x, y, size, text);
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, thickness: f32) {
        let color = Rgb::hex(&self.t.layout.rule_color);
        self.page.rule(color, x1, x2, y, thickness);
    }

    fn fill(&mut self, x: f32, y: f32, width: f32, height: f32, hex: &str) {
        self.page.fill(Rgb::hex(hex), x, y, width, height);
    }

    fn outline(&mut self, x: f32, y: f32, width: f32, height: f32) {
        let color = Rgb::hex(&self.t.layout.rule_color);
        self.page.outline(color, 0.6, x, y, width, height);
    }

    /// Continues on a new page, under the running header.
    pub fn new_page(&mut self) {
        self.ensure(f32::MAX);
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

    /// Label–value pairs, one a line, the values in one column after the longest label.
    pub fn list(&mut self, pairs: &[(String, String)]) {
        let size = self.t.layout.body_size;
        let line_height = size * self.t.layout.line_spacing;
        let label_width = pairs
            .iter()
            .map(|(l, _)| self.font.width(l, size))
            .fold(0.0, f32::max)
            + Self::mm(4.0);
        let value_width = self.right() - self.left() - label_width;
        for (label, value) in pairs {
            let lines = self.font.wrap(value, size, value_width);
            self.ensure(line_height * lines.len() as f32);
            let x = self.left();
            self.text(x, self.y - line_height, size, label);
            for (k, v) in lines.iter().enumerate() {
                self.text(
                    x + label_width,
                    self.y - line_height * (k as f32 + 1.0),
                    size,
                    v,
                );
            }
            self.advance(line_height * lines.len().max(1) as f32);
        }
    }

    /// A table; rows that do not fit go to the next page under a repeated header.
    pub fn table(&mut self, columns: &[Column], rows: impl IntoIterator<Item = Row>) {
        let total: f32 = columns.iter().map(|c| c.weight).sum();
        let width = self.right() - self.left();
        let widths: Vec<f32> = columns.iter().map(|c| c.weight / total * width).collect();
        self.table_in(self.normal(), columns, widths, rows);
    }

    /// The style of every table but a dense one: `body_size`, `small_size` headers and
    /// `cell_padding`.
    fn normal(&self) -> Style {
        let l = &self.t.layout;
        Style {
            body: l.body_size,
            header: l.small_size,
            pad: Self::mm(l.cell_padding),
        }
    }

    /// A dense table's style: `dense_size` (headers no larger) and `dense_padding`.
    fn dense(&self) -> Style {
        let l = &self.t.layout;
        Style {
            body: l.dense_size,
            header: l.small_size.min(l.dense_size),
            pad: Self::mm(l.dense_padding),
        }
    }

    /// A table whose rows are all known, its columns sized to their content. Each column needs
    /// at least its widest unbreakable piece (a whole cell, or a word of Latin letters and digits;
    /// Chinese breaks between any two characters) and would like its widest cell on one line (at
    /// most 30% of the page, such as a company name). Columns get what they need, then what they
    /// would like as far as the page allows, then the rest by weight. Only when the needs pass
    /// the page is what each column needs beyond its header's longest word shrunk in proportion
    /// (every column in proportion, should even the headers not fit).
    pub fn fitted_table(&mut self, columns: &[Column], rows: Vec<Row>) {
        self.fitted_in(self.normal(), columns, rows);
    }

    /// A [`Doc::fitted_table`] set small for a long list read one row a line (the report's
    /// largest findings): `dense_size` text and `dense_padding` in its cells (`layout.toml`).
    pub fn dense_table(&mut self, columns: &[Column], rows: Vec<Row>) {
        self.fitted_in(self.dense(), columns, rows);
    }

    fn fitted_in(&mut self, style: Style, columns: &[Column], rows: Vec<Row>) {
        let size = style.body;
        let small = style.header / size;
        let pad = 2.0 * style.pad + 0.5;
        let width = self.right() - self.left();
        // (needed, wanted) for one text at body size.
        let measure = |text: &str, whole: bool| -> (f32, f32) {
            let full = self.font.width(text, size);
            if whole {
                return (full, full);
            }
            let word = text
                .split(|c: char| c.is_whitespace() || !c.is_ascii())
                .map(|w| self.font.width(w, size))
                .fold(self.font.width("国", size), f32::max);
            (word, full.min(width * 0.3).max(word))
        };
        let mut need: Vec<(f32, f32)> = columns
            .iter()
            .map(|c| {
                let (n, w) = measure(&c.label, false);
                (n * small + pad, w * small + pad)
            })
            .collect();
        let headers: Vec<f32> = need.iter().map(|n| n.0).collect();
        for row in &rows {
            for ((n, c), cell) in need.iter_mut().zip(columns).zip(&row.cells) {
                let (needed, wanted) = measure(cell, c.whole);
                *n = (n.0.max(needed + pad), n.1.max(wanted + pad));
            }
        }
        let needed: f32 = need.iter().map(|n| n.0).sum();
        let wanted: f32 = need.iter().map(|n| n.1).sum();
        let floor: f32 = headers.iter().sum();
        let widths: Vec<f32> = if needed >= width && floor < width {
            // Each column keeps its header's longest word; what its cells need beyond is
            // shrunk in proportion (a whole cell is then set smaller).
            let share = (width - floor) / (needed - floor);
            need.iter()
                .zip(&headers)
                .map(|(n, h)| h + (n.0 - h) * share)
                .collect()
        } else if needed >= width {
            need.iter().map(|n| n.0 / needed * width).collect()
        } else if wanted >= width {
            let share = (width - needed) / (wanted - needed);
            need.iter().map(|n| n.0 + (n.1 - n.0) * share).collect()
        } else {
            let total: f32 = columns.iter().map(|c| c.weight).sum();
            need.iter()
                .zip(columns)
                .map(|(n, c)| n.1 + (width - wanted) * c.weight / total)
                .collect()
        };
        self.table_in(style, columns, widths, rows);
    }

    fn table_in(
        &mut self,
        style: Style,
        columns: &[Column],
        widths: Vec<f32>,
        rows: impl IntoIterator<Item = Row>,
    ) {
        let header = Row {
            cells: columns.iter().map(|c| c.label.clone()).collect(),
            kind: RowKind::Subtotal,
        };
        self.row(style, columns, &widths, &header, true);
        for row in rows {
            if self.row_fits(style, columns, &widths, &row) {
                self.row(style, columns, &widths, &row, false);
            } else {
                self.ensure(f32::MAX);
                self.row(style, columns, &widths, &header, true);
                self.row(style, columns, &widths, &row, false);
            }
        }
    }

    /// Each cell's lines: wrapped to its column, or whole in a whole column (but for the header).
    fn cell_lines(
        &self,
        style: Style,
        columns: &[Column],
        widths: &[f32],
        row: &Row,
        header: bool,
    ) -> Vec<Vec<String>> {
        let (size, pad) = (if header { style.header } else { style.body }, style.pad);
        row.cells
            .iter()
            .zip(widths)
            .zip(columns)
            .map(|((c, w), column)| {
                if column.whole && !header {
                    vec![c.clone()]
                } else {
                    self.font.wrap(c, size, w - 2.0 * pad)
                }
            })
            .collect()
    }

    fn row_height(
        &self,
        style: Style,
        columns: &[Column],
        widths: &[f32],
        row: &Row,
        header: bool,
    ) -> f32 {
        let (size, pad) = (if header { style.header } else { style.body }, style.pad);
        let lines = self
            .cell_lines(style, columns, widths, row, header)
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(1)
            .max(1);
        lines as f32 * size * self.t.layout.line_spacing + 2.0 * pad
    }

    fn row_fits(&self, style: Style, columns: &[Column], widths: &[f32], row: &Row) -> bool {
        let height = self.row_height(style, columns, widths, row, false);
        self.y - height >= self.bottom()
    }

    fn row(&mut self, style: Style, columns: &[Column], widths: &[f32], row: &Row, header: bool) {
        let (size, pad) = (if header { style.header } else { style.body }, style.pad);
        let line_height = size * self.t.layout.line_spacing;
        let height = self.row_height(style, columns, widths, row, header);
        if header {
            // Keep a header with at least one row beneath it.
            self.ensure(height + style.body * 3.0);
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
        let lines = self.cell_lines(style, columns, widths, row, header);
        let mut x = left;
        for ((column, w), cell) in columns.iter().zip(widths).zip(&lines) {
            for (i, line) in cell.iter().enumerate() {
                let baseline = self.y - pad - line_height * i as f32 - size * 0.95;
                // A whole cell wider than its column is set smaller, never broken.
                let natural = self.font.width(line, size);
                let fit = if natural > w - 2.0 * pad && natural > 0.0 {
                    size * (w - 2.0 * pad) / natural
                } else {
                    size
                };
                let tx = match column.align {
                    Align::Left => x + pad,
                    Align::Right => x + w - pad - self.font.width(line, fit),
                };
                self.text(tx, baseline, fit, line);
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

    /// Moves to a new page unless `mm` millimetres still fit on this one: what follows is kept
    /// together (a statement's totals, invoice details and stamp boxes).
    pub fn keep(&mut self, mm: f32) {
        self.ensure(Self::mm(mm));
    }

    /// Side by side, one box per party for its stamp, signature and date, kept whole on one page:
    /// `parties` are the boxes' titles, left to right.
    pub fn stamp_boxes(&mut self, parties: &[String]) {
        let height = Self::mm(30.0);
        self.ensure(height + Self::mm(4.0));
        self.space(4.0);
        let (left, right) = (self.left(), self.right());
        let n = parties.len().max(1) as f32;
        let gap = Self::mm(6.0);
        let width = (right - left - gap * (n - 1.0)) / n;
        let top = self.y;
        let size = self.t.layout.body_size;
        let signature = self.t.label("signature").to_string();
        let date = self.t.label("date").to_string();
        for (i, party) in parties.iter().enumerate() {
            let x = left + (width + gap) * i as f32;
            self.outline(x, top - height, width, height);
            self.text(x + Self::mm(3.0), top - size * 1.6, size, party);
            self.text(
                x + Self::mm(3.0),
                top - height + Self::mm(12.0),
                size,
                &signature,
            );
            self.text(x + Self::mm(3.0), top - height + Self::mm(5.0), size, &date);
        }
        self.advance(height);
    }

    /// Writes the last page, each page's footer with its number (and a draft's mark), the font
    /// and the document structure; returns the first error writing to the destination.
    pub fn finish(mut self, footer: &str, as_of: Timestamp) -> io::Result<()> {
        self.write_page();
        let total = self.pages.len();
        let size = self.t.layout.small_size;
        let y = Self::mm(self.t.layout.margin_bottom) - size;
        let (left, right) = (self.left(), self.right());
        let color = Rgb::hex(&self.t.layout.rule_color);
        let (w, h) = (
            Self::mm(self.t.layout.page_width),
            Self::mm(self.t.layout.page_height),
        );
        let media_box = format!("[0 0 {w:.5} {h:.5}]");
        let font = self.font_object;
        let mut footers = Vec::with_capacity(total);
        for n in 1..=total {
            let label = self
                .t
                .label("page")
                .replace("{n}", &n.to_string())
                .replace("{total}", &total.to_string());
            let mut form = Content::default();
            form.rule(color, left, right, y + size * 1.6, 0.4);
            form.text(self.font, &mut self.glyphs, left, y, size, footer);
            let x = right - self.font.width(&label, size);
            form.text(self.font, &mut self.glyphs, x, y, size, &label);
            if let Some(mark) = &self.mark {
                let big = self.t.layout.heading_size;
                let width = self.font.width(mark, big) + Self::mm(4.0);
                let height = big * 1.8;
                let bottom = self.top() + Self::mm(2.0);
                let frame = Rgb::hex(MARK_COLOR);
                form.outline(frame, 1.2, right - width, bottom, width, height);
                let baseline = bottom + (height - big * 0.7) / 2.0;
                let x = right - width + Self::mm(2.0);
                form.text(self.font, &mut self.glyphs, x, baseline, big, mark);
            }
            let object = self.out.reserve();
            self.out.stream(
                object,
                &format!(
                    "/Type/XObject/Subtype/Form/BBox{media_box}\
                     /Resources<</Font<</{FONT_RESOURCE} {font} 0 R>>>>"
                ),
                &form.finish(),
            );
            footers.push(object);
        }
        self.font.embed(&mut self.out, font, &self.glyphs)?;
        let tree = self.out.reserve();
        let logo = self
            .logo
            .map(|n| format!("/{LOGO} {n} 0 R"))
            .unwrap_or_default();
        let mut kids = String::new();
        for (content, footer) in self.pages.iter().zip(&footers) {
            let page = self.out.reserve();
            self.out.object(
                page,
                format!(
                    "<</Type/Page/Parent {tree} 0 R/MediaBox{media_box}\
                     /Resources<</Font<</{FONT_RESOURCE} {font} 0 R>>/XObject<</{FOOTER} {footer} 0 R{logo}>>>>\
                     /Contents {content} 0 R>>"
                )
                .as_bytes(),
            );
            kids.push_str(&format!("{page} 0 R "));
        }
        self.out.object(
            tree,
            format!("<</Type/Pages/Count {total}/Kids[{}]>>", kids.trim_end()).as_bytes(),
        );
        let catalog = self.out.reserve();
        self.out.object(
            catalog,
            format!("<</Type/Catalog/Pages {tree} 0 R>>").as_bytes(),
        );
        let date = chrono::DateTime::from_timestamp(as_of.0, 0)
            .unwrap_or_default()
            .format("D:%Y%m%d%H%M%S+00'00'");
        let info = self.out.reserve();
        self.out.object(
            info,
            format!(
                "<</Title {}/Creator(settle)/Producer(settle {})/CreationDate({date})/ModDate({date})>>",
                text_string(&self.title),
                env!("CARGO_PKG_VERSION"),
            )
            .as_bytes(),
        );
        self.out.finish(catalog, info)
    }
}
