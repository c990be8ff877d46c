//! The PDF documents: rebate statements, rollup statements, the invoice list, the
//! reconciliation report and a restatement's supplementary statements. Each prints the same rounded figures as its CSV, and is written to the
//! destination it is given page by page as it is laid out.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::config::Issuer;
use crate::model::money::format_2dp;
use crate::model::period::Period;
use crate::model::records::{Id, InvoiceKind};
use crate::model::time::Timestamp;
use crate::render::capital::capital;
use crate::render::pdf::{Column, Doc, Font, Letterhead, Row, grouped};
use crate::render::template::Templates;
use crate::rules::rollup::RollupStatus;
use crate::view::bridge::Walk;
use crate::view::invoices::InvoiceRow;
use crate::view::reconciliation::{AccountTotal, FindingRow, KindTotal};
use crate::view::rollups::{MasterView, PAYABLE, RowKind};
use crate::view::statements::{StatementView, Total, TotalKey};
use crate::view::supplement::SupplementView;
use crate::view::{self, Figure};
use rust_decimal::Decimal;

/// What every document shares.
pub struct Context<'a> {
    pub templates: &'a Templates,
    pub font: &'a Font,
    pub period: &'a Period,
    /// `settle.toml [issuer]`; `None` prints that no issuer is configured.
    pub issuer: Option<&'a Issuer>,
    /// The issue date of a month of record, `YYYY-MM-DD`, printed on every page; `None` for a
    /// draft, whose every page is marked 草稿 DRAFT instead (R9).
    pub issued_on: Option<&'a str>,
}

impl Context<'_> {
    fn label(&self, key: &str) -> String {
        self.templates.label(key).to_string()
    }

    /// A code's bilingual label, `<group>_<code>` in `labels.toml`.
    fn code(&self, group: &str, code: &str) -> String {
        self.label(&format!("{group}_{code}"))
    }

    fn footer(&self) -> String {
        let generated = self
            .templates
            .label("generated")
            .replace("{as_of}", &self.period.as_of.format_local(self.period.tz))
            .replace("{period}", &self.period.month.to_string())
            .replace("{version}", env!("CARGO_PKG_VERSION"));
        match self.issued_on {
            Some(_) => format!("{} · {generated}", self.state()),
            None => generated,
        }
    }

    /// What the document is (R9): its issue date in a month of record, else the draft mark.
    pub fn state(&self) -> String {
        match self.issued_on {
            Some(date) => self.templates.label("issued_on").replace("{date}", date),
            None => self.templates.label("draft_mark").to_string(),
        }
    }

    /// What page 1 opens with: the issuer from `settle.toml`, or that none is configured.
    fn letterhead(&self) -> Letterhead<'_> {
        match self.issuer {
            Some(i) => Letterhead {
                name: i.name_zh.clone(),
                name_en: i.name_en.clone(),
                lines: vec![
                    i.address.clone(),
                    format!(
                        "{}: {} · {}: {}",
                        self.label("phone"),
                        i.phone,
                        self.label("tax_id"),
                        i.tax_id
                    ),
                ],
                logo: i.logo_image.as_ref(),
            },
            None => Letterhead {
                name: self.label("no_issuer"),
                name_en: String::new(),
                lines: vec![self.label("no_issuer_hint")],
                logo: None,
            },
        }
    }

    /// A document titled by the label `title_key`; each later page opens with `running`.
    fn doc<'d>(&'d self, title_key: &str, running: &[String], out: &'d mut dyn Write) -> Doc<'d> {
        let title = self.templates.label(title_key);
        let mut line = vec![title.to_string()];
        line.extend(running.iter().cloned());
        let mut doc = Doc::new(
            self.templates,
            self.font,
            title,
            &self.letterhead(),
            line.join(" · "),
            out,
        );
        if self.issued_on.is_none() {
            doc.mark(self.label("draft_mark"));
        }
        doc
    }
}

/// Money as the PDFs print it: 2 decimals, thousands separators.
fn money(amount: Figure) -> String {
    grouped(&amount.plain())
}

/// The month with its date range: `2026-10（2026-10-01 – 2026-10-31）`.
fn period_range(period: &Period) -> String {
    let date = |t: Timestamp| {
        t.format_local(period.tz)
            .get(..10)
            .unwrap_or_default()
            .to_string()
    };
    format!(
        "{}（{} – {}）",
        period.month,
        date(period.start),
        date(Timestamp(period.end.0 - 1))
    )
}

/// A rate as a percentage: `0.035` → `3.5%`.
fn percent(rate: Decimal) -> String {
    format!("{}%", (rate * Decimal::ONE_HUNDRED).normalize())
}

/// An amount due in capital numerals, with its currency: `人民币陆元玖角叁分`, `USD 壹拾贰元玖角柒分`.
fn in_words(amount: Figure, currency: &str) -> String {
    let words = capital(amount.value());
    if currency == "CNY" {
        format!("人民币{words}")
    } else {
        format!("{currency} {words}")
    }
}

/// `statements/<partner_id>.pdf`, the 返佣结算单 of seed 002: for each currency, the statement's
/// number, period, partner and lines; the totals with the tax-deduction rate and the net in
/// figures and in capital numerals; the payout, with the arrears that hold a withheld one; and
/// the invoice the partner issues, of its own kind, with the issuer's invoicing details. Both
/// parties' stamp boxes close the last section, on the page of its totals. Every later page opens
/// with the document, its number, the partner, the period and the currency.
pub fn statement(
    cx: &Context,
    partner_id: &str,
    statements: &[StatementView],
    walks: &[Walk],
    out: &mut dyn Write,
) -> io::Result<()> {
    let Some(first) = statements.first() else {
        return Ok(());
    };
    let party = format!("{} ({partner_id})", first.summary.partner_name);
    let number = format!("{} {}", cx.label("document_no"), first.summary.document_no);
    let month = cx.period.month.to_string();
    let running = |currency: &str| {
        vec![
            number.clone(),
            party.clone(),
            month.clone(),
            currency.to_string(),
        ]
    };
    let mut doc = cx.doc("statement_title", &running(first.summary.currency), out);
    for (i, s) in statements.iter().enumerate() {
        let c = s.summary.currency;
        let mut line = vec![cx.label("statement_title")];
        line.extend(running(c));
        doc.running(line.join(" · "));
        if i > 0 {
            doc.new_page();
        }
        let kind = invoice_kind(cx, s.invoice_kind);
        doc.fields(&[
            (cx.label("document_no"), s.summary.document_no.clone()),
            (cx.label("period"), period_range(cx.period)),
            (cx.label("partner"), party.clone()),
            (cx.label("currency"), c.to_string()),
            (cx.label("tier"), s.tier.to_string()),
            (
                cx.label("basis"),
                cx.label(&format!("basis_{}", cx.period.basis)),
            ),
            (cx.label("invoice_kind"), kind.clone()),
        ]);
        doc.space(3.0);
        if s.lines.is_empty() {
            doc.paragraph(&cx.label("no_lines"));
        } else {
            let columns = [
                Column::id(&cx.label("account_id"), 1.2),
                Column::left(&cx.label("account_name"), 2.3),
                Column::left(&cx.label("product"), 0.9),
                Column::left(&cx.label("sub_product"), 0.9),
                Column::left(&cx.label("payment_mode"), 0.9),
                Column::right(&cx.label("base_amount"), 1.3),
                Column::right(&cx.label("rate"), 0.8),
                Column::left(&cx.label("rate_source"), 0.8),
                Column::right(&cx.label("rebate_amount"), 1.2),
            ];
            let rows = s.lines.iter().map(|l| {
                Row::body(vec![
                    l.account_id.to_string(),
                    l.account_name.to_string(),
                    l.product.to_string(),
                    l.sub_product.to_string(),
                    cx.code("mode", l.payment_mode.as_str()),
                    money(l.base_amount),
                    percent(l.rate),
                    cx.code("rate_source", l.rate_source.as_str()),
                    money(l.rebate_amount),
                ])
            });
            doc.fitted_table(&columns, rows.collect());
        }
        // The totals, the invoice and (last) the stamp boxes stay on one page.
        let last = i + 1 == statements.len();
        doc.keep(if last { 140.0 } else { 100.0 });
        let totals = totals(cx, s);
        doc.totals(&totals);
        doc.space(2.0);
        payout(cx, s, &mut doc);
        invoice(cx, s, &kind, &mut doc);
    }
    doc.stamp_boxes(&[cx.label("issuer_stamp"), cx.label("stamp")]);
    for w in walks {
        doc.space(6.0);
        doc.keep(90.0);
        doc.heading(&format!("{} · {}", cx.label("walk_title"), w.currency));
        doc.paragraph(&cx.label("walk_intro"));
        doc.totals(&walk_steps(cx, w));
    }
    doc.finish(&cx.footer(), cx.period.as_of)
}

/// A supplementary statement (补结算单, R9): what amends the partner's statement of record, per
/// currency its totals and then its changed lines, each of record, restated and the difference.
pub fn supplement(cx: &Context, s: &SupplementView, out: &mut dyn Write) -> io::Result<()> {
    let party = format!("{} ({})", s.partner_name, s.partner_id);
    let running = vec![
        format!("{} {}", cx.label("document_no"), s.number),
        party.clone(),
        cx.period.month.to_string(),
    ];
    let mut doc = cx.doc("supplement_title", &running, out);
    let amends = if s.amends.is_empty() {
        cx.label("amends_none")
    } else {
        s.amends.clone()
    };
    doc.fields(&[
        (cx.label("document_no"), s.number.clone()),
        (cx.label("amends"), amends),
        (cx.label("restatement"), format!("r{}", s.restatement)),
        (cx.label("period"), period_range(cx.period)),
        (cx.label("partner"), party),
    ]);
    doc.space(3.0);
    doc.paragraph(&cx.label("supplement_intro"));
    let three = |t: &[String; 3]| t.iter().map(|v| grouped_or_blank(v)).collect::<Vec<_>>();
    for t in &s.totals {
        doc.heading(&format!(
            "{} · {}",
            cx.label("supplement_totals"),
            t.currency
        ));
        let columns = [
            Column::left(&cx.label("item"), 2.0),
            Column::right(&cx.label("of_record"), 1.2),
            Column::right(&cx.label("restated"), 1.2),
            Column::right(&cx.label("difference"), 1.2),
        ];
        let mut rows: Vec<Row> = t
            .figures
            .iter()
            .map(|(key, v)| {
                let mut cells = vec![cx.label(key)];
                cells.extend(three(v));
                Row::body(cells)
            })
            .collect();
        let status = |code: &str| {
            if code.is_empty() {
                String::new()
            } else {
                cx.code("payout", code)
            }
        };
        rows.push(Row::body(vec![
            cx.label("payout_status"),
            status(&t.status[0]),
            status(&t.status[1]),
            String::new(),
        ]));
        doc.fitted_table(&columns, rows);
    }
    doc.heading(&cx.label("supplement_lines"));
    if s.lines.is_empty() {
        doc.paragraph(&cx.label("no_lines"));
    } else {
        let columns = [
            Column::left(&cx.label("change"), 0.8),
            Column::id(&cx.label("account_id"), 1.2),
            Column::left(&cx.label("account_name"), 1.9),
            Column::left(&cx.label("product"), 0.9),
            Column::left(&cx.label("payment_mode"), 0.8),
            Column::id(&cx.label("currency"), 0.6),
            Column::right(&cx.label("base_of_record"), 1.1),
            Column::right(&cx.label("base_restated"), 1.1),
            Column::right(&cx.label("rebate_of_record"), 1.0),
            Column::right(&cx.label("rebate_restated"), 1.0),
            Column::right(&cx.label("rebate_difference"), 1.0),
        ];
        let rows = s.lines.iter().map(|l| {
            let product = if l.sub_product.is_empty() {
                l.product.clone()
            } else {
                format!("{} / {}", l.product, l.sub_product)
            };
            Row::body(vec![
                cx.code("change", &l.change),
                l.account_id.clone(),
                l.account_name.clone(),
                product,
                cx.code("mode", &l.payment_mode),
                l.currency.clone(),
                grouped_or_blank(&l.base[0]),
                grouped_or_blank(&l.base[1]),
                grouped_or_blank(&l.rebate[0]),
                grouped_or_blank(&l.rebate[1]),
                grouped_or_blank(&l.rebate[2]),
            ])
        });
        doc.fitted_table(&columns, rows.collect());
    }
    doc.keep(60.0);
    doc.stamp_boxes(&[cx.label("issuer_stamp"), cx.label("stamp")]);
    doc.finish(&cx.footer(), cx.period.as_of)
}

/// A CSV figure as printed, with thousands separators; an empty cell (no such row on that side)
/// stays empty.
fn grouped_or_blank(v: &str) -> String {
    if v.is_empty() {
        String::new()
    } else {
        grouped(v)
    }
}

/// A statement's walk as printed (R10): each step with its operator, turned round for a negative
/// amount so that no `+ -` is printed; a result as `= …`. The base and the results are 2-decimal
/// figures; the exact rebate and its rounding print every decimal they have.
fn walk_steps(cx: &Context, w: &Walk) -> Vec<(String, String)> {
    let steps = view::bridge::steps(w);
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let exact = matches!(step.key, "walk_exact" | "walk_rounding_2dp");
            let shown = |d: Decimal| {
                if exact {
                    d.normalize().to_string()
                } else {
                    grouped(&format_2dp(d))
                }
            };
            let value = if step.result {
                format!("= {}", shown(step.amount))
            } else if i == 0 || step.key == "walk_exact" {
                shown(step.amount)
            } else if step.amount.is_sign_negative() && !step.amount.is_zero() {
                format!("− {}", shown(-step.amount))
            } else {
                format!("+ {}", shown(step.amount))
            };
            (cx.label(step.key), value)
        })
        .collect()
}

/// The bilingual name of an invoice kind.
fn invoice_kind(cx: &Context, kind: InvoiceKind) -> String {
    match kind {
        InvoiceKind::Ordinary => cx.label("kind_ordinary"),
        InvoiceKind::Special => cx.label("kind_special"),
    }
}

/// The totals block: each figure of the view, the tax deduction with its rate, and the net in
/// capital numerals after the net.
fn totals(cx: &Context, s: &StatementView) -> Vec<(String, String)> {
    let c = s.summary.currency;
    let mut out = Vec::new();
    for &(key, value) in &s.totals {
        let label = match (key, s.tax_rate) {
            (TotalKey::TaxDeduction, Some(rate)) => cx
                .label("tax_deduction_rate")
                .replace("{rate}", &percent(rate)),
            _ => cx.label(key.as_str()),
        };
        let value = match value {
            Total::Amount(amount) => format!("{} {c}", money(amount)),
            Total::Status(status) => cx.code("payout", status.as_str()),
        };
        out.push((label, value));
        if key == TotalKey::NetRebate {
            out.push((cx.label("in_words"), in_words(s.summary.net_rebate, c)));
        }
    }
    out
}

/// A withheld statement's arrears, and that the payout waits on them (R5, seed 002 FAQ 1).
fn payout(cx: &Context, s: &StatementView, doc: &mut Doc) {
    if let Some(arrears) = s.arrears {
        let amount = format!("{} {}", money(arrears), cx.period.base_currency);
        doc.list(&[(cx.label("arrears"), amount.clone())]);
        doc.paragraph(&cx.label("withheld_note").replace("{arrears}", &amount));
    }
}

/// The invoice the partner issues to the issuer: of the partner's own kind, for the net rebate,
/// with the issuer's invoicing details; due when the payout is released for a withheld
/// statement, and not needed for a net of 0.
fn invoice(cx: &Context, s: &StatementView, kind: &str, doc: &mut Doc) {
    let c = s.summary.currency;
    doc.heading(&cx.label("invoice_heading"));
    if s.summary.net_rebate.is_zero() {
        doc.paragraph(&cx.label("invoice_not_needed"));
        return;
    }
    let when = if s.arrears.is_some() {
        cx.label("invoice_when_released")
    } else {
        cx.label("invoice_request")
    };
    doc.paragraph(&when);
    if let Some(rate) = s.tax_rate {
        doc.paragraph(&cx.label("ordinary_note").replace("{rate}", &percent(rate)));
    }
    let amount = format!("{} {c}", money(s.summary.net_rebate));
    let mut pairs = vec![
        (cx.label("invoice_kind"), kind.to_string()),
        (cx.label("invoice_amount"), amount),
        (cx.label("in_words"), in_words(s.summary.net_rebate, c)),
    ];
    match cx.issuer {
        Some(i) => pairs.extend([
            (cx.label("invoice_subject"), i.invoice_subject.clone()),
            (cx.label("invoice_title"), i.name_zh.clone()),
            (cx.label("tax_id"), i.tax_id.clone()),
            (
                cx.label("address_phone"),
                format!("{} {}", i.address, i.phone),
            ),
            (
                cx.label("bank_account"),
                format!("{} {}", i.bank, i.bank_account),
            ),
        ]),
        None => pairs.push((cx.label("invoice_title"), cx.label("no_issuer"))),
    }
    doc.list(&pairs);
}

/// `rollups/<master_id>.pdf`: the master's hosted children's lines, subtotals and totals; each
/// rolled-up total is followed by its payable's rounding adjustment and the hosting invoice's
/// amount, which closes the document with its capital numerals.
pub fn rollup(cx: &Context, master: &MasterView, out: &mut dyn Write) -> io::Result<()> {
    let party = format!("{} ({})", master.master_name, master.master_id);
    let mut currencies: Vec<&str> = master.rows.iter().map(|r| r.currency).collect();
    currencies.dedup();
    let currencies = currencies.join(", ");
    let number = format!("{} {}", cx.label("document_no"), master.document_no);
    let mut doc = cx.doc(
        "rollup_title",
        &[
            number,
            party.clone(),
            cx.period.month.to_string(),
            currencies.clone(),
        ],
        out,
    );
    doc.fields(&[
        (cx.label("document_no"), master.document_no.clone()),
        (cx.label("period"), period_range(cx.period)),
        (cx.label("master"), party),
        (cx.label("currency"), currencies),
    ]);
    doc.space(3.0);
    let status = |s: RollupStatus| cx.code("rollup", s.as_str());
    let columns = [
        Column::id(&cx.label("child"), 1.1),
        Column::left(&cx.label("product"), 0.8),
        Column::left(&cx.label("status"), 1.1),
        Column::id(&cx.label("bill_id"), 1.0),
        Column::left(&cx.label("cycle"), 0.6),
        Column::left(&cx.label("charge_start"), 1.3),
        Column::right(&cx.label("list_amount"), 1.0),
        Column::right(&cx.label("discount_amount"), 1.0),
        Column::right(&cx.label("payable_amount"), 1.0),
        Column::left(&cx.label("currency"), 0.75),
    ];
    let mut invoices = Vec::new();
    let table = master.rows.iter().map(|row| {
        let [list, discount, payable, _] = row.amounts.map(money);
        let (bill, cycle, start) = match row.kind {
            RowKind::Line => (
                row.bill_id.to_string(),
                cx.code("cycle", row.billing_cycle),
                row.charge_start.clone(),
            ),
            RowKind::Subtotal | RowKind::Total => (
                cx.label(if row.kind == RowKind::Total {
                    "total"
                } else {
                    "subtotal"
                }),
                String::new(),
                format!("{} × {}", cx.label("lines"), row.lines.unwrap_or(0)),
            ),
            RowKind::RoundingAdjustment => (
                String::new(),
                String::new(),
                cx.label("rounding_adjustment"),
            ),
            RowKind::InvoiceTotal => {
                invoices.push((row.currency, row.amounts[PAYABLE]));
                (String::new(), String::new(), cx.label("invoice_total"))
            }
        };
        let (list, discount) = match row.kind {
            RowKind::RoundingAdjustment | RowKind::InvoiceTotal => (String::new(), String::new()),
            _ => (list, discount),
        };
        let cells = vec![
            row.child_id.to_string(),
            row.product.to_string(),
            status(row.status),
            bill,
            cycle,
            start,
            list,
            discount,
            payable,
            row.currency.to_string(),
        ];
        if row.kind == RowKind::Line {
            Row::body(cells)
        } else {
            Row::subtotal(cells)
        }
    });
    doc.fitted_table(&columns, table.collect());
    let mut totals = Vec::new();
    for (currency, amount) in invoices {
        totals.push((
            cx.label("invoice_total"),
            format!("{} {currency}", money(amount)),
        ));
        totals.push((cx.label("in_words"), in_words(amount, currency)));
    }
    if !totals.is_empty() {
        doc.totals(&totals);
    }
    doc.finish(&cx.footer(), cx.period.as_of)
}

/// An issuer as the PDFs print it: `云帆伙伴科技有限公司 (p-01)`, `云厂商 Cloud`,
/// `服务商 Provider prov-01`.
fn issuer(cx: &Context, code: &str, name: &str) -> String {
    match code.split_once(':') {
        Some((_, id)) if !name.is_empty() => format!("{name} ({id})"),
        Some((kind, id)) => format!("{} {id}", cx.code("issuer", kind)),
        None => cx.code("issuer", code),
    }
}

/// `invoices.pdf`: the invoice list in one table, each entry with its number and its codes in
/// Chinese and English, then the totals per issuer, status and currency.
pub fn invoices(cx: &Context, invoices: &[InvoiceRow], out: &mut dyn Write) -> io::Result<()> {
    let mut currencies: Vec<&str> = invoices.iter().map(|i| i.currency).collect();
    currencies.sort_unstable();
    currencies.dedup();
    let currencies = currencies.join(", ");
    let running = [cx.period.month.to_string(), currencies.clone()];
    let mut doc = cx.doc("invoices_title", &running, out);
    doc.fields(&[
        (cx.label("period"), period_range(cx.period)),
        (cx.label("currency"), currencies),
    ]);
    doc.space(3.0);
    if invoices.is_empty() {
        doc.paragraph(&cx.label("no_invoices"));
        return doc.finish(&cx.footer(), cx.period.as_of);
    }
    let mut sorted: Vec<&InvoiceRow> = invoices.iter().collect();
    sorted.sort_by_key(|i| i.issuer);
    let columns = [
        Column::id(&cx.label("document_no"), 1.95),
        Column::left(&cx.label("issuer"), 1.45),
        Column::left(&cx.label("source"), 0.75),
        Column::left(&cx.label("title"), 1.6),
        Column::left(&cx.label("invoice_kind"), 0.65),
        Column::right(&cx.label("amount"), 0.95),
        Column::id(&cx.label("currency"), 0.55),
        Column::id(&cx.label("due_date"), 0.8),
        Column::left(&cx.label("shipping"), 0.75),
        Column::left(&cx.label("invoice_status"), 0.9),
    ];
    let rows = sorted.iter().map(|i| {
        Row::body(vec![
            i.document_no.clone(),
            issuer(cx, i.issuer, i.issuer_name),
            cx.code("source", i.source.as_str()),
            format!("{} ({})", i.title, i.recipient_account_id),
            cx.code("kind_short", i.invoice_kind.as_str()),
            money(i.amount),
            i.currency.to_string(),
            i.due_date.get(..10).unwrap_or_default().to_string(),
            i.shipping
                .map(|s| cx.code("shipping", s.as_str()))
                .unwrap_or_default(),
            cx.code("status", i.status.as_str()),
        ])
    });
    doc.fitted_table(&columns, rows.collect());
    doc.heading(&cx.label("by_issuer"));
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for i in invoices {
        names.insert(i.issuer, i.issuer_name);
    }
    let columns = [
        Column::left(&cx.label("issuer"), 2.4),
        Column::left(&cx.label("invoice_status"), 1.2),
        Column::left(&cx.label("currency"), 0.6),
        Column::right(&cx.label("count"), 0.6),
        Column::right(&cx.label("amount"), 1.0),
    ];
    let rows = view::invoices::summary(invoices).into_iter().map(|r| {
        Row::body(vec![
            issuer(
                cx,
                r.issuer,
                names.get(r.issuer).copied().unwrap_or_default(),
            ),
            cx.code("status", r.status),
            r.currency.to_string(),
            r.count.to_string(),
            money(r.amount),
        ])
    });
    doc.fitted_table(&columns, rows.collect());
    doc.finish(&cx.footer(), cx.period.as_of)
}

/// The findings' report as a person reads it (R7): the summary by kind and currency; what each
/// kind found means and what to do about it; the accounts with the most money in findings; the
/// largest findings, at most [`LARGEST`]; and the CSV that holds them all, by name, rows and
/// SHA-256. A month without `usage.csv` says that usage was not compared.
pub struct Report<'r> {
    pub usage_compared: bool,
    pub kinds: &'r [KindTotal],
    pub accounts: &'r [AccountTotal],
    /// `reconciliation.csv`'s rows and SHA-256.
    pub csv_rows: usize,
    pub csv_sha256: &'r str,
}

/// How many of the largest findings the report prints; `reconciliation.csv` holds them all.
pub const LARGEST: usize = 1000;
/// How many accounts the report names.
pub const TOP_ACCOUNTS: usize = 20;

/// `reconciliation.pdf`: [`Report`], with `findings` most money first.
pub fn reconciliation<'f>(
    cx: &Context,
    report: &Report,
    findings: impl Iterator<Item = FindingRow<'f>>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let month = cx.period.month.to_string();
    let mut doc = cx.doc("reconciliation_title", std::slice::from_ref(&month), out);
    doc.fields(&[
        (cx.label("period"), period_range(cx.period)),
        (cx.label("date"), cx.period.as_of.format_local(cx.period.tz)),
        (
            cx.label("findings_file"),
            cx.label("findings_file_value")
                .replace("{rows}", &grouped(&report.csv_rows.to_string())),
        ),
        ("SHA-256".to_string(), report.csv_sha256.to_string()),
    ]);
    doc.heading(&cx.label("summary"));
    if !report.usage_compared {
        doc.paragraph(&cx.label("usage_not_compared"));
    }
    if report.kinds.is_empty() {
        let nothing = if report.usage_compared {
            "no_findings"
        } else {
            "no_bill_findings"
        };
        doc.paragraph(&cx.label(nothing));
        return doc.finish(&cx.footer(), cx.period.as_of);
    }
    let columns = [
        Column::left(&cx.label("finding"), 2.0),
        Column::left(&cx.label("currency"), 0.8),
        Column::right(&cx.label("count"), 0.8),
        Column::right(&cx.label("difference"), 1.2),
    ];
    doc.table(
        &columns,
        report.kinds.iter().map(|t| {
            Row::body(vec![
                cx.code("finding", t.kind.as_str()),
                t.currency.clone(),
                grouped(&t.count.to_string()),
                money(t.difference),
            ])
        }),
    );
    doc.space(4.0);
    doc.heading(&cx.label("kinds_heading"));
    let mut kinds: Vec<_> = report.kinds.iter().map(|t| t.kind).collect();
    kinds.dedup();
    let meanings: Vec<(String, String)> = kinds
        .iter()
        .map(|k| {
            (
                cx.code("finding", k.as_str()),
                cx.label(&format!("means_{}", k.as_str())),
            )
        })
        .collect();
    doc.list(&meanings);
    doc.space(4.0);
    doc.keep(40.0);
    doc.heading(
        &cx.label("accounts_heading")
            .replace("{n}", &report.accounts.len().to_string()),
    );
    let columns = [
        Column::id(&cx.label("account_id"), 1.4),
        Column::left(&cx.label("currency"), 0.8),
        Column::right(&cx.label("count"), 0.8),
        Column::right(&cx.label("at_stake"), 1.3),
        Column::right(&cx.label("difference"), 1.3),
    ];
    doc.table(
        &columns,
        report.accounts.iter().map(|a| {
            Row::body(vec![
                a.account_id.clone(),
                a.currency.clone(),
                grouped(&a.count.to_string()),
                money(a.at_stake),
                money(a.difference),
            ])
        }),
    );
    doc.new_page();
    let shown = report.csv_rows.min(LARGEST);
    doc.heading(
        &cx.label("largest_heading")
            .replace("{n}", &grouped(&shown.to_string()))
            .replace("{total}", &grouped(&report.csv_rows.to_string())),
    );
    // One line a finding: every cell whole (set smaller rather than broken), short codes, and the
    // figures the CSV holds beyond these (expected, billed, usage ids) left to it.
    let columns = [
        Column::right(&cx.label("rank"), 0.5),
        Column::id(&cx.label("finding"), 1.2),
        Column::id(&cx.label("account_id"), 1.0),
        Column::id(&cx.label("product"), 1.6),
        Column::id(&cx.label("window"), 1.5),
        Column::id(&cx.label("bills"), 1.1),
        Column::right(&cx.label("difference"), 1.0),
        Column::id(&cx.label("currency"), 0.6),
    ];
    let year = cx.period.month.year.to_string();
    let rows = findings.take(LARGEST).enumerate().map(|(i, f)| {
        let product = [f.product, f.sub_product, f.resource_id]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" / ");
        Row::body(vec![
            grouped(&(i + 1).to_string()),
            cx.code("finding_short", f.kind.as_str()),
            f.account_id.to_string(),
            product,
            window(&f.window_start, &f.window_end, &year),
            first_of(f.bill_ids),
            money(f.difference),
            f.currency.to_string(),
        ])
    });
    doc.dense_table(&columns, rows.collect());
    doc.finish(&cx.footer(), cx.period.as_of)
}

/// The first of `ids` and how many more, `b-0048 (+1)`: never an id cut short. The CSV holds
/// them all.
fn first_of(ids: &[Id]) -> String {
    match ids {
        [] => String::new(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (+{})", rest.len()),
    }
}

/// A finding's window, short: `10-17 20:00–21:00` on one day, `10-25 23:00–10-26 00:00`
/// across midnight, `10-08–10-09` from midnight to midnight. The year is printed only when a
/// date is outside `year` (the period's), seconds only when not `:00`; the end is exclusive, as
/// in the CSV. A time not `YYYY-MM-DD HH:MM:SS` is printed as it is.
fn window(start: &str, end: &str, year: &str) -> String {
    fn parse(t: &str) -> Option<(&str, &str)> {
        match (t.get(..10), t.get(10..11), t.get(11..)) {
            (Some(date), Some(" "), Some(time)) if t.len() == 19 => Some((date, time)),
            _ => None,
        }
    }
    let (Some((d1, t1)), Some((d2, t2))) = (parse(start), parse(end)) else {
        if start.is_empty() && end.is_empty() {
            return String::new();
        }
        return format!("{start}–{end}");
    };
    let in_year = [d1, d2].iter().all(|d| {
        d.strip_prefix(year)
            .is_some_and(|rest| rest.starts_with('-'))
    });
    let day = |d: &str| match d.get(5..) {
        Some(month_day) if in_year => month_day.to_string(),
        _ => d.to_string(),
    };
    let time = |t: &str| t.strip_suffix(":00").unwrap_or(t).to_string();
    if t1 == "00:00:00" && t2 == "00:00:00" {
        return format!("{}–{}", day(d1), day(d2));
    }
    if d1 == d2 {
        format!("{} {}–{}", day(d1), time(t1), time(t2))
    } else {
        format!("{} {}–{} {}", day(d1), time(t1), day(d2), time(t2))
    }
}

#[cfg(test)]
mod tests {
    use crate::model::records::{BillingCycle, InvoiceKind, PaymentMode};
    use crate::render::template::LABEL_KEYS;
    use crate::rules::invoices::{Shipping, Source, Status};
    use crate::rules::rates::RateSource;
    use crate::rules::rebate::PayoutStatus;
    use crate::rules::reconcile::Kind;
    use crate::rules::rollup::RollupStatus;

    /// A window prints short: no year within the period's, no seconds when `:00`, no times from
    /// midnight to midnight, the date once within a day.
    #[test]
    fn windows_print_short_and_whole() {
        let w = |a, b| super::window(a, b, "2026");
        assert_eq!(
            w("2026-10-17 20:00:00", "2026-10-17 21:00:00"),
            "10-17 20:00–21:00"
        );
        assert_eq!(
            w("2026-10-25 23:00:00", "2026-10-26 00:00:00"),
            "10-25 23:00–10-26 00:00"
        );
        assert_eq!(
            w("2026-10-08 00:00:00", "2026-10-09 00:00:00"),
            "10-08–10-09"
        );
        assert_eq!(
            w("2026-10-20 10:30:15", "2026-10-20 11:30:00"),
            "10-20 10:30:15–11:30"
        );
        assert_eq!(
            w("2026-09-30 00:00:00", "2026-11-01 00:00:00"),
            "09-30–11-01"
        );
        assert_eq!(
            w("2025-12-31 23:00:00", "2026-01-01 00:00:00"),
            "2025-12-31 23:00–2026-01-01 00:00"
        );
        assert_eq!(w("", ""), "");
        assert_eq!(w("2026-10-01", "2026-10-02"), "2026-10-01–2026-10-02");
    }

    #[test]
    fn several_ids_print_the_first_and_how_many_more() {
        use crate::model::records::Id;
        let ids: Vec<Id> = ["b-0048", "b-0049", "b-0050"]
            .iter()
            .map(|s| Id::from(*s))
            .collect();
        assert_eq!(super::first_of(&[]), "");
        assert_eq!(super::first_of(&ids[..1]), "b-0048");
        assert_eq!(super::first_of(&ids), "b-0048 (+2)");
    }

    /// Every code a PDF prints has its `<group>_<code>` label, so none prints as an empty cell.
    #[test]
    fn every_printed_code_has_a_label() {
        let mut keys: Vec<String> = Vec::new();
        let mut add = |group: &str, codes: &[&str]| {
            keys.extend(codes.iter().map(|c| format!("{group}_{c}")));
        };
        add("mode", PaymentMode::NAMES);
        add("cycle", BillingCycle::NAMES);
        add("kind", InvoiceKind::NAMES);
        add("kind_short", InvoiceKind::NAMES);
        add(
            "rate_source",
            &[RateSource::Base.as_str(), RateSource::Special.as_str()],
        );
        add(
            "payout",
            &[
                PayoutStatus::Payable.as_str(),
                PayoutStatus::WithheldArrears.as_str(),
            ],
        );
        add(
            "rollup",
            &[
                RollupStatus::RolledUp.as_str(),
                RollupStatus::StayedOnChild.as_str(),
            ],
        );
        let findings: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        add("finding", &findings);
        add("finding_short", &findings);
        add(
            "source",
            &[
                Source::Resale,
                Source::Hosting,
                Source::Management,
                Source::Marketplace,
            ]
            .map(Source::as_str),
        );
        add(
            "status",
            &[
                Status::ToIssue,
                Status::Issued,
                Status::Overdue,
                Status::NotNeeded,
                Status::Refunded,
                Status::BlockedArrears,
                Status::RejectedTitle,
            ]
            .map(Status::as_str),
        );
        add(
            "shipping",
            &[Shipping::Cod, Shipping::Provider].map(Shipping::as_str),
        );
        add("issuer", &["cloud", "partner", "account", "provider"]);
        let missing: Vec<&String> = keys
            .iter()
            .filter(|k| !LABEL_KEYS.contains(&k.as_str()))
            .collect();
        assert!(missing.is_empty(), "codes without a label: {missing:?}");
    }
}
