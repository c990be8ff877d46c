//! `[issuer]` in `settle.toml`: who sends the month's documents (R9 in docs/rules.md), with the invoicing
//! details a partner needs to invoice it (R5, seed 002's 返佣结算开票).
//!
//! The issuer's identity comes from the dataset and from nowhere else: not from the working
//! directory, not from the templates, not from a built-in placeholder. A dataset without
//! `[issuer]` still runs; its documents say in their header that no issuer is configured, and
//! the run warns.

use std::path::{Component, Path};

use serde::Serialize;

use crate::error::DatasetError;
use crate::render::pdf::Image;

/// The issuer of the statements, as `settle.toml [issuer]` names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issuer {
    /// 发票抬头: the Chinese legal name, the title of the invoices partners issue to it.
    pub name_zh: String,
    pub name_en: String,
    /// 纳税人识别号 (统一社会信用代码).
    pub tax_id: String,
    pub address: String,
    pub phone: String,
    /// 开户行.
    pub bank: String,
    /// 账号.
    pub bank_account: String,
    /// 发票科目, such as 技术服务费.
    pub invoice_subject: String,
    /// A PNG inside the dataset folder, as written (relative to the folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// The logo, decoded when `settle.toml` is read ([`Issuer::load_logo`]).
    #[serde(skip)]
    pub logo_image: Option<Image>,
}

/// The keys of `[issuer]`, required ones first.
const REQUIRED: &[&str] = &[
    "name_zh",
    "name_en",
    "tax_id",
    "address",
    "phone",
    "bank",
    "bank_account",
    "invoice_subject",
];
const OPTIONAL: &[&str] = &["logo"];

/// An example of the table, for hints.
const EXAMPLE: &str = "[issuer]\nname_zh = \"…有限公司\"\nname_en = \"… Co., Ltd.\"\ntax_id = \"91110108…\"\n\
     address = \"…\"\nphone = \"010-…\"\nbank = \"…银行…支行\"\nbank_account = \"1109…\"\n\
     invoice_subject = \"技术服务费\"";

fn error(message: String, hint: &str) -> DatasetError {
    DatasetError::Settings {
        message,
        hint: Some(hint.to_string()),
    }
}

impl Issuer {
    /// Reads and checks `[issuer]`: every required key is a non-empty string, the tax id and the
    /// bank account have the characters such numbers have, and `logo` is a relative path to a
    /// `.png` that stays inside the dataset folder (that it is a PNG is checked by
    /// [`Issuer::load_logo`], which has the folder).
    pub fn parse(value: &toml::Value) -> Result<Issuer, DatasetError> {
        let Some(table) = value.as_table() else {
            return Err(error(
                "`issuer` must be a table".into(),
                &format!("write it as a table:\n{EXAMPLE}"),
            ));
        };
        if let Some(unknown) = table
            .keys()
            .find(|k| !REQUIRED.contains(&k.as_str()) && !OPTIONAL.contains(&k.as_str()))
        {
            let known = [REQUIRED, OPTIONAL].concat().join(", ");
            let hint = match crate::config::closest(unknown, &[REQUIRED, OPTIONAL].concat()) {
                Some(k) => format!("did you mean `{k}`? Known keys in `[issuer]`: {known}"),
                None => format!("known keys in `[issuer]`: {known}"),
            };
            return Err(error(format!("unknown key `issuer.{unknown}`"), &hint));
        }
        let text = |key: &str| -> Result<String, DatasetError> {
            match table.get(key) {
                None => Err(error(
                    format!("`[issuer]` has no `{key}`"),
                    &format!(
                        "`[issuer]` needs every one of {}; for example:\n{EXAMPLE}",
                        REQUIRED.join(", ")
                    ),
                )),
                Some(v) => v
                    .as_str()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .ok_or_else(|| {
                        error(
                            format!("`issuer.{key}` has a bad value `{v}`"),
                            "expected a non-empty string in double quotes",
                        )
                    }),
            }
        };
        let issuer = Issuer {
            name_zh: text("name_zh")?,
            name_en: text("name_en")?,
            tax_id: text("tax_id")?,
            address: text("address")?,
            phone: text("phone")?,
            bank: text("bank")?,
            bank_account: text("bank_account")?,
            invoice_subject: text("invoice_subject")?,
            logo: table.get("logo").map(|_| text("logo")).transpose()?,
            logo_image: None,
        };
        let tax_id_ok = issuer.tax_id.len() <= 30
            && issuer
                .tax_id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if !tax_id_ok {
            return Err(error(
                format!("`issuer.tax_id` has a bad value `{}`", issuer.tax_id),
                "expected the 纳税人识别号 as printed on the business licence: digits and capital \
                 letters, such as \"911101085636549482\"",
            ));
        }
        let account_ok = issuer.bank_account.len() <= 40
            && issuer
                .bank_account
                .chars()
                .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
        if !account_ok {
            return Err(error(
                format!(
                    "`issuer.bank_account` has a bad value `{}`",
                    issuer.bank_account
                ),
                "expected the account number alone, digits (spaces and `-` allowed), such as \
                 \"110907316810601\"; the bank's name goes in `issuer.bank`",
            ));
        }
        if let Some(logo) = &issuer.logo {
            let path = Path::new(logo);
            let inside = path
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
            let png = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("png"));
            if !inside || !png {
                return Err(error(
                    format!("`issuer.logo` has a bad value `{logo}`"),
                    "expected a `.png` file inside the dataset folder, given relative to it, \
                     such as \"logo.png\"",
                ));
            }
        }
        Ok(issuer)
    }

    /// Reads the logo, if any, from the dataset folder `dir`: a PNG that
    /// [`Image::from_png`] reads.
    pub fn load_logo(&mut self, dir: &Path) -> Result<(), DatasetError> {
        let Some(logo) = &self.logo else {
            return Ok(());
        };
        let path = dir.join(logo);
        let bytes = std::fs::read(&path).map_err(|e| {
            error(
                format!("`issuer.logo`: cannot read `{}`: {e}", path.display()),
                "put the PNG in the dataset folder, or remove `logo` from `[issuer]`",
            )
        })?;
        let image = Image::from_png(&bytes).map_err(|why| {
            error(
                format!("`issuer.logo`: `{}`: {why}", path.display()),
                "save the logo as an 8-bit RGB or RGBA PNG (not interlaced, no palette), or \
                 remove `logo` from `[issuer]`",
            )
        })?;
        self.logo_image = Some(image);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "[issuer]\nname_zh = \"示例云计算（北京）有限责任公司\"\n\
        name_en = \"Example Cloud (Beijing) Co., Ltd.\"\ntax_id = \"911101085636549482\"\n\
        address = \"北京市海淀区示例路10号\"\nphone = \"010-82170000\"\n\
        bank = \"招商银行北京分行上地支行\"\nbank_account = \"110907316810601\"\n\
        invoice_subject = \"技术服务费\"\n";

    fn parse(text: &str) -> Result<Issuer, String> {
        let table: toml::Table = text.parse().expect("TOML");
        Issuer::parse(&table["issuer"]).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_every_key() {
        let i = parse(FULL).unwrap();
        assert_eq!(i.tax_id, "911101085636549482");
        assert_eq!(i.bank_account, "110907316810601");
        assert_eq!(i.logo, None);
        let i = parse(&format!("{FULL}logo = \"brand/logo.png\"\n")).unwrap();
        assert_eq!(i.logo.as_deref(), Some("brand/logo.png"));
    }

    #[test]
    fn a_missing_key_is_named_with_an_example() {
        let text = FULL.replace("bank = \"招商银行北京分行上地支行\"\n", "");
        let e = parse(&text).unwrap_err();
        assert!(
            e.starts_with("`settle.toml`: `[issuer]` has no `bank`\nhint: "),
            "{e}"
        );
        assert!(e.contains("invoice_subject = "), "{e}");
    }

    #[test]
    fn bad_values_are_named() {
        let e = parse(&FULL.replace("\"110907316810601\"", "\"招商银行 1109\"")).unwrap_err();
        assert!(e.contains("`issuer.bank_account` has a bad value"), "{e}");
        let e = parse(&FULL.replace("\"911101085636549482\"", "\"9111 0108\"")).unwrap_err();
        assert!(e.contains("`issuer.tax_id`"), "{e}");
        let e = parse(&FULL.replace("\"技术服务费\"", "\"  \"")).unwrap_err();
        assert!(e.contains("`issuer.invoice_subject`"), "{e}");
        let e = parse(&format!("{FULL}nmae_en = \"x\"\n")).unwrap_err();
        assert!(e.contains("unknown key `issuer.nmae_en`"), "{e}");
        assert!(e.contains("did you mean `name_en`?"), "{e}");
        for logo in ["../logo.png", "/etc/logo.png", "logo.jpg"] {
            let e = parse(&format!("{FULL}logo = \"{logo}\"\n")).unwrap_err();
            assert!(e.contains("`issuer.logo` has a bad value"), "{logo}: {e}");
        }
    }

    #[test]
    fn the_logo_must_be_a_png_in_the_folder() {
        let dir = std::env::temp_dir().join(format!("settle-logo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let i = parse(&format!("{FULL}logo = \"logo.png\"\n")).unwrap();
        let mut i = i;
        assert!(
            i.load_logo(&dir)
                .unwrap_err()
                .to_string()
                .contains("cannot read")
        );
        std::fs::write(dir.join("logo.png"), b"GIF89a").unwrap();
        assert!(
            i.load_logo(&dir)
                .unwrap_err()
                .to_string()
                .contains("not a PNG")
        );
        std::fs::write(dir.join("logo.png"), b"\x89PNG\r\n\x1a\nrest").unwrap();
        assert!(
            i.load_logo(&dir)
                .unwrap_err()
                .to_string()
                .contains("no IHDR")
        );
        let png = crate::render::pdf::image_tests::png(2, 1, 2, &[1, 2, 3, 4, 5, 6], 0);
        std::fs::write(dir.join("logo.png"), png).unwrap();
        i.load_logo(&dir).unwrap();
        assert_eq!(i.logo_image.as_ref().map(|l| l.samples.len()), Some(6));
        let _ = std::fs::remove_dir_all(dir);
    }
}
