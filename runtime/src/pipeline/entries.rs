//! What a thread's buffer in the line drain's channel holds: frames, one
//! after another, each a finished line (a record formatted by its caller),
//! a captured prediction record (formatted by the writer with its
//! template), or a template the captured records after it refer to by its
//! slot. [`write_line`], [`write_captured`] and [`write_template`] append a
//! frame; [`Frames`] reads them back.

/// A finished line.
const LINE: u8 = 0;
/// A captured record: its template's slot (4 bytes), then its capture.
const CAPTURED: u8 = 1;
/// A template: its slot (4 bytes); the template itself is handed over
/// beside the frames, in the same order.
const TEMPLATE: u8 = 2;

/// Each frame opens with its kind and its length (8 bytes).
const HEAD: usize = 1 + 8;

/// One frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    /// A line, written as it is.
    Line(&'a [u8]),
    /// A captured record of the template in `slot`.
    Captured { slot: u32, capture: &'a [u8] },
    /// The next template handed over fills `slot` from here on.
    Template { slot: u32 },
}

/// The length of a line's frame.
#[cfg(test)]
fn line_length(line: &[u8]) -> usize {
    HEAD + line.len()
}

/// The length of a captured record's frame.
fn captured_length(capture: usize) -> usize {
    HEAD + 4 + capture
}

/// The length of a template's frame.
#[cfg(test)]
const TEMPLATE_LENGTH: usize = HEAD + 4;

fn head(out: &mut Vec<u8>, kind: u8, length: usize) {
    out.push(kind);
    out.extend_from_slice(&(length as u64).to_le_bytes());
}

/// Appends a line's frame.
pub(crate) fn write_line(out: &mut Vec<u8>, line: &[u8]) {
    head(out, LINE, line.len());
    out.extend_from_slice(line);
}

/// Appends a captured record's frame: `length` bytes that `write` appends,
/// of the template in `slot`. The length is the one `write` wrote, should
/// it differ.
pub(crate) fn write_captured(
    out: &mut Vec<u8>,
    slot: u32,
    length: usize,
    write: impl FnOnce(&mut Vec<u8>),
) {
    let start = out.len();
    out.reserve(captured_length(length));
    head(out, CAPTURED, length);
    out.extend_from_slice(&slot.to_le_bytes());
    let body = out.len();
    write(out);
    let written = (out.len() - body) as u64;
    out[start + 1..start + HEAD].copy_from_slice(&written.to_le_bytes());
}

/// Appends a template's frame.
pub(crate) fn write_template(out: &mut Vec<u8>, slot: u32) {
    head(out, TEMPLATE, 4);
    out.extend_from_slice(&slot.to_le_bytes());
}

/// The frames of whole frames' bytes, in order.
pub(crate) struct Frames<'a>(pub(crate) &'a [u8]);

impl<'a> Iterator for Frames<'a> {
    type Item = Frame<'a>;

    fn next(&mut self) -> Option<Frame<'a>> {
        let (&kind, after_kind) = self.0.split_first()?;
        let (length, after_length) = after_kind.split_at_checked(8)?;
        let length = usize::try_from(u64::from_le_bytes(length.try_into().ok()?)).ok()?;
        let slot = |bytes: &[u8]| -> Option<(u32, usize)> {
            let (slot, rest) = bytes.split_at_checked(4)?;
            Some((u32::from_le_bytes(slot.try_into().ok()?), rest.len()))
        };
        let (frame, rest) = match kind {
            LINE => {
                let (line, rest) = after_length.split_at_checked(length)?;
                (Frame::Line(line), rest)
            }
            CAPTURED => {
                let (body, rest) = after_length.split_at_checked(4 + length)?;
                let (slot, _) = slot(body)?;
                (
                    Frame::Captured {
                        slot,
                        capture: &body[4..],
                    },
                    rest,
                )
            }
            TEMPLATE => {
                let (body, rest) = after_length.split_at_checked(length)?;
                let (slot, _) = slot(body)?;
                (Frame::Template { slot }, rest)
            }
            _ => return None,
        };
        self.0 = rest;
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_come_back_in_order_with_their_lengths() {
        let mut out = Vec::new();
        write_line(&mut out, b"one\n");
        assert_eq!(out.len(), line_length(b"one\n"));
        write_template(&mut out, 3);
        write_captured(&mut out, 3, 2, |out| out.extend_from_slice(b"ab"));
        write_captured(&mut out, 1, 0, |_| {});
        write_line(&mut out, b"");
        let expected_length = line_length(b"one\n")
            + TEMPLATE_LENGTH
            + captured_length(2)
            + captured_length(0)
            + line_length(b"");
        assert_eq!(out.len(), expected_length);
        let frames: Vec<_> = Frames(&out).collect();
        assert_eq!(
            frames,
            [
                Frame::Line(b"one\n"),
                Frame::Template { slot: 3 },
                Frame::Captured {
                    slot: 3,
                    capture: b"ab"
                },
                Frame::Captured {
                    slot: 1,
                    capture: b""
                },
                Frame::Line(b""),
            ]
        );
    }

    #[test]
    fn a_capture_longer_than_announced_keeps_its_frame_whole() {
        let mut out = Vec::new();
        write_captured(&mut out, 0, 1, |out| out.extend_from_slice(b"abc"));
        write_line(&mut out, b"after");
        let frames: Vec<_> = Frames(&out).collect();
        assert_eq!(
            frames,
            [
                Frame::Captured {
                    slot: 0,
                    capture: b"abc"
                },
                Frame::Line(b"after")
            ]
        );
    }

    #[test]
    fn a_cut_frame_or_an_unknown_kind_ends_the_frames() {
        let mut out = Vec::new();
        write_line(&mut out, b"whole");
        write_line(&mut out, b"cut");
        let cut = &out[..out.len() - 1];
        assert_eq!(Frames(cut).count(), 1);
        assert_eq!(Frames(&[9, 0, 0, 0, 0, 0, 0, 0, 0]).count(), 0);
    }
}
