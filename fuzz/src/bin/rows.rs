//! AFL++ target: `settle::fuzz::rows` (see `src/fuzz.rs` for what it checks).

fn main() {
    afl::fuzz!(|data: &[u8]| settle::fuzz::rows(data));
}
