//! `<dataset>/<period>.zip`: every file a user may see in a period, in one download.
//!
//! Entries are named `<dataset>/<period>/<path>`, like the folders `settle run` writes, in path
//! order, with the zip's fixed 1980-01-01 timestamp so the same files give the same bytes. CSVs
//! and the manifest are deflated; PDFs, already compressed, are stored. The zip is written as it
//! is sent (no seeking), so it never has to fit in memory.

use std::io::{self, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::files::Source;

/// Writes the zip of `entries` (`(name, bytes)`) into `out`.
pub fn write<W: Write>(out: W, entries: &[(String, Source)]) -> io::Result<()> {
    let mut zip = ZipWriter::new_stream(out);
    for (name, source) in entries {
        let method = if name.ends_with(".pdf") {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .unix_permissions(0o644)
            .large_file(large(source));
        zip.start_file(name.as_str(), options)
            .map_err(io::Error::other)?;
        match source {
            Source::File(path) => {
                io::copy(&mut std::fs::File::open(path)?, &mut zip)?;
            }
            Source::Filtered(bytes) => zip.write_all(bytes)?,
        }
    }
    zip.finish().map_err(io::Error::other)?;
    Ok(())
}

/// A streamed entry must say up front whether it needs zip64 (4 GiB or more).
fn large(source: &Source) -> bool {
    let len = match source {
        Source::File(path) => std::fs::metadata(path).map(|m| m.len()).unwrap_or(u64::MAX),
        Source::Filtered(bytes) => bytes.len() as u64,
    };
    len >= u64::from(u32::MAX)
}
