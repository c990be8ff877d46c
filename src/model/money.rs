//! Exact money: parsing, the one rounding function, and printing.
//!
//! Amounts are `rust_decimal::Decimal` from the moment they are read. Nothing here touches a float.
//! Rounding happens only where an output line is made (R8 in docs/rules.md), and always through [`round`], so the
//! dataset's `rounding` setting is obeyed everywhere.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// How money is rounded to 2 decimal places on output lines (`settle.toml` key `rounding`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Half away from zero: 0.125 → 0.13 and −0.125 → −0.13.
    #[default]
    HalfUp,
    /// Banker's rounding: 0.125 → 0.12, 0.135 → 0.14.
    HalfEven,
    /// Toward zero: 0.129 → 0.12 and −0.129 → −0.12.
    Down,
}

impl Rounding {
    pub const NAMES: &'static [&'static str] = &["half_up", "half_even", "down"];
}

impl FromStr for Rounding {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "half_up" => Ok(Rounding::HalfUp),
            "half_even" => Ok(Rounding::HalfEven),
            "down" => Ok(Rounding::Down),
            _ => Err(()),
        }
    }
}

impl fmt::Display for Rounding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rounding::HalfUp => "half_up",
            Rounding::HalfEven => "half_even",
            Rounding::Down => "down",
        })
    }
}

/// Rounds to 2 decimal places. The only place in the program where money is rounded.
pub fn round(amount: Decimal, rounding: Rounding) -> Decimal {
    let strategy = match rounding {
        Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
        Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        Rounding::Down => RoundingStrategy::ToZero,
    };
    let mut r = amount.round_dp_with_strategy(2, strategy);
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    r
}

/// Prints an amount that is already rounded with exactly 2 decimal places, as CSV cells hold it.
pub fn format_2dp(amount: Decimal) -> String {
    let mut a = amount;
    a.rescale(2);
    if a.is_zero() {
        a.set_sign_positive(true);
    }
    a.to_string()
}

/// Parses a plain decimal: an optional `-`, digits, and an optional `.` with more digits. No
/// exponent, no thousands separator, no `,` as the decimal mark.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let s = text.trim();
    if let Some(d) = parse_short(s.as_bytes()) {
        return Ok(d);
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (frac.is_empty() != digits.contains('.'));
    if !well_formed {
        return Err(if s.contains(',') {
            "not a decimal; use `.` as the decimal mark and no thousands separators".into()
        } else {
            "not a decimal; expected digits with an optional `.`, for example `12.50`".into()
        });
    }
    if frac.len() > 28 || int.len() > 20 {
        return Err("decimal has too many digits".into());
    }
    Decimal::from_str_exact(s).map_err(|e| format!("not a decimal: {e}"))
}

/// The common case of [`parse_decimal`], without its checks' cost: an optional `-`, then at most
/// 18 characters of digits with an optional `.` between two of them. `None` for anything else,
/// which the full parser then reads or rejects. A negative zero is left to the full parser too,
/// so both paths give the same value.
fn parse_short(b: &[u8]) -> Option<Decimal> {
    let (negative, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let (mut mantissa, mut scale, mut dot) = (0i64, 0u32, None);
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => mantissa = mantissa * 10 + i64::from(c - b'0'),
            b'.' if dot.is_none() && i > 0 && i + 1 < digits.len() => dot = Some(i),
            _ => return None,
        }
    }
    if negative && mantissa == 0 {
        return None;
    }
    if let Some(i) = dot {
        scale = (digits.len() - i - 1) as u32;
    }
    Some(Decimal::new(
        if negative { -mantissa } else { mantissa },
        scale,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    proptest! {
        #[test]
        fn short_path_agrees_with_the_full_parser(s in "-?[0-9]{1,12}(\\.[0-9]{1,10})?") {
            if let Some(fast) = parse_short(s.as_bytes()) {
                let full = Decimal::from_str_exact(&s).unwrap();
                prop_assert_eq!(fast, full);
                prop_assert_eq!(fast.scale(), full.scale());
                prop_assert_eq!(fast.is_sign_negative(), full.is_sign_negative());
            }
        }
    }

    #[test]
    fn parses_exactly() {
        assert_eq!(parse_decimal("12.34567891").unwrap(), d("12.34567891"));
        assert_eq!(parse_decimal("-0.5").unwrap(), d("-0.5"));
        assert_eq!(parse_decimal("100").unwrap(), d("100"));
        assert_eq!(parse_decimal(" 7.10 ").unwrap(), d("7.10"));
        for bad in [
            "", "-", "1,000.00", "12,5", "1e5", "abc", ".5", "5.", "1_000", "+5", "--1", "NaN",
        ] {
            assert!(parse_decimal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rounds_by_policy() {
        assert_eq!(round(d("0.125"), Rounding::HalfUp), d("0.13"));
        assert_eq!(round(d("0.125"), Rounding::HalfEven), d("0.12"));
        assert_eq!(round(d("0.135"), Rounding::HalfEven), d("0.14"));
        assert_eq!(round(d("0.129"), Rounding::Down), d("0.12"));
        assert_eq!(round(d("-0.125"), Rounding::HalfUp), d("-0.13"));
        assert_eq!(round(d("-0.129"), Rounding::Down), d("-0.12"));
        assert_eq!(format_2dp(round(d("-0.001"), Rounding::HalfUp)), "0.00");
    }

    #[test]
    fn prints_two_places() {
        assert_eq!(format_2dp(d("5")), "5.00");
        assert_eq!(format_2dp(d("-1234.5")), "-1234.50");
    }

    proptest! {
        #[test]
        fn round_trips_any_plain_decimal(int in 0u64..1_000_000_000_000, frac in 0u64..100_000_000, neg: bool) {
            let text = format!("{}{int}.{frac:08}", if neg { "-" } else { "" });
            let parsed = parse_decimal(&text).unwrap();
            prop_assert_eq!(parsed.scale(), 8);
            prop_assert_eq!(parsed.abs().to_string(), format!("{int}.{frac:08}"));
            if !parsed.is_zero() {
                prop_assert_eq!(parsed.is_sign_negative(), neg);
            }
        }

        #[test]
        fn rounding_moves_less_than_a_cent(units in -10_000_000_000i64..10_000_000_000) {
            let amount = Decimal::new(units, 8);
            for r in [Rounding::HalfUp, Rounding::HalfEven, Rounding::Down] {
                let rounded = round(amount, r);
                prop_assert!((rounded - amount).abs() < Decimal::new(1, 2));
                prop_assert!(rounded.scale() <= 2);
            }
        }
    }
}
