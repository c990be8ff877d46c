//! AFL++ target: `settle::fuzz::alibaba` (see `src/fuzz.rs` for what it checks).

fn main() {
    afl::fuzz!(|data: &[u8]| settle::fuzz::alibaba(data));
}
