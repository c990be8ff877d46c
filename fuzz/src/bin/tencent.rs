//! AFL++ target: `settle::fuzz::tencent` (see `src/fuzz.rs` for what it checks).

fn main() {
    afl::fuzz!(|data: &[u8]| settle::fuzz::tencent(data));
}
