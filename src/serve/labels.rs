//! What each document of a period is called on the pages, in Chinese and English: finance and
//! partners look for 结算单 Statement or 对账报告 Reconciliation report, not for
//! `statements/p-01.pdf`. The path stays on the page, small, for who needs it.
//!
//! The table follows [docs/outputs.md](../../docs/outputs.md)'s list of files; a file it does not
//! know (a newer `settle run`'s) is named by its path, so nothing is ever left off a page for
//! want of a label. The PDFs' labels live in `templates/labels.toml`, which the portal does not
//! read: the portal names files, the templates name fields.

use super::catalog::under_restated;

/// A document's name: Chinese, English, and its format (`PDF`, `CSV`, `Excel`, `JSON`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub zh: &'static str,
    pub en: &'static str,
    pub format: &'static str,
    /// A restatement's document of the whole month as restated (under `restated/`).
    pub restated: bool,
}

/// The label of `path` (relative to the period folder); `None` for a file the table does not
/// know.
pub fn of(path: &str) -> Option<Label> {
    if let Some(inner) = under_restated(path) {
        return of(inner).filter(|l| !l.restated).map(|l| Label {
            restated: true,
            ..l
        });
    }
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
        (None, "changes") => ("输入变动", "Input changes"),
        _ => return None,
    };
    Some(Label {
        zh,
        en,
        format,
        restated: false,
    })
}

/// The label of `path` in a restatement (R9): its own statements are supplementary statements
/// (补充结算单), its other files as [`of`] names them.
pub fn of_restatement(path: &str) -> Option<Label> {
    let label = of(path)?;
    let (zh, en) = match (path.split_once('/'), label.format) {
        (Some(("statements", _)), "PDF") => ("补充结算单", "Supplementary statement"),
        (Some(("statements", _)), _) => ("补充结算单明细", "Supplementary statement lines"),
        (None, _) if path == "statements.csv" => ("补充结算单汇总", "Supplementary statements"),
        _ => return Some(label),
    };
    Some(Label { zh, en, ..label })
}

/// Whether `path` is one partner's or one master's document (`statements/…`, `rollups/…`), of
/// which a month has hundreds, rather than one of the month's own.
pub fn per_party(path: &str) -> bool {
    let path = under_restated(path).unwrap_or(path);
    path.starts_with("statements/") || path.starts_with("rollups/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(path: &str) -> Option<String> {
        of(path).map(|l| {
            let restated = if l.restated { "restated " } else { "" };
            format!("{restated}{} {} · {}", l.zh, l.en, l.format)
        })
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
            ("changes.csv", "输入变动 Input changes · CSV"),
            (
                "restated/statements/p-01.pdf",
                "restated 结算单 Statement · PDF",
            ),
        ] {
            assert_eq!(name(path).as_deref(), Some(want), "{path}");
        }
        for path in [
            "new.csv",
            "other/x.pdf",
            "workbook.zip",
            "README",
            "restated/restated/statements.csv",
        ] {
            assert_eq!(name(path), None, "{path}");
        }
        assert!(per_party("statements/p-01.pdf") && !per_party("statements.csv"));
        assert!(per_party("restated/rollups/acc-1006.pdf"));
        let restatement = |path: &str| of_restatement(path).map(|l| (l.zh, l.restated));
        assert_eq!(
            restatement("statements/p-01.pdf"),
            Some(("补充结算单", false))
        );
        assert_eq!(
            restatement("statements.csv"),
            Some(("补充结算单汇总", false))
        );
        assert_eq!(
            restatement("restated/statements/p-01.pdf"),
            Some(("结算单", true))
        );
    }
}
