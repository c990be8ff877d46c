//! Export headers as people and consoles write them, made comparable.
//!
//! The same column comes spelled many ways: with a BOM, with full-width `（）` or ASCII `()`
//! parentheses, with stray or doubled spaces (`Availability  Zone`), in another case, and, in
//! Huawei's money columns, with a currency suffix (`应付金额(¥)`). [`normalise`] folds those
//! differences away, and [`Columns::find`] looks a candidate name up in a normalised header.

/// A header name reduced to what tells it apart: no BOM, ASCII parentheses and yen sign, no
/// space next to a parenthesis, inner runs of spaces as one, ASCII letters in lower case.
pub fn normalise(name: &str) -> String {
    let trimmed = name.trim_start_matches('\u{feff}').trim();
    let mut out = String::with_capacity(trimmed.len());
    let mut space = false;
    for c in trimmed.chars() {
        let c = match c {
            '（' => '(',
            '）' => ')',
            '￥' => '¥',
            '\u{3000}' | '\t' => ' ',
            c => c.to_ascii_lowercase(),
        };
        if c == ' ' {
            space = true;
            continue;
        }
        if space && !out.is_empty() && c != '(' && c != ')' && !out.ends_with('(') {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

/// A file's header, normalised once.
pub struct Columns {
    /// The names as the file writes them (BOM and surrounding spaces removed), for messages.
    pub raw: Vec<String>,
    normal: Vec<String>,
}

/// Where a candidate name was found: the column, and the unit suffix it carried, if any.
pub struct Found {
    pub index: usize,
    pub suffix: Option<String>,
}

impl Columns {
    pub fn new<S: AsRef<str>>(names: &[S]) -> Columns {
        Columns {
            raw: names
                .iter()
                .map(|n| n.as_ref().trim_start_matches('\u{feff}').trim().to_string())
                .collect(),
            normal: names.iter().map(|n| normalise(n.as_ref())).collect(),
        }
    }

    /// The first column named `candidate`, exactly or followed by a unit in parentheses
    /// (`应付金额` finds `应付金额(¥)` and `应付金额（元）`).
    pub fn find(&self, candidate: &str) -> Option<Found> {
        self.find_all(candidate).into_iter().next()
    }

    /// Every column named `candidate` exactly, or, when none is, every column named it followed
    /// by a unit in parentheses; more than one is a header that cannot say which to read.
    pub fn find_all(&self, candidate: &str) -> Vec<Found> {
        let want = normalise(candidate);
        let exact: Vec<Found> = self
            .normal
            .iter()
            .enumerate()
            .filter(|(_, n)| **n == want)
            .map(|(index, _)| Found {
                index,
                suffix: None,
            })
            .collect();
        if !exact.is_empty() {
            return exact;
        }
        self.normal
            .iter()
            .enumerate()
            .filter_map(|(index, n)| {
                let unit = n
                    .strip_prefix(&want)?
                    .strip_prefix('(')?
                    .strip_suffix(')')?;
                (!unit.is_empty() && !unit.contains('(')).then(|| Found {
                    index,
                    suffix: Some(unit.to_string()),
                })
            })
            .collect()
    }

    /// Whether the header has a column named exactly `name` (no suffix).
    pub fn has(&self, name: &str) -> bool {
        let want = normalise(name);
        self.normal.contains(&want)
    }

    pub fn len(&self) -> usize {
        self.raw.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// The currency a money column's unit suffix names: `¥` and `元` are CNY, `$` is USD, and a
/// three-letter code is itself.
pub fn suffix_currency(suffix: &str) -> Option<String> {
    match suffix.trim() {
        "¥" | "元" | "人民币" | "rmb" | "cny" => Some("CNY".into()),
        "$" | "美元" | "us$" | "usd" => Some("USD".into()),
        s if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(s.to_ascii_uppercase())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_the_spellings_of_one_column() {
        for spelling in [
            "\u{feff}应付金额(¥)",
            " 应付金额（¥） ",
            "应付金额 (￥)",
            "应付金额( ¥ )",
        ] {
            assert_eq!(normalise(spelling), "应付金额(¥)", "{spelling:?}");
        }
        assert_eq!(normalise("Availability  Zone"), "availability zone");
        assert_eq!(normalise("BilledCost"), "billedcost");
        assert_eq!(normalise("优惠后总价（不含税）"), "优惠后总价(不含税)");
    }

    #[test]
    fn finds_a_column_with_or_without_its_unit() {
        let cols = Columns::new(&["账期", "应付金额（¥）", "官网价", "Start Date of  Usage"]);
        let found = cols.find("应付金额").unwrap();
        assert_eq!(found.index, 1);
        assert_eq!(found.suffix.as_deref(), Some("¥"));
        assert_eq!(suffix_currency("¥").as_deref(), Some("CNY"));
        assert_eq!(cols.find("官网价").unwrap().suffix, None);
        assert_eq!(cols.find("start date of usage").unwrap().index, 3);
        assert!(cols.find("应付").is_none());
        assert!(cols.has("账期") && !cols.has("应付金额"));
    }
}
