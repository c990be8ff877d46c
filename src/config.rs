//! `settle.toml`: the dataset's settings, with the contract's defaults.
//!
//! Settings are read once and validated here; nothing downstream re-checks them. An unknown key or
//! a bad value is an error that names the key and says what would be accepted.

use std::path::Path;
use std::str::FromStr;

use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::DatasetError;
use crate::model::basis::Basis;
use crate::model::money::{Rounding, parse_decimal};

pub mod issuer;

pub use issuer::Issuer;

/// The validated contents of `settle.toml`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    #[serde(serialize_with = "serialize_tz")]
    pub timezone: Tz,
    pub rounding: Rounding,
    pub rebate_basis: Basis,
    #[serde(with = "rust_decimal::serde::str")]
    pub ordinary_invoice_tax_rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub cod_threshold: Decimal,
    pub invoice_due_days: i64,
    #[serde(with = "rust_decimal::serde::str")]
    pub reconcile_tolerance: Decimal,
    pub base_currency: String,
    /// The `[exports]` table: how the files in `exports/` are read. Absent from the manifest
    /// when left at its defaults.
    #[serde(skip_serializing_if = "ExportSettings::is_default")]
    pub exports: ExportSettings,
    /// The `[issuer]` table: who sends the documents (R9). Absent when not configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<Issuer>,
}

/// The cloud bill export formats, written once: each variant with its spelling in
/// `settle.toml` and the manifest, in the order settle tries and lists them.
macro_rules! export_formats {
    ($($variant:ident = $name:literal),+ $(,)?) => {
        /// The cloud bill export formats `exports/` may hold.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ExportFormat {
            $($variant),+
        }

        impl ExportFormat {
            pub const NAMES: &'static [&'static str] = &[$($name),+];
            pub const ALL: &'static [ExportFormat] = &[$(ExportFormat::$variant),+];
        }
    };
}

export_formats! {
    Focus = "focus",
    Alibaba = "alibaba",
    Tencent = "tencent",
    Huawei = "huawei",
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// `[exports]` in `settle.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExportSettings {
    /// Read every export file as this format instead of recognising it from its header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<ExportFormat>,
    /// The account of export files that name none (a single-account Tencent export).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

impl ExportSettings {
    pub fn is_default(&self) -> bool {
        *self == ExportSettings::default()
    }

    fn parse(value: &toml::Value) -> Result<ExportSettings, DatasetError> {
        let bad = |key: &str, value: &toml::Value, expected: &str| DatasetError::Settings {
            message: format!("`exports.{key}` has a bad value `{value}`"),
            hint: Some(format!("expected {expected}")),
        };
        let Some(table) = value.as_table() else {
            return Err(DatasetError::Settings {
                message: "`exports` must be a table".into(),
                hint: Some("write it as `[exports]` followed by `format = \"focus\"`".into()),
            });
        };
        let mut s = ExportSettings::default();
        for (key, value) in table {
            match key.as_str() {
                "format" => {
                    s.format = value
                        .as_str()
                        .and_then(|v| ExportFormat::ALL.iter().copied().find(|f| f.as_str() == v))
                        .map(Some)
                        .ok_or_else(|| bad(key, value, &one_of(ExportFormat::NAMES)))?;
                }
                "account_id" => {
                    s.account_id = value
                        .as_str()
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(|v| Some(v.to_string()))
                        .ok_or_else(|| bad(key, value, "an account id as a string"))?;
                }
                other => {
                    return Err(DatasetError::Settings {
                        message: format!("unknown key `exports.{other}`"),
                        hint: Some("known keys in `[exports]`: format, account_id".into()),
                    });
                }
            }
        }
        Ok(s)
    }
}

fn serialize_tz<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timezone: chrono_tz::Asia::Shanghai,
            rounding: Rounding::HalfUp,
            rebate_basis: Basis::Usage,
            ordinary_invoice_tax_rate: Decimal::new(6, 2),
            cod_threshold: Decimal::new(50, 0),
            invoice_due_days: 7,
            reconcile_tolerance: Decimal::new(1, 2),
            base_currency: "CNY".into(),
            exports: ExportSettings::default(),
            issuer: None,
        }
    }
}

const KEYS: &[&str] = &[
    "timezone",
    "rounding",
    "rebate_basis",
    "ordinary_invoice_tax_rate",
    "cod_threshold",
    "invoice_due_days",
    "reconcile_tolerance",
    "base_currency",
    "exports",
    "issuer",
];

impl Settings {
    /// Reads `settle.toml` from a dataset folder. A missing file means every default.
    pub fn load(dir: &Path) -> Result<Settings, DatasetError> {
        let path = dir.join("settle.toml");
        // Only plain absence means every default: a dangling link or a FIFO is an error.
        if crate::ingest::presence::probe(&path)? == crate::ingest::presence::Presence::Absent {
            return Ok(Settings::default());
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let mut settings = Settings::parse(&text)?;
                if let Some(issuer) = &mut settings.issuer {
                    issuer.load_logo(dir)?;
                }
                Ok(settings)
            }
            Err(source) => Err(DatasetError::Io { path, source }),
        }
    }

    pub fn parse(text: &str) -> Result<Settings, DatasetError> {
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| DatasetError::Settings {
                    message: e.message().to_string(),
                    hint: Some(
                        "the file must be TOML, for example `timezone = \"Asia/Shanghai\"`".into(),
                    ),
                })?;
        let mut s = Settings::default();
        for (key, value) in &table {
            let bad = |expected: &str| DatasetError::Settings {
                message: format!("`{key}` has a bad value `{value}`"),
                hint: Some(format!("expected {expected}")),
            };
            match key.as_str() {
                "timezone" => {
                    s.timezone = value
                        .as_str()
                        .and_then(|v| Tz::from_str(v).ok())
                        .ok_or_else(|| bad("an IANA timezone name such as \"Asia/Shanghai\""))?;
                }
                "rounding" => {
                    s.rounding = value
                        .as_str()
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| bad(&one_of(Rounding::NAMES)))?;
                }
                "rebate_basis" => {
                    s.rebate_basis = value
                        .as_str()
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| bad(&one_of(Basis::NAMES)))?;
                }
                "ordinary_invoice_tax_rate" => {
                    s.ordinary_invoice_tax_rate = decimal(value)
                        .filter(|d| (Decimal::ZERO..=Decimal::ONE).contains(d))
                        .ok_or_else(|| bad("a rate from 0 to 1, such as 0.06"))?;
                }
                "cod_threshold" => {
                    s.cod_threshold = decimal(value)
                        .filter(|d| !d.is_sign_negative())
                        .ok_or_else(|| bad("an amount of 0 or more, such as 50"))?;
                }
                "invoice_due_days" => {
                    s.invoice_due_days = value
                        .as_integer()
                        .filter(|d| (0..=3650).contains(d))
                        .ok_or_else(|| bad("a whole number of days, such as 7"))?;
                }
                "reconcile_tolerance" => {
                    s.reconcile_tolerance = decimal(value)
                        .filter(|d| !d.is_sign_negative())
                        .ok_or_else(|| bad("an amount of 0 or more, such as 0.01"))?;
                }
                "base_currency" => {
                    s.base_currency = value
                        .as_str()
                        .filter(|v| is_currency(v))
                        .map(str::to_string)
                        .ok_or_else(|| bad("a 3-letter ISO 4217 code such as \"CNY\""))?;
                }
                "exports" => s.exports = ExportSettings::parse(value)?,
                "issuer" => s.issuer = Some(Issuer::parse(value)?),
                other => {
                    let hint = match closest(other, KEYS) {
                        Some(k) => format!("did you mean `{k}`? Known keys: {}", KEYS.join(", ")),
                        None => format!("known keys: {}", KEYS.join(", ")),
                    };
                    return Err(DatasetError::Settings {
                        message: format!("unknown key `{other}`"),
                        hint: Some(hint),
                    });
                }
            }
        }
        Ok(s)
    }
}

/// A decimal written as a TOML number or string. Floats are read from their shortest text, so
/// `0.06` is exactly 0.06.
fn decimal(value: &toml::Value) -> Option<Decimal> {
    match value {
        toml::Value::Integer(i) => Some(Decimal::from(*i)),
        toml::Value::Float(f) => parse_decimal(&f.to_string()).ok(),
        toml::Value::String(s) => parse_decimal(s).ok(),
        _ => None,
    }
}

/// An ISO 4217 code: three ASCII capital letters.
pub fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// "one of `a`, `b` or `c`".
pub fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("one of {} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// The known name within edit distance 3 of `name`, for "did you mean" hints.
pub fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_empty() {
        assert_eq!(Settings::parse("").unwrap(), Settings::default());
    }

    #[test]
    fn reads_every_key() {
        let s = Settings::parse(
            "timezone = \"Europe/Berlin\"\nrounding = \"half_even\"\nrebate_basis = \"deduction\"\n\
             ordinary_invoice_tax_rate = 0.06\ncod_threshold = 50\ninvoice_due_days = 10\n\
             reconcile_tolerance = \"0.05\"\nbase_currency = \"USD\"\n",
        )
        .unwrap();
        assert_eq!(s.timezone, chrono_tz::Europe::Berlin);
        assert_eq!(s.rounding, Rounding::HalfEven);
        assert_eq!(s.rebate_basis, Basis::Deduction);
        assert_eq!(s.ordinary_invoice_tax_rate.to_string(), "0.06");
        assert_eq!(s.invoice_due_days, 10);
        assert_eq!(s.reconcile_tolerance.to_string(), "0.05");
        assert_eq!(s.base_currency, "USD");
    }

    #[test]
    fn unknown_key_suggests() {
        let e = Settings::parse("timezon = \"UTC\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("`settle.toml`: unknown key `timezon`\nhint: did you mean `timezone`?"),
            "{e}"
        );
    }

    #[test]
    fn bad_value_hints() {
        let e = Settings::parse("rounding = \"up\"")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "`settle.toml`: `rounding` has a bad value `\"up\"`\nhint: expected one of `half_up`, `half_even` or `down`"
        );
        assert!(Settings::parse("timezone = \"Mars/Olympus\"").is_err());
    }
}
