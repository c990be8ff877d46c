//! AFL++ target: `settle::fuzz::cells` (see `src/fuzz.rs` for what it checks).

fn main() {
    afl::fuzz!(|data: &[u8]| settle::fuzz::cells(data));
}
