//! AFL++ target: `settle::fuzz::parquet` (see `src/fuzz.rs` for what it checks). Built only with
//! the `parquet` feature (`make fuzz FUZZ_TARGET=parquet` turns it on), which compiles polars.

fn main() {
    afl::fuzz!(|data: &[u8]| settle::fuzz::parquet(data));
}
