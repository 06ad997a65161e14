//! What a thread's buffer in the line drain's channel holds: frames, one
//! after another, each a finished line (a record formatted by its caller),
//! a captured prediction record (formatted by the writer with its
//! template), or a template the captured records after it refer to by its
//! slot. A record's frame carries its number in the channel (the one its
//! admission gave it, counted round at 2^32: see `room.rs` and
//! `producers.rs`), stamped by [`stamp`].
//! [`write_line`], [`write_captured`] and [`write_template`] append a
//! frame; [`next_frame`] reads them back, one at a time.

/// A finished line: its number (4 bytes), then the line.
const LINE: u8 = 0;
/// A captured record: its number (4 bytes), its template's slot
/// (4 bytes), then its capture.
const CAPTURED: u8 = 1;
/// A template: its slot (4 bytes); the template itself is handed over
/// beside the frames, in the same order.
const TEMPLATE: u8 = 2;

/// Each frame opens with its kind and the length of what follows its
/// number and slot (8 bytes).
const HEAD: usize = 1 + 8;

/// A record's number, after its frame's head.
const SEQUENCE: usize = 4;

/// One frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    /// A line, written as it is.
    Line { sequence: u32, line: &'a [u8] },
    /// A captured record of the template in `slot`.
    Captured {
        sequence: u32,
        slot: u32,
        capture: &'a [u8],
    },
    /// The next template handed over fills `slot` from here on.
    Template { slot: u32 },
}

impl Frame<'_> {
    /// The record's sequence number; `None` for a template.
    pub(crate) fn sequence(&self) -> Option<u32> {
        match self {
            Frame::Line { sequence, .. } | Frame::Captured { sequence, .. } => Some(*sequence),
            Frame::Template { .. } => None,
        }
    }
}

/// The length of a line's frame.
#[cfg(test)]
fn line_length(line: &[u8]) -> usize {
    HEAD + SEQUENCE + line.len()
}

/// The length of a captured record's frame.
fn captured_length(capture: usize) -> usize {
    HEAD + SEQUENCE + 4 + capture
}

/// The length of a template's frame.
#[cfg(test)]
const TEMPLATE_LENGTH: usize = HEAD + 4;

fn head(out: &mut Vec<u8>, kind: u8, length: usize) {
    out.push(kind);
    out.extend_from_slice(&(length as u64).to_le_bytes());
}

/// Appends a line's frame, numbered 0 until [`stamp`]ed.
pub(crate) fn write_line(out: &mut Vec<u8>, line: &[u8]) {
    head(out, LINE, line.len());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(line);
}

/// Appends a captured record's frame, numbered 0 until [`stamp`]ed:
/// `length` bytes that `write` appends, of the template in `slot`. The
/// length is the one `write` wrote, should it differ.
pub(crate) fn write_captured(
    out: &mut Vec<u8>,
    slot: u32,
    length: usize,
    write: impl FnOnce(&mut Vec<u8>),
) {
    let start = out.len();
    out.reserve(captured_length(length));
    head(out, CAPTURED, length);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&slot.to_le_bytes());
    let body = out.len();
    write(out);
    let written = (out.len() - body) as u64;
    out[start + 1..start + HEAD].copy_from_slice(&written.to_le_bytes());
}

/// Gives the record whose frame `frame` holds (a line's or a captured
/// record's, written alone) its number.
pub(crate) fn stamp(frame: &mut [u8], sequence: u32) {
    if let Some(number) = frame.get_mut(HEAD..HEAD + SEQUENCE) {
        number.copy_from_slice(&sequence.to_le_bytes());
    }
}

/// Appends a template's frame.
pub(crate) fn write_template(out: &mut Vec<u8>, slot: u32) {
    head(out, TEMPLATE, 4);
    out.extend_from_slice(&slot.to_le_bytes());
}

/// The frame `bytes` open with and its length, if they hold a whole one.
pub(crate) fn next_frame(bytes: &[u8]) -> Option<(Frame<'_>, usize)> {
    let (&kind, after_kind) = bytes.split_first()?;
    let (length, after_length) = after_kind.split_at_checked(8)?;
    let length = usize::try_from(u64::from_le_bytes(length.try_into().ok()?)).ok()?;
    let sequence = |bytes: &[u8]| -> Option<u32> {
        Some(u32::from_le_bytes(bytes.get(..SEQUENCE)?.try_into().ok()?))
    };
    let slot = |bytes: &[u8]| -> Option<u32> {
        Some(u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?))
    };
    let (frame, body) = match kind {
        LINE => {
            let body = after_length.get(..SEQUENCE + length)?;
            let line = &body[SEQUENCE..];
            (
                Frame::Line {
                    sequence: sequence(body)?,
                    line,
                },
                body,
            )
        }
        CAPTURED => {
            let body = after_length.get(..SEQUENCE + 4 + length)?;
            let frame = Frame::Captured {
                sequence: sequence(body)?,
                slot: slot(&body[SEQUENCE..])?,
                capture: &body[SEQUENCE + 4..],
            };
            (frame, body)
        }
        TEMPLATE => {
            let body = after_length.get(..length)?;
            (Frame::Template { slot: slot(body)? }, body)
        }
        _ => return None,
    };
    Some((frame, HEAD + body.len()))
}

/// The frames of whole frames' bytes, in order.
#[cfg(test)]
pub(crate) struct Frames<'a>(pub(crate) &'a [u8]);

#[cfg(test)]
impl<'a> Iterator for Frames<'a> {
    type Item = Frame<'a>;

    fn next(&mut self) -> Option<Frame<'a>> {
        let (frame, length) = next_frame(self.0)?;
        self.0 = &self.0[length..];
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends a frame made by `write`, stamped `sequence`.
    fn stamped(out: &mut Vec<u8>, sequence: u32, write: impl FnOnce(&mut Vec<u8>)) {
        let mut frame = Vec::new();
        write(&mut frame);
        stamp(&mut frame, sequence);
        out.extend_from_slice(&frame);
    }

    #[test]
    fn frames_come_back_in_order_with_their_lengths_and_numbers() {
        let mut out = Vec::new();
        stamped(&mut out, 7, |out| write_line(out, b"one\n"));
        assert_eq!(out.len(), line_length(b"one\n"));
        write_template(&mut out, 3);
        stamped(&mut out, 8, |out| {
            write_captured(out, 3, 2, |out| out.extend_from_slice(b"ab"));
        });
        stamped(&mut out, u32::MAX, |out| write_captured(out, 1, 0, |_| {}));
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
                Frame::Line {
                    sequence: 7,
                    line: b"one\n"
                },
                Frame::Template { slot: 3 },
                Frame::Captured {
                    sequence: 8,
                    slot: 3,
                    capture: b"ab"
                },
                Frame::Captured {
                    sequence: u32::MAX,
                    slot: 1,
                    capture: b""
                },
                Frame::Line {
                    sequence: 0,
                    line: b""
                },
            ]
        );
        let numbers: Vec<_> = Frames(&out).map(|frame| frame.sequence()).collect();
        assert_eq!(numbers, [Some(7), None, Some(8), Some(u32::MAX), Some(0)]);
    }

    #[test]
    fn a_capture_longer_than_announced_keeps_its_frame_whole() {
        let mut out = Vec::new();
        stamped(&mut out, 1, |out| {
            write_captured(out, 0, 1, |out| out.extend_from_slice(b"abc"));
        });
        write_line(&mut out, b"after");
        let frames: Vec<_> = Frames(&out).collect();
        assert_eq!(
            frames,
            [
                Frame::Captured {
                    sequence: 1,
                    slot: 0,
                    capture: b"abc"
                },
                Frame::Line {
                    sequence: 0,
                    line: b"after"
                }
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
        let mut template = Vec::new();
        write_template(&mut template, 1);
        assert_eq!(Frames(&template[..template.len() - 1]).count(), 0);
        assert_eq!(Frames(&[9, 0, 0, 0, 0, 0, 0, 0, 0]).count(), 0);
        assert_eq!(
            next_frame(&out).map(|(_, length)| length),
            Some(line_length(b"whole"))
        );
    }

    #[test]
    fn stamping_a_frame_too_short_to_hold_a_number_changes_nothing() {
        let mut frame = vec![LINE, 0, 0];
        stamp(&mut frame, 5);
        assert_eq!(frame, [LINE, 0, 0]);
    }
}
