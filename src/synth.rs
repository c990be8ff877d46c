//! `settle gen`: deterministic synthetic datasets in the contract's schema (docs/inputs.md), for benchmarks.
//!
//! The same arguments always give the same bytes. The bill-line mix follows a large reseller's
//! month: mostly hourly post-paid lines, some daily, monthly prepaid and one-time purchases;
//! amounts with 8 decimals; about 1% not yet deducted; a few USD lines; and partner links, special
//! rebates, relations and usage records in proportion. One hourly line in ten is metered, and a
//! chosen share of those (one in a thousand by default) disagrees with the meter.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenConfig {
    pub lines: u64,
    pub accounts: u64,
    pub partners: u64,
    pub seed: u64,
    /// Millionths of the metered resources whose bill disagrees with the meter; 1,000 (one in a
    /// thousand) unless asked otherwise.
    pub mismatch_per_million: u64,
}

/// splitmix64: small, fast and good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `per_mille`/1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

const PRODUCTS: [(&str, &str); 6] = [
    ("cvm", "standard"),
    ("cvm", "gpu"),
    ("cos", ""),
    ("cdn", ""),
    ("cbs", "ssd"),
    ("mysql", ""),
];
const TIERS: [&str; 3] = ["gold", "silver", "bronze"];

/// Writes a dataset for October 2026 into `out`.
pub fn generate(cfg: &GenConfig, out: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut rng = Rng(cfg.seed);
    let accounts = cfg.accounts.max(1);
    let partners = cfg.partners.max(1);
    let discount = |a: u64| discount_percent(a);

    std::fs::write(out.join("settle.toml"), "timezone = \"Asia/Shanghai\"\n")?;

    let mut w = writer(out, "accounts.csv")?;
    writeln!(
        w,
        "account_id,account_name,entity_name,title_kind,discount_rate"
    )?;
    for a in 0..accounts {
        // Every 50th account is a subsidiary sharing its group's entity, so hosting is possible.
        let entity = if a % 50 == 1 { a - 1 } else { a };
        let kind = if a % 97 == 0 {
            "individual"
        } else {
            "enterprise"
        };
        writeln!(
            w,
            "acc-{a:07},客户{a}科技有限公司,主体{entity}有限公司,{kind},0.{:02}",
            discount(a)
        )?;
    }
    w.flush()?;

    let mut w = writer(out, "partners.csv")?;
    writeln!(
        w,
        "partner_id,partner_name,tier,invoice_kind,arrears_amount"
    )?;
    for p in 0..partners {
        let kind = if p % 3 == 1 { "ordinary" } else { "special" };
        let arrears = if p % 7 == 3 { "1000.00" } else { "0" };
        writeln!(
            w,
            "p-{p:04},伙伴{p}信息技术有限公司,{},{kind},{arrears}",
            TIERS[(p % 3) as usize]
        )?;
    }
    w.flush()?;

    // Accounts with a % 10 < 7 have a partner; every 40th switches partner on the 16th.
    let mut w = writer(out, "partner_links.csv")?;
    writeln!(w, "account_id,partner_id,link_type,linked_from,linked_to")?;
    for a in (0..accounts).filter(|a| a % 10 < 7 && a % 50 != 0) {
        let p = rng.below(partners);
        let kind = if a % 3 == 0 { "resale" } else { "agency" };
        if a % 40 == 7 {
            writeln!(w, "acc-{a:07},p-{p:04},{kind},2025-01-01,2026-10-16")?;
            writeln!(
                w,
                "acc-{a:07},p-{:04},{kind},2026-10-16,",
                (p + 1) % partners
            )?;
        } else {
            writeln!(w, "acc-{a:07},p-{p:04},{kind},2025-01-01,")?;
        }
    }
    w.flush()?;

    let mut w = writer(out, "account_relations.csv")?;
    writeln!(
        w,
        "child_id,master_id,relation,effective_at,ended_at,inherit_discount,invoice_by"
    )?;
    for m in (0..accounts.saturating_sub(1)).filter(|a| a % 50 == 0) {
        if m % 100 == 0 {
            writeln!(
                w,
                "acc-{:07},acc-{m:07},hosting,2026-10-15 10:30:00,,false,master",
                m + 1
            )?;
        } else {
            writeln!(
                w,
                "acc-{:07},acc-{m:07},management,2026-10-10 00:00:00,,true,master",
                m + 1
            )?;
        }
    }
    w.flush()?;

    let mut w = writer(out, "rebate_rates.csv")?;
    writeln!(w, "tier,product,payment_mode,rate,valid_from,valid_to")?;
    for (t, tier) in TIERS.iter().enumerate() {
        for product in ["cvm", "cos", "cdn", "cbs", "mysql"] {
            writeln!(w, "{tier},{product},*,0.{:02},2025-01-01,", 10 - 2 * t)?;
            writeln!(
                w,
                "{tier},{product},prepaid,0.{:02},2025-01-01,",
                12 - 2 * t
            )?;
        }
    }
    w.flush()?;

    let mut w = writer(out, "special_rebates.csv")?;
    writeln!(
        w,
        "partner_id,account_id,product,sub_product,payment_mode,rate,valid_from,valid_to"
    )?;
    let mut links = Rng(cfg.seed);
    for a in (0..accounts).filter(|a| a % 10 < 7 && a % 50 != 0) {
        let p = links.below(partners);
        if a % 100 == 3 {
            writeln!(w, "p-{p:04},acc-{a:07},cvm,,,0.15,2026-10-15,")?;
        }
    }
    w.flush()?;

    let mut w = writer(out, "invoice_requests.csv")?;
    writeln!(
        w,
        "request_id,order_id,provider_id,account_id,amount,invoice_kind,title,title_kind,requested_at,issued_at,invoice_no,order_status"
    )?;
    for r in 0..(cfg.lines / 10_000).max(10) {
        let a = rng.below(accounts);
        let day = 1 + rng.below(31);
        let issued = if r % 3 == 0 {
            format!("2026-10-{:02} 12:00:00", day.min(30) + 1)
        } else {
            String::new()
        };
        let status = ["paid", "paid", "paid", "arrears", "refunded"][(r % 5) as usize];
        writeln!(
            w,
            "mr-{r:07},ord-{r:07},prov-{:03},acc-{a:07},{}.{:02},{},客户{a}科技有限公司,enterprise,2026-10-{day:02} 09:00:00,{issued},{},{status}",
            r % 20,
            rng.below(200),
            rng.below(100),
            if r % 4 == 0 { "special" } else { "ordinary" },
            if issued.is_empty() {
                String::new()
            } else {
                format!("INV{r:08}")
            },
        )?;
    }
    w.flush()?;

    bills_and_usage(cfg, out, &mut rng, accounts)
}

/// An account's contract discount in percent. A group's subsidiary (every 50th account plus one)
/// has its master's rate, so hosting and inherited discounts agree with the bills.
fn discount_percent(a: u64) -> u64 {
    let a = if a % 50 == 1 { a - 1 } else { a };
    [0, 5, 10, 15][(a % 4) as usize]
}

fn writer(out: &Path, name: &str) -> std::io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(
        1 << 20,
        File::create(out.join(name))?,
    ))
}

/// An amount with 8 decimals from a number of 1e-8 units.
fn amount(units: u64) -> String {
    format!("{}.{:08}", units / 100_000_000, units % 100_000_000)
}

fn bills_and_usage(
    cfg: &GenConfig,
    out: &Path,
    rng: &mut Rng,
    accounts: u64,
) -> std::io::Result<()> {
    let mut bills = writer(out, "bills.csv")?;
    let mut usage = writer(out, "usage.csv")?;
    writeln!(
        bills,
        "bill_id,account_id,product,sub_product,resource_id,payment_mode,billing_cycle,charge_start,charge_end,deducted_at,list_amount,discount_amount,voucher_amount,payable_amount,payment_status,paid_with,currency"
    )?;
    writeln!(
        usage,
        "usage_id,account_id,product,sub_product,resource_id,start,end,quantity,unit,unit_price,currency"
    )?;
    let mut usage_id = 0u64;
    for i in 0..cfg.lines {
        let a = rng.below(accounts);
        let (product, sub) = PRODUCTS[rng.below(PRODUCTS.len() as u64) as usize];
        let resource = rng.below(8);
        // One hourly line in ten is metered: it has its own resource and one usage record.
        let metered = i % 10 == 0;
        let kind = rng.below(100);
        // A few lines are September usage deducted on 1 October.
        let september = rng.chance(20);
        let (month, days) = if september { (9, 30) } else { (10, 31) };
        let day = 1 + rng.below(days);
        let hour = rng.below(24);
        let (mode, cycle, start, end, next_month_deduction) = if kind < 85 {
            let (end_day, end_hour) = if hour == 23 {
                (day + 1, 0)
            } else {
                (day, hour + 1)
            };
            let end = if end_day > days {
                format!("2026-{:02}-01 00:00:00", month + 1)
            } else {
                format!("2026-{month:02}-{end_day:02} {end_hour:02}:00:00")
            };
            (
                "postpaid",
                "hour",
                format!("2026-{month:02}-{day:02} {hour:02}:00:00"),
                end,
                hour == 23 && day == days,
            )
        } else if kind < 93 {
            let end = if day == days {
                format!("2026-{:02}-01", month + 1)
            } else {
                format!("2026-{month:02}-{:02}", day + 1)
            };
            (
                "postpaid",
                "day",
                format!("2026-{month:02}-{day:02}"),
                end,
                day == days,
            )
        } else if kind < 97 {
            (
                "prepaid",
                "month",
                format!("2026-{month:02}-01"),
                format!("2026-{:02}-01", month + 1),
                false,
            )
        } else {
            (
                "prepaid",
                "once",
                format!("2026-{month:02}-{day:02} 10:00:00"),
                format!("2026-{month:02}-{day:02} 10:00:00"),
                false,
            )
        };
        let deducted = if rng.chance(10) {
            String::new()
        } else if september || next_month_deduction {
            format!("2026-{:02}-01 03:00:00", month + 1)
        } else if mode == "prepaid" {
            start.clone()
        } else {
            end.clone()
        };
        let currency = if rng.chance(20) { "USD" } else { "CNY" };
        let list = 1 + rng.below(50_000_000_000);
        let discount = list / 100 * discount_percent(a);
        // Vouchers cannot be used on a hosted child's lines.
        let voucher = if a % 50 != 1 && rng.chance(30) {
            list / 20
        } else {
            0
        };
        let payable = list - discount - voucher;
        let refund = rng.chance(2);
        let sign = if refund { "-" } else { "" };
        let resource_id = if cycle == "once" {
            String::new()
        } else if metered && cycle == "hour" && !refund {
            format!("vm-{i}")
        } else {
            format!("res-{a}-{resource}")
        };
        writeln!(
            bills,
            "b-{i:010},acc-{a:07},{product},{sub},{resource_id},{mode},{cycle},{start},{end},{deducted},{sign}{},{sign}{},{sign}{},{sign}{},paid,{},{currency}",
            amount(list),
            amount(discount),
            amount(voucher),
            amount(payable),
            if a % 50 == 1 { "credit" } else { "cash" },
        )?;
        if metered && cycle == "hour" && !refund {
            usage_id += 1;
            // `mismatch_per_million` of the metered lines disagree with the meter, spread evenly:
            // at the default 1,000, every thousandth (the lines `i % 10_000 == 0`).
            let m = cfg.mismatch_per_million;
            let metered_list = if (i / 10 * m) % 1_000_000 < m {
                list + 100_000_000
            } else {
                list
            };
            writeln!(
                usage,
                "u-{usage_id:010},acc-{a:07},{product},{sub},{resource_id},{start},{end},1,hour,{},{currency}",
                amount(metered_list)
            )?;
        }
    }
    bills.flush()?;
    usage.flush()
}
