//! The month's page, `GET /<dataset>/<period>/`, as each scope sees it.
//!
//! - Finance: the month at a glance per currency (consumption, rebates payable now and withheld,
//!   the findings' money), the partners' confirmations and disputes, the reconciliation summary,
//!   the statements (net rebate, payout status and 本期应付 payable now first, filtered by
//!   partner id or name with `?q=`), then the documents.
//! - A partner: its statement's amounts and status, its answer and the form to confirm the
//!   statement or dispute it (a month of record only), then its documents.
//! - A master: its documents.
//!
//! Documents are named in Chinese and English ([`labels`]); PDFs open in the browser, with a
//! download link beside them. Amounts are grouped by thousands ([`numbers`]); the files keep
//! their digits as they are. Everything from a file or a user is escaped.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::catalog::FindingSummary;
use super::labels::{self, Label};
use super::numbers::{amount, count, grouped};
use super::pages::{DRAFT_MARK, Viewer, esc, finding_zh, href, page, size};
use super::responses::{self, Action, Response};
use super::statements::Row;
use super::totals::Totals;
use super::walk::{self, STEPS, Step, Walk};

/// The most statement rows one page shows; the filter finds the others.
pub const MAX_ROWS: usize = 500;

/// One document of the period the user may download.
pub struct FileRow {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    /// Served filtered to the user's own rows.
    pub filtered: bool,
}

/// What finance sees besides the documents.
pub struct FinanceView {
    pub as_of: String,
    pub reconciliation: Vec<FindingSummary>,
    pub totals: Totals,
    /// `statements.csv`, or `None` when it could not be read.
    pub statements: Option<Vec<Row>>,
    /// The link to each partner's statement PDF, by partner id, where there is one.
    pub statement_links: BTreeMap<String, String>,
    /// The filter, as typed (`?q=`).
    pub query: String,
    pub answers: Vec<Response>,
    /// The walk asked for (`?walk=<partner_id>`): the partner, and its walk if `bridge.csv`
    /// could be read.
    pub walk: Option<(String, Option<Walks>)>,
}

/// A statement's walk per currency (R10).
pub type Walks = BTreeMap<String, Walk>;

/// What a partner sees besides its documents.
pub struct PartnerView {
    /// Its rows of `statements.csv`, one per currency.
    pub rows: Vec<Row>,
    /// Its statement PDF's link, if there is one.
    pub pdf: Option<String>,
    /// Its answers, oldest first.
    pub answers: Vec<Response>,
    /// A month of record: it may confirm or dispute.
    pub may_answer: bool,
    /// Its statement's walk, if `bridge.csv` could be read.
    pub walk: Option<Walks>,
}

pub enum View {
    Finance(Box<FinanceView>),
    Partner(PartnerView),
    Documents,
}

pub struct Month<'a> {
    pub dataset: &'a str,
    pub period: &'a str,
    pub draft: bool,
    /// A restatement (R9): its number and the folder it amends.
    pub restatement: Option<(u32, String)>,
    pub files: Vec<FileRow>,
    pub view: View,
}

pub fn render(viewer: &Viewer, m: &Month) -> String {
    let mut body = format!(
        "<h1>{} · {} <span class=\"en\">statements and documents</span>{}</h1>\n",
        esc(m.dataset),
        esc(m.period),
        if m.draft {
            format!(" {DRAFT_MARK}")
        } else {
            String::new()
        }
    );
    if let Some((n, amends)) = &m.restatement {
        let _ = write!(
            body,
            r#"<p class="restatement-note" id="restatement">补结算 {n}：更正 <a href="{}/">{}</a> 已关账的单据；下列结算单与发票只含有变动的部分，完整的重述月份见“重述后”文件。 <span class="en">Restatement {n}: it corrects the closed documents of {}. The statements and invoices below are what changed (restated figures, with the difference); the whole month as restated is in the documents marked “restated”.</span></p>"#,
            href(&[m.dataset, amends]),
            esc(amends),
            esc(amends)
        );
    }
    if m.draft {
        body.push_str(
            r#"<p class="draft-note" id="draft">草稿：本月尚未关账，合作伙伴看不到。 <span class="en">Draft: the month is not closed yet, and partners do not see it. `settle close` makes it the month of record.</span></p>"#,
        );
    }
    let _ = write!(
        body,
        r#"<p><a class="button" id="zip" href="{}">全部下载 Download all (.zip)</a></p>"#,
        href(&[m.dataset, &format!("{}.zip", m.period)])
    );
    match &m.view {
        View::Finance(f) => {
            body.push_str(&glance(&f.totals));
            body.push_str(&answers_card(f));
            body.push_str(&reconciliation(f));
            if let Some((partner, walks)) = &f.walk {
                let rows: Vec<Row> = f
                    .statements
                    .iter()
                    .flatten()
                    .filter(|r| r.partner_id == *partner)
                    .cloned()
                    .collect();
                body.push_str(&walk_card(partner, walks.as_ref(), &rows));
            }
            body.push_str(&statements(m, f));
        }
        View::Partner(p) => {
            body.push_str(&own_statement(m, p));
            if let Some(first) = p.rows.first() {
                body.push_str(&walk_card(&first.partner_id, p.walk.as_ref(), &p.rows));
            }
        }
        View::Documents => {}
    }
    body.push_str(&documents(m));
    page(&format!("{} {}", m.dataset, m.period), Some(viewer), &body)
}

/// One figure of the glance.
fn stat(out: &mut String, id: &str, label: &str, value: &str, sub: &str) {
    let _ = write!(
        out,
        r#"<div class="stat" id="{id}"><span class="label">{label}</span><span class="value">{value}</span><span class="sub">{sub}</span></div>"#
    );
}

fn glance(t: &Totals) -> String {
    let mut out = String::from(
        r#"<section class="card" id="glance"><h2>本月概览 <span class="en">The month at a glance</span></h2>"#,
    );
    let currencies = t.currencies();
    if currencies.is_empty() {
        out.push_str("<p>本月无金额。 <span class=\"en\">No amounts this month.</span></p>");
    }
    let missing = "<span class=\"muted\">—</span>";
    for c in &currencies {
        let cid = esc(c);
        let _ = write!(
            out,
            r#"<h3 class="currency">{cid}</h3><div class="glance">"#
        );
        match t.consumption.as_ref().map(|m| m.get(c)) {
            Some(Some(x)) => stat(
                &mut out,
                &format!("consumption-{cid}"),
                "消费 <span class=\"en\">Consumption</span>",
                &amount(x.usage),
                &format!("控制台扣款 Deducted {}", amount(x.deduction)),
            ),
            Some(None) => {}
            None => stat(
                &mut out,
                "",
                "消费 Consumption",
                missing,
                "consumption.csv ?",
            ),
        }
        match t.rebates.as_ref().map(|m| m.get(c)) {
            Some(Some(r)) => {
                stat(
                    &mut out,
                    &format!("payable-{cid}"),
                    "本期应付 <span class=\"en\">Rebates payable now</span>",
                    &amount(r.payable_now),
                    &format!(
                        "应结返佣 Net rebates {} · {} 张 statements",
                        amount(r.net),
                        count(r.statements)
                    ),
                );
                stat(
                    &mut out,
                    &format!("withheld-{cid}"),
                    "暂扣返佣 <span class=\"en\">Withheld for arrears</span>",
                    &amount(r.withheld),
                    &format!("{} 张 statements", count(r.withheld_count)),
                );
            }
            Some(None) => {}
            None => stat(&mut out, "", "返佣 Rebates", missing, "statements.csv ?"),
        }
        match t.findings.as_ref().map(|m| m.get(c)) {
            Some(Some(f)) => stat(
                &mut out,
                &format!("findings-{cid}"),
                "差异金额 <span class=\"en\">Findings money</span>",
                &amount(f.money),
                &format!(
                    "{} 项 findings · 净额 net {}",
                    count(f.count),
                    amount(f.net)
                ),
            ),
            Some(None) => stat(
                &mut out,
                &format!("findings-{cid}"),
                "差异金额 <span class=\"en\">Findings money</span>",
                "0.00",
                "0 项 findings",
            ),
            None => stat(
                &mut out,
                "",
                "差异 Findings",
                missing,
                "reconciliation.csv ?",
            ),
        }
        out.push_str("</div>");
    }
    out.push_str("</section>\n");
    out
}

fn status(row: &Row) -> String {
    let (class, zh, en) = match row.payout_status.as_str() {
        "payable" => ("payable", "可付", "Payable"),
        super::statements::WITHHELD => ("withheld", "欠款暂扣", "Withheld"),
        other => return esc(other),
    };
    format!(
        r#"<span class="status {class}" title="{}">{zh} {en}</span>"#,
        esc(&row.payout_status)
    )
}

fn answer_mark(a: &Response) -> String {
    match a.action {
        Action::Confirmed => r#"<span class="answer confirmed">已确认 Confirmed</span>"#.into(),
        Action::Disputed => r#"<span class="answer disputed">有异议 Disputed</span>"#.into(),
    }
}

const STATEMENT_HEAD: &str = r#"<th class="num">返佣合计 <span class="en">Rebate total</span></th><th class="num">税点扣除 <span class="en">Tax deduction</span></th><th class="num" id="col-net">应结返佣 <span class="en">Net rebate</span></th><th id="col-status">结算状态 <span class="en">Payout status</span></th><th class="num" id="col-payable">本期应付 <span class="en">Payable now</span></th>"#;

/// The amount cells of a statement row, in [`STATEMENT_HEAD`]'s order.
fn amount_cells(out: &mut String, r: &Row) {
    let difference = |value: Option<&String>| match value {
        Some(d) => format!(
            r#"<span class="difference">差额 Δ {}</span>"#,
            esc(&grouped(d))
        ),
        None => String::new(),
    };
    let amends = r.amends.as_ref();
    for (label, value, change) in [
        ("返佣合计 Rebate total", &r.rebate_total, None),
        ("税点扣除 Tax deduction", &r.tax_deduction, None),
        (
            "应结返佣 Net rebate",
            &r.net_rebate,
            amends.map(|a| &a.net_rebate),
        ),
    ] {
        let _ = write!(
            out,
            r#"<td class="num" data-label="{label}">{}{}</td>"#,
            esc(&grouped(value)),
            difference(change)
        );
    }
    let _ = write!(
        out,
        r#"<td data-label="结算状态 Payout status">{}</td><td class="num payable-now" data-label="本期应付 Payable now">{}{}</td>"#,
        status(r),
        esc(&grouped(&r.payable_now)),
        difference(amends.map(|a| &a.payable_now))
    );
}

/// The number of a statement, and for a supplementary one the number it amends.
fn document_no(r: &Row) -> String {
    match &r.amends {
        Some(a) => format!(
            "{} · 更正 amends {}",
            esc(&r.document_no),
            esc(&a.document_no)
        ),
        None => esc(&r.document_no),
    }
}

fn statements(m: &Month, f: &FinanceView) -> String {
    let mut out = String::from(
        r#"<section class="card" id="statements"><h2>返佣结算单 <span class="en">Statements</span></h2>"#,
    );
    let Some(rows) = &f.statements else {
        out.push_str(
            "<p class=\"error\">无法读取 statements.csv。 <span class=\"en\">statements.csv cannot be read.</span></p></section>\n",
        );
        return out;
    };
    let query = super::statements::query(&f.query);
    let shown: Vec<&Row> = rows
        .iter()
        .filter(|r| query.as_ref().is_none_or(|q| r.matches(q)))
        .collect();
    let _ = write!(
        out,
        r#"<form class="filter" method="get" action="{}/" role="search"><label for="q">筛选伙伴 <span class="en">Filter partners</span></label><input id="q" name="q" type="search" value="{}" placeholder="ID 或名称 id or name"><button type="submit">筛选 Filter</button>"#,
        href(&[m.dataset, m.period]),
        esc(&f.query)
    );
    if query.is_some() {
        let _ = write!(
            out,
            r#" <a href="{}/#statements">清除 Clear</a>"#,
            href(&[m.dataset, m.period])
        );
    }
    let _ = write!(
        out,
        r#"</form><p class="muted" id="shown">显示 {} / {} 行 <span class="en">Showing {} of {} rows</span>{}</p>"#,
        count(shown.len().min(MAX_ROWS) as u64),
        count(rows.len() as u64),
        count(shown.len().min(MAX_ROWS) as u64),
        count(rows.len() as u64),
        if shown.len() > MAX_ROWS {
            format!(
                " · 仅显示前 {MAX_ROWS} 行，请筛选 <span class=\"en\">the first {MAX_ROWS} only: filter to find the others</span>"
            )
        } else {
            String::new()
        }
    );
    let latest = responses::latest(&f.answers);
    let _ = write!(
        out,
        r#"<div class="scroll"><table class="stack statements"><thead><tr><th>伙伴 <span class="en">Partner</span></th><th>币种 <span class="en">Cur.</span></th>{STATEMENT_HEAD}<th>回复 <span class="en">Answer</span></th></tr></thead><tbody>"#
    );
    for r in shown.iter().take(MAX_ROWS) {
        let name = match f.statement_links.get(&r.partner_id) {
            Some(link) => format!(r#"<a href="{link}">{}</a>"#, esc(&r.partner_name)),
            None => esc(&r.partner_name),
        };
        let name = format!(
            r#"{name} <a class="walk-link" href="{}/?walk={}#walk">勾稽 Walk</a>"#,
            href(&[m.dataset, m.period]),
            esc(&query_value(&r.partner_id))
        );
        let _ = write!(
            out,
            r#"<tr><td data-label="伙伴 Partner"><span>{name}<span class="path">{} · {}</span></span></td><td data-label="币种 Currency">{}</td>"#,
            esc(&r.partner_id),
            document_no(r),
            esc(&r.currency)
        );
        amount_cells(&mut out, r);
        let answer = latest
            .get(r.partner_id.as_str())
            .map(|a| answer_mark(a))
            .unwrap_or_else(|| r#"<span class="muted">—</span>"#.into());
        let _ = write!(out, r#"<td data-label="回复 Answer">{answer}</td></tr>"#);
    }
    out.push_str("</tbody></table></div></section>\n");
    out
}

/// A query string's value: every byte but unreserved ones percent-encoded.
fn query_value(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The walk of one partner's statement, per currency: the steps from its customers' consoles to
/// its rebate base, each a printed amount, then the statement's rebate total at its rates.
fn walk_card(partner: &str, walks: Option<&Walks>, rows: &[Row]) -> String {
    let mut out = format!(
        r#"<section class="card" id="walk"><h2>对账说明 <span class="en">Walk from the customers' consoles to the rebate base</span></h2><p class="muted">{} · 客户控制台按扣费月份显示金额，结算单按使用月份计算返佣；下列各项逐项相加即为所印金额。 <span class="en">The consoles show what was deducted in the month; the statement counts what was used in it. Each step is a printed amount, and they add up as printed.</span></p>"#,
        match rows.first() {
            Some(r) => format!("{} · {}", esc(&r.partner_name), esc(partner)),
            None => esc(partner),
        }
    );
    let Some(walks) = walks else {
        out.push_str(
            "<p class=\"error\">无法读取 bridge.csv。 <span class=\"en\">bridge.csv cannot be read.</span></p></section>\n",
        );
        return out;
    };
    if walks.is_empty() {
        out.push_str("<p>本期无客户消费。 <span class=\"en\">No customer consumption this month.</span></p></section>\n");
        return out;
    }
    // A supplementary statement's walk is the restated month's, in the currencies it changes.
    let changed = |currency: &str| {
        rows.iter().all(|r| r.amends.is_none()) || rows.iter().any(|r| r.currency == currency)
    };
    for (currency, w) in walks.iter().filter(|(c, _)| changed(c)) {
        let _ = write!(
            out,
            r#"<div class="scroll"><table class="walk" data-currency="{0}"><thead><tr><th>项目 <span class="en">Step</span></th><th class="num">金额 <span class="en">Amount</span> ({0})</th></tr></thead><tbody>"#,
            esc(currency)
        );
        let deduction = walk::from_deduction(w);
        for (i, (_, step, zh, en)) in STEPS.iter().enumerate() {
            if deduction && i == 7 {
                let _ = write!(
                    out,
                    r#"<tr class="restart"><td>按扣费月份计返佣，自控制台金额起算 <span class="en">Rebates count by deduction month: from the consoles' figure</span></td><td class="num">{}</td></tr>"#,
                    amount(w[0])
                );
            }
            let class = if *step == Step::Total {
                " class=\"total\""
            } else {
                ""
            };
            let _ = write!(
                out,
                r#"<tr{class}><td><span class="sign">{}</span> {zh} <span class="en">{en}</span></td><td class="num">{}</td></tr>"#,
                step.sign(),
                amount(w[i])
            );
        }
        if let Some(r) = rows.iter().find(|r| r.currency == *currency) {
            let _ = write!(
                out,
                r#"<tr class="total"><td><span class="sign">×</span> 按返佣比例、逐行取整 <span class="en">At the rebate rates, each line rounded: the statement's rebate total</span></td><td class="num">{}</td></tr>"#,
                esc(&grouped(&r.rebate_total))
            );
        }
        out.push_str("</tbody></table></div>");
    }
    out.push_str("</section>\n");
    out
}

fn answers_card(f: &FinanceView) -> String {
    let mut out = String::from(
        r#"<section class="card" id="answers"><h2>伙伴确认与异议 <span class="en">Partners' confirmations and disputes</span></h2>"#,
    );
    let latest = responses::latest(&f.answers);
    let partners: std::collections::BTreeSet<&str> = f
        .statements
        .iter()
        .flatten()
        .map(|r| r.partner_id.as_str())
        .collect();
    let of = |action: Action| latest.values().filter(|a| a.action == action).count() as u64;
    let _ = write!(
        out,
        r#"<p id="answer-counts">已确认 <span class="en">Confirmed</span> <strong>{}</strong> · 有异议 <span class="en">Disputed</span> <strong>{}</strong> · 未回复 <span class="en">No answer yet</span> <strong>{}</strong></p>"#,
        count(of(Action::Confirmed)),
        count(of(Action::Disputed)),
        count(partners.iter().filter(|p| !latest.contains_key(*p)).count() as u64)
    );
    if f.answers.is_empty() {
        out.push_str("</section>\n");
        return out;
    }
    out.push_str(
        r#"<div class="scroll"><table class="stack"><thead><tr><th>时间 <span class="en">Time (UTC)</span></th><th>伙伴 <span class="en">Partner</span></th><th>回复 <span class="en">Answer</span></th><th>说明 <span class="en">Note</span></th><th>用户 <span class="en">User</span></th></tr></thead><tbody>"#,
    );
    for a in f.answers.iter().rev() {
        let _ = write!(
            out,
            r#"<tr class="answer-row"><td data-label="时间 Time">{}</td><td data-label="伙伴 Partner">{}</td><td data-label="回复 Answer">{}</td><td data-label="说明 Note" class="note">{}</td><td data-label="用户 User">{}</td></tr>"#,
            esc(&a.time),
            esc(&a.partner_id),
            answer_mark(a),
            esc(&a.note),
            esc(&a.user)
        );
    }
    out.push_str("</tbody></table></div></section>\n");
    out
}

fn reconciliation(f: &FinanceView) -> String {
    let mut out = format!(
        r#"<section class="card" id="reconciliation"><h2>对账摘要 <span class="en">Reconciliation summary</span></h2><p class="muted">数据截至 As of {}</p>"#,
        esc(&f.as_of)
    );
    if f.reconciliation.is_empty() {
        out.push_str("<p>未发现差异 <span class=\"en\">No findings</span></p></section>\n");
        return out;
    }
    out.push_str(
        r#"<div class="scroll"><table class="stack"><thead><tr><th>问题类型 Finding</th><th>币种 Currency</th><th class="num">数量 Count</th><th class="num">差额 Difference</th></tr></thead><tbody>"#,
    );
    for r in &f.reconciliation {
        let _ = write!(
            out,
            r#"<tr><td data-label="问题类型 Finding"><span>{} <span class="en">{}</span></span></td><td data-label="币种 Currency">{}</td><td class="num" data-label="数量 Count">{}</td><td class="num" data-label="差额 Difference">{}</td></tr>"#,
            finding_zh(&r.finding),
            esc(&r.finding),
            esc(&r.currency),
            count(r.count),
            esc(&grouped(&r.difference))
        );
    }
    out.push_str("</tbody></table></div></section>\n");
    out
}

fn own_statement(m: &Month, p: &PartnerView) -> String {
    let mut out = String::from(if m.restatement.is_some() {
        r#"<section class="card" id="statement"><h2>您的补充结算单 <span class="en">Your supplementary statement</span></h2>"#
    } else {
        r#"<section class="card" id="statement"><h2>您的结算单 <span class="en">Your statement</span></h2>"#
    });
    if let Some(first) = p.rows.first() {
        let _ = write!(
            out,
            r#"<p>{} <span class="muted">{} · {}</span></p>"#,
            esc(&first.partner_name),
            esc(&first.partner_id),
            document_no(first)
        );
    }
    let _ = write!(
        out,
        r#"<div class="scroll"><table class="stack statements"><thead><tr><th>币种 <span class="en">Currency</span></th>{STATEMENT_HEAD}</tr></thead><tbody>"#
    );
    for r in &p.rows {
        let _ = write!(
            out,
            r#"<tr><td data-label="币种 Currency">{}</td>"#,
            esc(&r.currency)
        );
        amount_cells(&mut out, r);
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    if let Some(pdf) = &p.pdf {
        let _ = write!(
            out,
            r#"<p><a class="button" id="open-statement" href="{pdf}">打开结算单 Open the statement (PDF)</a></p>"#
        );
    }
    out.push_str(r#"<h3 id="answer">确认或异议 <span class="en">Confirm or dispute</span></h3>"#);
    for a in &p.answers {
        let _ = write!(
            out,
            r#"<p class="answer-row">{} <span class="muted">{} · {}</span>{}</p>"#,
            answer_mark(a),
            esc(&a.time),
            esc(&a.user),
            if a.note.is_empty() {
                String::new()
            } else {
                format!(r#"<br><span class="note">{}</span>"#, esc(&a.note))
            }
        );
    }
    if p.may_answer {
        let _ = write!(
            out,
            r#"<form method="post" action="{}/respond" class="answer-form"><label for="note">说明 <span class="en">Note (needed for a dispute)</span></label><textarea id="note" name="note" rows="3" maxlength="{}"></textarea><p><button type="submit" name="action" value="confirm" id="confirm">确认无误 Confirm</button> <button type="submit" name="action" value="dispute" id="dispute" class="secondary">提出异议 Dispute</button></p></form>"#,
            href(&[m.dataset, m.period]),
            responses::NOTE_MAX
        );
    }
    out.push_str("</section>\n");
    out
}

/// The most per-party files finance's page lists; the filter finds the others.
pub const MAX_PARTY_FILES: usize = 200;

fn documents(m: &Month) -> String {
    let (party, month): (Vec<&FileRow>, Vec<&FileRow>) =
        m.files.iter().partition(|f| labels::per_party(&f.path));
    let mut out = String::from(
        r#"<section class="card" id="documents"><h2>文件 <span class="en">Documents</span></h2>"#,
    );
    // A partner's or master's own few files are the page; finance's hundreds fold away, and
    // only those the filter keeps are listed, at most MAX_PARTY_FILES.
    let fold = party.len() > 12;
    if !fold {
        out.push_str(&file_table(m, &m.files.iter().collect::<Vec<_>>()));
        out.push_str("</section>\n");
        return out;
    }
    out.push_str(&file_table(m, &month));
    let query = match &m.view {
        View::Finance(f) => super::statements::query(&f.query),
        _ => None,
    };
    let kept: Vec<&FileRow> = party
        .iter()
        .copied()
        .filter(|f| {
            query
                .as_ref()
                .is_none_or(|q| f.path.to_lowercase().contains(q))
        })
        .collect();
    let _ = write!(
        out,
        r#"<details id="per-party"><summary>每个伙伴与托管主账号的文件 <span class="en">Each partner's and master's files</span> ({})</summary>"#,
        count(kept.len() as u64)
    );
    if kept.len() > MAX_PARTY_FILES {
        let _ = write!(
            out,
            r#"<p class="muted" id="party-shown">仅列出前 {MAX_PARTY_FILES} 个，请用上方筛选或下载全部 <span class="en">The first {MAX_PARTY_FILES} only: filter by partner or master id above, or download all</span></p>"#
        );
    }
    out.push_str(&file_table(
        m,
        &kept.into_iter().take(MAX_PARTY_FILES).collect::<Vec<_>>(),
    ));
    out.push_str("</details></section>\n");
    out
}

fn file_table(m: &Month, files: &[&FileRow]) -> String {
    let mut out = String::from(
        r#"<div class="scroll"><table class="files"><thead><tr><th>文件 <span class="en">Document</span></th><th class="num">大小 <span class="en">Size</span></th><th>SHA-256</th></tr></thead><tbody>"#,
    );
    for f in files {
        let mut link = vec![m.dataset, m.period];
        link.extend(f.path.split('/'));
        let link = href(&link);
        let label = if m.restatement.is_some() {
            labels::of_restatement(&f.path)
        } else {
            labels::of(&f.path)
        };
        let name = match label {
            Some(Label {
                zh,
                en,
                format,
                restated,
            }) => {
                let (rzh, ren) = if restated {
                    ("重述后", "Restated ")
                } else {
                    ("", "")
                };
                format!(
                    r#"{rzh}{zh} <span class="en">{ren}{en}</span> <span class="format">{format}</span>"#
                )
            }
            None => esc(&f.path),
        };
        let note = if f.filtered {
            r#" <span class="muted">（仅含您的发票 only your invoices）</span>"#
        } else {
            ""
        };
        // A PDF opens in the browser; the other formats, and the PDF's second link, download.
        let open = if f.path.ends_with(".pdf") {
            format!(
                r#"<a href="{link}">{name}</a> · <a class="dl" href="{link}" download>下载 Download</a>"#
            )
        } else {
            format!(r#"<a class="dl" href="{link}" download>{name}</a>"#)
        };
        let _ = write!(
            out,
            r#"<tr><td>{open}{note}<span class="path">{}</span></td><td class="num">{}</td><td><code class="sha">{}</code></td></tr>"#,
            esc(&f.path),
            size(f.bytes),
            esc(&f.sha256)
        );
    }
    out.push_str("</tbody></table></div>");
    out
}
