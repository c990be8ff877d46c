//! The domain's vocabulary: instants, periods, money and the typed input records.

pub mod bounds;
pub mod money;
pub mod period;
pub mod records;
pub mod time;
