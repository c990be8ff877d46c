//! `templates/`: the PDFs' layout, labels and font, read at run time so that finance can change
//! the wording without a rebuild. Who issues the documents is not here: it is the dataset's
//! `settle.toml [issuer]` (R9), so no folder a run starts in can change a document's identity.
//!
//! The folder is the one `--templates` gives, else `templates/` beside the binary; never one
//! of the working directory. The files in the repository's `templates/` folder are also compiled
//! in, used when neither exists, so a binary run from anywhere renders the same documents.
//! `manifest.json` records the SHA-256 of each template file used.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::DatasetError;

const LAYOUT: &str = include_str!("../../templates/layout.toml");
const LABELS: &str = include_str!("../../templates/labels.toml");
const FONT: &[u8] = include_bytes!("../../templates/fonts/wqy-microhei.ttc");

/// `layout.toml`: lengths in mm, sizes in pt.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub font: String,
    pub font_index: usize,
    pub page_width: f32,
    pub page_height: f32,
    pub margin_left: f32,
    pub margin_right: f32,
    pub margin_top: f32,
    pub margin_bottom: f32,
    pub title_size: f32,
    pub heading_size: f32,
    pub body_size: f32,
    pub small_size: f32,
    pub line_spacing: f32,
    pub cell_padding: f32,
    /// A dense table's font size (its rows and header), such as the report's largest findings.
    pub dense_size: f32,
    /// The padding inside a dense table's cells.
    pub dense_padding: f32,
    pub rule_color: String,
    pub header_fill: String,
    pub subtotal_fill: String,
}

/// Everything a PDF needs besides its data.
#[derive(Clone, Debug)]
pub struct Templates {
    pub layout: Layout,
    pub labels: BTreeMap<String, String>,
    pub font: Vec<u8>,
    /// Each file read, relative to the folder, with its SHA-256: `manifest.json`'s `templates`.
    pub sha256: BTreeMap<String, String>,
}

impl Templates {
    /// The templates of a run: `--templates DIR` when given, else `templates/` beside the
    /// binary when it holds a `layout.toml`, else the built-in ones.
    pub fn find(given: Option<&Path>) -> Result<Templates, DatasetError> {
        if let Some(dir) = given {
            return Templates::load(Some(dir));
        }
        let beside = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join("templates")))
            .filter(|d| d.join("layout.toml").is_file());
        Templates::load(beside.as_deref())
    }

    /// Reads the templates in `dir`. Without a folder, the built-in templates are used.
    pub fn load(dir: Option<&Path>) -> Result<Templates, DatasetError> {
        let Some(dir) = dir else {
            return Templates::parse(LAYOUT, LABELS, FONT.to_vec(), Path::new("templates"));
        };
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| DatasetError::Io { path, source })
        };
        let layout = read("layout.toml")?;
        let font_path = toml::from_str::<Layout>(&layout)
            .map(|l| dir.join(l.font))
            .unwrap_or_else(|_| PathBuf::from("fonts/wqy-microhei.ttc"));
        let font = std::fs::read(&font_path).map_err(|source| DatasetError::Io {
            path: font_path,
            source,
        })?;
        Templates::parse(&layout, &read("labels.toml")?, font, dir)
    }

    fn parse(
        layout: &str,
        labels: &str,
        font: Vec<u8>,
        dir: &Path,
    ) -> Result<Templates, DatasetError> {
        let bad = |file: &str, e: toml::de::Error| DatasetError::Template {
            file: dir.join(file),
            message: e.message().to_string(),
        };
        let parsed: BTreeMap<String, String> =
            toml::from_str(labels).map_err(|e| bad("labels.toml", e))?;
        check_labels(&parsed).map_err(|message| DatasetError::Template {
            file: dir.join("labels.toml"),
            message,
        })?;
        let layout_parsed: Layout = toml::from_str(layout).map_err(|e| bad("layout.toml", e))?;
        let digest = crate::digest::sha256_hex;
        let sha256 = BTreeMap::from([
            ("layout.toml".to_string(), digest(layout.as_bytes())),
            ("labels.toml".to_string(), digest(labels.as_bytes())),
            (layout_parsed.font.clone(), digest(&font)),
        ]);
        Ok(Templates {
            layout: layout_parsed,
            labels: parsed,
            font,
            sha256,
        })
    }

    /// The label for `key`. Every key is checked when the templates are read.
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map_or("", String::as_str)
    }
}

/// Every key present, none unknown, and each `{placeholder}` one its label is filled with.
fn check_labels(labels: &BTreeMap<String, String>) -> Result<(), String> {
    let missing: Vec<&str> = LABEL_KEYS
        .iter()
        .filter(|k| !labels.contains_key(**k))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing label(s): {}", missing.join(", ")));
    }
    if let Some(unknown) = labels.keys().find(|k| !LABEL_KEYS.contains(&k.as_str())) {
        return Err(format!("unknown label `{unknown}`"));
    }
    for (key, text) in labels {
        let allowed = PLACEHOLDERS
            .iter()
            .find(|(k, _)| k == key)
            .map_or(&[][..], |(_, p)| *p);
        let mut rest = text.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                return Err(format!("label `{key}` has a `{{` that is never closed"));
            };
            let name = &after[..close];
            if !allowed.contains(&name) {
                let known = if allowed.is_empty() {
                    "it takes none".to_string()
                } else {
                    let names: Vec<String> = allowed.iter().map(|p| format!("{{{p}}}")).collect();
                    format!("it takes {}", names.join(", "))
                };
                return Err(format!(
                    "label `{key}` has the placeholder `{{{name}}}`, which does not exist; {known}"
                ));
            }
            rest = &after[close + 1..];
        }
    }
    Ok(())
}

/// The placeholders a label may hold, by key; a label not listed takes none.
const PLACEHOLDERS: &[(&str, &[&str])] = &[
    ("page", &["n", "total"]),
    ("generated", &["as_of", "period", "version"]),
    ("issued_on", &["date"]),
    ("tax_deduction_rate", &["rate"]),
    ("withheld_note", &["arrears"]),
    ("ordinary_note", &["rate"]),
    ("findings_file_value", &["rows"]),
    ("accounts_heading", &["n"]),
    ("largest_heading", &["n", "total"]),
    ("sheet_cut", &["shown", "rows", "file"]),
];

/// Every label key the documents use.
pub const LABEL_KEYS: &[&str] = &[
    "page",
    "generated",
    "draft_mark",
    "issued_on",
    "tax_id",
    "phone",
    "no_issuer",
    "no_issuer_hint",
    "statement_title",
    "partner",
    "period",
    "currency",
    "basis",
    "basis_usage",
    "basis_deduction",
    "tier",
    "invoice_kind",
    "kind_special",
    "kind_ordinary",
    "kind_short_special",
    "kind_short_ordinary",
    "account_id",
    "account_name",
    "product",
    "sub_product",
    "payment_mode",
    "base_amount",
    "rate",
    "rate_source",
    "rebate_amount",
    "rebate_total",
    "walk_title",
    "walk_intro",
    "walk_deduction",
    "walk_other_months",
    "walk_prepaid",
    "walk_later",
    "walk_never",
    "walk_rounding",
    "walk_usage",
    "walk_outside",
    "walk_base",
    "walk_exact",
    "walk_rounding_2dp",
    "rounding_adjustment",
    "tax_deduction",
    "net_rebate",
    "payout_status",
    "payable_now",
    "payout_payable",
    "payout_withheld_arrears",
    "no_lines",
    "document_no",
    "tax_deduction_rate",
    "in_words",
    "arrears",
    "withheld_note",
    "invoice_heading",
    "invoice_request",
    "invoice_when_released",
    "invoice_not_needed",
    "ordinary_note",
    "invoice_amount",
    "invoice_title",
    "invoice_subject",
    "address_phone",
    "bank_account",
    "issuer_stamp",
    "stamp",
    "mode_prepaid",
    "mode_postpaid",
    "rate_source_base",
    "rate_source_special",
    "signature",
    "date",
    "state",
    "supplement_title",
    "supplement_intro",
    "supplement_totals",
    "supplement_lines",
    "amends",
    "amends_none",
    "restatement",
    "item",
    "of_record",
    "restated",
    "change",
    "change_added",
    "change_removed",
    "change_changed",
    "base_of_record",
    "base_restated",
    "rebate_of_record",
    "rebate_restated",
    "rebate_difference",
    "rollup_title",
    "master",
    "child",
    "status",
    "reason",
    "bill_id",
    "cycle",
    "charge_start",
    "list_amount",
    "discount_amount",
    "payable_amount",
    "lines",
    "subtotal",
    "total",
    "rollup_rolled_up",
    "rollup_stayed_on_child",
    "invoice_total",
    "cycle_hour",
    "cycle_day",
    "cycle_week",
    "cycle_month",
    "cycle_once",
    "invoices_title",
    "issuer",
    "source",
    "reference",
    "recipient",
    "title",
    "amount",
    "due_date",
    "shipping",
    "invoice_status",
    "no_invoices",
    "by_issuer",
    "issuer_cloud",
    "issuer_partner",
    "issuer_account",
    "issuer_provider",
    "source_resale",
    "source_hosting",
    "source_management",
    "source_marketplace",
    "status_to_issue",
    "status_issued",
    "status_overdue",
    "status_not_needed",
    "status_refunded",
    "status_blocked_arrears",
    "status_rejected_title",
    "shipping_cod",
    "shipping_provider",
    "reconciliation_title",
    "summary",
    "finding",
    "count",
    "difference",
    "window",
    "rank",
    "bills",
    "usage",
    "expected",
    "billed",
    "no_findings",
    "no_bill_findings",
    "findings_file",
    "findings_file_value",
    "kinds_heading",
    "accounts_heading",
    "at_stake",
    "largest_heading",
    "means_amount_mismatch",
    "means_unbilled_usage",
    "means_bill_without_usage",
    "means_duplicate_bill",
    "means_payable_mismatch",
    "means_discount_mismatch",
    "means_voucher_on_hosted_child",
    "means_hosted_non_credit",
    "usage_not_compared",
    "finding_amount_mismatch",
    "finding_unbilled_usage",
    "finding_bill_without_usage",
    "finding_duplicate_bill",
    "finding_payable_mismatch",
    "finding_discount_mismatch",
    "finding_voucher_on_hosted_child",
    "finding_hosted_non_credit",
    "finding_short_amount_mismatch",
    "finding_short_unbilled_usage",
    "finding_short_bill_without_usage",
    "finding_short_duplicate_bill",
    "finding_short_payable_mismatch",
    "finding_short_discount_mismatch",
    "finding_short_voucher_on_hosted_child",
    "finding_short_hosted_non_credit",
    "sheet_about",
    "sheet_statements",
    "sheet_consumption",
    "sheet_rollups",
    "sheet_invoices",
    "sheet_invoices_summary",
    "sheet_reconciliation",
    "sheet_bridge",
    "sheet_rejects",
    "sheet_lines",
    "sheet_totals",
    "sheet_walk",
    "workbook_about",
    "sheet_cut",
    "sheet",
    "file",
    "rows",
    "walk_step",
    "tax_rate",
    "partner_id",
    "partner_name",
    "master_id",
    "child_id",
    "recipient_account_id",
    "resource_id",
    "window_start",
    "window_end",
    "bill_ids",
    "usage_ids",
    "expected_amount",
    "billed_amount",
    "row_kind",
    "billing_cycle",
    "charge_end",
    "expected_discount",
    "usage_period_amount",
    "deduction_period_amount",
    "not_deducted_amount",
    "deducted_for_other_months",
    "prepaid_ahead",
    "deducted_later",
    "not_deducted_yet",
    "rounding_to_usage",
    "outside_link_amount",
    "rounding_to_base",
    "rebate_base_amount",
    "line",
    "column",
    "value",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_templates_parse_and_cover_every_label() {
        let t = Templates::load(None).unwrap();
        assert_eq!(t.layout.page_width, 210.0);
        assert!(t.label("statement_title").contains("Rebate"));
    }

    #[test]
    fn a_placeholder_that_does_not_exist_is_an_error() {
        let mut labels: BTreeMap<String, String> = toml::from_str(LABELS).unwrap();
        assert_eq!(check_labels(&labels), Ok(()));
        labels.insert("page".into(), "第 {n} / {pages} 页".into());
        let e = check_labels(&labels).unwrap_err();
        assert!(
            e.contains("`{pages}`, which does not exist; it takes {n}, {total}"),
            "{e}"
        );
        labels.insert("page".into(), "第 {n} 页".into());
        labels.insert("partner".into(), "伙伴 {name}".into());
        let e = check_labels(&labels).unwrap_err();
        assert!(
            e.contains("label `partner`") && e.contains("it takes none"),
            "{e}"
        );
    }

    #[test]
    fn repository_templates_folder_reads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let t = Templates::load(Some(&dir)).unwrap();
        assert!(!t.font.is_empty());
    }
}
