//! `templates/`: the PDFs' layout, labels, company block and font, read at run time so that
//! finance can change the wording without a rebuild.
//!
//! The files in the repository's `templates/` folder are also compiled in, so a binary run from
//! anywhere renders the same documents when no templates folder is given or found.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::DatasetError;

const LAYOUT: &str = include_str!("../../templates/layout.toml");
const LABELS: &str = include_str!("../../templates/labels.toml");
const COMPANY: &str = include_str!("../../templates/company.toml");
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
    pub rule_color: String,
    pub header_fill: String,
    pub subtotal_fill: String,
}

/// `company.toml`: the issuer printed at the top of every document.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Company {
    pub name: String,
    pub name_en: String,
    pub address: String,
    pub contact: String,
    pub tax_id: String,
}

/// Everything a PDF needs besides its data.
#[derive(Clone, Debug)]
pub struct Templates {
    pub layout: Layout,
    pub labels: BTreeMap<String, String>,
    pub company: Company,
    pub font: Vec<u8>,
}

impl Templates {
    /// Reads the templates in `dir`. Without a folder, the built-in templates are used.
    pub fn load(dir: Option<&Path>) -> Result<Templates, DatasetError> {
        let Some(dir) = dir else {
            return Templates::parse(
                LAYOUT,
                LABELS,
                COMPANY,
                FONT.to_vec(),
                Path::new("templates"),
            );
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
        Templates::parse(
            &layout,
            &read("labels.toml")?,
            &read("company.toml")?,
            font,
            dir,
        )
    }

    fn parse(
        layout: &str,
        labels: &str,
        company: &str,
        font: Vec<u8>,
        dir: &Path,
    ) -> Result<Templates, DatasetError> {
        let bad = |file: &str, e: toml::de::Error| DatasetError::Template {
            file: dir.join(file),
            message: e.message().to_string(),
        };
        let labels: BTreeMap<String, String> =
            toml::from_str(labels).map_err(|e| bad("labels.toml", e))?;
        let missing: Vec<&str> = LABEL_KEYS
            .iter()
            .filter(|k| !labels.contains_key(**k))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(DatasetError::Template {
                file: dir.join("labels.toml"),
                message: format!("missing label(s): {}", missing.join(", ")),
            });
        }
        if let Some(unknown) = labels.keys().find(|k| !LABEL_KEYS.contains(&k.as_str())) {
            return Err(DatasetError::Template {
                file: dir.join("labels.toml"),
                message: format!("unknown label `{unknown}`"),
            });
        }
        Ok(Templates {
            layout: toml::from_str(layout).map_err(|e| bad("layout.toml", e))?,
            labels,
            company: toml::from_str(company).map_err(|e| bad("company.toml", e))?,
            font,
        })
    }

    /// The label for `key`. Every key is checked when the templates are read.
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map_or("", String::as_str)
    }
}

/// Every label key the documents use.
pub const LABEL_KEYS: &[&str] = &[
    "page",
    "generated",
    "tax_id",
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
    "rounding_adjustment",
    "tax_deduction",
    "net_rebate",
    "payout_status",
    "payable_now",
    "status_payable",
    "status_withheld_arrears",
    "invoice_to_cloud",
    "no_lines",
    "stamp",
    "signature",
    "date",
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
    "rolled_up",
    "stayed_on_child",
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
    "reconciliation_title",
    "summary",
    "finding",
    "count",
    "difference",
    "findings",
    "window",
    "bills",
    "usage",
    "expected",
    "billed",
    "no_findings",
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
    fn repository_templates_folder_reads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let t = Templates::load(Some(&dir)).unwrap();
        assert!(!t.font.is_empty());
    }
}
