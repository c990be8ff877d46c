//! Which of the month's two periods a figure covers: its usage or its deductions (R1).
//!
//! One enum for one decision. `settle.toml`'s `rebate_basis` picks the period rebates are counted
//! in; `manifest.json`'s conservation checks name the period each sum covers; the statements'
//! labels say which one they were counted in. All three spell a value the same way, from
//! [`Basis::as_str`].

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// The usage period (the month of `charge_start`) or the deduction period (the month of
/// `deducted_at`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    #[default]
    Usage,
    Deduction,
}

impl Basis {
    pub const NAMES: &'static [&'static str] = &["usage", "deduction"];

    /// The value's one spelling: `usage` or `deduction`.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The period itself, as the outputs name it in their columns and keys
    /// (`usage_period_amount`, the manifest's `usage_period`).
    pub fn period(self) -> &'static str {
        ["usage_period", "deduction_period"][self as usize]
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Basis {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "usage" => Ok(Basis::Usage),
            "deduction" => Ok(Basis::Deduction),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Basis;

    #[test]
    fn one_spelling_each_way() {
        for b in [Basis::Usage, Basis::Deduction] {
            assert_eq!(b.as_str().parse::<Basis>(), Ok(b));
            assert_eq!(serde_json::to_string(&b).expect("json"), format!("\"{b}\""));
        }
        assert!("usage_period".parse::<Basis>().is_err());
    }
}
