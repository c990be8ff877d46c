//! What each document of a period is called on the pages, in Chinese and English: finance and
//! partners look for 结算单 Statement or 对账报告 Reconciliation report, not for
//! `statements/p-01.pdf`. The path stays on the page, small, for who needs it.
//!
//! The table follows [docs/outputs.md](../../docs/outputs.md)'s list of files; a file it does not
//! know (a newer `settle run`'s) is named by its path, so nothing is ever left off a page for
//! want of a label. The PDFs' labels live in `templates/labels.toml`, which the portal does not
//! read: the portal names files, the templates name fields.

/// A document's name: Chinese, English, and its format (`PDF`, `CSV`, `Excel`, `JSON`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub zh: &'static str,
    pub en: &'static str,
    pub format: &'static str,
}

/// The label of `path` (relative to the period folder); `None` for a file the table does not
/// know.
pub fn of(path: &str) -> Option<Label> {
    let (stem, ext) = path.rsplit_once('.')?;
    let format = match ext {
        "pdf" => "PDF",
        "csv" => "CSV",
        "xlsx" => "Excel",
        "json" => "JSON",
        _ => return None,
    };
    let (zh, en) = match (stem.split_once('/'), stem) {
        (Some(("statements", _)), _) => match ext {
            "csv" => ("结算单明细", "Statement lines"),
            "xlsx" => ("结算单工作簿", "Statement workbook"),
            _ => ("结算单", "Statement"),
        },
        (Some(("rollups", _)), _) => match ext {
            "csv" => ("托管汇总明细", "Hosting rollup lines"),
            _ => ("托管汇总单", "Hosting rollup"),
        },
        (Some(_), _) => return None,
        (None, "statements") => ("结算单汇总", "Statements"),
        (None, "consumption") => ("消费汇总", "Consumption"),
        (None, "bridge") => ("消费到返佣基数", "Consumption to rebate base"),
        (None, "rollups") => ("托管汇总", "Hosting rollups"),
        (None, "invoices") => ("发票清单", "Invoice list"),
        (None, "invoices_summary") => ("发票汇总", "Invoice summary"),
        (None, "reconciliation") => match ext {
            "pdf" => ("对账报告", "Reconciliation report"),
            _ => ("对账差异", "Reconciliation findings"),
        },
        (None, "workbook") => ("工作簿", "Workbook"),
        (None, "rejects") => ("拒收行", "Rejected rows"),
        (None, "manifest") => ("清单", "Manifest"),
        _ => return None,
    };
    Some(Label { zh, en, format })
}

/// Whether `path` is one partner's or one master's document (`statements/…`, `rollups/…`), of
/// which a month has hundreds, rather than one of the month's own.
pub fn per_party(path: &str) -> bool {
    path.starts_with("statements/") || path.starts_with("rollups/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(path: &str) -> Option<String> {
        of(path).map(|l| format!("{} {} · {}", l.zh, l.en, l.format))
    }

    #[test]
    fn documents_have_bilingual_names() {
        for (path, want) in [
            ("statements/p-01.pdf", "结算单 Statement · PDF"),
            ("statements/p-01.csv", "结算单明细 Statement lines · CSV"),
            (
                "statements/p-01.xlsx",
                "结算单工作簿 Statement workbook · Excel",
            ),
            ("reconciliation.pdf", "对账报告 Reconciliation report · PDF"),
            (
                "reconciliation.csv",
                "对账差异 Reconciliation findings · CSV",
            ),
            ("workbook.xlsx", "工作簿 Workbook · Excel"),
            ("invoices.csv", "发票清单 Invoice list · CSV"),
            ("rollups/acc-1006.pdf", "托管汇总单 Hosting rollup · PDF"),
            ("manifest.json", "清单 Manifest · JSON"),
        ] {
            assert_eq!(name(path).as_deref(), Some(want), "{path}");
        }
        for path in ["new.csv", "other/x.pdf", "workbook.zip", "README"] {
            assert_eq!(name(path), None, "{path}");
        }
        assert!(per_party("statements/p-01.pdf") && !per_party("statements.csv"));
    }
}
