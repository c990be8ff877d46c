//! The PDFs, end to end: the real binary on the demo dataset and on a generated 200-line
//! statement, read back with `pdftotext` (poppler-utils, which `make test` installs).

use std::path::{Path, PathBuf};
use std::process::Command;

fn settle(args: &[&str], cwd: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_settle"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("settle runs");
    assert!(
        out.status.success(),
        "settle {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("settle-pdf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!("pdftotext is needed (package poppler-utils; `make test` installs it): {e}")
        });
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        pdf.display()
    );
    String::from_utf8(out.stdout).expect("UTF-8 text")
}

/// Reads the PDF `name` under `period` back as text and checks that it holds every needle.
fn assert_holds(period: &Path, name: &str, needles: &[&str]) {
    let text = pdftotext(&period.join(name));
    for needle in needles {
        assert!(text.contains(needle), "`{needle}` not in {name}:\n{text}");
    }
}

/// The pages of `pdftotext`'s output, which ends each with a form feed.
fn pages(text: &str) -> Vec<&str> {
    text.split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, sorted, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).expect("inside").to_path_buf(),
                    std::fs::read(&p).expect("readable"),
                ));
            }
        }
    }
    out.sort();
    out
}

/// The demo run from two working directories, one holding a `templates/` folder of its own
/// (which must be ignored: no identity or wording comes from the working directory), writes the
/// same bytes.
#[test]
fn demo_pdfs_read_back_and_are_reproducible() {
    let (a, b) = (scratch("demo-a"), scratch("demo-b"));
    let decoy = b.join("templates");
    std::fs::create_dir_all(&decoy).expect("decoy templates");
    for file in ["layout.toml", "labels.toml"] {
        let text = std::fs::read_to_string(repo().join("templates").join(file)).expect("template");
        let text = text.replace("返佣结算单", "冒充的结算单");
        std::fs::write(decoy.join(file), text).expect("write decoy");
    }
    std::fs::write(
        decoy.join("company.toml"),
        "name = \"示例云服务有限公司\"\nname_en = \"x\"\naddress = \"x\"\ncontact = \"x\"\ntax_id = \"x\"\n",
    )
    .expect("write decoy");
    let inputs = repo().join("inputs").join("demo");
    for out in [&a, &b] {
        settle(
            &[
                "run",
                "--inputs",
                inputs.to_str().expect("utf-8 path"),
                "--period",
                "2026-10",
                "--out",
                out.to_str().expect("utf-8 path"),
            ],
            out,
        );
    }
    let (period_a, period_b) = (
        a.join("demo").join("2026-10"),
        b.join("demo").join("2026-10"),
    );
    let (fa, fb) = (files(&period_a), files(&period_b));
    assert_eq!(
        fa.iter().map(|f| &f.0).collect::<Vec<_>>(),
        fb.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "`{}` differs between two runs", name.display());
    }
    let pdfs: Vec<&PathBuf> = fa
        .iter()
        .map(|f| &f.0)
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    for expected in [
        "invoices.pdf",
        "reconciliation.pdf",
        "statements/p-01.pdf",
        "statements/p-02.pdf",
        "statements/p-03.pdf",
        "rollups/acc-1006.pdf",
    ] {
        assert!(
            pdfs.iter().any(|p| p.to_str() == Some(expected)),
            "missing {expected}: {pdfs:?}"
        );
    }

    assert_holds(
        &period_a,
        "statements/p-01.pdf",
        &[
            "返佣结算单",
            "Rebate Settlement Statement",
            "云帆伙伴科技有限公司",
            "杭州云栖科技有限公司",
            "上海浦江数据服务有限公司",
            "507.07 CNY",
            "12.97 USD",
            "2,213.50",
            "第 1 / ",
            "合作伙伴盖章 Partner stamp",
            "开票方盖章 Issuer stamp",
            "增值税专用发票",
            "人民币伍佰零柒元零柒分",
            "USD 壹拾贰元玖角柒分",
            "2026-10（2026-10-01 – 2026-10-31）",
        ],
    );
    assert_holds(
        &period_a,
        "statements/p-03.pdf",
        &[
            "40.25 CNY",
            "-0.01 CNY",
            "欠款暂扣 Withheld (arrears)",
            "0.00 CNY",
            "欠款金额 Arrears",
            "12,680.50 CNY",
            "人民币肆拾元贰角伍分",
            "增值税专用发票",
            "付款放行时开具",
        ],
    );
    assert_holds(
        &period_a,
        "statements/p-02.pdf",
        &[
            "7.37 CNY",
            "0.44 CNY",
            "6.93 CNY",
            "税点扣除 Tax deduction (6%)",
            "人民币陆元玖角叁分",
            "增值税普通发票",
        ],
    );
    // Each statement: its number from statements.csv, the issuer of settle.toml, and no
    // placeholder company or wording from the working directory.
    let summary = std::fs::read_to_string(period_a.join("statements.csv")).expect("statements.csv");
    for partner in ["p-01", "p-02", "p-03"] {
        let number = summary
            .lines()
            .find_map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                (cells.get(1) == Some(&partner)).then(|| cells[0].to_string())
            })
            .expect("a row per partner");
        let name = format!("statements/{partner}.pdf");
        assert_holds(
            &period_a,
            &name,
            &[
                &number,
                "示例云计算（杭州）有限公司",
                "91330106MA2KDEMO0X",
                "571900000010601",
                "技术服务费",
            ],
        );
        let text = pdftotext(&period_a.join(&name));
        for absent in ["示例云服务", "冒充"] {
            assert!(!text.contains(absent), "`{absent}` in {name}");
        }
    }
    // Codes are printed in Chinese and English, never as codes.
    for (name, codes) in [
        (
            "invoices.pdf",
            &[
                "to_issue",
                "blocked_arrears",
                "rejected_title",
                "marketplace",
                "partner:p-01",
            ][..],
        ),
        (
            "reconciliation.pdf",
            &[
                "voucher_on_hosted_child",
                "duplicate_bill",
                "hosted_non_credit",
            ][..],
        ),
        (
            "statements/p-01.pdf",
            &["postpaid", "withheld_arrears", " special "][..],
        ),
        (
            "rollups/acc-1006.pdf",
            &["rolled_up", "stayed_on_child"][..],
        ),
    ] {
        let text = pdftotext(&period_a.join(name));
        for code in codes {
            assert!(!text.contains(code), "`{code}` printed as a code in {name}");
        }
    }
    // The demo's logo (settle.toml `logo`) is embedded, with its transparency.
    let bytes = std::fs::read(period_a.join("statements/p-01.pdf")).expect("p-01.pdf");
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains("/Subtype/Image/Width 96/Height 96") && raw.contains("/SMask"));
    // p-02 issues ordinary invoices: nothing asks it for a special one.
    let p02 = pdftotext(&period_a.join("statements/p-02.pdf"));
    assert!(!p02.contains("增值税专用发票"), "{p02}");
    assert_holds(
        &period_a,
        "invoices.pdf",
        &[
            "开票清单",
            "2,273.14",
            "243.72",
            "412.89",
            "70.58",
            "50.01",
            "抬头不符 Rejected title",
            "张伟",
            "IV-202610-",
            "云帆伙伴科技有限公司 (p-01)",
            "云厂商 Cloud",
            "按开票方、状态汇总",
        ],
    );
    assert_holds(
        &period_a,
        "rollups/acc-1006.pdf",
        &[
            "成都天府云计算有限公司",
            "b-0059",
            "b-0058",
            "70.56",
            "HR-202610-",
            "托管发票金额 Hosting invoice",
            "70.58 CNY",
            "人民币柒拾元伍角捌分",
        ],
    );
    // One figure per thing: rollups.csv's groups are the detail's subtotals, and the detail's
    // invoice total is the hosting invoice's amount.
    let read = |name: &str| std::fs::read_to_string(period_a.join(name)).expect(name);
    let (summary, detail, invoices) = (
        read("rollups.csv"),
        read("rollups/acc-1006.csv"),
        read("invoices.csv"),
    );
    let groups: Vec<(String, String)> = summary
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let n = c.len();
            (
                format!("{},{},{},{}", c[2], c[3], c[4], c[5]),
                c[n - 3..].join(","),
            )
        })
        .collect();
    assert_eq!(groups.len(), 4, "{summary}");
    for (key, figures) in &groups {
        let subtotal = detail
            .lines()
            .map(|l| l.split(',').collect::<Vec<&str>>())
            .find(|c| c[1] == "subtotal" && format!("{},{},{},{}", c[2], c[3], c[4], c[5]) == *key)
            .map(|c| c[c.len() - 4..c.len() - 1].join(","))
            .expect("a subtotal per group");
        assert_eq!(&subtotal, figures, "{key}");
    }
    assert!(
        detail.contains(",invoice_total,,,CNY,rolled_up,,,,,,,,,70.58,"),
        "{detail}"
    );
    assert!(
        invoices
            .contains(",hosting,acc-1006,cloud,acc-1006,成都天府云计算有限公司,special,70.58,CNY,")
    );
    assert_holds(
        &period_a,
        "reconciliation.pdf",
        &[
            "重复账单 Duplicate bill",
            "用量未计费 Unbilled usage",
            "32.40",
            "-30.72",
            "托管非信控支付",
        ],
    );
    let size = std::fs::metadata(period_a.join("statements/p-02.pdf"))
        .expect("exists")
        .len();
    assert!(
        size < 200_000,
        "a one-page statement is {size} bytes; the font must be subset"
    );
    let _ = std::fs::remove_dir_all(a);
    let _ = std::fs::remove_dir_all(b);
}

/// A partner with 200 customers: the statement runs over several pages, the table header repeats
/// on each, and every page is numbered.
#[test]
fn a_200_line_statement_breaks_across_pages() {
    let dir = scratch("long");
    let inputs = dir.join("long");
    std::fs::create_dir_all(&inputs).expect("dataset dir");
    let mut accounts =
        String::from("account_id,account_name,entity_name,title_kind,discount_rate\n");
    let mut links = String::from("account_id,partner_id,link_type,linked_from,linked_to\n");
    let mut bills = String::from(
        "bill_id,account_id,product,sub_product,resource_id,payment_mode,billing_cycle,charge_start,charge_end,deducted_at,list_amount,discount_amount,voucher_amount,payable_amount,payment_status,paid_with,currency\n",
    );
    for i in 0..200 {
        accounts.push_str(&format!(
            "acc-{i:03},长名称客户第{i}号数字科技股份有限公司华东分公司,主体{i},enterprise,0\n"
        ));
        links.push_str(&format!("acc-{i:03},p-01,agency,2026-01-01,\n"));
        bills.push_str(&format!(
            "b-{i:03},acc-{i:03},cvm,standard,ins-{i},postpaid,month,2026-10-01,2026-11-01,2026-11-01 03:00:00,{}.00,0,0,{}.00,paid,cash,CNY\n",
            1000 + i,
            1000 + i
        ));
    }
    std::fs::write(inputs.join("accounts.csv"), accounts).expect("write");
    std::fs::write(inputs.join("partner_links.csv"), links).expect("write");
    std::fs::write(inputs.join("bills.csv"), bills).expect("write");
    std::fs::write(inputs.join("partners.csv"), "partner_id,partner_name,tier,invoice_kind,arrears_amount\np-01,云帆伙伴科技有限公司,gold,special,0\n").expect("write");
    std::fs::write(
        inputs.join("rebate_rates.csv"),
        "tier,product,payment_mode,rate,valid_from,valid_to\ngold,cvm,*,0.1,2026-01-01,\n",
    )
    .expect("write");
    settle(
        &[
            "run", "--inputs", "long", "--period", "2026-10", "--out", "out",
        ],
        &dir,
    );
    let text = pdftotext(&dir.join("out/long/2026-10/statements/p-01.pdf"));
    let pages = pages(&text);
    assert!(
        pages.len() >= 4,
        "200 lines should take several pages, got {}",
        pages.len()
    );
    for (i, page) in pages.iter().enumerate() {
        let n = i + 1;
        let numbered = format!("Page {n} of {}", pages.len());
        assert!(page.contains(&numbered), "page {n} lacks `{numbered}`");
        assert!(
            page.contains("客户ID") || i == pages.len() - 1,
            "page {n} lacks the table header"
        );
        // Every page names the document, its number, the partner, the period and the currency.
        for needle in [
            "返佣结算单",
            "ST-202610-",
            "云帆伙伴科技有限公司 (p-01)",
            "2026-10",
            "CNY",
        ] {
            assert!(page.contains(needle), "page {n} lacks `{needle}`:\n{page}");
        }
    }
    // The stamp boxes stay on the page of the totals.
    let last = pages.last().expect("pages");
    for needle in [
        "应结返佣 Net rebate",
        "合作伙伴盖章",
        "开票方盖章",
        "大写金额",
    ] {
        assert!(
            last.contains(needle),
            "the last page lacks `{needle}`:\n{last}"
        );
    }
    // Without [issuer], the header says so.
    assert!(text.contains("未配置开票方"), "{text}");
    // Without usage.csv, the report says usage was not compared.
    let report = pdftotext(&dir.join("out/long/2026-10/reconciliation.pdf"));
    assert!(report.contains("未比对用量与账单"), "{report}");
    // Σ (1000..1200) × 0.1 = 21,990.00; every line and the total extract back.
    assert!(text.contains("21,990.00 CNY"), "total missing:\n{text}");
    for i in [0, 99, 199] {
        assert!(text.contains(&format!("acc-{i:03}")), "acc-{i:03} missing");
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn pdftotext_pages(pdf: &Path, first: usize, last: usize) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8", "-f"])
        .arg(first.to_string())
        .arg("-l")
        .arg(last.to_string())
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        pdf.display()
    );
    String::from_utf8(out.stdout).expect("UTF-8 text")
}

/// `reconciliation.pdf` opens with the summary on a page of its own: the counts by kind, and no
/// finding's row before page 2.
#[test]
fn reconciliation_opens_with_the_summary() {
    let dir = scratch("summary");
    let inputs = repo().join("inputs").join("demo");
    settle(
        &[
            "run",
            "--inputs",
            inputs.to_str().expect("utf-8 path"),
            "--period",
            "2026-10",
            "--out",
            "out",
        ],
        &dir,
    );
    let pdf = dir.join("out/demo/2026-10/reconciliation.pdf");
    let first = pdftotext_pages(&pdf, 1, 1);
    for needle in [
        "用量与账单对账报告",
        "Reconciliation Report",
        "汇总 Summary",
        "数量 Count",
        "重复账单 Duplicate bill",
        "用量未计费 Unbilled usage",
        "-51.35",
        "Page 1 of 2",
    ] {
        assert!(first.contains(needle), "`{needle}` not on page 1:\n{first}");
    }
    for needle in [
        "What each kind means",
        "accounts with the most money",
        "reconciliation.csv · 9 行 rows",
    ] {
        assert!(first.contains(needle), "`{needle}` not on page 1:\n{first}");
    }
    for absent in ["largest of", "b-0048"] {
        assert!(!first.contains(absent), "`{absent}` on page 1:\n{first}");
    }
    let second = pdftotext_pages(&pdf, 2, 2);
    for needle in [
        "The 9 largest of 9 findings",
        "acc-1005",
        "重复账单 Duplicate",
        "mysql / ha / cdb-5001",
        "10-08–10-09",
        "b-0048 (+1)",
        "32.40",
        "第 2 / 2 页",
    ] {
        assert!(
            second.contains(needle),
            "`{needle}` not on page 2:\n{second}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A generated month with thousands of findings: `reconciliation.pdf` runs to a bounded number of
/// pages, each numbered out of the total, the 1,000 largest one line each, its Chinese and
/// English text extracts, and two runs give the same bytes.
#[test]
fn a_long_reconciliation_is_reproducible_and_reads_back() {
    let dir = scratch("findings");
    settle(
        &[
            "gen",
            "--lines",
            "20000",
            "--accounts",
            "1000",
            "--partners",
            "5",
            "--mismatch",
            "0.96",
            "month",
        ],
        &dir,
    );
    let mut pdfs = Vec::new();
    for out in ["a", "b"] {
        settle(
            &[
                "run", "--inputs", "month", "--period", "2026-10", "--out", out,
            ],
            &dir,
        );
        let path = dir.join(out).join("month/2026-10/reconciliation.pdf");
        pdfs.push(std::fs::read(&path).expect("reconciliation.pdf"));
    }
    assert!(
        pdfs[0] == pdfs[1],
        "reconciliation.pdf differs between two runs"
    );
    let text = pdftotext(&dir.join("a/month/2026-10/reconciliation.pdf"));
    let pages = pages(&text);
    // The report prints the 1,000 largest findings of the month's 1,590, whatever their number:
    // page 1, then at most 25 pages of them (19 here).
    assert!(
        pages.len() > 10 && pages.len() <= 1 + 25,
        "{} pages",
        pages.len()
    );
    for (i, page) in pages.iter().enumerate() {
        let numbered = format!("Page {} of {}", i + 1, pages.len());
        assert!(
            page.contains(&numbered),
            "page {} lacks `{numbered}`",
            i + 1
        );
        let chinese = format!("第 {} / {} 页", i + 1, pages.len());
        assert!(page.contains(&chinese), "page {} lacks `{chinese}`", i + 1);
    }
    assert!(pages[0].contains("汇总 Summary") && pages[0].contains("金额不符 Amount mismatch"));
    assert!(pages[1].contains("The 1,000 largest of 1,590 findings"));
    // One line a finding, ranked 1 to 1,000 in order, under the header on every page, at least
    // 40 to a full page.
    let rank = |line: &str| {
        let first = line.split_whitespace().next()?;
        first.replace(',', "").parse::<usize>().ok()
    };
    let mut ranks = Vec::new();
    for (i, page) in pages.iter().enumerate().skip(1) {
        assert!(
            page.contains("序号 No.") && page.contains("时间窗 Window"),
            "page {} has no table header:\n{page}",
            i + 1
        );
        let rows: Vec<&str> = page.lines().filter(|l| rank(l).is_some()).collect();
        for row in &rows {
            let row = row.trim_end();
            assert!(
                row.contains("金额不符 Amount")
                    && row.contains(" acc-")
                    && row.contains(" b-")
                    && (row.ends_with(" CNY") || row.ends_with(" USD")),
                "a finding not on one line on page {}: `{row}`",
                i + 1
            );
        }
        if i + 1 < pages.len() {
            assert!(
                rows.len() >= 40,
                "{} findings on page {}",
                rows.len(),
                i + 1
            );
        }
        ranks.extend(rows.iter().filter_map(|l| rank(l)));
    }
    assert_eq!(ranks, (1..=1000).collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(dir);
}
