//! Writing to stderr and stdout without ever failing or panicking.
//!
//! `eprintln!` and `println!` panic when the stream cannot be written (a full disk behind
//! `2>/dev/full`, a closed pipe), and a panic turns the run's exit code into 101, which a
//! scheduler cannot tell from a crash. What settle prints is a report about a run whose outputs
//! are already decided, so a line that cannot be printed is dropped and the run keeps its own exit
//! code. [`crate::errln!`] and [`crate::outln!`] are the only way settle prints.

use std::io::Write;

/// Writes one formatted line to stderr, ignoring any error.
pub fn stderr_line(args: std::fmt::Arguments) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// Writes bytes to stdout and flushes them, ignoring any error: a reader that went away (a
/// closed pipe) is not the run's failure.
pub fn stdout_bytes(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// `eprintln!` that never panics: see [`stderr_line`].
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::console::stderr_line(format_args!($($arg)*))
    };
}

/// `println!` that never panics: see [`stdout_bytes`].
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::console::stdout_bytes(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}
