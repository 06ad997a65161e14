//! JSON text, written straight into a byte buffer exactly as serde_json
//! writes it: keys, strings (escaped as serde_json escapes them, eight bytes
//! tested at a time), formatted text, and floats (by zmij, serde_json's own
//! float writer). The leaf every JSON writer of the crate builds on.

use std::fmt;

/// `,"key":`
#[inline(always)]
pub(crate) fn write_key(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b",\"");
    write_escaped(out, key);
    out.extend_from_slice(b"\":");
}

/// The shortest text of a float of its own width, as serde_json writes it
/// (an `f32` is not widened); JSON has no NaN or infinity, so those are null.
pub(crate) fn write_float<F: zmij::Float + Into<f64> + Copy>(out: &mut Vec<u8>, value: F) {
    if value.into().is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A JSON string.
#[inline(always)]
pub(crate) fn write_string(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    write_escaped(out, value);
    out.push(b'"');
}

/// A JSON string of formatted text, escaped as it is formatted.
pub(crate) fn write_arguments(out: &mut Vec<u8>, arguments: &fmt::Arguments<'_>) {
    out.push(b'"');
    match arguments.as_str() {
        Some(text) => write_escaped(out, text),
        None => {
            let mut escaping = EscapingWriter(out);
            // Writing into a Vec cannot fail; a Display impl that fails
            // leaves what it wrote so far.
            let _ = fmt::write(&mut escaping, *arguments);
        }
    }
    out.push(b'"');
}

struct EscapingWriter<'a>(&'a mut Vec<u8>);

impl fmt::Write for EscapingWriter<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_escaped(self.0, text);
        Ok(())
    }
}

/// Escapes `"`, `\` and control characters as serde_json does; everything
/// else, UTF-8 included, is copied as it is.
#[inline(always)]
pub(crate) fn write_escaped(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if is_plain(bytes) {
        out.extend_from_slice(bytes);
    } else {
        write_escaped_slowly(out, bytes);
    }
}

fn write_escaped_slowly(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut run_start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if needs_escape(byte) {
            out.extend_from_slice(&bytes[run_start..index]);
            write_escape(out, byte);
            run_start = index + 1;
        }
    }
    out.extend_from_slice(&bytes[run_start..]);
}

#[inline]
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Whether no byte of `bytes` needs escaping. Most text is plain; this tests
/// eight bytes at a time without branching on each, the last group as the
/// string's last eight bytes.
#[inline(always)]
pub(crate) fn is_plain(bytes: &[u8]) -> bool {
    if bytes.len() < 8 {
        return !bytes.iter().any(|&byte| needs_escape(byte));
    }
    let word = |chunk: &[u8]| u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
    let mut chunks = bytes.chunks_exact(8);
    let mut special = 0;
    for chunk in &mut chunks {
        special |= special_bytes(word(chunk));
    }
    special |= special_bytes(word(&bytes[bytes.len() - 8..]));
    special == 0
}

/// Non-zero when any byte of `word` is below 0x20, a quote or a backslash.
#[inline(always)]
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    below_space
        | has_zero(word ^ (ONES * u64::from(b'"')))
        | has_zero(word ^ (ONES * u64::from(b'\\')))
}

fn write_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_the_runtime_writes_needs_no_escaping() {
        for key in crate::keys::RESERVED {
            assert!(is_plain(key.as_bytes()), "{key}");
        }
    }

    #[test]
    fn escaping_matches_serde_json_for_every_control_character_and_quotes() {
        let mut text: String = (0u8..0x20).map(char::from).collect();
        text.push_str("\"\\ plain é ✓ \u{7f}");
        let mut ours = Vec::new();
        write_string(&mut ours, &text);
        assert_eq!(
            String::from_utf8(ours).ok(),
            serde_json::to_string(&text).ok()
        );
    }

    #[test]
    fn escapes_are_found_at_every_position_of_long_text() {
        for length in 0..40 {
            for position in 0..length {
                for special in ['"', '\\', '\n', '\u{1f}'] {
                    let mut text: String = "a".repeat(length);
                    text.replace_range(position..position + 1, &special.to_string());
                    let mut ours = Vec::new();
                    write_string(&mut ours, &text);
                    assert_eq!(
                        String::from_utf8(ours).ok(),
                        serde_json::to_string(&text).ok(),
                        "{text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn formatted_arguments_are_escaped_as_they_are_written() {
        let mut out = Vec::new();
        write_arguments(&mut out, &format_args!("{}-{}", "a\"b", 7));
        assert_eq!(out, br#""a\"b-7""#);
    }
}
