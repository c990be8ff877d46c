//! The portal's HTML: bilingual (Chinese first, as in the PDFs), one column on a phone, no
//! script, and the stylesheet from `/style.css` so the content security policy can forbid
//! everything inline. Every text that comes from a file or a user is escaped here.

use std::fmt::Write;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

pub const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6575; --line: #d9dee6; --accent: #1f5fbf; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC",
  "Microsoft YaHei", sans-serif; color: var(--ink); background: #f5f7fa; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: .75rem 1rem;
  display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between; }
header .brand { font-weight: 600; color: var(--ink); text-decoration: none; }
header .who { color: var(--muted); font-size: .9rem; display: flex; gap: .75rem; align-items: center; }
main { max-width: 76rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.35rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.en { color: var(--muted); font-weight: normal; }
a { color: var(--accent); }
section.card { background: #fff; border: 1px solid var(--line); border-radius: .5rem; padding: 1rem;
  margin-bottom: 1rem; }
section.card > h1:first-child, section.card > h2:first-child { margin-top: 0; }
ul.periods { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: .5rem; }
ul.periods a { display: inline-block; padding: .4rem .8rem; border: 1px solid var(--line);
  border-radius: .4rem; text-decoration: none; background: #fff; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
code.sha { font-size: .75rem; color: var(--muted); word-break: break-all; }
a.button, button { display: inline-block; font: inherit; padding: .5rem 1rem; border-radius: .4rem;
  border: 1px solid var(--accent); background: var(--accent); color: #fff; text-decoration: none; cursor: pointer; }
form.inline { display: inline; margin: 0; }
form.inline button { padding: .2rem .6rem; font-size: .85rem; background: #fff; color: var(--accent); }
label { display: block; margin: .75rem 0 .25rem; }
input { font: inherit; width: 100%; max-width: 22rem; padding: .5rem; border: 1px solid var(--line); border-radius: .4rem; }
.error { color: #a11; }
.draft { color: #c0392b; border: 1px solid #c0392b; border-radius: .25rem; padding: 0 .3rem;
  font-size: .8em; font-weight: 600; }
.draft-note { color: #c0392b; }
.restatement-note { border-left: 3px solid #2c5282; padding-left: .6rem; }
.restatement { color: #2c5282; border: 1px solid #2c5282; border-radius: .25rem; padding: 0 .3rem;
  font-size: .8em; }
.difference { display: block; font-size: .8em; color: #555; }
.walk tr.total td { font-weight: 600; border-top: 1px solid var(--line); }
.walk .sign { display: inline-block; width: 1.2em; color: var(--muted); }
.walk-link { font-size: .8em; }
.muted { color: var(--muted); }
h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
h3.currency { margin: .75rem 0 .4rem; color: var(--muted); }
.glance { display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: .75rem; }
.stat { border: 1px solid var(--line); border-radius: .4rem; padding: .6rem .8rem; background: #fbfcfe; }
.stat .label { display: block; color: var(--muted); font-size: .85rem; }
.stat .value { display: block; font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.stat .sub { display: block; color: var(--muted); font-size: .8rem; }
table.statements td:first-child { min-width: 11rem; }
table.statements th { white-space: normal; }
table.statements th .en { display: block; font-size: .8rem; font-weight: normal; }
.path { display: block; font-size: .75rem; color: var(--muted); word-break: break-all; }
.format { font-size: .75rem; color: var(--muted); border: 1px solid var(--line); border-radius: .25rem; padding: 0 .25rem; }
.status, .answer { white-space: nowrap; border-radius: .25rem; padding: .05rem .4rem; font-size: .85em; }
.status.payable { background: #e6f4ea; color: #1e6b34; }
.status.withheld { background: #fdecea; color: #a12a1d; }
.answer.confirmed { background: #e6f4ea; color: #1e6b34; }
.answer.disputed { background: #fff4e5; color: #8a4b00; }
.note { white-space: pre-wrap; }
form.filter { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .25rem 0 .5rem; }
form.filter label { display: inline; margin: 0; }
form.filter input { max-width: 18rem; padding: .35rem .5rem; }
form.filter button { padding: .35rem .9rem; }
textarea { font: inherit; width: 100%; max-width: 40rem; padding: .5rem; border: 1px solid var(--line); border-radius: .4rem; }
button.secondary { background: #fff; color: var(--accent); }
details summary { cursor: pointer; margin: .75rem 0 .25rem; }
@media (max-width: 40rem) {
  body { font-size: 15px; }
  main { padding: .75rem; }
  table.files thead { display: none; }
  table.files tr { display: block; padding: .5rem 0; border-bottom: 1px solid var(--line); }
  table.files td { display: block; border: 0; padding: .1rem 0; text-align: left; }
  table.stack thead { display: none; }
  table.stack tr { display: block; padding: .4rem 0; border-bottom: 1px solid var(--line); }
  table.stack td { display: flex; justify-content: space-between; gap: 1rem; border: 0;
    padding: .15rem 0; text-align: right; white-space: normal; }
  table.stack td::before { content: attr(data-label); font-weight: 600; text-align: left;
    flex: 0 0 auto; max-width: 50%; }
}
"#;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Characters a path segment in a link must encode.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'\\')
    .add(b'\'');

/// The path `/seg/seg/…`, each segment percent-encoded.
pub fn url(segments: &[&str]) -> String {
    let mut out = String::new();
    for s in segments {
        out.push('/');
        out.extend(utf8_percent_encode(s, SEGMENT));
    }
    out
}

/// [`url`], escaped for an HTML attribute.
pub fn href(segments: &[&str]) -> String {
    esc(&url(segments))
}

/// Who is signed in, for the header.
pub struct Viewer<'a> {
    pub name: &'a str,
    pub scope: String,
    /// Signed in with the form (so a sign-out button makes sense), not a token.
    pub session: bool,
}

pub fn page(title: &str, viewer: Option<&Viewer>, body: &str) -> String {
    let mut who = String::new();
    if let Some(v) = viewer {
        let _ = write!(
            who,
            r#"<span class="who"><span>{} · {}</span>"#,
            esc(v.name),
            esc(&v.scope)
        );
        if v.session {
            who.push_str(
                r#"<form class="inline" method="post" action="/logout"><button type="submit">退出 Sign out</button></form>"#,
            );
        }
        who.push_str("</span>");
    }
    format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · settle</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header><a class="brand" href="/">settle 财务门户 <span class="en">Finance portal</span></a>{who}</header>
<main>
{body}
</main>
</body>
</html>
"#,
        title = esc(title),
    )
}

/// The sign-in form, with an optional message above it, and the page to land on after it
/// (kept only when it is a local path: [`super::next`]).
pub fn login(message: Option<&str>, next: Option<&str>) -> String {
    let message = message
        .map(|m| format!(r#"<p class="error" role="alert">{}</p>"#, esc(m)))
        .unwrap_or_default();
    let next = next
        .and_then(super::next::local)
        .map(|n| format!(r#"<input type="hidden" name="next" value="{}">"#, esc(n)))
        .unwrap_or_default();
    page(
        "登录 Sign in",
        None,
        &format!(
            r#"<section class="card">
<h1>登录 <span class="en">Sign in</span></h1>
{message}<form method="post" action="/login">{next}
<label for="name">用户名 <span class="en">User name</span></label>
<input id="name" name="name" autocomplete="username" required>
<label for="password">密码 <span class="en">Password</span></label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit" id="sign-in">登录 Sign in</button></p>
</form>
<p class="muted">API 客户端请发送 <code>Authorization: Bearer &lt;token&gt;</code>。 API clients send <code>Authorization: Bearer &lt;token&gt;</code>.</p>
</section>"#
        ),
    )
}

/// The mark of a period that is not closed yet, which only finance sees.
pub const DRAFT_MARK: &str = r#"<span class="draft">草稿 DRAFT</span>"#;

/// `GET /`: the datasets and the periods this user may see, newest first, each with whether it
/// is a draft.
pub fn index(viewer: &Viewer, periods: &[(String, Vec<(String, bool)>)]) -> String {
    let mut body = String::from("<h1>对账期 <span class=\"en\">Settled periods</span></h1>\n");
    if periods.is_empty() {
        body.push_str(
            r#"<section class="card"><p>暂无可查看的账期。 <span class="en">No period to show yet.</span></p></section>"#,
        );
    }
    for (dataset, months) in periods {
        let _ = write!(
            body,
            r#"<section class="card"><h2>数据集 <span class="en">Dataset</span> {}</h2><ul class="periods">"#,
            esc(dataset)
        );
        for (m, draft) in months {
            let restatement = match super::catalog::period_name(m) {
                Some((_, n)) if n > 0 => {
                    format!(r#" <span class="restatement">补结算 {n} Restatement</span>"#)
                }
                _ => String::new(),
            };
            let _ = write!(
                body,
                r#"<li><a href="{}/">{}{restatement}{}</a></li>"#,
                href(&[dataset, m]),
                esc(m),
                if *draft {
                    format!(" {DRAFT_MARK}")
                } else {
                    String::new()
                }
            );
        }
        body.push_str("</ul></section>\n");
    }
    page("对账期 Periods", Some(viewer), &body)
}

pub fn finding_zh(kind: &str) -> &'static str {
    match kind {
        "amount_mismatch" => "金额不符",
        "unbilled_usage" => "用量未出账",
        "bill_without_usage" => "账单无用量",
        "duplicate_bill" => "重复账单",
        "payable_mismatch" => "应付金额不符",
        "discount_mismatch" => "优惠金额不符",
        "voucher_on_hosted_child" => "托管子账号使用代金券",
        "hosted_non_credit" => "托管非信控支付",
        _ => "",
    }
}

/// A byte count as people read it: `824 B`, `3.0 KiB`, `1.2 MiB` (tenths rounded down).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut unit = 0;
    let mut scale: u64 = 1024;
    while bytes / scale >= 1024 && unit + 1 < UNITS.len() {
        scale *= 1024;
        unit += 1;
    }
    let tenths = u128::from(bytes) * 10 / u128::from(scale);
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// 404, the same page whether the path is outside the user's scope or missing.
pub fn not_found(viewer: Option<&Viewer>) -> String {
    page(
        "未找到 Not found",
        viewer,
        r#"<section class="card"><h1>未找到 <span class="en">Not found</span></h1><p>没有这个文件，或您无权查看。 <span class="en">There is no such file, or it is not yours to see.</span></p><p><a href="/">返回账期列表 Back to the periods</a></p></section>"#,
    )
}

/// 400: a form that could not be taken, what was wrong with it, and the way back.
pub fn bad_request(viewer: &Viewer, message: &str) -> String {
    page(
        "无法提交 Not taken",
        Some(viewer),
        &format!(
            r#"<section class="card"><h1>无法提交 <span class="en">Not taken</span></h1><p class="error" role="alert">{}</p><p>请返回上一页修改后重新提交。 <span class="en">Go back, change it and send it again.</span></p><p><a href="/">返回账期列表 Back to the periods</a></p></section>"#,
            esc(message)
        ),
    )
}

/// 429 from the login form.
pub fn too_many(minutes: u64) -> String {
    login(
        Some(&format!(
            "登录失败次数过多，请 {minutes} 分钟后再试。 Too many failed sign-ins; try again in {minutes} min."
        )),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_links_are_escaped() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            href(&["华东", "2026-10", "a b#?.csv"]),
            "/%E5%8D%8E%E4%B8%9C/2026-10/a%20b%23%3F.csv"
        );
        assert_eq!(href(&["x", "<y>&"]), "/x/%3Cy%3E&amp;");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(824), "824 B");
        assert_eq!(size(3089), "3.0 KiB");
        assert_eq!(size(5 * 1024 * 1024 + 1), "5.0 MiB");
    }
}
