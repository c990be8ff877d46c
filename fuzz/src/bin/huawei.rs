//! AFL++ target: `settle::fuzz::huawei` (see `src/fuzz.rs` for what it checks).

fn main() {
    afl::fuzz!(|data: &[u8]| settle::fuzz::huawei(data));
}
