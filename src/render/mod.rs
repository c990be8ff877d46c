//! Rendering: computed results in, document bytes out (the PDFs into a writer the output stage
//! gives them, page by page). Formatting (rounding to 2 dp, names, timestamps as local text)
//! happens here, never in the rules; nothing here opens or names files.

pub mod capital;
pub mod csv;
pub mod documents;
pub mod invoices;
pub mod pdf;
pub mod reconciliation;
pub mod report;
pub mod rollups;
pub mod statements;
pub mod tables;
pub mod template;
pub mod workbook;
