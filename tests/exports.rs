//! Cloud exports in, as a user runs them: the real binary on a dataset folder that holds only
//! `exports/` and a `settle.toml`, its `consumption.csv` checked against sums computed here,
//! independently of settle, from the export rows themselves.
//!
//! The FOCUS sample is run as CSV, gzip CSV, split into a gzip CSV and a CSV, and (with the
//! `parquet` feature) as Parquet with decimal amounts and Parquet with double amounts (AWS writes
//! `BilledCost` as a double), each written here with flate2 and polars. A hand-made Alibaba month
//! is run in the header variants real consoles write. The committed `exports_focus_split` fixture
//! is made by [`write_split_fixture`], and the `parquet` fuzz target's seeds by
//! [`write_parquet_fuzz_seeds`] (`cargo test --release --test exports -- --ignored`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

#[cfg(feature = "parquet")]
use polars::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

fn sample() -> PathBuf {
    fixtures()
        .join("exports_focus_sample")
        .join("inputs")
        .join("exports")
        .join("focus_sample_1000.csv")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("settle-exports-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("exports")).expect("the test's own data");
    dir
}

/// The sample's header and rows.
fn rows() -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(sample()).expect("the test's own data");
    let header = r
        .headers()
        .expect("the test's own data")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            rec.expect("the test's own data")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (header, rows)
}

/// Runs `settle run` on `ds` and returns its exit code and `consumption.csv` as
/// `(account, product, currency) → (usage, deduction)`.
/// Consumption by (account, product, currency): (usage period, deduction period), as printed.
type Consumption = BTreeMap<(String, String, String), (String, String)>;

fn run(ds: &Path, period: &str) -> (i32, Consumption) {
    let out = ds.join("out");
    let status = Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(["run", "--no-pdf", "--period", period, "--inputs"])
        .arg(ds)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("the test's own data");
    let code = status.status.code().unwrap_or(-1);
    let name = ds
        .file_name()
        .expect("the test's own data")
        .to_string_lossy()
        .into_owned();
    let path = out.join(name).join(period).join("consumption.csv");
    let mut found = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(&path) {
        let mut r = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let h: Vec<String> = r
            .headers()
            .expect("the test's own data")
            .iter()
            .map(str::to_string)
            .collect();
        let at = |n: &str| h.iter().position(|c| c == n).expect("the test's own data");
        for rec in r.records() {
            let rec = rec.expect("the test's own data");
            found.insert(
                (
                    rec[at("account_id")].to_string(),
                    rec[at("product")].to_string(),
                    rec[at("currency")].to_string(),
                ),
                (
                    rec[at("usage_period_amount")].to_string(),
                    rec[at("deduction_period_amount")].to_string(),
                ),
            );
        }
    } else {
        panic!(
            "no consumption.csv; settle said: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
    (code, found)
}

fn cents(d: Decimal) -> String {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    r.rescale(2);
    r.to_string()
}

/// What consumption.csv must say for the sample in September 2024: Σ `BilledCost` exactly, per
/// `SubAccountId` (or `BillingAccountId`), `ServiceName` and `BillingCurrency`, over the rows
/// whose `ChargePeriodStart` (usage) or `BillingPeriodStart` (deduction) is in the month.
fn expected_focus() -> BTreeMap<(String, String, String), (String, String)> {
    let (h, rows) = rows();
    let at = |n: &str| h.iter().position(|c| c == n).expect("the test's own data");
    let mut sums: BTreeMap<(String, String, String), (Decimal, Decimal)> = BTreeMap::new();
    for r in &rows {
        let account = match r[at("SubAccountId")].as_str() {
            "NULL" | "" => r[at("BillingAccountId")].clone(),
            a => a.to_string(),
        };
        let key = (
            account,
            r[at("ServiceName")].clone(),
            r[at("BillingCurrency")].clone(),
        );
        let billed = Decimal::from_str_exact(&r[at("BilledCost")]).expect("the test's own data");
        let s = sums.entry(key).or_default();
        if r[at("ChargePeriodStart")].starts_with("2024-09") {
            s.0 += billed;
        }
        if r[at("BillingPeriodStart")].starts_with("2024-09") {
            s.1 += billed;
        }
    }
    sums.into_iter()
        .map(|(k, (u, d))| (k, (cents(u), cents(d))))
        .collect()
}

/// Runs September on `ds` and checks its consumption against the independent sums, then removes
/// the dataset.
fn assert_focus_sums(ds: &Path) {
    let (code, found) = run(ds, "2024-09");
    assert_eq!(code, 0);
    assert_eq!(found, expected_focus());
    std::fs::remove_dir_all(ds).expect("the test's own data");
}

fn utc_dataset(name: &str) -> PathBuf {
    let ds = scratch(name);
    std::fs::write(ds.join("settle.toml"), "timezone = \"UTC\"\n").expect("the test's own data");
    ds
}

/// How a Parquet fixture holds its amounts and times.
#[cfg(feature = "parquet")]
#[derive(Copy, Clone)]
enum Amounts {
    Decimal,
    Double,
}

/// Writes the sample's rows `range` as Parquet: amounts as `decimal(38, 11)` or as doubles; the
/// period columns as UTC timestamps (decimal variant) or as text (double variant); the rest as
/// text, `NULL` as null.
#[cfg(feature = "parquet")]
fn write_parquet(path: &Path, range: std::ops::Range<usize>, amounts: Amounts) {
    let (h, rows) = rows();
    write_parquet_rows(path, &h, &rows[range], amounts);
}

/// Writes `rows` under header `h` as [`write_parquet`] does.
#[cfg(feature = "parquet")]
fn write_parquet_rows(path: &Path, h: &[String], rows: &[Vec<String>], amounts: Amounts) {
    let mut columns = Vec::new();
    for (i, name) in h.iter().enumerate() {
        let cells: Vec<Option<&str>> = rows
            .iter()
            .map(|r| Some(r[i].as_str()).filter(|v| *v != "NULL" && !v.is_empty()))
            .collect();
        let text = Series::new(name.as_str().into(), &cells);
        let series = match (name.as_str(), amounts) {
            ("BilledCost" | "ListCost" | "EffectiveCost" | "ContractedCost", Amounts::Decimal) => {
                text.cast(&DataType::Decimal(38, 11))
                    .expect("the test's own data")
            }
            ("BilledCost" | "ListCost" | "EffectiveCost" | "ContractedCost", Amounts::Double) => {
                let f: Vec<Option<f64>> = cells
                    .iter()
                    .map(|c| c.map(|v| f64::from_str(v).expect("the test's own data")))
                    .collect();
                Series::new(name.as_str().into(), &f)
            }
            (n, Amounts::Decimal) if n.ends_with("PeriodStart") || n.ends_with("PeriodEnd") => {
                let micros: Vec<Option<i64>> = cells
                    .iter()
                    .map(|c| {
                        c.map(|v| {
                            chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S")
                                .expect("the test's own data")
                                .and_utc()
                                .timestamp_micros()
                        })
                    })
                    .collect();
                Series::new(name.as_str().into(), &micros)
                    .cast(&DataType::Datetime(
                        TimeUnit::Microseconds,
                        Some(TimeZone::UTC),
                    ))
                    .expect("the test's own data")
            }
            _ => text,
        };
        columns.push(Column::from(series));
    }
    let mut df = DataFrame::new_infer_height(columns).expect("the test's own data");
    let file = std::fs::File::create(path).expect("the test's own data");
    ParquetWriter::new(file)
        .with_row_group_size(Some(400))
        .finish(&mut df)
        .expect("the test's own data");
}

fn write_gz(path: &Path, text: &[u8]) {
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).expect("the test's own data"),
        flate2::Compression::new(6),
    );
    gz.write_all(text).expect("the test's own data");
    gz.finish().expect("the test's own data");
}

#[test]
fn focus_sample_csv_sums_billed_cost_exactly() {
    let ds = utc_dataset("focus-csv");
    std::fs::copy(sample(), ds.join("exports/focus_sample_1000.csv")).expect("the test's own data");
    assert_focus_sums(&ds);
}

#[test]
fn focus_sample_gzip_csv() {
    let ds = utc_dataset("focus-gz");
    write_gz(
        &ds.join("exports/focus_sample_1000.csv.gz"),
        &std::fs::read(sample()).expect("the test's own data"),
    );
    assert_focus_sums(&ds);
}

#[cfg(feature = "parquet")]
#[test]
fn focus_sample_decimal_parquet() {
    let ds = utc_dataset("focus-decimal");
    write_parquet(&ds.join("exports/focus.parquet"), 0..1000, Amounts::Decimal);
    assert_focus_sums(&ds);
}

#[cfg(feature = "parquet")]
#[test]
fn focus_sample_double_parquet() {
    let ds = utc_dataset("focus-double");
    write_parquet(&ds.join("exports/focus.parquet"), 0..1000, Amounts::Double);
    assert_focus_sums(&ds);
}

/// The sample's header and its rows `range`, as CSV text. The sample has no quoted line
/// breaks: one record per line.
fn sample_part(range: std::ops::Range<usize>) -> String {
    let text = std::fs::read_to_string(sample()).expect("the test's own data");
    let lines: Vec<&str> = text.lines().collect();
    std::iter::once(lines[0])
        .chain(lines[1..][range].iter().copied())
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The month split into a gzip CSV of its first 600 rows and a CSV of the rest gives the same
/// sums, as the committed `exports_focus_split` fixture holds it.
#[test]
fn focus_split_across_files() {
    let ds = utc_dataset("focus-split");
    write_split(&ds.join("exports"));
    assert_focus_sums(&ds);
}

fn write_split(dir: &Path) {
    write_gz(&dir.join("part-1.csv.gz"), sample_part(0..600).as_bytes());
    std::fs::write(dir.join("part-2.csv"), sample_part(600..1000)).expect("the test's own data");
}

/// The month split into a gzip CSV and a decimal Parquet file.
#[cfg(feature = "parquet")]
#[test]
fn focus_split_across_gzip_and_parquet() {
    let ds = utc_dataset("focus-split-parquet");
    let dir = ds.join("exports");
    write_gz(&dir.join("part-1.csv.gz"), sample_part(0..600).as_bytes());
    write_parquet(&dir.join("part-2.parquet"), 600..1000, Amounts::Decimal);
    assert_focus_sums(&ds);
}

/// Rewrites the committed `exports_focus_split` fixture's inputs.
#[test]
#[ignore = "writes the committed fixture; run by hand after changing it"]
fn write_split_fixture() {
    let dir = fixtures().join("exports_focus_split/inputs/exports");
    std::fs::create_dir_all(&dir).expect("the test's own data");
    write_split(&dir);
}

/// Writes the `parquet` fuzz target's seeds, `fuzz/corpus/parquet/`: the sample's first rows as
/// Parquet with decimal amounts and UTC timestamps, and with double amounts and text times. Run
/// by hand (`cargo test --release --test exports -- --ignored parquet_fuzz_seeds`); small, so that
/// AFL++ mutates them quickly.
#[cfg(feature = "parquet")]
#[test]
#[ignore = "writes the committed fuzz seeds; run by hand after changing them"]
fn write_parquet_fuzz_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parquet");
    std::fs::create_dir_all(&dir).expect("the test's own data");
    write_parquet(&dir.join("focus_decimal.parquet"), 0..4, Amounts::Decimal);
    write_parquet(&dir.join("focus_double.parquet"), 4..8, Amounts::Double);
}

/// A hand-made Alibaba month, in the spellings real consoles write its header.
const ALIBABA_ROWS: &[[&str; 9]] = &[
    // 账期, 日期/时间, 账号ID, 账号, 产品, 消费类型, 官网价, 优惠金额, 应付金额
    [
        "2024-09",
        "2024-09-01",
        "1001",
        "甲公司",
        "云服务器 ECS",
        "PayAsYouGo",
        "10.00",
        "1.00",
        "9.00",
    ],
    [
        "2024-09",
        "2024-09-02",
        "1001",
        "甲公司",
        "对象存储",
        "PayAsYouGo",
        "0.333333",
        "0",
        "0.333333",
    ],
    [
        "2024-09",
        "2024-09-03",
        "1002",
        "乙公司",
        "云数据库 RDS",
        "Subscription",
        "500.00",
        "50.00",
        "450.00",
    ],
    [
        "2024-09",
        "2024-09-20",
        "1002",
        "乙公司",
        "云数据库 RDS",
        "Subscription",
        "-100.00",
        "-10.00",
        "-90.00",
    ],
    [
        "2024-09",
        "2024-08-31",
        "1003",
        "丙公司",
        "CDN",
        "PayAsYouGo",
        "2.50",
        "0",
        "2.50",
    ],
    [
        "2024-09",
        "2024-09-30",
        "1003",
        "丙公司",
        "CDN",
        "PayAsYouGo",
        "-",
        "-",
        "1.25",
    ],
];

struct Variant {
    name: &'static str,
    bom: bool,
    quoted: bool,
    product: &'static str,
    time: &'static str,
    with_name: bool,
}

fn alibaba(v: &Variant) -> String {
    let mut header = vec!["账期", v.time, "账号ID"];
    if v.with_name {
        header.push("账号");
    }
    header.extend([
        v.product,
        "消费类型",
        "实例ID",
        "官网价",
        "优惠金额",
        "优惠券抵扣",
        "应付金额",
        "代金券抵扣",
        "币种",
    ]);
    let cell = |s: &str| {
        if v.quoted {
            format!("\"{s}\"")
        } else {
            s.to_string()
        }
    };
    let mut text = String::new();
    if v.bom {
        text.push('\u{feff}');
    }
    text += &header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(",");
    text += "\r\n";
    for r in ALIBABA_ROWS {
        let time = match v.time {
            "日期" => r[1].replace('-', ""),
            _ => format!("{} 10:00:00", r[1]),
        };
        let mut cells = vec![r[0].to_string(), time, r[2].to_string()];
        if v.with_name {
            cells.push(r[3].to_string());
        }
        cells.extend([r[4], r[5], "-", r[6], r[7], "0", r[8], "0", "CNY"].map(str::to_string));
        text += &cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
        text += "\r\n";
    }
    text
}

/// Per account: Σ 应付金额 of the rows used in September (usage), and of every row (deduction:
/// the file's 账期 is September).
fn alibaba_expected() -> BTreeMap<String, (Decimal, Decimal)> {
    let mut sums: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for r in ALIBABA_ROWS {
        let payable = Decimal::from_str_exact(r[8]).expect("the test's own data");
        let s = sums.entry(r[2].to_string()).or_default();
        if r[1].starts_with("2024-09") {
            s.0 += payable;
        }
        s.1 += payable;
    }
    sums
}

#[test]
fn alibaba_header_variants_agree_account_by_account() {
    let variants = [
        Variant {
            name: "console",
            bom: true,
            quoted: true,
            product: "产品",
            time: "日期",
            with_name: true,
        },
        Variant {
            name: "codes",
            bom: false,
            quoted: false,
            product: "产品Code",
            time: "消费时间",
            with_name: false,
        },
        Variant {
            name: "billing-start",
            bom: true,
            quoted: false,
            product: "产品",
            time: "账单开始时间",
            with_name: false,
        },
    ];
    for v in &variants {
        let ds = scratch(&format!("alibaba-{}", v.name));
        std::fs::write(ds.join("exports/bill.csv"), alibaba(v)).expect("the test's own data");
        let (code, found) = run(&ds, "2024-09");
        assert_eq!(code, 0, "{}", v.name);
        let mut by_account: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
        for ((account, _, currency), (used, deducted)) in &found {
            assert_eq!(currency, "CNY");
            let s = by_account.entry(account.clone()).or_default();
            s.0 += Decimal::from_str(used).expect("the test's own data");
            s.1 += Decimal::from_str(deducted).expect("the test's own data");
        }
        let expected: BTreeMap<String, (Decimal, Decimal)> = alibaba_expected()
            .into_iter()
            .map(|(a, (u, d))| {
                (
                    a,
                    (
                        Decimal::from_str(&cents(u)).expect("the test's own data"),
                        Decimal::from_str(&cents(d)).expect("the test's own data"),
                    ),
                )
            })
            .collect();
        assert_eq!(by_account, expected, "{}", v.name);
        std::fs::remove_dir_all(&ds).expect("the test's own data");
    }
}

/// `settle validate` names each export file's format, the column that fed each contract column, and
/// its rows.
#[test]
fn validate_shows_the_mapping() {
    let out = Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(["validate", "--inputs"])
        .arg(fixtures().join("exports_focus_sample/inputs"))
        .output()
        .expect("the test's own data");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("the test's own data");
    assert!(
        text.contains("exports/focus_sample_1000.csv       1000       1000          0"),
        "{text}"
    );
    assert!(text.contains("format: focus (from the header)"), "{text}");
    assert!(
        text.contains("payable_amount           ← BilledCost"),
        "{text}"
    );
    assert!(
        text.contains("account_id               ← SubAccountId"),
        "{text}"
    );
}

/// Issue 29: `exports/` was read at its top level only, so a file in a sub-folder (AWS and Azure
/// deliver nested folders) was dropped without a word. A file at the top and one two folders
/// down now settle the whole month, and rows of two files of one name in two folders keep
/// apart.
#[test]
fn issue_29_a_file_in_a_sub_folder_is_read() {
    let ds = utc_dataset("nested");
    let below = ds.join("exports/focus/data/BILLING_PERIOD=2024-09");
    std::fs::create_dir_all(&below).expect("the test's own data");
    std::fs::write(ds.join("exports/part-1.csv"), sample_part(0..600))
        .expect("the test's own data");
    std::fs::write(below.join("part-1.csv"), sample_part(600..1000)).expect("the test's own data");
    assert_focus_sums(&ds);
}

/// Runs `settle <args> --inputs ds` (and `--out ds/out` for `run`) and returns its exit code,
/// stdout and stderr.
fn settle(args: &[&str], ds: &Path) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_settle"));
    command.args(args).arg("--inputs").arg(ds);
    if args[0] == "run" {
        command.arg("--out").arg(ds.join("out"));
    }
    let out = command.output().expect("the test's own data");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issue 29: two export files with the same bytes were both counted (the month twice). Now
/// the run stops (exit 2) naming both.
#[test]
fn issue_29_the_same_file_twice_stops_the_run() {
    let ds = utc_dataset("same-twice");
    std::fs::create_dir_all(ds.join("exports/copy")).expect("the test's own data");
    std::fs::write(ds.join("exports/part-1.csv"), sample_part(0..600))
        .expect("the test's own data");
    std::fs::write(ds.join("exports/part-2.csv"), sample_part(600..1000))
        .expect("the test's own data");
    std::fs::write(ds.join("exports/copy/part-1.csv"), sample_part(0..600))
        .expect("the test's own data");
    let (code, _, err) = settle(&["run", "--no-pdf", "--period", "2024-09"], &ds);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`exports/copy/part-1.csv` and `exports/part-1.csv` hold the same bytes"),
        "{err}"
    );
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}

/// Issue 29: a delivery's own manifest (AWS `Manifest.json`, Azure `manifest.json`) is
/// honoured: a file it lists that is missing stops the run, and so does a file beside it that
/// it does not list; with the files it lists, every one of them is in the run's
/// `manifest.json` and in `settle validate`.
#[test]
fn issue_29_a_delivery_manifest_is_honoured() {
    let ds = utc_dataset("delivery-manifest");
    let data = ds.join("exports/focus/data/BILLING_PERIOD=2024-09");
    let meta = ds.join("exports/focus/metadata/BILLING_PERIOD=2024-09");
    std::fs::create_dir_all(&data).expect("the test's own data");
    std::fs::create_dir_all(&meta).expect("the test's own data");
    let key =
        |n: u32| format!("s3://bucket/cur/focus/data/BILLING_PERIOD=2024-09/focus-0000{n}.csv.gz");
    std::fs::write(
        meta.join("focus-Manifest.json"),
        format!(r#"{{"dataFiles": ["{}", "{}"]}}"#, key(1), key(2)),
    )
    .expect("the test's own data");
    write_gz(
        &data.join("focus-00001.csv.gz"),
        sample_part(0..600).as_bytes(),
    );
    let (code, _, err) = settle(&["validate"], &ds);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "`exports/focus/metadata/BILLING_PERIOD=2024-09/focus-Manifest.json` lists `{}`, which is not in `exports/`",
            key(2)
        )),
        "{err}"
    );
    write_gz(
        &data.join("focus-00002.csv.gz"),
        sample_part(600..1000).as_bytes(),
    );
    let (code, out, err) = settle(&["validate"], &ds);
    assert_eq!(code, 0, "{err}");
    for n in 1..=2 {
        let file = format!("exports/focus/data/BILLING_PERIOD=2024-09/focus-0000{n}.csv.gz");
        assert!(out.contains(&file), "{out}");
    }
    let (code, _, err) = settle(&["run", "--no-pdf", "--period", "2024-09"], &ds);
    assert_eq!(code, 0, "{err}");
    let name = ds.file_name().expect("the test's own data");
    let manifest = std::fs::read_to_string(ds.join("out").join(name).join("2024-09/manifest.json"))
        .expect("the run writes its manifest");
    for n in 1..=2 {
        let file = format!("exports/focus/data/BILLING_PERIOD=2024-09/focus-0000{n}.csv.gz");
        assert!(
            manifest.contains(&format!("\"file\": \"{file}\"")),
            "{manifest}"
        );
    }
    // A file in the folder of an Azure run's manifest that the manifest does not list is from
    // another run.
    let run = ds.join("exports/focus/data/BILLING_PERIOD=2024-09");
    std::fs::write(
        run.join("manifest.json"),
        r#"{"blobs": [{"blobName": "x/focus/data/BILLING_PERIOD=2024-09/focus-00001.csv.gz"}, {"blobName": "x/focus/data/BILLING_PERIOD=2024-09/focus-00002.csv.gz"}]}"#,
    )
    .expect("the test's own data");
    std::fs::write(run.join("old.csv"), sample_part(0..3)).expect("the test's own data");
    let (code, _, err) = settle(&["validate"], &ds);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`exports/focus/data/BILLING_PERIOD=2024-09/old.csv` is not listed by the delivery's manifest"),
        "{err}"
    );
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}

/// Issue 29: an export whose line ends are a carriage return alone (Excel's "CSV (Macintosh)")
/// read as one header line, and its month settled to zero with status `ok`. It now stops the
/// run (exit 2) saying why.
#[test]
fn issue_29_cr_only_line_ends_stop_the_run() {
    let ds = utc_dataset("cr-only");
    let text = sample_part(0..50).replace('\n', "\r");
    std::fs::write(ds.join("exports/mac.csv"), text).expect("the test's own data");
    let (code, _, err) = settle(&["run", "--no-pdf", "--period", "2024-09"], &ds);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`exports/mac.csv` ends its lines with a carriage return alone"),
        "{err}"
    );
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}

/// The sample's rows `range` with some cells replaced: `(row from 0, column, value)`.
fn sample_with(range: std::ops::Range<usize>, changes: &[(usize, &str, &str)]) -> String {
    let (h, rows) = rows();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&h).expect("the test's own data");
    for (i, mut r) in rows[range].iter().cloned().enumerate() {
        for (row, column, value) in changes {
            if *row == i {
                let at = h.iter().position(|c| c == column).expect("a FOCUS column");
                r[at] = value.to_string();
            }
        }
        w.write_record(&r).expect("the test's own data");
    }
    String::from_utf8(w.into_inner().expect("the test's own data")).expect("the test's own data")
}

/// The run's `rejects.csv` of September.
fn rejects(ds: &Path) -> String {
    let name = ds.file_name().expect("the test's own data");
    std::fs::read_to_string(ds.join("out").join(name).join("2024-09/rejects.csv"))
        .expect("the run writes its rejects")
}

/// Issue 29: a 28-digit FOCUS `BilledCost` panicked (`Addition overflowed`, exit 101), and
/// `ListCost − BilledCost` overflowed inside one row. Export amounts now have the bound
/// `bills.csv` has (below 10^15): such a row is a reject naming its file, line, column and
/// value, and the run goes on.
#[test]
fn issue_29_a_28_digit_export_amount_is_a_reject() {
    let ds = utc_dataset("huge-amount");
    let huge = "1234567890123456789012345678";
    let text = sample_with(
        0..20,
        &[
            (0, "BilledCost", huge),
            (1, "ListCost", "900000000000000"),
            (1, "BilledCost", "-900000000000000"),
        ],
    );
    std::fs::write(ds.join("exports/big.csv"), text).expect("the test's own data");
    let (code, _, err) = settle(&["run", "--no-pdf", "--period", "2024-09"], &ds);
    assert_eq!(code, 0, "{err}");
    let rejects = rejects(&ds);
    assert!(
        rejects.contains(&format!("exports/big.csv,2,BilledCost,{huge},too large: amounts must be less than 1000000000000000 (10^15) in magnitude")),
        "{rejects}"
    );
    assert!(
        rejects.contains("exports/big.csv,3,ListCost,900000000000000,too large: the discount"),
        "{rejects}"
    );
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}

/// A Parquet export's decimal costs and UTC periods are read typed, never as text, and a bad one
/// is rejected as its text was: the same reason, and the value as the text the cell stands for
/// (polars writes these timestamps without a timezone, which read as `YYYY-MM-DD HH:MM:SS`).
#[cfg(feature = "parquet")]
#[test]
fn typed_parquet_cells_are_rejected_as_their_text() {
    let ds = utc_dataset("typed-rejects");
    let text = sample_with(
        0..20,
        &[
            (0, "BilledCost", "1000000000000000.00000000001"),
            (1, "ListCost", "900000000000000.00000000000"),
            (1, "BilledCost", "-900000000000000.00000000000"),
            (2, "ChargePeriodEnd", "2024-08-01 00:00:00"),
            (3, "ChargePeriodStart", "1899-12-31 23:00:00"),
            (4, "BillingPeriodStart", "1850-01-01 00:00:00"),
        ],
    );
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h: Vec<String> = r
        .headers()
        .expect("the test's own data")
        .iter()
        .map(str::to_string)
        .collect();
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| {
            rec.expect("the test's own data")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    write_parquet_rows(
        &ds.join("exports/focus.parquet"),
        &h,
        &rows,
        Amounts::Decimal,
    );
    let (code, _, err) = settle(&["run", "--no-pdf", "--period", "2024-09"], &ds);
    assert_eq!(code, 0, "{err}");
    let rejects = rejects(&ds);
    for line in [
        "exports/focus.parquet,1,BilledCost,1000000000000000.00000000001,too large: amounts must \
         be less than 1000000000000000 (10^15) in magnitude",
        "exports/focus.parquet,2,ListCost,900000000000000.00000000000,too large: the discount \
         (list amount less payable) must be less than 1000000000000000 (10^15) in magnitude",
        "exports/focus.parquet,3,ChargePeriodEnd,2024-08-01 00:00:00,the charge window ends \
         before it starts",
        "exports/focus.parquet,4,ChargePeriodStart,1899-12-31 23:00:00,\"not a timestamp; \
         expected `YYYY-MM-DD HH:MM:SS`, optionally with an offset such as `+08:00`, or \
         `YYYY-MM-DD`\"",
        "exports/focus.parquet,5,BillingPeriodStart,1850-01-01 00:00:00,\"not a month; expected \
         `YYYY-MM`, for example `2024-09`\"",
    ] {
        assert!(rejects.lines().any(|l| l == line), "{line}\n{rejects}");
    }
    assert_eq!(rejects.lines().count(), 6, "{rejects}");
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}

/// Without `accounts.csv`, an account is named by the first of its charge rows that gives a
/// name: a row without one, or a rejected row, names nothing, and an account only a rejected row
/// names is no account. (The accounts' read maps only the rows of accounts not named yet.)
#[test]
fn accounts_from_exports_take_the_first_name_of_a_charge() {
    let ds = utc_dataset("account-names");
    let text = sample_with(
        0..4,
        &[
            (0, "SubAccountId", "A1"),
            (0, "SubAccountName", "NULL"),
            (1, "SubAccountId", "A1"),
            (1, "SubAccountName", "Alpha"),
            (1, "BilledCost", "1.5x"),
            (2, "SubAccountId", "A1"),
            (2, "SubAccountName", "Beta"),
            (3, "SubAccountId", "A1"),
            (3, "SubAccountName", "Gamma"),
        ],
    );
    let rejected = sample_with(0..1, &[(0, "SubAccountId", "B2"), (0, "BilledCost", "x")]);
    std::fs::write(ds.join("exports/a.csv"), text).expect("the test's own data");
    std::fs::write(ds.join("exports/b.csv"), rejected).expect("the test's own data");
    let (code, _, err) = settle(&["run", "--no-pdf", "--period", "2024-09"], &ds);
    assert_eq!(code, 0, "{err}");
    let name = ds.file_name().expect("the test's own data");
    let consumption =
        std::fs::read_to_string(ds.join("out").join(name).join("2024-09/consumption.csv"))
            .expect("the run writes consumption");
    let accounts: std::collections::BTreeSet<String> = consumption
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).take(2).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(accounts, ["A1,Beta".to_string()].into(), "{consumption}");
    assert!(err.contains("the 1 account(s) the exports name"), "{err}");
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}

/// Issue 29: Alibaba's list amount, when its column is null, is `payable + discount + coupon`,
/// which overflowed. A sum past the bound is a reject naming the list column.
#[test]
fn issue_29_alibaba_list_fallback_past_the_bound_is_a_reject() {
    let ds = scratch("alibaba-fallback");
    let text = "账期,日期,账号ID,产品,消费类型,官网价,优惠金额,优惠券抵扣,应付金额\n\
                2024-09,20240901,1001,ECS,PayAsYouGo,-,999999999999999,999999999999999,999999999999999\n\
                2024-09,20240902,1001,ECS,PayAsYouGo,-,1,0,9\n";
    std::fs::write(ds.join("exports/bill.csv"), text).expect("the test's own data");
    let (code, _, err) = settle(&["run", "--no-pdf", "--period", "2024-09"], &ds);
    assert_eq!(code, 0, "{err}");
    let rejects = rejects(&ds);
    assert!(
        rejects.contains("exports/bill.csv,2,官网价,,too large: the list amount"),
        "{rejects}"
    );
    assert_eq!(rejects.lines().count(), 2, "{rejects}");
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}

/// Issue 29: the export reader was quadratic on long lines (a 2 GB one-line gzip member pinned a
/// core for minutes and grew past 1.6 GB). A row longer than 1 MiB now stops the run (exit 2)
/// naming the file and line, in a plain CSV and in a gzip member alike, read no further than the
/// bound. (The same reader takes a 2 GB one-line member in 0.01 s and 22 MB; this test keeps to
/// a few MB.)
#[test]
fn issue_29_a_line_past_the_bound_is_refused_with_file_and_line() {
    let ds = utc_dataset("long-line");
    let mut text = sample_part(0..5);
    text.push_str(&"9".repeat(3 << 20));
    text.push('\n');
    write_gz(&ds.join("exports/long.csv.gz"), text.as_bytes());
    let (code, _, err) = settle(&["validate"], &ds);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`exports/long.csv.gz` line 7: refused: a row longer than 1 MiB"),
        "{err}"
    );
    std::fs::remove_file(ds.join("exports/long.csv.gz")).expect("the test's own data");
    std::fs::write(ds.join("exports/long.csv"), &text).expect("the test's own data");
    let (code, _, err) = settle(&["validate"], &ds);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`exports/long.csv` line 7: refused"), "{err}");
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}

/// Issue 29: contradictory export headers were resolved without a word: a duplicate
/// `BilledCost` (the first won), a header with both FOCUS's and Alibaba's telling columns (read
/// as Alibaba), a payable labelled `$` among `¥` columns (booked as CNY). Each is now exit 2
/// naming the columns; pinning the format settles the second.
#[test]
fn issue_29_an_ambiguous_export_header_is_an_error() {
    let ds = utc_dataset("ambiguous");
    let file = ds.join("exports/x.csv");
    let check = |text: String, says: &str| {
        std::fs::write(&file, text).expect("the test's own data");
        let (code, _, err) = settle(&["validate"], &ds);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(says), "{err}");
    };
    // Two `BilledCost` columns.
    let sample = sample_part(0..3);
    let (header, rows) = sample.split_once('\n').expect("the test's own data");
    let twice: String = std::iter::once(format!("{header},BilledCost\n"))
        .chain(rows.lines().map(|r| format!("{r},1\n")))
        .collect();
    check(
        twice,
        "has two columns for `payable_amount`: `BilledCost` (column 2) and `BilledCost` (column 45)",
    );
    // FOCUS's columns and Alibaba's.
    let both: String = std::iter::once(format!("{header},账期,账号ID,应付金额\n"))
        .chain(rows.lines().map(|r| format!("{r},2024-09,1,1\n")))
        .collect();
    check(
        both.clone(),
        "fits two export formats: FOCUS (`BilledCost`, `ChargePeriodStart`",
    );
    std::fs::write(
        ds.join("settle.toml"),
        "timezone = \"UTC\"\n[exports]\nformat = \"focus\"\n",
    )
    .expect("the test's own data");
    std::fs::write(&file, both).expect("the test's own data");
    let (code, _, err) = settle(&["validate"], &ds);
    assert_eq!(code, 0, "pinning settles it: {err}");
    std::fs::write(ds.join("settle.toml"), "timezone = \"UTC\"\n").expect("the test's own data");
    // A `$` payable among `¥` columns.
    check(
        "账期,账号,产品类型,资源ID,使用开始时间,官网价(¥),优惠金额(¥),应付金额($)\n\
         2024-09,a,ECS,r1,2024-09-01 00:00:00 GMT+08:00,10,1,9\n"
            .to_string(),
        "money columns name different currencies: `官网价(¥)` says CNY, `应付金额($)` says USD",
    );
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}

/// Issue 29: a refused export said only that it was unknown. One that looks like AWS CUR 1.0 or
/// 2.0, an Azure EA/MCA cost export, a GCP BigQuery billing export or an OCI cost report is now
/// named as such, with the hint to use that cloud's FOCUS export, and its columns are listed
/// (all of them, or the first 40 and how many more).
#[test]
fn issue_29_a_refused_export_says_what_it_is() {
    let headers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/foreign_headers");
    let read =
        |name: &str| std::fs::read_to_string(headers.join(name)).expect("the test's own data");
    let cases = [
        (read("koku__2023-06-01.header.csv"), "an AWS Cost and Usage Report (CUR 1.0)", "AWS Data Exports as FOCUS"),
        (
            "identity_line_item_id,identity_time_interval,bill_payer_account_id,line_item_usage_account_id,line_item_line_item_type,line_item_unblended_cost\n".to_string(),
            "an AWS Cost and Usage Report (CUR 2.0)",
            "AWS Data Exports as FOCUS",
        ),
        (read("koku__azure_version_2.header.csv"), "an Azure EA or MCA cost export", "Azure Cost Management's FOCUS export"),
        (read("koku__camel_azure_version_2.header.csv"), "an Azure EA or MCA cost export", "Azure Cost Management's FOCUS export"),
        (read("koku__2022-08-01_5.header.csv"), "a GCP billing export from BigQuery", "GCP's FOCUS BigQuery view"),
        (
            "lineItem/referenceNo,lineItem/tenantId,lineItem/intervalUsageStart,lineItem/intervalUsageEnd,product/service,cost/myCost\n".to_string(),
            "an OCI cost report",
            "FOCUS report from OCI",
        ),
    ];
    let ds = utc_dataset("foreign");
    for (header, what, hint) in cases {
        std::fs::write(ds.join("exports/cost.csv"), &header).expect("the test's own data");
        let (code, _, err) = settle(&["validate"], &ds);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!(
                "`exports/cost.csv` looks like {what}, which settle does not read"
            )),
            "{err}"
        );
        assert!(err.contains(hint), "{err}");
        let columns: Vec<&str> = header.trim_end().split(',').collect();
        if columns.len() > 40 {
            assert!(
                err.contains(&format!("{}, and {} more", columns[39], columns.len() - 40)),
                "{err}"
            );
        } else {
            assert!(err.contains(&columns.join(", ")), "{err}");
        }
    }
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}

/// Issue 29: pinning a format that cannot fit said one missing column at a time. It now names
/// the pinned format's telling columns the file lacks, once.
#[test]
fn issue_29_a_pinned_format_that_cannot_fit_says_what_is_missing() {
    let ds = scratch("pinned-misfit");
    std::fs::write(ds.join("settle.toml"), "[exports]\nformat = \"focus\"\n")
        .expect("the test's own data");
    std::fs::write(
        ds.join("exports/bill.csv"),
        alibaba(&Variant {
            name: "pinned",
            bom: false,
            quoted: false,
            product: "产品",
            time: "日期",
            with_name: true,
        }),
    )
    .expect("the test's own data");
    let (code, _, err) = settle(&["validate"], &ds);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`exports/bill.csv` cannot be read as FOCUS, the format `settle.toml` pins: it lacks the columns that tell FOCUS: `BilledCost`, `ChargePeriodStart`, `BillingPeriodStart`, `BillingCurrency`, `ServiceName`, `ChargeCategory`"), "{err}");
    assert_eq!(err.matches("`BilledCost`").count(), 1, "{err}");
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}

/// Issue 29: a FOCUS export in a dataset whose timezone is not UTC had its months cut in that
/// zone without a word. The run now warns once.
#[test]
fn issue_29_focus_in_a_non_utc_dataset_warns_once() {
    let ds = scratch("focus-shanghai");
    std::fs::write(ds.join("settle.toml"), "timezone = \"Asia/Shanghai\"\n")
        .expect("the test's own data");
    std::fs::write(ds.join("exports/part-1.csv"), sample_part(0..300))
        .expect("the test's own data");
    std::fs::write(ds.join("exports/part-2.csv"), sample_part(300..600))
        .expect("the test's own data");
    let (code, _, err) = settle(&["run", "--no-pdf", "--period", "2024-09"], &ds);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.matches("FOCUS export file(s) hold UTC times").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains(
            "2 FOCUS export file(s) hold UTC times, and the dataset's `timezone` is `Asia/Shanghai`"
        ),
        "{err}"
    );
    std::fs::remove_dir_all(&ds).expect("the test's own data");
}
