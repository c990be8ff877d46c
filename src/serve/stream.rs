//! A response body written by a blocking thread: files and zips are streamed in chunks through
//! a bounded channel, so memory stays at a few chunks whatever the file's size, and the bytes
//! that went out are counted and hashed on the way for the audit log.

use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::digest::hex;

const CHUNK: usize = 64 * 1024;
const CHUNKS_IN_FLIGHT: usize = 4;

/// The writing end: `Write` it from a blocking thread; it fails with `BrokenPipe` once the client
/// has gone.
pub struct ChunkWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    hasher: Sha256,
    sent: u64,
}

/// What went out: bytes and their SHA-256.
pub struct Sent {
    pub bytes: u64,
    pub sha256: String,
}

/// A body and the writer that fills it.
pub fn channel() -> (Body, ChunkWriter) {
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let writer = ChunkWriter {
        tx,
        buf: Vec::with_capacity(CHUNK),
        hasher: Sha256::new(),
        sent: 0,
    };
    (Body::from_stream(Chunks(rx)), writer)
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.hasher.update(&chunk);
        self.sent += chunk.len() as u64;
        self.tx
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }

    /// Sends what is left, and says what went out.
    pub fn finish(mut self) -> (io::Result<()>, Sent) {
        let result = self.send();
        (result, self.sent())
    }

    /// Ends the body with an error (the client sees a cut transfer, never a short file that
    /// looks whole), and says what went out before it.
    pub fn fail(mut self, error: io::Error) -> Sent {
        let _ = self.tx.blocking_send(Err(error));
        self.buf.clear();
        self.sent()
    }

    fn sent(&mut self) -> Sent {
        Sent {
            bytes: self.sent,
            sha256: hex(&std::mem::take(&mut self.hasher).finalize()),
        }
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Chunks(mpsc::Receiver<io::Result<Bytes>>);

impl futures_core::Stream for Chunks {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}
