//! A shard's bill lines on the stage, as compact binary records: what `settle split` writes and
//! `settle run --shard` reads, one after another, never a file's worth of text to parse again.
//!
//! A record is the line's fields in [`BillLine`]'s order: numbers little-endian (`u64` line,
//! `i64` instants, a `0`/`1` byte before the optional deduction instant), text as a `u32` length
//! and its UTF-8 bytes, amounts as `rust_decimal`'s 16-byte form (exact, scale kept), and each
//! closed set as its value's place in its `NAMES`. The stage's format version covers this layout.

use std::io::{self, Read, Write};

use rust_decimal::Decimal;

use crate::model::records::{
    BillLine, BillingCycle, Id, NO_PLACE, PaidWith, PaymentMode, PaymentStatus, Text,
};
use crate::model::time::Timestamp;

/// Writes one line.
pub fn write(w: &mut impl Write, b: &BillLine) -> io::Result<()> {
    w.write_all(&b.line.to_le_bytes())?;
    for text in [
        b.bill_id.as_str(),
        &*b.account_id,
        &*b.product,
        &*b.sub_product,
        b.resource_id.as_str(),
        &*b.currency,
    ] {
        w.write_all(&(text.len() as u32).to_le_bytes())?;
        w.write_all(text.as_bytes())?;
    }
    w.write_all(&[
        place(PaymentMode::NAMES, b.payment_mode.as_str()),
        place(BillingCycle::NAMES, b.billing_cycle.as_str()),
        place(PaymentStatus::NAMES, b.payment_status.as_str()),
        place(PaidWith::NAMES, b.paid_with.as_str()),
        u8::from(b.correction),
        u8::from(b.deducted_at.is_some()),
    ])?;
    for t in [
        b.charge_start,
        b.charge_end,
        b.deducted_at.unwrap_or(Timestamp(0)),
    ] {
        w.write_all(&t.0.to_le_bytes())?;
    }
    for d in [
        b.list_amount,
        b.discount_amount,
        b.voucher_amount,
        b.payable_amount,
    ] {
        w.write_all(&d.serialize())?;
    }
    Ok(())
}

/// Reads the next line, or `None` at the end of the file.
pub fn read(r: &mut impl Read) -> io::Result<Option<BillLine>> {
    let mut line = [0u8; 8];
    match r.read_exact(&mut line) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let mut text = || -> io::Result<String> {
        let mut len = [0u8; 4];
        r.read_exact(&mut len)?;
        let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
        r.read_exact(&mut bytes)?;
        String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    };
    let (bill_id, account_id, product, sub_product, resource_id, currency) =
        (text()?, text()?, text()?, text()?, text()?, text()?);
    let mut codes = [0u8; 6];
    r.read_exact(&mut codes)?;
    let mut instant = || -> io::Result<Timestamp> {
        let mut bytes = [0u8; 8];
        r.read_exact(&mut bytes)?;
        Ok(Timestamp(i64::from_le_bytes(bytes)))
    };
    let (charge_start, charge_end, deducted_at) = (instant()?, instant()?, instant()?);
    let mut amount = || -> io::Result<Decimal> {
        let mut bytes = [0u8; 16];
        r.read_exact(&mut bytes)?;
        Ok(Decimal::deserialize(bytes))
    };
    let (list_amount, discount_amount, voucher_amount, payable_amount) =
        (amount()?, amount()?, amount()?, amount()?);
    Ok(Some(BillLine {
        line: u64::from_le_bytes(line),
        bill_id: Id::from(bill_id),
        account_id: Text::from(account_id),
        // Found among the known accounts by the shard that reads it back.
        account: NO_PLACE,
        product: Text::from(product),
        sub_product: Text::from(sub_product),
        resource_id: Id::from(resource_id),
        payment_mode: named(PaymentMode::NAMES, codes[0], PaymentMode::parse)?,
        billing_cycle: named(BillingCycle::NAMES, codes[1], BillingCycle::parse)?,
        charge_start,
        charge_end,
        deducted_at: (codes[5] == 1).then_some(deducted_at),
        list_amount,
        discount_amount,
        voucher_amount,
        payable_amount,
        payment_status: named(PaymentStatus::NAMES, codes[2], PaymentStatus::parse)?,
        paid_with: named(PaidWith::NAMES, codes[3], PaidWith::parse)?,
        currency: Text::from(currency),
        correction: codes[4] == 1,
    }))
}

/// A value's place in its set's names.
fn place(names: &[&str], name: &str) -> u8 {
    names.iter().position(|n| *n == name).unwrap_or_default() as u8
}

/// The value at `code` in a set's names.
fn named<T>(names: &[&str], code: u8, parse: fn(&str) -> Option<T>) -> io::Result<T> {
    names
        .get(usize::from(code))
        .and_then(|name| parse(name))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not a bill line record"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_reads_back_as_written() {
        let b = BillLine {
            line: 7,
            bill_id: "b-1".into(),
            account_id: "acc-1".into(),
            account: NO_PLACE,
            product: "cvm".into(),
            sub_product: "标准型".into(),
            resource_id: "r-1".into(),
            payment_mode: PaymentMode::Prepaid,
            billing_cycle: BillingCycle::Month,
            charge_start: Timestamp(1_790_000_000),
            charge_end: Timestamp(1_790_003_600),
            deducted_at: Some(Timestamp(-5)),
            list_amount: "10.500".parse().expect("a decimal"),
            discount_amount: "-0.25".parse().expect("a decimal"),
            voucher_amount: Decimal::ZERO,
            payable_amount: "10.250".parse().expect("a decimal"),
            payment_status: PaymentStatus::Arrears,
            paid_with: PaidWith::Allocated,
            currency: "USD".into(),
            correction: true,
        };
        let undeducted = BillLine {
            deducted_at: None,
            correction: false,
            ..b.clone()
        };
        let mut bytes = Vec::new();
        write(&mut bytes, &b).expect("written");
        write(&mut bytes, &undeducted).expect("written");
        let mut r = &bytes[..];
        let first = read(&mut r).expect("read").expect("a line");
        assert_eq!(first, b);
        assert_eq!(first.list_amount.to_string(), "10.500", "the scale is kept");
        assert_eq!(read(&mut r).expect("read"), Some(undeducted));
        assert_eq!(read(&mut r).expect("read"), None);
    }
}
