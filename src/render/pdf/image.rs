//! The issuer's logo: a PNG read into raw samples, so that the writer can embed it as an image
//! XObject (its colour samples, and its alpha as a soft mask), deflated like every stream.
//!
//! Only what a logo needs is read: 8-bit greyscale or RGB, with or without alpha, not interlaced.
//! Anything else is refused with a hint when `settle.toml` is read, not found out while the PDFs
//! are written.

use std::io::Read;

/// A decoded image: `colors` samples per pixel (1 grey, 3 RGB), row by row, and the alpha
/// samples when it has any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub colors: u8,
    pub samples: Vec<u8>,
    pub alpha: Option<Vec<u8>>,
}

/// The largest logo read, in pixels per side: a letterhead needs far less.
const MAX_SIDE: u32 = 4096;

impl Image {
    /// Decodes a PNG; the error says what is wrong and what is accepted.
    pub fn from_png(bytes: &[u8]) -> Result<Image, String> {
        const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
        let mut rest = bytes
            .strip_prefix(SIGNATURE)
            .ok_or("it is not a PNG file")?;
        let mut header = None;
        let mut data = Vec::new();
        while rest.len() >= 12 {
            let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let kind = &rest[4..8];
            let body = rest.get(8..8 + len).ok_or("a chunk is cut short")?;
            match kind {
                b"IHDR" if body.len() == 13 => header = Some(body.to_vec()),
                b"IDAT" => data.extend_from_slice(body),
                b"IEND" => break,
                _ => {}
            }
            rest = rest.get(12 + len..).ok_or("a chunk is cut short")?;
        }
        let h = header.ok_or("it has no IHDR chunk")?;
        let width = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let height = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        let (depth, color, interlace) = (h[8], h[9], h[12]);
        let channels: usize = match color {
            0 => 1,
            2 => 3,
            4 => 2,
            6 => 4,
            _ => return Err("it uses a palette; save it as RGB or RGBA".into()),
        };
        if depth != 8 || interlace != 0 {
            return Err("only 8-bit, non-interlaced PNGs are read; save it so".into());
        }
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(format!(
                "it is {width}×{height} pixels; a logo must be 1 to {MAX_SIDE} pixels a side"
            ));
        }
        let stride = width as usize * channels;
        let mut raw = Vec::with_capacity((stride + 1) * height as usize);
        flate2::read::ZlibDecoder::new(&data[..])
            .take(((stride + 1) * height as usize) as u64)
            .read_to_end(&mut raw)
            .map_err(|e| format!("its image data cannot be read: {e}"))?;
        if raw.len() != (stride + 1) * height as usize {
            return Err("its image data is cut short".into());
        }
        let pixels = unfilter(&raw, stride, height as usize, channels)?;
        let colors = if channels >= 3 { 3 } else { 1 };
        let alpha = matches!(color, 4 | 6);
        let (mut samples, mut mask) = (Vec::new(), Vec::new());
        for px in pixels.chunks(channels) {
            samples.extend_from_slice(&px[..colors]);
            if alpha {
                mask.push(px[channels - 1]);
            }
        }
        Ok(Image {
            width,
            height,
            colors: colors as u8,
            samples,
            alpha: alpha.then_some(mask),
        })
    }
}

/// Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth).
fn unfilter(raw: &[u8], stride: usize, rows: usize, bpp: usize) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; stride * rows];
    for y in 0..rows {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= bpp {
                out[y * stride + x - bpp]
            } else {
                0
            };
            let b = if y > 0 { out[(y - 1) * stride + x] } else { 0 };
            let c = if x >= bpp && y > 0 {
                out[(y - 1) * stride + x - bpp]
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => paeth(a, b, c),
                f => return Err(format!("row {y} has an unknown filter {f}")),
            };
            out[y * stride + x] = line[x].wrapping_add(predicted);
        }
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[cfg(test)]
pub mod tests {
    use std::io::Write;

    use super::*;

    /// A PNG of `width`×`height` pixels of colour type `color`, each row written with filter
    /// `filter`: 0 (None) or 2 (Up).
    pub fn png(width: u32, height: u32, color: u8, pixels: &[u8], filter: u8) -> Vec<u8> {
        let channels = match color {
            0 => 1,
            2 => 3,
            4 => 2,
            _ => 4,
        };
        let stride = width as usize * channels;
        let mut raw = Vec::new();
        for y in 0..height as usize {
            raw.push(filter);
            for x in 0..stride {
                let v = pixels[y * stride + x];
                let up = if y > 0 {
                    pixels[(y - 1) * stride + x]
                } else {
                    0
                };
                raw.push(if filter == 2 { v.wrapping_sub(up) } else { v });
            }
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&raw).unwrap();
        let idat = z.finish().unwrap();
        let chunk = |kind: &[u8], body: &[u8]| {
            let mut c = (body.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(body);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, color, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(chunk(b"IHDR", &ihdr));
        out.extend(chunk(b"IDAT", &idat));
        out.extend(chunk(b"IEND", &[]));
        out
    }

    #[test]
    fn reads_rgb_and_rgba_with_filters() {
        let rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9];
        let image = Image::from_png(&png(2, 2, 2, &rgb, 2)).unwrap();
        assert_eq!((image.width, image.height, image.colors), (2, 2, 3));
        assert_eq!(image.samples, rgb);
        assert_eq!(image.alpha, None);
        let rgba = [1, 2, 3, 200, 4, 5, 6, 0];
        let image = Image::from_png(&png(2, 1, 6, &rgba, 0)).unwrap();
        assert_eq!(image.samples, [1, 2, 3, 4, 5, 6]);
        assert_eq!(image.alpha, Some(vec![200, 0]));
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        assert!(
            Image::from_png(b"GIF89a")
                .unwrap_err()
                .contains("not a PNG")
        );
        let mut palette = png(1, 1, 2, &[0, 0, 0], 0);
        palette[8 + 8 + 9] = 3;
        assert!(Image::from_png(&palette).unwrap_err().contains("palette"));
    }
}
