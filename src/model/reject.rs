//! A rejected input row: the one record every layer may hold.
//!
//! A bad row never stops a run. Ingestion, the cross-table checks and the error that `--strict`
//! raises all speak of rows that were not used, so the type lives here, below all of them, and
//! knows how to print itself on one line.

use std::fmt;

use crate::model::records::Line;

/// An input row that was not used, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reject {
    pub file: &'static str,
    pub line: Line,
    pub column: String,
    pub value: String,
    pub reason: String,
}

impl Reject {
    /// A later row of an id that must be unique; the row on line `used` is the one used.
    pub fn duplicate(
        file: &'static str,
        line: Line,
        column: &str,
        value: &str,
        used: Line,
    ) -> Reject {
        Reject {
            file,
            line,
            column: column.into(),
            value: value.into(),
            reason: format!("duplicate `{column}`; the row on line {used} is used"),
        }
    }
}

/// One reject on one line: ``bills.csv:5: column `list_amount`, value `abc`: not a decimal``.
impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:", self.file, self.line)?;
        if !self.column.is_empty() {
            write!(f, " column `{}`", self.column)?;
            if !self.value.is_empty() {
                write!(f, ", value `{}`", self.value)?;
            }
            f.write_str(":")?;
        }
        write!(f, " {}", self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::Reject;

    #[test]
    fn prints_on_one_line_naming_the_cell() {
        let r = Reject {
            file: "bills.csv",
            line: 5,
            column: "list_amount".into(),
            value: "abc".into(),
            reason: "not a decimal".into(),
        };
        assert_eq!(
            r.to_string(),
            "bills.csv:5: column `list_amount`, value `abc`: not a decimal"
        );
        let d = Reject::duplicate("usage.csv", 9, "usage_id", "u-1", 3);
        assert_eq!(
            d.to_string(),
            "usage.csv:9: column `usage_id`, value `u-1`: duplicate `usage_id`; the row on line 3 is used"
        );
    }
}
