//! Typed input records, one struct per input file of the contract (docs/inputs.md).
//!
//! Ingestion turns each accepted CSV row into one of these; the rules only ever see them. Names
//! that repeat across millions of lines (accounts, products, currencies) are interned [`Text`], so
//! a month of bill lines stays small in memory and the rules can group by [`Text::id`] without
//! reading the strings. Ids unique to one row (`bill_id`, `usage_id`, `request_id`) are [`Id`].

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::{LazyLock, Mutex, PoisonError};

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::model::time::Timestamp;

/// An id unique to one input row. Ids of up to 24 bytes, as cloud bill and resource ids
/// usually are, are held inline: reading a bill line then allocates nothing for its ids.
pub type Id = compact_str::CompactString;

/// Interned, immutable text: every `Text` with the same contents shares one allocation, for the
/// whole process. It compares, orders and hashes by contents, like `str`; [`Text::id`] is a number
/// that is equal exactly when the contents are.
///
/// The shared copy lives until the process ends. `settle` is a batch run, and a name read once is
/// usually read millions of times, so a `Text` is a plain reference: copying one costs no atomic
/// reference count, which would otherwise bounce between cores on every line. It is one word, a
/// reference to the shared copy's own reference to its bytes, so that the keys the rules group a
/// month's lines by stay small.
#[derive(Clone)]
pub struct Text(&'static Name);

/// The shared copy of a name: a one-word handle to its bytes.
struct Name(Box<str>);

static NAMES: LazyLock<Mutex<FxHashMap<&'static str, &'static Name>>> =
    LazyLock::new(Mutex::default);

impl Text {
    /// A number equal for two `Text`s exactly when their contents are equal, cheap to hash: the
    /// address of the shared copy, which interning makes unique per contents.
    pub fn id(&self) -> usize {
        std::ptr::from_ref(self.0) as usize
    }

    fn as_str(&self) -> &'static str {
        &self.0.0
    }
}

/// A name of up to 31 bytes, held inline with its length in the last byte. Looking one up
/// compares words inside the table, where following a pointer to the shared copy would cost a
/// cache miss per lookup among a dataset's hundreds of thousands of account names.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
struct Short([u64; 4]);

impl Short {
    fn new(s: &str) -> Option<Short> {
        let b = s.as_bytes();
        if b.len() > 31 {
            return None;
        }
        let mut bytes = [0u8; 32];
        bytes[..b.len()].copy_from_slice(b);
        bytes[31] = b.len() as u8;
        Some(Short(std::array::from_fn(|i| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_le_bytes(word)
        })))
    }
}

thread_local! {
    /// Each thread's map of the short names it has seen, so that reading a file rarely takes the
    /// lock.
    static SEEN: std::cell::RefCell<FxHashMap<Short, &'static Name>> =
        std::cell::RefCell::default();
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        let short = Short::new(s);
        if let Some(short) = short
            && let Some(shared) = SEEN.with_borrow(|seen| seen.get(&short).copied())
        {
            return Text(shared);
        }
        let shared = {
            let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
            match names.get(s) {
                Some(shared) => *shared,
                None => {
                    let shared: &'static Name = Box::leak(Box::new(Name(s.into())));
                    names.insert(&shared.0, shared);
                    shared
                }
            }
        };
        if let Some(short) = short {
            SEEN.with_borrow_mut(|seen| seen.insert(short, shared));
        }
        Text(shared)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::from(s.as_str())
    }
}

impl Default for Text {
    fn default() -> Text {
        Text::from("")
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.id() == other.id()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// A stage file of a sharded run (`crate::shard`) holds a `Text` as its contents; reading it
/// interns them again, so that ids are this process's own.
impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Ok(Text::from(&*s))
    }
}

/// [`Id`] as a string in a stage file, for `#[serde(with = "...")]`: the one place it is written.
pub mod id_text {
    use super::Id;

    pub fn serialize<S: serde::Serializer>(id: &Id, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(id)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Ok(Id::from(&*s))
    }
}

/// A list of [`Id`]s in a stage file.
pub mod ids_text {
    use super::Id;
    use serde::ser::SerializeSeq;

    pub fn serialize<S: serde::Serializer>(ids: &[Id], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(ids.len()))?;
        for id in ids {
            seq.serialize_element(id.as_str())?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Id>, D::Error> {
        let v = <Vec<String> as serde::Deserialize>::deserialize(d)?;
        Ok(v.into_iter().map(Id::from).collect())
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A set of names that finds a name from its text in one probe, without interning the text
/// first. Every bill line names its account, and a dataset may know a million of them: interning
/// and then asking whether the account is known would be two cache misses per line.
///
/// Each name has a dense place, [`Place`]: the order it was added in. The same probe that finds an
/// account gives its place, which a bill line carries ([`BillLine::account`]) so that the rules
/// find everything they know of the account in a list, by that place, rather than in a table per
/// rule (`crate::rules::accounts`).
#[derive(Clone, Default)]
pub struct Known {
    short: FxHashMap<Short, (Text, Place)>,
    long: FxHashMap<&'static str, (Text, Place)>,
    /// The names by place.
    names: Vec<Text>,
}

/// A name's place in a [`Known`] set: the order it was added in.
pub type Place = u32;

/// The place of a bill line whose account was not found through a [`Known`] set (a line made by
/// hand in a test, or a sharded run's line before its shard finds it): the rules then find its
/// account by name.
pub const NO_PLACE: Place = Place::MAX;

impl Known {
    pub fn get(&self, s: &str) -> Option<Text> {
        self.find(s).map(|(name, _)| name)
    }

    /// The name and its place, in one probe.
    pub fn find(&self, s: &str) -> Option<(Text, Place)> {
        match Short::new(s) {
            Some(short) => self.short.get(&short).cloned(),
            None => self.long.get(s).cloned(),
        }
    }

    /// Every name in the set, in no order.
    pub fn names(&self) -> impl Iterator<Item = &str> + use<'_> {
        self.names.iter().map(|t| t.as_str())
    }

    /// Every name in the set, by place.
    pub fn by_place(&self) -> &[Text] {
        &self.names
    }
}

impl FromIterator<Text> for Known {
    /// The names in the order given; a name given twice keeps its first place.
    fn from_iter<I: IntoIterator<Item = Text>>(names: I) -> Known {
        let mut known = Known::default();
        for name in names {
            if known.find(&name).is_some() {
                continue;
            }
            let place = Place::try_from(known.names.len()).expect("fewer than 4 billion names");
            match Short::new(&name) {
                Some(short) => known.short.insert(short, (name.clone(), place)),
                None => known.long.insert(name.as_str(), (name.clone(), place)),
            };
            known.names.push(name);
        }
        known
    }
}

/// Declares a closed set of values read from one CSV column, with the exact spellings the contract uses.
macro_rules! cell_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every accepted spelling, in the contract's order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

cell_enum!(PaymentMode { Prepaid = "prepaid", Postpaid = "postpaid" });
cell_enum!(
    /// `billing_cycle`: the unit a bill line is charged in, which also sets when hosting moves it.
    BillingCycle { Hour = "hour", Day = "day", Week = "week", Month = "month", Once = "once" }
);
cell_enum!(PaymentStatus { Paid = "paid", Unpaid = "unpaid", Arrears = "arrears" });
cell_enum!(PaidWith { Cash = "cash", Credit = "credit", Allocated = "allocated" });
cell_enum!(TitleKind { Enterprise = "enterprise", Individual = "individual" });
cell_enum!(InvoiceKind { Special = "special", Ordinary = "ordinary" });
cell_enum!(LinkType { Agency = "agency", Resale = "resale" });
cell_enum!(RelationKind { Hosting = "hosting", Management = "management" });
cell_enum!(InvoiceBy { Child = "child", Master = "master" });
cell_enum!(OrderStatus { Paid = "paid", Arrears = "arrears", Refunded = "refunded" });
cell_enum!(
    /// `payment_mode` in `rebate_rates.csv`: an exact mode or `*` for any.
    ModeFilter { Prepaid = "prepaid", Postpaid = "postpaid", Any = "*" }
);

impl ModeFilter {
    /// Whether a line of payment mode `mode` matches.
    pub fn admits(self, mode: PaymentMode) -> bool {
        matches!(
            (self, mode),
            (ModeFilter::Any, _)
                | (ModeFilter::Prepaid, PaymentMode::Prepaid)
                | (ModeFilter::Postpaid, PaymentMode::Postpaid)
        )
    }
}

/// Where an accepted row came from: its 1-based line in its file (line 1 is the header).
pub type Line = u64;

/// A half-open window `[from, to)`; `to == None` is still open.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: Timestamp,
    pub to: Option<Timestamp>,
}

impl Window {
    pub fn contains(&self, t: Timestamp) -> bool {
        self.from <= t && self.to.is_none_or(|to| t < to)
    }

    pub fn overlaps(&self, other: &Window) -> bool {
        self.to.is_none_or(|to| other.from < to) && other.to.is_none_or(|to| self.from < to)
    }
}

/// `bills.csv`: one bill line as the cloud issued it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BillLine {
    pub line: Line,
    #[serde(with = "id_text")]
    pub bill_id: Id,
    pub account_id: Text,
    /// `account_id`'s place among the known accounts, as the probe that found it gave it, or
    /// [`NO_PLACE`]. Not written to a stage: a process's places are its own.
    #[serde(skip, default = "no_place")]
    pub account: Place,
    pub product: Text,
    pub sub_product: Text,
    #[serde(with = "id_text")]
    pub resource_id: Id,
    pub payment_mode: PaymentMode,
    pub billing_cycle: BillingCycle,
    pub charge_start: Timestamp,
    pub charge_end: Timestamp,
    pub deducted_at: Option<Timestamp>,
    pub list_amount: Decimal,
    pub discount_amount: Decimal,
    pub voucher_amount: Decimal,
    pub payable_amount: Decimal,
    pub payment_status: PaymentStatus,
    pub paid_with: PaidWith,
    pub currency: Text,
    /// A correction of an earlier period's line (FOCUS `ChargeClass = Correction`): kept as it
    /// is, and counted in the manifest, ready for restatements. Always `false` in `bills.csv`.
    pub correction: bool,
}

fn no_place() -> Place {
    NO_PLACE
}

/// The finest grouping any rule sums bill lines by: account, product, sub-product, payment mode
/// and currency. R5 prices each such group; R2 adds groups up by account, product and currency.
/// Equal and hashed by [`Text::id`], so a lookup never reads the names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineKey {
    pub account_id: Text,
    pub product: Text,
    pub sub_product: Text,
    pub payment_mode: PaymentMode,
    pub currency: Text,
}

impl Hash for LineKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.account_id.id());
        state.write_usize(self.product.id());
        state.write_usize(self.sub_product.id());
        state.write_usize(self.currency.id());
        self.payment_mode.hash(state);
    }
}

impl BillLine {
    pub fn key(&self) -> LineKey {
        LineKey {
            account_id: self.account_id.clone(),
            product: self.product.clone(),
            sub_product: self.sub_product.clone(),
            payment_mode: self.payment_mode,
            currency: self.currency.clone(),
        }
    }
}

/// `usage.csv`: one record of the reseller's own meter.
#[derive(Clone, Debug, PartialEq)]
pub struct UsageRecord {
    pub line: Line,
    pub usage_id: Id,
    pub account_id: Text,
    pub product: Text,
    pub sub_product: Text,
    pub resource_id: Id,
    pub start: Timestamp,
    pub end: Timestamp,
    pub quantity: Decimal,
    pub unit: Text,
    pub unit_price: Decimal,
    pub currency: Text,
}

/// `accounts.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    pub line: Line,
    pub account_id: Text,
    pub account_name: Text,
    pub entity_name: Text,
    pub title_kind: TitleKind,
    pub discount_rate: Decimal,
}

/// `partners.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Partner {
    pub line: Line,
    pub partner_id: Text,
    pub partner_name: Text,
    pub tier: Text,
    pub invoice_kind: InvoiceKind,
    pub arrears_amount: Decimal,
}

/// `partner_links.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct PartnerLink {
    pub line: Line,
    pub account_id: Text,
    pub partner_id: Text,
    pub link_type: LinkType,
    pub window: Window,
}

/// `account_relations.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Relation {
    pub line: Line,
    pub child_id: Text,
    pub master_id: Text,
    pub kind: RelationKind,
    pub window: Window,
    pub inherit_discount: bool,
    pub invoice_by: InvoiceBy,
}

/// `rebate_rates.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct RebateRate {
    pub line: Line,
    pub tier: Text,
    pub product: Text,
    pub payment_mode: ModeFilter,
    pub rate: Decimal,
    pub window: Window,
}

/// `special_rebates.csv`. An empty `sub_product` or `payment_mode` matches any.
#[derive(Clone, Debug, PartialEq)]
pub struct SpecialRebate {
    pub line: Line,
    pub partner_id: Text,
    pub account_id: Text,
    pub product: Text,
    pub sub_product: Option<Text>,
    pub payment_mode: Option<PaymentMode>,
    pub rate: Decimal,
    pub window: Window,
}

impl SpecialRebate {
    /// How many of the optional filters it sets: of two that match a line, the one that sets more
    /// wins (R5), and two that set as many tie.
    pub fn specificity(&self) -> u8 {
        u8::from(self.sub_product.is_some()) + u8::from(self.payment_mode.is_some())
    }
}

/// `invoice_requests.csv`: a marketplace invoice request.
#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceRequest {
    pub line: Line,
    pub request_id: Id,
    pub order_id: Text,
    pub provider_id: Text,
    pub account_id: Text,
    pub amount: Decimal,
    pub invoice_kind: InvoiceKind,
    pub title: Text,
    pub title_kind: TitleKind,
    pub requested_at: Timestamp,
    pub issued_at: Option<Timestamp>,
    pub invoice_no: Text,
    pub order_status: OrderStatus,
}

/// Records with a line number, so that cross-row checks can name the rows they reject.
pub trait HasLine {
    fn line(&self) -> Line;
    fn line_mut(&mut self) -> &mut Line;
}

macro_rules! has_line {
    ($($t:ty),+) => {
        $(impl HasLine for $t {
            fn line(&self) -> Line { self.line }
            fn line_mut(&mut self) -> &mut Line { &mut self.line }
        })+
    };
}
has_line!(
    Account,
    Partner,
    PartnerLink,
    Relation,
    RebateRate,
    SpecialRebate,
    InvoiceRequest,
    BillLine,
    UsageRecord
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_interned_so_ids_follow_contents() {
        let a = Text::from("cvm");
        let b = Text::from(String::from("cvm"));
        let c = Text::from("cos");
        assert_eq!(a, b);
        assert_eq!(a.id(), b.id());
        assert_ne!(a.id(), c.id());
        assert!(c < a, "orders by contents");
        assert_eq!(a, "cvm");
    }
}
