//! `consumption.csv`'s rows (R2), as printed.

use crate::rules::consumption::Consumption;
use crate::view::{Figure, Look};

/// One account, product and currency: both periods' payable, their difference and what is not yet
/// deducted.
pub struct ConsumptionRow<'a> {
    pub account_id: &'a str,
    pub account_name: &'a str,
    pub product: &'a str,
    pub currency: &'a str,
    pub usage_period: Figure,
    pub deduction_period: Figure,
    /// The printed usage minus the printed deduction, so each row adds up as printed (R8).
    pub difference: Figure,
    pub not_deducted: Figure,
}

/// The rows of some consumption sums, in their order.
pub fn rows<'a>(sums: &'a [Consumption], look: &Look<'a>) -> Vec<ConsumptionRow<'a>> {
    sums.iter()
        .map(|c| {
            let (usage, deduction) = (look.round(c.usage_period), look.round(c.deduction_period));
            ConsumptionRow {
                account_id: &c.account_id,
                account_name: look.account_name(&c.account_id),
                product: &c.product,
                currency: &c.currency,
                usage_period: usage,
                deduction_period: deduction,
                difference: usage - deduction,
                not_deducted: look.round(c.not_deducted),
            }
        })
        .collect()
}
