//! Document numbers (R9): every statement, rollup document and invoice-list entry has one,
//! printed on its PDF and in its CSV.
//!
//! A number is `<kind>-<YYYYMM>-XXXX-XXXX-XXXX`: the kind (`ST` statement, `HR` hosting rollup,
//! `IV` invoice-list entry; in a restatement, `SS` supplementary statement and `RL` red-letter
//! entry), the month, and 60 bits of the SHA-256 of the kind, the month and
//! what the document is *for* (the partner; the master; the invoice's source, reference, issuer,
//! recipient and currency), in Crockford base 32 (no I, L, O or U, so it reads aloud). So a
//! number:
//! - is the same for the same inputs, whatever else the dataset holds: adding a partner does
//!   not renumber the others, as a sequence over sorted parties would;
//! - is never reused: another month or another party gives another number, and a number never
//!   moves to another document;
//! - is unique within the dataset: each month's numbers are checked when they are made
//!   ([`unique`]), and a clash (one in 2^60 per pair) stops the run rather than printing one
//!   number twice;
//! - is never reused by a restatement: its documents' keys add `r<n>`, so a blue entry that
//!   replaces an invoice has a number of its own (R9).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::model::period::Month;

/// What a number is for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DocKind {
    Statement,
    Rollup,
    Invoice,
    /// A supplementary statement (补结算单) of a restatement.
    Supplement,
    /// A red-letter invoice entry (红字) of a restatement.
    RedLetter,
}

impl DocKind {
    fn prefix(self) -> &'static str {
        match self {
            DocKind::Statement => "ST",
            DocKind::Rollup => "HR",
            DocKind::Invoice => "IV",
            DocKind::Supplement => "SS",
            DocKind::RedLetter => "RL",
        }
    }
}

/// Crockford's base 32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The number of the document of `kind` in `month` for the party `key` names.
pub fn number(kind: DocKind, month: Month, key: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in [kind.prefix(), &month.to_string()].iter().chain(key) {
        // Length-prefixed, so that no two keys hash the same text.
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut bits = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) >> 4;
    let mut chars = [0u8; 12];
    for c in chars.iter_mut().rev() {
        *c = ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    let code = String::from_utf8_lossy(&chars).into_owned();
    format!(
        "{}-{:04}{:02}-{}-{}-{}",
        kind.prefix(),
        month.year,
        month.month,
        &code[..4],
        &code[4..8],
        &code[8..]
    )
}

/// Checks that no two documents share a number; the message names both.
pub fn unique<'a>(numbers: impl IntoIterator<Item = (&'a str, String)>) -> Result<(), String> {
    let mut seen: BTreeMap<&str, String> = BTreeMap::new();
    for (number, what) in numbers {
        if let Some(first) = seen.insert(number, what.clone()) {
            return Err(format!(
                "document number {number} was made for both {first} and {what}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OCT: Month = Month {
        year: 2026,
        month: 10,
    };

    #[test]
    fn numbers_are_short_stable_and_differ_by_party_month_and_kind() {
        let n = number(DocKind::Statement, OCT, &["p-01"]);
        assert_eq!(n.len(), "ST-202610-XXXX-XXXX-XXXX".len(), "{n}");
        assert!(n.starts_with("ST-202610-"), "{n}");
        assert!(
            n[10..]
                .chars()
                .all(|c| c == '-' || ALPHABET.contains(&(c as u8)))
        );
        assert_eq!(n, number(DocKind::Statement, OCT, &["p-01"]));
        assert_ne!(n, number(DocKind::Statement, OCT, &["p-02"]));
        assert_ne!(n, number(DocKind::Statement, OCT.next(), &["p-01"]));
        assert_ne!(n[3..], number(DocKind::Rollup, OCT, &["p-01"])[3..]);
        // Parts are kept apart: ("ab", "c") is not ("a", "bc").
        assert_ne!(
            number(DocKind::Invoice, OCT, &["ab", "c"]),
            number(DocKind::Invoice, OCT, &["a", "bc"])
        );
    }

    #[test]
    fn a_clash_is_reported() {
        let a = ("ST-1".to_string(), "p-01".to_string());
        let b = ("ST-1".to_string(), "p-02".to_string());
        let e = unique([(a.0.as_str(), a.1), (b.0.as_str(), b.1)]).unwrap_err();
        assert!(e.contains("p-01") && e.contains("p-02"), "{e}");
    }
}
