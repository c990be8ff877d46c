//! 大写金额: an amount in Chinese capital numerals, as statements and invoices print amounts due
//! (docs/outputs.md, PDFs), so that a figure cannot be altered by adding a stroke.
//!
//! The writing follows the rules banks apply to 中文大写金额 (《支付结算办法》 appendix):
//! - digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 within a group of four, 万 and 亿 between groups;
//!   `10` is 壹拾 (a capital amount never starts with a bare 拾);
//! - zeros inside the integer part are written as one 零, however many there are, and trailing
//!   zeros of a group are not written (`1,000,000` 壹佰万, `100,000,001` 壹亿零壹, `10,010`
//!   壹万零壹拾);
//! - an amount to the 元 ends with 整; one with 角 and no 分 ends with 角; a 分 with no 角 is
//!   written 零X分 after the 元 (`1.05` 壹元零伍分); a whole part of 0 is left out (`0.50` 伍角);
//! - 0 is 零元整, and a negative amount begins with 负.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
/// Units within a group of four digits, from the lowest.
const UNITS: [&str; 4] = ["", "拾", "佰", "仟"];
/// Units of the groups of four, from the lowest: up to 10^20.
const GROUPS: [&str; 5] = ["", "万", "亿", "万亿", "亿亿"];

/// `amount`, rounded to fen (half away from zero), in capital numerals.
pub fn capital(amount: Decimal) -> String {
    let fen = (amount.abs() * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_u128()
        .unwrap_or(0);
    if fen == 0 {
        return "零元整".to_string();
    }
    let mut out = String::new();
    if amount.is_sign_negative() {
        out.push('负');
    }
    let (yuan, jiao, fen) = (fen / 100, (fen / 10 % 10) as usize, (fen % 10) as usize);
    if yuan > 0 {
        out.push_str(&integer(yuan));
        out.push('元');
    }
    match (jiao, fen) {
        (0, 0) => out.push('整'),
        (j, 0) => {
            out.push(DIGITS[j]);
            out.push('角');
        }
        (0, f) => {
            if yuan > 0 {
                out.push('零');
            }
            out.push(DIGITS[f]);
            out.push('分');
        }
        (j, f) => {
            out.push(DIGITS[j]);
            out.push('角');
            out.push(DIGITS[f]);
            out.push('分');
        }
    }
    out
}

/// A whole number of yuan (> 0) in capital numerals, without 元. Groups of four digits are read
/// as a Chinese reader reads them: zeros ending a group are silent; zeros that begin a group, fill
/// a whole group, or stand between digits are one 零 before the next digit.
fn integer(n: u128) -> String {
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push((rest % 10_000) as usize);
        rest /= 10_000;
    }
    let mut out = String::new();
    // A zero passed since the last digit written that must be read before the next one.
    let mut zero = false;
    for (g, &group) in groups.iter().enumerate().rev() {
        if group == 0 {
            zero |= !out.is_empty();
            continue;
        }
        zero |= !out.is_empty() && group < 1000;
        let mut inner = false;
        for position in (0..4).rev() {
            let digit = group / 10usize.pow(position as u32) % 10;
            if digit == 0 {
                inner = true;
                continue;
            }
            if zero || (inner && !out.is_empty()) {
                out.push('零');
            }
            zero = false;
            inner = false;
            out.push(DIGITS[digit]);
            out.push_str(UNITS[position]);
        }
        out.push_str(group_unit(g, &groups));
    }
    out
}

/// The unit after group `g` (from the lowest): 万 and 亿 alternate, and a 万 of 亿 that no 亿
/// group follows is 万亿.
fn group_unit(g: usize, groups: &[usize]) -> &'static str {
    match g {
        0 => "",
        1 => "万",
        2 => "亿",
        3 if groups[2] == 0 => "万亿",
        3 => "万",
        _ => GROUPS[g.min(GROUPS.len() - 1)],
    }
}

#[cfg(test)]
mod tests {
    use super::capital;
    use rust_decimal::Decimal;

    fn c(s: &str) -> String {
        capital(s.parse::<Decimal>().unwrap())
    }

    #[test]
    fn whole_amounts_end_with_zheng() {
        assert_eq!(c("0"), "零元整");
        assert_eq!(c("0.00"), "零元整");
        assert_eq!(c("1"), "壹元整");
        assert_eq!(c("10"), "壹拾元整");
        assert_eq!(c("15"), "壹拾伍元整");
        assert_eq!(c("100"), "壹佰元整");
        assert_eq!(c("94.00"), "玖拾肆元整");
        assert_eq!(c("1000000"), "壹佰万元整");
        assert_eq!(c("100000000"), "壹亿元整");
    }

    #[test]
    fn zeros_inside_are_one_ling() {
        assert_eq!(c("101"), "壹佰零壹元整");
        assert_eq!(c("1001"), "壹仟零壹元整");
        assert_eq!(c("10010"), "壹万零壹拾元整");
        assert_eq!(c("100001"), "壹拾万零壹元整");
        assert_eq!(c("100000001"), "壹亿零壹元整");
        assert_eq!(c("10001000"), "壹仟万壹仟元整");
        assert_eq!(c("100001000"), "壹亿零壹仟元整");
        assert_eq!(c("101000000"), "壹亿零壹佰万元整");
        assert_eq!(c("1000000000000"), "壹万亿元整");
        assert_eq!(c("1020"), "壹仟零贰拾元整");
        assert_eq!(c("10000100"), "壹仟万零壹佰元整");
        assert_eq!(c("1010101"), "壹佰零壹万零壹佰零壹元整");
        assert_eq!(c("20000000.00"), "贰仟万元整");
        assert_eq!(c("12680.50"), "壹万贰仟陆佰捌拾元伍角");
        assert_eq!(
            c("1234567890123.45"),
            "壹万贰仟叁佰肆拾伍亿陆仟柒佰捌拾玖万零壹佰贰拾叁元肆角伍分"
        );
    }

    #[test]
    fn jiao_and_fen() {
        assert_eq!(c("6.93"), "陆元玖角叁分");
        assert_eq!(c("1.05"), "壹元零伍分");
        assert_eq!(c("1.50"), "壹元伍角");
        assert_eq!(c("0.50"), "伍角");
        assert_eq!(c("0.05"), "伍分");
        assert_eq!(c("0.55"), "伍角伍分");
        assert_eq!(c("507.07"), "伍佰零柒元零柒分");
        assert_eq!(c("40.25"), "肆拾元贰角伍分");
        assert_eq!(c("1680.32"), "壹仟陆佰捌拾元叁角贰分");
    }

    #[test]
    fn negatives_and_rounding() {
        assert_eq!(c("-0.01"), "负壹分");
        assert_eq!(c("-1200"), "负壹仟贰佰元整");
        assert_eq!(c("2.005"), "贰元零壹分");
        assert_eq!(c("-0.004"), "零元整");
    }
}
