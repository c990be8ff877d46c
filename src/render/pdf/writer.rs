//! The PDF file syntax, written as it goes: numbered objects and deflated streams appended to a
//! destination, with only each object's byte offset kept for the cross-reference table at the
//! end. This is what lets a document of any length be written in bounded memory.
//!
//! A write error is kept and every later write skipped, so layout code need not handle I/O
//! errors line by line; [`Writer::finish`] returns the first one. The trailer's `/ID` is a digest
//! of every byte before it, so the same document gives the same bytes.

use std::io::{self, Write};

use sha2::{Digest, Sha256};

/// Streams deflate at level 3 of 9: level 9 took a quarter of the PDF time for files only about
/// 3% smaller.
const DEFLATE_LEVEL: u32 = 3;

pub struct Writer<'a> {
    out: &'a mut dyn Write,
    /// Bytes written so far: the offset of the next byte.
    at: u64,
    sha256: Sha256,
    /// The offset of object `n` at `n - 1`; `None` while it is only reserved.
    offsets: Vec<Option<u64>>,
    error: Option<io::Error>,
}

impl<'a> Writer<'a> {
    /// Starts a PDF 1.4 file in `out`.
    pub fn new(out: &'a mut dyn Write) -> Writer<'a> {
        let mut w = Writer {
            out,
            at: 0,
            sha256: Sha256::new(),
            offsets: Vec::new(),
            error: None,
        };
        // The comment of four high bytes marks the file as binary to transfer programs.
        w.raw(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
        w
    }

    fn raw(&mut self, bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        match self.out.write_all(bytes) {
            Ok(()) => {
                self.sha256.update(bytes);
                self.at += bytes.len() as u64;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// A number for an object to be written later.
    pub fn reserve(&mut self) -> u32 {
        self.offsets.push(None);
        u32::try_from(self.offsets.len()).unwrap_or(u32::MAX)
    }

    fn start(&mut self, n: u32) {
        if let Some(slot) = (n as usize)
            .checked_sub(1)
            .and_then(|i| self.offsets.get_mut(i))
        {
            *slot = Some(self.at);
        }
        self.raw(format!("{n} 0 obj\n").as_bytes());
    }

    /// Writes object `n` (reserved before): `body` is its value, such as a dictionary.
    pub fn object(&mut self, n: u32, body: &[u8]) {
        self.start(n);
        self.raw(body);
        self.raw(b"\nendobj\n");
    }

    /// Writes object `n` as a stream of `data`, deflated; `dict` holds the dictionary's entries
    /// other than `/Length` and `/Filter`.
    pub fn stream(&mut self, n: u32, dict: &str, data: &[u8]) {
        let deflated = deflate(data);
        self.start(n);
        self.raw(
            format!(
                "<</Length {}/Filter/FlateDecode{dict}>>\nstream\n",
                deflated.len()
            )
            .as_bytes(),
        );
        self.raw(&deflated);
        self.raw(b"\nendstream\nendobj\n");
    }

    /// Writes the cross-reference table and the trailer, and flushes the destination.
    pub fn finish(mut self, root: u32, info: u32) -> io::Result<()> {
        let xref = self.at;
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", self.offsets.len() + 1);
        for offset in &self.offsets {
            match offset {
                Some(at) => table.push_str(&format!("{at:010} 00000 n \n")),
                None => table.push_str("0000000000 65535 f \n"),
            }
        }
        self.raw(table.as_bytes());
        let digest = self.sha256.clone().finalize();
        let id: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.raw(
            format!(
                "trailer\n<</Size {}/Root {root} 0 R/Info {info} 0 R/ID[<{id}><{id}>]>>\nstartxref\n{xref}\n%%EOF\n",
                self.offsets.len() + 1
            )
            .as_bytes(),
        );
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::new(DEFLATE_LEVEL),
    );
    // Writing to memory fails only when memory does.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// `text` as a PDF text string: UTF-16BE with a byte order mark, in hex.
pub fn text_string(text: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in text.encode_utf16() {
        out.push_str(&format!("{unit:04X}"));
    }
    out.push('>');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_point_at_objects() {
        let mut bytes = Vec::new();
        let mut w = Writer::new(&mut bytes);
        let (a, b) = (w.reserve(), w.reserve());
        w.stream(b, "", b"BT ET");
        w.object(a, b"<</Type/Catalog>>");
        w.finish(a, b).unwrap();
        // Bytes as chars one for one, so that offsets into the text are offsets into the file.
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        let at = |offset: usize| &bytes[offset..];
        let xref = bytes.windows(9).position(|w| w == b"xref\n0 3\n").unwrap();
        let entries: Vec<usize> = text[text.find("xref").unwrap()..]
            .lines()
            .skip(3)
            .take(2)
            .map(|l| l[..10].parse().unwrap())
            .collect();
        assert!(at(entries[0]).starts_with(b"1 0 obj\n<</Type/Catalog>>"));
        assert!(at(entries[1]).starts_with(b"2 0 obj\n<</Length"));
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(startxref, xref);
    }

    #[test]
    fn text_strings_are_utf16() {
        assert_eq!(text_string("A云"), "<FEFF00414E91>");
    }
}
