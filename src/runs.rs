//! Runs of statement lines, between the month's rules and the statements.
//!
//! R5 finishes one batch of accounts at a time (see [`crate::ingest::batches`]), each with its
//! statement lines sorted by partner, currency and line key: a run. A month of one batch keeps
//! its run in memory. A month of several batches writes each run to a scratch file as its batch
//! finishes, since at a hundred million lines the statement lines alone take most of a gigabyte,
//! and the statements read the runs back one partner at a time. A partner's lines in one currency
//! are its runs' lines one after another, because a later batch's accounts all come after an
//! earlier one's.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use crate::error::Error;
use crate::model::records::{PaymentMode, Text};
use crate::rules::rates::RateSource;
use crate::rules::rebate::RebateLine;

/// The month's statement lines, as runs.
pub struct Runs {
    /// Where runs are written; `None` keeps them in memory.
    dir: Option<PathBuf>,
    runs: Vec<Run>,
}

/// One run, read in order, with its next line looked at.
struct Run {
    next: Option<RebateLine>,
    rest: Rest,
}

enum Rest {
    Memory(std::vec::IntoIter<RebateLine>),
    File {
        path: PathBuf,
        reader: BufReader<File>,
        left: usize,
    },
}

impl Runs {
    /// Runs kept in memory, or, with `dir`, written to files in it.
    pub fn new(dir: Option<PathBuf>) -> Runs {
        Runs {
            dir,
            runs: Vec::new(),
        }
    }

    /// Adds a batch's lines, sorted by partner, currency and line key.
    pub fn push(&mut self, lines: Vec<RebateLine>) -> Result<(), Error> {
        let rest = match &self.dir {
            None => Rest::Memory(lines.into_iter()),
            Some(dir) => {
                let path = dir.join(format!("statement-lines-{}.bin", self.runs.len()));
                write_run(&path, &lines).map_err(fail(&path))?;
                let file = File::open(&path).map_err(fail(&path))?;
                Rest::File {
                    reader: BufReader::new(file),
                    left: lines.len(),
                    path,
                }
            }
        };
        let mut run = Run { next: None, rest };
        run.advance()?;
        self.runs.push(run);
        Ok(())
    }

    /// The lines of `partner`, sorted by currency and line key. Partners are asked for in order;
    /// lines of a partner before `partner` that was not asked for are passed over.
    pub fn take(&mut self, partner: &str) -> Result<Vec<RebateLine>, Error> {
        let mut lines = Vec::new();
        for run in &mut self.runs {
            while let Some(l) = &run.next {
                match (*l.partner_id).cmp(partner) {
                    std::cmp::Ordering::Greater => break,
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => lines.extend(run.next.take()),
                }
                run.advance()?;
            }
        }
        // Within each currency the runs are in order; the currencies are brought together.
        lines.sort_by(|a, b| a.currency.cmp(&b.currency));
        Ok(lines)
    }
}

impl Run {
    fn advance(&mut self) -> Result<(), Error> {
        self.next = match &mut self.rest {
            Rest::Memory(lines) => lines.next(),
            Rest::File { left: 0, .. } => None,
            Rest::File { path, reader, left } => {
                *left -= 1;
                Some(read_line(reader).map_err(fail(path))?)
            }
        };
        Ok(())
    }
}

fn fail(path: &Path) -> impl FnOnce(io::Error) -> Error + use<> {
    let path = path.to_path_buf();
    move |source| Error::Scratch { path, source }
}

fn write_run(path: &Path, lines: &[RebateLine]) -> io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    for l in lines {
        for text in [
            &l.partner_id,
            &l.currency,
            &l.account_id,
            &l.product,
            &l.sub_product,
        ] {
            w.write_all(&(text.len() as u32).to_le_bytes())?;
            w.write_all(text.as_bytes())?;
        }
        let source = match l.source {
            RateSource::Base => 0,
            RateSource::Special => 1,
        };
        let mode = PaymentMode::NAMES
            .iter()
            .position(|name| *name == l.payment_mode.as_str())
            .unwrap_or_default() as u8;
        w.write_all(&[mode, source])?;
        w.write_all(&l.rate.serialize())?;
        w.write_all(&l.base.serialize())?;
        w.write_all(&l.lines.to_le_bytes())?;
    }
    w.flush()
}

fn read_line(r: &mut impl Read) -> io::Result<RebateLine> {
    let mut text = || -> io::Result<Text> {
        let mut len = [0u8; 4];
        r.read_exact(&mut len)?;
        let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
        r.read_exact(&mut bytes)?;
        let s =
            String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(Text::from(s))
    };
    let (partner_id, currency, account_id, product, sub_product) =
        (text()?, text()?, text()?, text()?, text()?);
    let mut codes = [0u8; 2];
    r.read_exact(&mut codes)?;
    let mut decimal = || -> io::Result<Decimal> {
        let mut bytes = [0u8; 16];
        r.read_exact(&mut bytes)?;
        Ok(Decimal::deserialize(bytes))
    };
    let (rate, base) = (decimal()?, decimal()?);
    let mut lines = [0u8; 8];
    r.read_exact(&mut lines)?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "not a run of statement lines");
    Ok(RebateLine {
        partner_id,
        currency,
        account_id,
        product,
        sub_product,
        payment_mode: PaymentMode::NAMES
            .get(codes[0] as usize)
            .and_then(|name| PaymentMode::parse(name))
            .ok_or_else(bad)?,
        rate,
        source: match codes[1] {
            0 => RateSource::Base,
            1 => RateSource::Special,
            _ => return Err(bad()),
        },
        base,
        lines: u64::from_le_bytes(lines),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(partner: &str, currency: &str, account: &str, base: &str) -> RebateLine {
        RebateLine {
            partner_id: partner.into(),
            currency: currency.into(),
            account_id: account.into(),
            product: "cvm".into(),
            sub_product: "标准型".into(),
            payment_mode: PaymentMode::Prepaid,
            rate: "0.125".parse().unwrap(),
            source: RateSource::Special,
            base: base.parse().unwrap(),
            lines: 3,
        }
    }

    /// Runs on disk give back the same lines as runs in memory: each partner's, currencies
    /// together and each currency's in run order, passing over partners not asked for.
    #[test]
    fn partners_in_order_from_every_run() {
        let dir = std::env::temp_dir().join(format!("settle-runs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let batches = [
            vec![
                line("p1", "CNY", "a", "1.5"),
                line("p1", "USD", "a", "2"),
                line("p2", "CNY", "b", "-3.25"),
                line("p3", "CNY", "c", "4"),
            ],
            vec![line("p1", "CNY", "d", "5"), line("p3", "CNY", "e", "6")],
        ];
        for dir in [None, Some(dir.clone())] {
            let mut runs = Runs::new(dir);
            for batch in &batches {
                runs.push(batch.clone()).unwrap();
            }
            let p1 = runs.take("p1").unwrap();
            assert_eq!(
                p1,
                vec![
                    batches[0][0].clone(),
                    batches[1][0].clone(),
                    batches[0][1].clone()
                ]
            );
            assert_eq!(
                runs.take("p3").unwrap(),
                vec![batches[0][3].clone(), batches[1][1].clone()]
            );
            assert!(runs.take("p4").unwrap().is_empty());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
