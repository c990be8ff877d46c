//! What a user may see: a scope (`finance`, `partner:<id>`, `master:<id>`) and the files of one
//! settled period that it grants.
//!
//! Input: the scope and the period's output list (from its `manifest.json`). Output: the grants,
//! each a path relative to the period folder and, for a partner's `invoices.csv`, the issuer whose
//! rows it keeps. A file that is not granted does not exist for that user: the portal answers 404,
//! never 403, so nobody learns that another partner's statement is there.

use std::fmt;

use super::catalog::{restated_path, under_restated};
use crate::layout::file_stem;

/// The manifest of a period is served to finance beside the outputs it lists.
pub const MANIFEST: &str = "manifest.json";
/// The invoice list, served to a partner filtered down to the invoices it issues.
pub const INVOICES: &str = "invoices.csv";

/// Who a user is, for what they may download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every dataset, period and file.
    Finance,
    /// A partner's own statements, and the invoices it must issue.
    Partner(String),
    /// A hosting master's own rollups.
    Master(String),
}

impl Scope {
    /// Parses `finance`, `partner:<partner_id>` or `master:<account_id>`; `None` for anything
    /// else, an empty id included.
    pub fn parse(s: &str) -> Option<Scope> {
        if s == "finance" {
            return Some(Scope::Finance);
        }
        let (kind, id) = s.split_once(':')?;
        if id.is_empty() {
            return None;
        }
        match kind {
            "partner" => Some(Scope::Partner(id.to_string())),
            "master" => Some(Scope::Master(id.to_string())),
            _ => None,
        }
    }

    /// The files of a period this scope may download, in the order of `outputs`, given the
    /// period's output files (paths relative to the period folder, as `manifest.json` lists them).
    /// A partner or master with no document of its own in the period is granted nothing there.
    ///
    /// In a restatement (R9) a partner's own documents are its supplementary statement, and a
    /// master's its changed rollup rows; with them come the same party's documents of the month
    /// as restated, under `restated/`. A partner or master the restatement does not change is
    /// granted nothing in it, so it does not see it.
    pub fn grants(&self, outputs: &[&str]) -> Vec<Grant> {
        let listed = |path: &str| outputs.contains(&path);
        let own = |folder: &str, id: &str, extensions: &[&str]| -> Vec<Grant> {
            let stem = file_stem(id);
            let stem = stem.as_str();
            let paths: Vec<String> = extensions
                .iter()
                .map(|ext| format!("{folder}/{stem}.{ext}"))
                .collect();
            let restated: Vec<String> = paths.iter().map(|p| restated_path(p)).collect();
            paths
                .into_iter()
                .chain(restated)
                .filter(|p| listed(p))
                .map(|p| Grant::whole(&p))
                .collect()
        };
        let grants = match self {
            Scope::Finance => {
                return outputs
                    .iter()
                    .map(|p| Grant::whole(p))
                    .chain(std::iter::once(Grant::whole(MANIFEST)))
                    .collect();
            }
            Scope::Partner(id) => {
                let mut grants = own("statements", id, &["csv", "pdf", "xlsx"]);
                for invoices in [INVOICES.to_string(), restated_path(INVOICES)] {
                    if listed(&invoices) {
                        grants.push(Grant {
                            path: invoices,
                            issuer: Some(format!("partner:{id}")),
                        });
                    }
                }
                grants
            }
            Scope::Master(id) => own("rollups", id, &["csv", "pdf"]),
        };
        // Only documents under `restated/`, or the invoice rows alone, are not the party's own.
        if grants
            .iter()
            .any(|g| g.issuer.is_none() && under_restated(&g.path).is_none())
        {
            grants
        } else {
            Vec::new()
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Finance => f.write_str("finance"),
            Scope::Partner(id) => write!(f, "partner:{id}"),
            Scope::Master(id) => write!(f, "master:{id}"),
        }
    }
}

/// One file a user may download from a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Relative to the period folder, `/`-separated.
    pub path: String,
    /// For `invoices.csv` served to a partner: only the rows whose `issuer` is this.
    pub issuer: Option<String>,
}

impl Grant {
    fn whole(path: &str) -> Grant {
        Grant {
            path: path.to_string(),
            issuer: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &[&str] = &[
        "consumption.csv",
        "invoices.csv",
        "invoices.pdf",
        "reconciliation.pdf",
        "rollups/acc-1006.csv",
        "rollups/acc-1006.pdf",
        "statements.csv",
        "statements/p-01.csv",
        "statements/p-01.pdf",
        "statements/p-02.pdf",
        "statements/___-0a1b2c3d.pdf",
    ];

    fn paths(scope: &str) -> Vec<String> {
        let scope = Scope::parse(scope).expect("a valid scope");
        scope.grants(DEMO).into_iter().map(|g| g.path).collect()
    }

    #[test]
    fn scopes_parse_and_print_back() {
        for s in [
            "finance",
            "partner:p-01",
            "master:acc-1006",
            "partner:伙伴:一",
        ] {
            assert_eq!(Scope::parse(s).expect(s).to_string(), s);
        }
        for s in [
            "",
            "admin",
            "partner",
            "partner:",
            "master:",
            "finance:x",
            "Partner:p-01",
        ] {
            assert_eq!(Scope::parse(s), None, "{s}");
        }
    }

    #[test]
    fn finance_sees_every_output_and_the_manifest() {
        let mut want: Vec<String> = DEMO.iter().map(|s| s.to_string()).collect();
        want.push(MANIFEST.into());
        assert_eq!(paths("finance"), want);
    }

    #[test]
    fn a_partner_sees_its_own_statement_and_its_invoice_rows_only() {
        let scope = Scope::parse("partner:p-01").expect("valid");
        let grants = scope.grants(DEMO);
        assert_eq!(
            grants,
            vec![
                Grant::whole("statements/p-01.csv"),
                Grant::whole("statements/p-01.pdf"),
                Grant {
                    path: "invoices.csv".into(),
                    issuer: Some("partner:p-01".into())
                },
            ]
        );
        assert_eq!(
            paths("partner:p-02"),
            ["statements/p-02.pdf", "invoices.csv"]
        );
    }

    #[test]
    fn a_partner_or_master_without_documents_in_a_period_sees_nothing_there() {
        assert!(paths("partner:p-99").is_empty());
        assert!(paths("master:acc-1001").is_empty());
        // An id that would walk out of `statements/` maps to a safe stem, never to a parent.
        assert!(paths("partner:../statements.csv").is_empty());
        assert!(paths("partner:..").is_empty());
    }

    #[test]
    fn a_master_sees_its_rollups() {
        assert_eq!(
            paths("master:acc-1006"),
            ["rollups/acc-1006.csv", "rollups/acc-1006.pdf"]
        );
    }

    #[test]
    fn ids_map_to_file_stems_as_the_statements_are_named() {
        let id = "伙伴一";
        let stem = file_stem(id);
        let outputs = [format!("statements/{stem}.pdf")];
        let outputs: Vec<&str> = outputs.iter().map(String::as_str).collect();
        let grants = Scope::Partner(id.into()).grants(&outputs);
        assert_eq!(
            grants,
            vec![Grant::whole(&format!("statements/{stem}.pdf"))]
        );
    }

    /// A restatement of the demo's October that changes p-01's statement and acc-1006's rollup.
    const RESTATEMENT: &[&str] = &[
        "changes.csv",
        "invoices.csv",
        "rollups.csv",
        "rollups/acc-1006.csv",
        "statements.csv",
        "statements/p-01.csv",
        "statements/p-01.pdf",
        "restated/invoices.csv",
        "restated/rollups/acc-1006.pdf",
        "restated/rollups/acc-1007.pdf",
        "restated/statements/p-01.pdf",
        "restated/statements/p-01.xlsx",
        "restated/statements/p-02.pdf",
    ];

    #[test]
    fn a_restatement_is_shown_to_the_parties_it_changes_with_their_restated_documents() {
        let grants = |scope: &str| -> Vec<String> {
            Scope::parse(scope)
                .expect("valid")
                .grants(RESTATEMENT)
                .into_iter()
                .map(|g| g.path)
                .collect()
        };
        assert_eq!(
            grants("partner:p-01"),
            [
                "statements/p-01.csv",
                "statements/p-01.pdf",
                "restated/statements/p-01.pdf",
                "restated/statements/p-01.xlsx",
                "invoices.csv",
                "restated/invoices.csv",
            ]
        );
        assert_eq!(
            grants("master:acc-1006"),
            ["rollups/acc-1006.csv", "restated/rollups/acc-1006.pdf"]
        );
        // Their documents are restated, but the restatement changes nothing of theirs.
        assert!(grants("partner:p-02").is_empty());
        assert!(grants("master:acc-1007").is_empty());
        let issuers: Vec<Option<String>> = Scope::parse("partner:p-01")
            .expect("valid")
            .grants(RESTATEMENT)
            .into_iter()
            .map(|g| g.issuer)
            .collect();
        assert_eq!(issuers.iter().filter(|i| i.is_some()).count(), 2);
    }
}
