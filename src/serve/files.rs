//! One download: where its bytes come from, and the headers that name it.
//!
//! A grant is either a whole file of the period, opened only through [`inside`] (so never outside
//! `DIR`), or a partner's view of `invoices.csv`: the BOM and header line as they are, then the
//! rows whose `issuer` is the partner, each copied byte for byte. Download names carry the
//! dataset and period (`demo_2026-10_statements_p-01.pdf`), so a month's files never overwrite
//! another's in a downloads folder; `filename*` keeps a Chinese dataset name as it is.

use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::catalog::Settled;
use super::paths::inside;
use super::scope::Grant;
use crate::digest::sha256_hex;

/// The bytes of a download.
pub enum Source {
    File(PathBuf),
    Filtered(Vec<u8>),
}

/// Where the bytes of `grant` in `period` are; `None` if the file is missing, not a regular file,
/// or leads outside `root`.
pub fn source(root: &Path, period: &Settled, grant: &Grant) -> Option<Source> {
    let file = inside(root, &period.folder, &grant.path)?;
    match &grant.issuer {
        None => Some(Source::File(file)),
        Some(issuer) => {
            let bytes = std::fs::read(&file).ok()?;
            filter_rows(&bytes, "issuer", issuer).map(Source::Filtered)
        }
    }
}

/// Size and SHA-256 of filtered bytes (a whole file's come from the manifest).
pub fn measure(bytes: &[u8]) -> (u64, String) {
    (bytes.len() as u64, sha256_hex(bytes))
}

/// The header (with its BOM) and the rows of a CSV whose `column` is `value`, byte for byte;
/// `None` if the CSV has no such column or does not parse.
pub fn filter_rows(csv: &[u8], column: &str, value: &str) -> Option<Vec<u8>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(csv);
    let headers = reader.byte_headers().ok()?.clone();
    let index = headers.iter().position(|h| {
        let h = h.strip_prefix("\u{feff}".as_bytes()).unwrap_or(h);
        h == column.as_bytes()
    })?;
    // Each record runs from where it starts to where the next one starts, so it keeps its own
    // line end (`\n` or `\r\n`) and any quoted line breaks inside it. The csv reader ends a
    // record at a `\r` and counts the `\n` after it as the next one's start: skip it.
    let mut starts: Vec<(usize, bool)> = Vec::new();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).ok()? {
        let mut start = usize::try_from(record.position()?.byte()).ok()?;
        if start > 0 && csv.get(start - 1..=start) == Some(b"\r\n") {
            start += 1;
        }
        starts.push((start, record.get(index) == Some(value.as_bytes())));
    }
    let header_end = starts.first().map_or(csv.len(), |s| s.0);
    let mut out = Vec::with_capacity(csv.len());
    out.extend_from_slice(csv.get(..header_end)?);
    for (i, (start, keep)) in starts.iter().enumerate() {
        if *keep {
            let end = starts.get(i + 1).map_or(csv.len(), |s| s.0);
            out.extend_from_slice(csv.get(*start..end)?);
        }
    }
    Some(out)
}

pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("pdf") => "application/pdf",
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json",
        Some("zip") => "application/zip",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// The file name a browser saves `path` of `dataset`/`period` as.
pub fn download_name(dataset: &str, period: &str, path: &str) -> String {
    format!("{dataset}_{period}_{}", path.replace('/', "_"))
}

/// RFC 6266 / 8187: `attr-char` is kept, everything else percent-encoded as UTF-8.
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// Whether `path` opens in the browser (`inline`: a PDF, which a browser shows) rather than
/// downloads (`attachment`: CSV and Excel files, which a browser would show as text or not at
/// all).
pub fn opens_inline(path: &str) -> bool {
    path.ends_with(".pdf")
}

/// `inline` or `attachment`, with an ASCII `filename` for old clients and the exact name in
/// `filename*` (the name a browser saves it under either way).
pub fn disposition(name: &str, inline: bool) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' && c != '%' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        utf8_percent_encode(name, ATTR)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVOICES: &str = "\u{feff}source,reference,issuer,amount\r\n\
        resale,acc-1,partner:p-01,1.00\r\n\
        resale,acc-2,partner:p-02,2.00\r\n\
        resale,\"acc, 3\",partner:p-01,3.00\r\n\
        hosting,acc-4,cloud,4.00\r\n";

    #[test]
    fn a_partner_gets_the_header_and_its_own_rows_byte_for_byte() {
        let got = filter_rows(INVOICES.as_bytes(), "issuer", "partner:p-01").expect("filters");
        assert_eq!(
            String::from_utf8(got).expect("utf-8"),
            "\u{feff}source,reference,issuer,amount\r\n\
             resale,acc-1,partner:p-01,1.00\r\n\
             resale,\"acc, 3\",partner:p-01,3.00\r\n"
        );
        // The same with `\n` line ends, as `settle run` writes them.
        let lf = INVOICES.replace("\r\n", "\n");
        let got = filter_rows(lf.as_bytes(), "issuer", "partner:p-02").expect("filters");
        assert_eq!(
            String::from_utf8(got).expect("utf-8"),
            "\u{feff}source,reference,issuer,amount\nresale,acc-2,partner:p-02,2.00\n"
        );
        let none = filter_rows(INVOICES.as_bytes(), "issuer", "partner:p-0").expect("filters");
        assert_eq!(
            none,
            "\u{feff}source,reference,issuer,amount\r\n".as_bytes()
        );
        assert_eq!(filter_rows(INVOICES.as_bytes(), "nope", "x"), None);
    }

    #[test]
    fn chinese_names_survive_in_filename_star() {
        let name = download_name("华东", "2026-10", "statements/p-01.pdf");
        assert_eq!(name, "华东_2026-10_statements_p-01.pdf");
        assert_eq!(
            disposition(&name, false),
            "attachment; filename=\"___2026-10_statements_p-01.pdf\"; \
             filename*=UTF-8''%E5%8D%8E%E4%B8%9C_2026-10_statements_p-01.pdf"
        );
        assert!(disposition("a.pdf", true).starts_with("inline; filename=\"a.pdf\""));
        assert!(opens_inline("statements/p-01.pdf") && !opens_inline("statements/p-01.csv"));
        assert_eq!(content_type("x/p-01.pdf"), "application/pdf");
        assert_eq!(content_type("invoices.csv"), "text/csv; charset=utf-8");
    }
}
