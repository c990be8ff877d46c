//! AFL++ target: `settle::fuzz::dataset` (see `src/fuzz.rs` for what it checks).

fn main() {
    afl::fuzz!(|data: &[u8]| settle::fuzz::dataset(data));
}
