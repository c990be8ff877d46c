//! Amounts as the portal's pages print them: `1234567.80` reads `1,234,567.80`.
//!
//! Display only. The CSVs keep their plain decimals (a spreadsheet or a script reads them), and
//! the page turns the text it read, or a total it summed exactly, into grouped digits; nothing is
//! rounded or parsed into a float on the way. A cell that is not a plain decimal is shown as it
//! is.

use rust_decimal::Decimal;

/// `text` with its integer digits grouped by three (`-12345.6` → `-12,345.6`), or `text` as it
/// is when it is not a plain decimal (an id, an empty cell, `1e5`).
pub fn grouped(text: &str) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let plain = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit()));
    if !plain {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// A total, grouped, with at least two decimals (`1234.5` → `1,234.50`).
pub fn amount(value: Decimal) -> String {
    let mut v = value;
    if v.scale() < 2 {
        v.rescale(2);
    }
    grouped(&v.to_string())
}

/// A count, grouped (`12345` → `12,345`).
pub fn count(n: u64) -> String {
    grouped(&n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_by_three_and_the_rest_is_kept() {
        for (text, want) in [
            ("0.00", "0.00"),
            ("999.99", "999.99"),
            ("1000", "1,000"),
            ("1234567.80", "1,234,567.80"),
            ("-51.35", "-51.35"),
            ("-123456.789", "-123,456.789"),
            ("+1000.5", "1,000.5"),
            (
                "12345678901234567890.12345678",
                "12,345,678,901,234,567,890.12345678",
            ),
        ] {
            assert_eq!(grouped(text), want, "{text}");
        }
        for text in [
            "",
            "-",
            "p-01",
            "1e5",
            "1,000",
            ".5",
            "1.2.3",
            "NaN",
            "１２３",
        ] {
            assert_eq!(grouped(text), text, "{text}");
        }
    }

    #[test]
    fn totals_print_two_decimals_at_least() {
        let d = |s: &str| Decimal::from_str_exact(s).expect("a decimal");
        assert_eq!(amount(d("1234.5")), "1,234.50");
        assert_eq!(amount(d("0")), "0.00");
        assert_eq!(amount(d("-9876543.21")), "-9,876,543.21");
        assert_eq!(amount(d("14045.12722162")), "14,045.12722162");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
