//! The largest amounts settle accepts, so that no sum or product of accepted values can overflow.
//!
//! `rust_decimal` holds up to 28 significant digits (about 7.9 × 10^28) and panics when a
//! result does not fit. The rules multiply and add what they read: quantity × unit_price (R7),
//! payable × rate (R5), list × discount rate (R3, R7), a total × the tax rate, and sums of those
//! over every line of a month. So every decimal cell must be less than [`MAX_AMOUNT`] (10^15) in
//! magnitude, and so must a usage record's quantity × unit_price: a row that breaks this is
//! rejected, with its file, line and column, like any bad cell. Rates are at most 1, so each
//! product stays under the bound, and a sum of n such figures stays under n × 10^15: a month
//! would need more than 79 trillion lines to reach 7.9 × 10^28. Sums stay exact to the 8
//! decimal places money carries up to a total of 7.9 × 10^20 per figure.

use rust_decimal::Decimal;

/// Every decimal cell is less than this in magnitude: 10^15.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// The bound as users read it.
pub const MAX_AMOUNT_TEXT: &str = "1000000000000000 (10^15)";

/// Whether `d` is within the bound.
pub fn fits(d: Decimal) -> bool {
    d.abs() < MAX_AMOUNT
}

/// `a × b`, when it is within the bound.
pub fn product(a: Decimal, b: Decimal) -> Option<Decimal> {
    a.checked_mul(b).filter(|p| fits(*p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_ten_to_the_fifteen() {
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_000_i64));
        assert!(fits(Decimal::new(99_999_999_999_999_999, 2)));
        assert!(!fits(-MAX_AMOUNT));
        let big = Decimal::from(1_000_000_000_000_000_i64 - 1);
        assert_eq!(product(big, big), None, "the issue's row");
        assert_eq!(product(big, Decimal::ONE), Some(big));
    }
}
