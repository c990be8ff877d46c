//! One page's content stream, built as PDF operator bytes: text placed by absolute text matrices,
//! horizontal rules, filled and outlined rectangles.
//!
//! Text is set in one text object for as long as no shape is drawn between: a table of a thousand
//! cells is then a thousand placements and strings, not a thousand text objects with their font
//! and colour. Strings are the font's own glyph ids, two bytes each (Identity-H), so a page can be
//! encoded before the document knows which glyphs its font subset will hold.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::font::{FONT_RESOURCE, Font};

/// An RGB colour, each channel from 0 to 1.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

impl Rgb {
    /// `#RRGGBB`; black where it is not one.
    pub fn hex(hex: &str) -> Rgb {
        let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0);
        let c = |shift: u32| ((v >> shift) & 0xFF) as f32 / 255.0;
        Rgb(c(16), c(8), c(0))
    }
}

/// The glyphs a document uses, by glyph id, with the character each shows.
pub type Glyphs = BTreeMap<u16, char>;

#[derive(Default)]
pub struct Content {
    ops: String,
    /// The font size, while a text object is open.
    text_size: Option<f32>,
}

/// Appends `v` with at most 3 decimals and no trailing zeros.
fn num(out: &mut String, v: f32) {
    let start = out.len();
    let _ = write!(out, "{v:.3}");
    let trimmed = out[start..]
        .trim_end_matches('0')
        .trim_end_matches('.')
        .len();
    out.truncate(start + trimmed);
    if &out[start..] == "-0" {
        out.truncate(start);
        out.push('0');
    }
}

impl Content {
    fn nums(&mut self, values: &[f32]) {
        for &v in values {
            num(&mut self.ops, v);
            self.ops.push(' ');
        }
    }

    fn color(&mut self, c: Rgb, op: &str) {
        self.nums(&[c.0, c.1, c.2]);
        self.ops.push_str(op);
        self.ops.push('\n');
    }

    /// Sets `text` at `x`, `y` in `size` points, recording its glyphs in `glyphs`.
    pub fn text(
        &mut self,
        font: &Font,
        glyphs: &mut Glyphs,
        x: f32,
        y: f32,
        size: f32,
        text: &str,
    ) {
        if text.is_empty() {
            return;
        }
        if self.text_size.is_none() {
            self.ops.push_str("BT\n0 0 0 rg\n");
        }
        if self.text_size != Some(size) {
            self.ops.push('/');
            self.ops.push_str(FONT_RESOURCE);
            self.ops.push(' ');
            self.nums(&[size]);
            self.ops.push_str("Tf\n");
            self.text_size = Some(size);
        }
        self.ops.push_str("1 0 0 1 ");
        self.nums(&[x, y]);
        self.ops.push_str("Tm\n<");
        for c in text.chars() {
            let gid = font.glyph(c);
            if gid != 0 {
                glyphs.entry(gid).or_insert(c);
            }
            let _ = write!(self.ops, "{gid:04X}");
        }
        self.ops.push_str("> Tj\n");
    }

    /// Closes the text object, where shapes may not go.
    fn graphics(&mut self) {
        if self.text_size.take().is_some() {
            self.ops.push_str("ET\n");
        }
    }

    /// The image XObject `name`, `width` × `height` points, its lower left corner at `x`, `y`.
    pub fn image(&mut self, name: &str, x: f32, y: f32, width: f32, height: f32) {
        self.graphics();
        self.ops.push_str("q ");
        self.nums(&[width, 0.0, 0.0, height, x, y]);
        self.ops.push_str("cm /");
        self.ops.push_str(name);
        self.ops.push_str(" Do Q\n");
    }

    /// A horizontal line from `x1` to `x2`.
    pub fn rule(&mut self, color: Rgb, x1: f32, x2: f32, y: f32, thickness: f32) {
        self.graphics();
        self.color(color, "RG");
        self.nums(&[thickness]);
        self.ops.push_str("w\n");
        self.nums(&[x1, y]);
        self.ops.push_str("m ");
        self.nums(&[x2, y]);
        self.ops.push_str("l S\n");
    }

    /// A filled rectangle.
    pub fn fill(&mut self, color: Rgb, x: f32, y: f32, width: f32, height: f32) {
        self.graphics();
        self.color(color, "rg");
        self.nums(&[x, y, width, height]);
        self.ops.push_str("re f\n");
    }

    /// An outlined rectangle.
    pub fn outline(&mut self, color: Rgb, thickness: f32, x: f32, y: f32, width: f32, height: f32) {
        self.graphics();
        self.color(color, "RG");
        self.nums(&[thickness]);
        self.ops.push_str("w\n");
        self.nums(&[x, y, width, height]);
        self.ops.push_str("re S\n");
    }

    /// Draws the form XObject `name` (one the page's resources name).
    pub fn form(&mut self, name: &str) {
        self.graphics();
        self.ops.push('/');
        self.ops.push_str(name);
        self.ops.push_str(" Do\n");
    }

    /// The operators, with any text object closed.
    pub fn finish(mut self) -> Vec<u8> {
        self.graphics();
        self.ops.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        let mut s = String::new();
        for v in [1.0, 0.5, 42.519688, -0.0001, 595.2756] {
            num(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "1 0.5 42.52 0 595.276 ");
    }
}
