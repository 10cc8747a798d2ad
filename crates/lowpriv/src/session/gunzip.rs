//! `Content-Encoding: gzip`, decoded as the body arrives, counted decoded.
//!
//! reqwest's own decoding would bring flate2 (through async-compression) into every user of
//! this library; miniz_oxide, the inflater flate2 wraps, does the same work on chunks
//! directly. Input: the compressed chunks as they come off the wire. Output: the decoded
//! bytes, never more than the caller's limit plus one chunk of look-ahead. Invariants: a gzip
//! bomb cannot grow memory past the limit (decoding stops there); a header, a deflate stream
//! or a body cut short is an error, never a silently shorter body. The CRC32 and size trailer
//! are not checked: a body that inflates cleanly is what the Site sent.

use miniz_oxide::inflate::stream::{InflateState, inflate};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

/// The gzip header's fixed part: magic, method, flags, mtime, extra flags, OS.
const FIXED_HEADER: usize = 10;
/// A header's optional name and comment are zero-terminated strings of any length; past
/// this, the header is treated as hostile.
const MAX_HEADER: usize = 64 * 1024;
const DECODE_STEP: usize = 32 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GunzipError {
    #[error("not a gzip stream (bad magic bytes or method)")]
    NotGzip,
    #[error("gzip header longer than {MAX_HEADER} bytes")]
    HeaderTooLong,
    #[error("corrupt deflate data in the gzip body")]
    Corrupt,
    #[error("gzip body cut short")]
    Truncated,
}

pub struct Gunzip {
    state: Box<InflateState>,
    /// Header bytes gathered until the whole header is known; `None` once it is skipped.
    header: Option<Vec<u8>>,
    ended: bool,
}

impl Default for Gunzip {
    fn default() -> Self {
        Gunzip {
            state: InflateState::new_boxed(DataFormat::Raw),
            header: Some(Vec::new()),
            ended: false,
        }
    }
}

impl Gunzip {
    /// Decodes `input` onto `out`, stopping once `out` holds more than `limit` bytes (the
    /// caller then cuts it to the limit and reports the body as too large).
    pub fn feed(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), GunzipError> {
        if let Some(header) = &mut self.header {
            header.extend_from_slice(input);
            let Some(length) = header_length(header)? else {
                return Ok(());
            };
            let rest = header.split_off(length);
            self.header = None;
            return self.inflate(&rest, out, limit);
        }
        if self.ended {
            // The trailer (and any second member) follows the first member: not content.
            input = &[];
        }
        self.inflate(input, out, limit)
    }

    /// Whether the stream ended where it should: an error if the body was cut short. An
    /// empty body (a 204, a HEAD) carries no stream at all, and that is fine.
    pub fn finish(&self) -> Result<(), GunzipError> {
        let nothing_sent = self.header.as_ref().is_some_and(Vec::is_empty);
        if self.ended || nothing_sent {
            Ok(())
        } else {
            Err(GunzipError::Truncated)
        }
    }

    fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), GunzipError> {
        let mut buffer = [0u8; DECODE_STEP];
        while !self.ended && out.len() <= limit {
            let result = inflate(&mut self.state, input, &mut buffer, MZFlush::None);
            input = &input[result.bytes_consumed..];
            out.extend_from_slice(&buffer[..result.bytes_written]);
            match result.status {
                Ok(MZStatus::StreamEnd) => self.ended = true,
                Ok(_) => {
                    if input.is_empty() && result.bytes_written < buffer.len() {
                        return Ok(());
                    }
                }
                // Nothing could be done with what is here: more input is needed.
                Err(MZError::Buf) => return Ok(()),
                Err(_) => return Err(GunzipError::Corrupt),
            }
        }
        Ok(())
    }
}

/// The header's length once all of it has arrived, `None` while more is needed.
fn header_length(header: &[u8]) -> Result<Option<usize>, GunzipError> {
    if header.len() >= 3 && (header[0] != 0x1f || header[1] != 0x8b || header[2] != 8) {
        return Err(GunzipError::NotGzip);
    }
    if header.len() < FIXED_HEADER {
        return Ok(None);
    }
    let flags = header[3];
    let mut at = FIXED_HEADER;
    if flags & 0x04 != 0 {
        let Some(len) = header.get(at..at + 2) else {
            return Ok(None);
        };
        at += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [0x08, 0x10] {
        if flags & flag == 0 {
            continue;
        }
        match header.get(at..).and_then(|rest| memchr::memchr(0, rest)) {
            Some(end) => at += end + 1,
            None if header.len() > MAX_HEADER => return Err(GunzipError::HeaderTooLong),
            None => return Ok(None),
        }
    }
    if flags & 0x02 != 0 {
        at += 2;
    }
    if at > MAX_HEADER {
        return Err(GunzipError::HeaderTooLong);
    }
    Ok((header.len() >= at).then_some(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use miniz_oxide::deflate::compress_to_vec;

    /// A gzip member around `data`, with an optional file name (the trailer is not checked,
    /// so zeros stand in for it).
    fn gzip(data: &[u8], name: Option<&str>) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, if name.is_some() { 0x08 } else { 0 }];
        out.extend_from_slice(&[0, 0, 0, 0, 0, 3]);
        if let Some(name) = name {
            out.extend_from_slice(name.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(&compress_to_vec(data, 6));
        out.extend_from_slice(&[0; 8]);
        out
    }

    fn decode(chunks: &[&[u8]], limit: usize) -> Result<Vec<u8>, GunzipError> {
        let mut gunzip = Gunzip::default();
        let mut out = Vec::new();
        for chunk in chunks {
            gunzip.feed(chunk, &mut out, limit)?;
            if out.len() > limit {
                return Ok(out);
            }
        }
        gunzip.finish()?;
        Ok(out)
    }

    #[test]
    fn decodes_whole_and_in_one_byte_chunks() {
        let text = b"salary,email\n123456,a@example.com\n".repeat(500);
        let body = gzip(&text, Some("report.csv"));
        assert_eq!(decode(&[&body], usize::MAX).unwrap(), text);
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(decode(&bytes, usize::MAX).unwrap(), text);
    }

    #[test]
    fn a_bomb_stops_just_past_the_limit() {
        let zeros = vec![0u8; 50 * 1024 * 1024];
        let body = gzip(&zeros, None);
        assert!(body.len() < 100 * 1024, "a real bomb: {} bytes", body.len());
        let out = decode(&[&body], 1024 * 1024).unwrap();
        assert!(out.len() > 1024 * 1024);
        assert!(out.len() <= 1024 * 1024 + DECODE_STEP, "{}", out.len());
    }

    #[test]
    fn an_empty_body_is_no_stream_and_no_error() {
        assert_eq!(decode(&[], 100).unwrap(), b"");
    }

    #[test]
    fn broken_streams_are_errors_not_short_bodies() {
        let body = gzip(b"hello hello hello hello", None);
        assert_eq!(decode(&[b"plain text"], 100), Err(GunzipError::NotGzip));
        assert_eq!(
            decode(&[&body[..body.len() / 2]], 100),
            Err(GunzipError::Truncated)
        );
        let mut corrupt = body.clone();
        corrupt[FIXED_HEADER] = 0xff;
        assert!(decode(&[&corrupt], 100).is_err());
        let endless_name = [
            &[0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3][..],
            &[b'a'; 70_000],
        ]
        .concat();
        assert_eq!(
            decode(&[&endless_name], 100),
            Err(GunzipError::HeaderTooLong)
        );
    }
}
