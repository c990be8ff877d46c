//! The domain's vocabulary: instants, periods, money and the typed input records.

pub mod basis;
pub mod bounds;
pub mod fold;
pub mod money;
pub mod period;
pub mod records;
pub mod reject;
pub mod time;
