//! The PDFs' own writer: a page builder ([`Doc`]) that lays out text and tables and streams each
//! page to its file as soon as it is full, over a small writer of the PDF file syntax and the
//! font's embedding. No document is held whole in memory, whatever its length.

mod content;
mod doc;
mod font;
mod image;
mod writer;

pub use doc::{Align, Column, Doc, Letterhead, Row, RowKind};
pub use font::Font;
pub use image::Image;
#[cfg(test)]
pub use image::tests as image_tests;

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
    use crate::model::time::Timestamp;
    use crate::render::template::Templates;

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

    #[test]
    fn same_document_same_bytes_across_pages() {
        let t = Templates::load(None).unwrap();
        let font = Font::new(&t).unwrap();
        let render = || {
            let mut bytes = Vec::new();
            let head = Letterhead {
                name: "开票方".into(),
                name_en: "Issuer".into(),
                lines: vec!["地址 Address".into()],
                logo: None,
            };
            let running = "标题 Title · No. X".to_string();
            let mut doc = Doc::new(&t, &font, "标题 Title", &head, running, &mut bytes);
            let rows = (0..300).map(|i| Row::body(vec![format!("行 {i}"), "1,000.00".into()]));
            doc.table(
                &[Column::left("名称", 2.0), Column::right("金额", 1.0)],
                rows,
            );
            doc.finish("页脚 footer", Timestamp(1_793_462_400)).unwrap();
            bytes
        };
        let (a, b) = (render(), render());
        assert!(a == b, "two renderings differ");
        let text = String::from_utf8_lossy(&a);
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.ends_with("%%EOF\n"));
        assert!(text.contains("/BaseFont/SETTLE+"));
        let pages = text.matches("/Type/Page/").count();
        assert!(pages > 3, "300 rows on {pages} pages");
        assert!(text.contains(&format!("/Count {pages}/")));
    }
}
