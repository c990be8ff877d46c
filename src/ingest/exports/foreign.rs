//! Cost exports settle does not read, named for what they are.
//!
//! A finance team that drops the cloud's classic export into `exports/` (an AWS Cost and Usage
//! Report, an Azure EA or MCA cost export, a GCP billing export from BigQuery, an OCI cost report)
//! is better told what it gave and which export of the same cloud settle does read (its FOCUS
//! export) than shown a list of formats it never asked for. Each layout is told by a few of its
//! columns, as the export formats are ([`super::Format::telling`]).

use crate::ingest::exports::header::Columns;

/// A layout settle does not read: what it is, the columns that tell it, and the export of the
/// same cloud to use instead.
pub struct Foreign {
    pub what: &'static str,
    pub telling: &'static [&'static str],
    pub instead: &'static str,
}

const AWS: &str = "export the month with AWS Data Exports as FOCUS 1.0 or 1.2 (Billing and Cost \
                   Management, Data Exports, \"FOCUS with AWS columns\") and give settle that";

/// The layouts, each told by two or more of its columns (matched as export headers are:
/// whatever their case, so that Azure's camelCase and PascalCase headers both tell).
pub const FOREIGN: &[Foreign] = &[
    Foreign {
        what: "an AWS Cost and Usage Report (CUR 1.0)",
        telling: &[
            "identity/LineItemId",
            "lineItem/UnblendedCost",
            "lineItem/UsageAccountId",
            "lineItem/LineItemType",
            "bill/PayerAccountId",
            "bill/BillingPeriodStartDate",
        ],
        instead: AWS,
    },
    Foreign {
        what: "an AWS Cost and Usage Report (CUR 2.0)",
        telling: &[
            "identity_line_item_id",
            "line_item_unblended_cost",
            "line_item_usage_account_id",
            "line_item_line_item_type",
            "bill_payer_account_id",
            "bill_billing_period_start_date",
        ],
        instead: AWS,
    },
    Foreign {
        what: "an Azure EA or MCA cost export",
        telling: &[
            "MeterCategory",
            "MeterId",
            "CostInBillingCurrency",
            "PreTaxCost",
            "SubscriptionId",
            "ConsumedService",
            "ResourceGroup",
            "BillingPeriodStartDate",
        ],
        instead: "export the month with Azure Cost Management's FOCUS export (Exports, \"Cost \
                  and usage (FOCUS)\") and give settle that",
    },
    Foreign {
        what: "a GCP billing export from BigQuery",
        telling: &[
            "billing_account_id",
            "service.description",
            "sku.description",
            "usage_start_time",
            "invoice.month",
            "cost_type",
        ],
        instead: "query the month from GCP's FOCUS BigQuery view of the billing export, save \
                  it as CSV and give settle that",
    },
    Foreign {
        what: "an OCI cost report",
        telling: &[
            "lineItem/referenceNo",
            "lineItem/tenantId",
            "lineItem/intervalUsageStart",
            "product/service",
            "cost/myCost",
            "cost/billingUnitReadable",
        ],
        instead: "download the month's FOCUS report from OCI (Cost and Usage Reports, FOCUS) \
                  and give settle that",
    },
];

/// The layout a header has two or more telling columns of, the most if several.
pub fn recognise(columns: &Columns) -> Option<&'static Foreign> {
    FOREIGN
        .iter()
        .map(|f| (f.telling.iter().filter(|t| columns.has(t)).count(), f))
        .filter(|(n, _)| *n >= 2)
        .max_by_key(|(n, _)| *n)
        .map(|(_, f)| f)
}
