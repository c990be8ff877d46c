//! `statements.csv` and `statements/<partner_id>.csv`: the rebate settlement of R5, from its view.

use sha2::{Digest, Sha256};

use crate::model::period::Month;
use crate::render::csv::{Cell, CsvDoc};
use crate::render::tables::money;
use crate::view::statements::{StatementView, Summary};

/// `statements.csv`: one row per partner and currency.
pub fn summary(rows: &[Summary], month: Month) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
        "document_no",
        "partner_id",
        "partner_name",
        "period",
        "currency",
        "rebate_total",
        "tax_deduction",
        "net_rebate",
        "payout_status",
        "payable_now",
    ]);
    for s in rows {
        doc.row([
            Cell::from(s.document_no.as_str()),
            Cell::from(s.partner_id),
            Cell::from(s.partner_name),
            Cell::from(month.to_string()),
            Cell::from(s.currency),
            money(s.rebate_total),
            money(s.tax_deduction),
            money(s.net_rebate),
            Cell::from(s.payout_status.as_str()),
            money(s.payable_now),
        ]);
    }
    doc.finish()
}

/// `statements/<partner_id>.csv`: the statement's number, then its lines, and nothing else: the
/// totals are the partner's rows in `statements.csv`, so a SUM over a column never counts a total
/// twice.
pub fn detail(statements: &[StatementView]) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
        "document_no",
        "account_id",
        "account_name",
        "product",
        "sub_product",
        "payment_mode",
        "base_amount",
        "rate",
        "rate_source",
        "rebate_amount",
        "currency",
    ]);
    for s in statements {
        for l in &s.lines {
            doc.row([
                Cell::from(s.summary.document_no.as_str()),
                Cell::from(l.account_id),
                Cell::from(l.account_name),
                Cell::from(l.product),
                Cell::from(l.sub_product),
                Cell::from(l.payment_mode.as_str()),
                money(l.base_amount),
                Cell::Num(l.rate.normalize().to_string()),
                Cell::from(l.rate_source.as_str()),
                money(l.rebate_amount),
                Cell::from(s.summary.currency),
            ]);
        }
    }
    doc.finish()
}

/// A file name from an id, unique by construction and at most [`MAX_STEM`] bytes long.
///
/// An id is its own file name when it is *plain*: at most [`MAX_PLAIN`] characters, each a
/// letter, digit, `.`, `_` or `-`, not only dots, and not ending in `-` and 32 lowercase hex
/// digits. Any other id is *escaped*: the first [`PREFIX`] characters of the id with every other
/// character made `_`, then `-` and the first 32 hex digits (128 bits) of the id's SHA-256
/// (`伙伴一` → `___-73f6c36f…`). No plain id has the escaped shape, so an id can never take another
/// id's escaped name; two escaped ids share a name only if their SHA-256s agree in 128 bits, which
/// no one has ever found. Either way, an id never leaves its folder.
pub fn file_stem(id: &str) -> String {
    if is_plain(id) {
        return id.to_string();
    }
    let mut prefix: String = id
        .chars()
        .take(PREFIX)
        .map(|c| if is_kept(c) { c } else { '_' })
        .collect();
    if prefix.trim_matches('.').is_empty() {
        prefix.insert(0, '_');
    }
    let digest = crate::ingest::hex(&Sha256::digest(id.as_bytes()));
    format!("{prefix}-{}", &digest[..HASH_HEX])
}

/// The longest id used as its own file name, in characters (all ASCII).
pub const MAX_PLAIN: usize = 64;
/// How much of an escaped id its file name keeps, in characters.
const PREFIX: usize = 40;
/// Hex digits of the SHA-256 an escaped name ends with.
const HASH_HEX: usize = 32;
/// The longest stem [`file_stem`] makes, in bytes: well under the 255 a file name may have with
/// its `.csv` or `.pdf`.
pub const MAX_STEM: usize = 1 + PREFIX + 1 + HASH_HEX;

fn is_kept(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

fn is_plain(id: &str) -> bool {
    id.len() <= MAX_PLAIN
        && id.chars().all(is_kept)
        && !id.trim_matches('.').is_empty()
        && !looks_escaped(id)
}

/// Whether `stem` ends like an escaped name: `-` and [`HASH_HEX`] lowercase hex digits.
fn looks_escaped(stem: &str) -> bool {
    let b = stem.as_bytes();
    b.len() > HASH_HEX
        && b[b.len() - HASH_HEX - 1] == b'-'
        && b[b.len() - HASH_HEX..]
            .iter()
            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn file_stems_stay_in_their_folder_and_never_share_a_file() {
        assert_eq!(file_stem("p-01"), "p-01");
        let (one, two) = (file_stem("伙伴一"), file_stem("伙伴二"));
        assert_ne!(one, two);
        assert!(one.starts_with("___-73f6c36f") && one.len() == 36, "{one}");
        for id in ["../x", "..", ".", "", "a/b", "a b"] {
            let stem = file_stem(id);
            assert!(
                !stem.contains('/') && !stem.trim_matches('.').is_empty(),
                "{id} → {stem}"
            );
        }
        assert_ne!(file_stem("a/b"), file_stem("a_b"));
    }

    /// An id shaped like another id's escaped name is escaped too, so the two never meet.
    #[test]
    fn an_escaped_name_is_never_a_plain_id() {
        let escaped = file_stem("a/b");
        assert_ne!(file_stem(&escaped), escaped);
        let short = format!("a_b-{}", &escaped[escaped.len() - 32..escaped.len() - 24]);
        assert_eq!(file_stem(&short), short, "8 hex digits are plain");
    }

    /// Long ids get names of bounded length, and ids that differ only past the prefix do not
    /// share one.
    #[test]
    fn long_ids_are_bounded() {
        let long = "p".repeat(300);
        let longer = format!("{long}q");
        assert!(file_stem(&long).len() <= super::MAX_STEM);
        assert_ne!(file_stem(&long), file_stem(&longer));
        assert!(file_stem(&"伙".repeat(300)).len() <= super::MAX_STEM);
        let plain = "p".repeat(super::MAX_PLAIN);
        assert_eq!(file_stem(&plain), plain);
    }
}
