//! AFL++ target: `settle::fuzz::focus_csv` (see `src/fuzz.rs` for what it checks).

fn main() {
    afl::fuzz!(|data: &[u8]| settle::fuzz::focus_csv(data));
}
