//! The columns of each input file of the contract (docs/inputs.md), and matching a file's header against them.

use crate::error::DatasetError;

/// One input file of a dataset.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileSpec {
    pub name: &'static str,
    pub required: bool,
    pub columns: &'static [&'static str],
}

pub const ACCOUNTS: FileSpec = FileSpec {
    name: "accounts.csv",
    required: true,
    columns: &[
        "account_id",
        "account_name",
        "entity_name",
        "title_kind",
        "discount_rate",
    ],
};

pub const PARTNERS: FileSpec = FileSpec {
    name: "partners.csv",
    required: false,
    columns: &[
        "partner_id",
        "partner_name",
        "tier",
        "invoice_kind",
        "arrears_amount",
    ],
};

pub const PARTNER_LINKS: FileSpec = FileSpec {
    name: "partner_links.csv",
    required: false,
    columns: &[
        "account_id",
        "partner_id",
        "link_type",
        "linked_from",
        "linked_to",
    ],
};

pub const RELATIONS: FileSpec = FileSpec {
    name: "account_relations.csv",
    required: false,
    columns: &[
        "child_id",
        "master_id",
        "relation",
        "effective_at",
        "ended_at",
        "inherit_discount",
        "invoice_by",
    ],
};

pub const REBATE_RATES: FileSpec = FileSpec {
    name: "rebate_rates.csv",
    required: false,
    columns: &[
        "tier",
        "product",
        "payment_mode",
        "rate",
        "valid_from",
        "valid_to",
    ],
};

pub const SPECIAL_REBATES: FileSpec = FileSpec {
    name: "special_rebates.csv",
    required: false,
    columns: &[
        "partner_id",
        "account_id",
        "product",
        "sub_product",
        "payment_mode",
        "rate",
        "valid_from",
        "valid_to",
    ],
};

pub const INVOICE_REQUESTS: FileSpec = FileSpec {
    name: "invoice_requests.csv",
    required: false,
    columns: &[
        "request_id",
        "order_id",
        "provider_id",
        "account_id",
        "amount",
        "invoice_kind",
        "title",
        "title_kind",
        "requested_at",
        "issued_at",
        "invoice_no",
        "order_status",
    ],
};

pub const BILLS: FileSpec = FileSpec {
    name: "bills.csv",
    required: true,
    columns: &[
        "bill_id",
        "account_id",
        "product",
        "sub_product",
        "resource_id",
        "payment_mode",
        "billing_cycle",
        "charge_start",
        "charge_end",
        "deducted_at",
        "list_amount",
        "discount_amount",
        "voucher_amount",
        "payable_amount",
        "payment_status",
        "paid_with",
        "currency",
    ],
};

pub const USAGE: FileSpec = FileSpec {
    name: "usage.csv",
    required: false,
    columns: &[
        "usage_id",
        "account_id",
        "product",
        "sub_product",
        "resource_id",
        "start",
        "end",
        "quantity",
        "unit",
        "unit_price",
        "currency",
    ],
};

/// Every input file, in the order they are read and reported.
pub const ALL: [FileSpec; 9] = [
    ACCOUNTS,
    PARTNERS,
    PARTNER_LINKS,
    RELATIONS,
    REBATE_RATES,
    SPECIAL_REBATES,
    INVOICE_REQUESTS,
    BILLS,
    USAGE,
];

/// Where each contract column sits in a file's header.
#[derive(Debug)]
pub struct Header {
    /// `positions[i]` is the file column that holds `spec.columns[i]`.
    pub positions: Vec<usize>,
    /// Header names, cleaned of a BOM and surrounding spaces.
    pub names: Vec<String>,
    /// Columns the contract does not know; they are ignored.
    pub unknown: Vec<String>,
}

impl Header {
    pub fn match_spec(spec: &FileSpec, raw: &[&str]) -> Result<Header, DatasetError> {
        let names: Vec<String> = raw
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let n = if i == 0 {
                    n.trim_start_matches('\u{feff}')
                } else {
                    n
                };
                n.trim().to_string()
            })
            .collect();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(DatasetError::DuplicateColumn {
                    file: spec.name,
                    column: n.clone(),
                });
            }
        }
        let positions = spec
            .columns
            .iter()
            .map(|c| {
                names
                    .iter()
                    .position(|n| n == c)
                    .ok_or_else(|| DatasetError::MissingColumn {
                        file: spec.name,
                        column: c,
                        expected: spec.columns.join(", "),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let unknown = names
            .iter()
            .filter(|n| !spec.columns.contains(&n.as_str()))
            .cloned()
            .collect();
        Ok(Header {
            positions,
            names,
            unknown,
        })
    }
}
