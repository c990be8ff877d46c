//! A supplementary statement (补结算单) of a restatement (R9), as its PDF prints it: the partner's
//! totals and changed lines, each with the figure of record, the restated figure and their
//! difference. It is made from the restatement's CSVs, so that the PDF and the CSV cannot
//! disagree: every figure here is the CSV's text.

/// One figure three times: of record, restated, and the difference (restated − of record).
pub type Three = [String; 3];

/// A partner's supplementary statement.
#[derive(Debug, Clone, Default)]
pub struct SupplementView {
    /// Its own number, `SS-…`.
    pub number: String,
    /// The number of the statement of record it amends; empty for a partner new to the month.
    pub amends: String,
    /// The restatement, `n` of `<period>-r<n>`.
    pub restatement: u32,
    pub partner_id: String,
    pub partner_name: String,
    /// Per currency: the totals that change.
    pub totals: Vec<SupplementTotals>,
    /// The statement lines that change.
    pub lines: Vec<SupplementLine>,
}

/// A currency's totals, each with its label key in `labels.toml`.
#[derive(Debug, Clone, Default)]
pub struct SupplementTotals {
    pub currency: String,
    pub figures: Vec<(&'static str, Three)>,
    /// The payout status of record and restated (codes).
    pub status: [String; 2],
}

/// A statement line that changes: `change` is `added`, `removed` or `changed`.
#[derive(Debug, Clone, Default)]
pub struct SupplementLine {
    pub change: String,
    pub account_id: String,
    pub account_name: String,
    pub product: String,
    pub sub_product: String,
    pub payment_mode: String,
    pub currency: String,
    pub base: Three,
    pub rebate: Three,
}
