//! Stream filters for the streams text extraction reads (content, fonts, CMaps, XFA),
//! each bounded by an output limit so that a decompression bomb stops early.
//!
//! Flate is `flate2`'s and LZW `weezl`'s; ASCIIHex, ASCII85 and RunLength are the few
//! lines their definitions take. A filter this reader does not know (Brotli, JBIG2 or
//! DCT on a content stream) is an error that names it.

use std::io::Read;

use lopdf::{Dictionary, Document, Object, Stream};

use crate::Error;

/// The filters this reader decodes, and the image filters whose data it never needs.
pub(super) const KNOWN: &[&str] = &[
    "FlateDecode",
    "Fl",
    "LZWDecode",
    "LZW",
    "ASCIIHexDecode",
    "AHx",
    "ASCII85Decode",
    "A85",
    "RunLengthDecode",
    "RL",
    "Crypt",
    "DCTDecode",
    "DCT",
    "JPXDecode",
    "JBIG2Decode",
    "CCITTFaxDecode",
    "CCF",
];

/// The decoded data of `stream`, at most `limit` bytes.
pub(super) fn decode(doc: &Document, stream: &Stream, limit: usize) -> Result<Vec<u8>, Error> {
    // Producers may write the filter names and parameters as references.
    let resolve =
        |o: &'_ Object| -> Option<Object> { doc.dereference(o).ok().map(|(_, o)| o.clone()) };
    let entry = |key: &[u8]| stream.dict.get(key).ok().and_then(resolve);
    let names: Vec<Vec<u8>> = match entry(b"Filter") {
        Some(Object::Name(n)) => vec![n],
        Some(Object::Array(list)) => list
            .iter()
            .filter_map(|o| resolve(o).and_then(|o| o.as_name().ok().map(<[u8]>::to_vec)))
            .collect(),
        _ => Vec::new(),
    };
    let params: Vec<Option<Dictionary>> = match entry(b"DecodeParms") {
        Some(Object::Dictionary(d)) => vec![Some(d)],
        Some(Object::Array(list)) => list
            .iter()
            .map(|o| resolve(o).and_then(|o| o.as_dict().ok().cloned()))
            .collect(),
        _ => Vec::new(),
    };
    let mut data = stream.content.clone();
    for (i, name) in names.iter().enumerate() {
        let params = params.get(i).and_then(Option::as_ref);
        data = match name.as_slice() {
            b"FlateDecode" | b"Fl" => predictor(inflate(&data, limit)?, params),
            b"LZWDecode" | b"LZW" => predictor(lzw(&data, params, limit)?, params),
            b"ASCIIHexDecode" | b"AHx" => ascii_hex(&data),
            b"ASCII85Decode" | b"A85" => ascii85(&data),
            b"RunLengthDecode" | b"RL" => run_length(&data, limit),
            b"Crypt" => data,
            other => {
                return Err(Error::Filter(String::from_utf8_lossy(other).into_owned()));
            }
        };
        check_limit(data.len(), limit)?;
    }
    check_limit(data.len(), limit)?;
    Ok(data)
}

fn check_limit(len: usize, limit: usize) -> Result<(), Error> {
    if len > limit {
        Err(Error::TooMany {
            what: "bytes of decompressed content",
            count: len,
            limit,
        })
    } else {
        Ok(())
    }
}

fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::ZlibDecoder::new(data).take(limit as u64 + 1);
    if decoder.read_to_end(&mut out).is_err() {
        // A damaged stream (a wrong checksum, a cut-off end) or raw deflate data without
        // the zlib header: read what deflate alone gives, as viewers show it.
        for skip in [2, 0] {
            let mut raw = Vec::new();
            let body = data.get(skip..).unwrap_or_default();
            let _ = flate2::read::DeflateDecoder::new(body)
                .take(limit as u64 + 1)
                .read_to_end(&mut raw);
            if raw.len() > out.len() {
                out = raw;
            }
        }
    }
    check_limit(out.len(), limit)?;
    Ok(out)
}

fn lzw(data: &[u8], params: Option<&Dictionary>, limit: usize) -> Result<Vec<u8>, Error> {
    let early = params
        .and_then(|p| p.get(b"EarlyChange").ok())
        .and_then(|o| o.as_i64().ok())
        .is_none_or(|v| v != 0);
    let mut decoder = if early {
        weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
    } else {
        weezl::decode::Decoder::new(weezl::BitOrder::Msb, 8)
    };
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut input = data;
    loop {
        let result = decoder.decode_bytes(input, &mut chunk);
        out.extend_from_slice(&chunk[..result.consumed_out]);
        input = &input[result.consumed_in..];
        check_limit(out.len(), limit)?;
        match result.status {
            Ok(weezl::LzwStatus::Ok) if result.consumed_in + result.consumed_out > 0 => {}
            _ => break,
        }
    }
    Ok(out)
}

/// PNG and TIFF predictors (`/Predictor` ≥ 2) undone; other data passes through.
fn predictor(data: Vec<u8>, params: Option<&Dictionary>) -> Vec<u8> {
    let get = |k: &[u8], d: i64| {
        params
            .and_then(|p| p.get(k).ok())
            .and_then(|o| o.as_i64().ok())
            .unwrap_or(d)
    };
    let predictor = get(b"Predictor", 1);
    if predictor < 10 {
        return data;
    }
    let colors = get(b"Colors", 1).clamp(1, 32) as usize;
    let bits = get(b"BitsPerComponent", 8).clamp(1, 16) as usize;
    let columns = get(b"Columns", 1).clamp(1, 1 << 20) as usize;
    let bpp = (colors * bits).div_ceil(8).max(1);
    let row = (colors * bits * columns).div_ceil(8);
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        let (kind, raw) = (chunk[0], &chunk[1..]);
        let mut cur = raw.to_vec();
        cur.resize(row, 0);
        for i in 0..row {
            let left = if i >= bpp { cur[i - bpp] } else { 0 };
            let up = prev[i];
            let up_left = if i >= bpp { prev[i - bpp] } else { 0 };
            cur[i] = match kind {
                1 => cur[i].wrapping_add(left),
                2 => cur[i].wrapping_add(up),
                3 => cur[i].wrapping_add(((left as u16 + up as u16) / 2) as u8),
                4 => cur[i].wrapping_add(paeth(left, up, up_left)),
                _ => cur[i],
            };
        }
        out.extend_from_slice(&cur[..raw.len().min(row)]);
        prev = cur;
    }
    out
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = (
        (p - a as i16).abs(),
        (p - b as i16).abs(),
        (p - c as i16).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

fn ascii_hex(data: &[u8]) -> Vec<u8> {
    let digits: Vec<u8> = data
        .iter()
        .take_while(|&&b| b != b'>')
        .filter_map(|&b| (b as char).to_digit(16).map(|d| d as u8))
        .collect();
    digits
        .chunks(2)
        .map(|p| p[0] << 4 | p.get(1).copied().unwrap_or(0))
        .collect()
}

fn ascii85(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 4 / 5);
    let (mut group, mut n) = (0u64, 0usize);
    let body = data.strip_prefix(b"<~").unwrap_or(data);
    for &b in body {
        match b {
            b'~' => break,
            b'z' if n == 0 => out.extend_from_slice(&[0; 4]),
            b'!'..=b'u' => {
                group = group * 85 + (b - b'!') as u64;
                n += 1;
                if n == 5 {
                    out.extend_from_slice(&(group as u32).to_be_bytes());
                    group = 0;
                    n = 0;
                }
            }
            _ => {}
        }
    }
    if n > 1 {
        for _ in n..5 {
            group = group * 85 + 84;
        }
        out.extend_from_slice(&(group as u32).to_be_bytes()[..n - 1]);
    }
    out
}

fn run_length(data: &[u8], limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() && out.len() <= limit {
        let len = data[i] as usize;
        i += 1;
        match len {
            0..=127 => {
                let end = (i + len + 1).min(data.len());
                out.extend_from_slice(&data[i..end]);
                i = end;
            }
            128 => break,
            _ => {
                if let Some(&b) = data.get(i) {
                    out.extend(std::iter::repeat_n(b, 257 - len));
                }
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    fn stream(filter: Object, content: &[u8]) -> Stream {
        Stream::new(dictionary! { "Filter" => filter }, content.to_vec())
    }

    #[test]
    fn text_filters_decode() {
        assert_eq!(ascii_hex(b"48 65 6c6C6f>"), b"Hello");
        assert_eq!(ascii85(b"<~87cURD]j7BEbo7~>"), b"Hello world");
        assert_eq!(
            run_length(&[2, b'a', b'b', b'c', 254, b'x', 128], 100),
            b"abcxxx"
        );
    }

    #[test]
    fn chains_run_in_order_and_unknown_filters_are_named() {
        let s = stream(
            Object::Array(vec!["ASCIIHexDecode".into(), "RunLengthDecode".into()]),
            b"FE41>",
        );
        assert_eq!(decode(&Document::new(), &s, 100).unwrap(), b"AAA");
        let s = stream("BrotliDecode".into(), b"....");
        let err = decode(&Document::new(), &s, 100).unwrap_err().to_string();
        assert!(err.contains("BrotliDecode"), "{err}");
        let s = stream("ASCIIHexDecode".into(), &b"41".repeat(200));
        assert!(matches!(
            decode(&Document::new(), &s, 100),
            Err(Error::TooMany { .. })
        ));
    }
}
