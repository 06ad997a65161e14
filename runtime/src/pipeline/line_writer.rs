//! [`LineWriter`]: the end of both drains, over the user's writer: writes whole lines, says how many were
//! lost when a write fails, and ends a line cut short by a failure before
//! the next one, so every record still starts on a line of its own.

use std::io::{self, Write};

/// An output that takes lines.
pub(crate) struct LineWriter<W: Write> {
    inner: W,
    /// A failed write may have left part of a line; the next write ends it.
    line_unterminated: bool,
}

impl<W: Write> LineWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        LineWriter {
            inner,
            line_unterminated: false,
        }
    }

    /// Writes `lines` (whole lines, each ending in `\n`) and flushes.
    /// On failure, returns how many of the lines were lost.
    pub(crate) fn write_lines(&mut self, lines: &[u8]) -> Result<(), u64> {
        if self.line_unterminated {
            if write_counted(&mut self.inner, b"\n").is_err() {
                return Err(count_lines(lines));
            }
            self.line_unterminated = false;
        }
        match write_counted(&mut self.inner, lines) {
            Ok(()) => self.inner.flush().map_err(|_| {
                // What the flush did not push out is unknown: count it all.
                self.line_unterminated = true;
                count_lines(lines)
            }),
            Err(written) => {
                self.line_unterminated = written > 0 && lines[written - 1] != b'\n';
                // A line is lost unless its newline went out.
                Err(count_lines(&lines[written..]))
            }
        }
    }
}

fn count_lines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64
}

/// Writes all of `bytes`; on failure, says how many bytes went out first.
fn write_counted(output: &mut impl Write, mut bytes: &[u8]) -> Result<(), usize> {
    let mut written = 0;
    while !bytes.is_empty() {
        match output.write(bytes) {
            Ok(0) => return Err(written),
            Ok(n) => {
                written += n;
                bytes = &bytes[n..];
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(written),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `budget` bytes, then fails.
    struct FailsAfter {
        taken: Vec<u8>,
        budget: usize,
    }

    impl Write for FailsAfter {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if self.budget == 0 {
                return Err(io::Error::other("full"));
            }
            let n = bytes.len().min(self.budget);
            self.budget -= n;
            self.taken.extend_from_slice(&bytes[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failure_mid_batch_loses_the_lines_whose_newline_did_not_go_out() {
        let mut output = LineWriter::new(FailsAfter {
            taken: Vec::new(),
            budget: 5,
        });
        assert_eq!(output.write_lines(b"ab\ncd\nef\n"), Err(2));
        assert!(output.line_unterminated, "`cd` was cut short");
        output.inner.budget = 100;
        assert_eq!(output.write_lines(b"gh\n"), Ok(()));
        assert_eq!(output.inner.taken, b"ab\ncd\ngh\n");
    }

    #[test]
    fn a_failure_on_a_line_boundary_leaves_nothing_to_end() {
        let mut output = LineWriter::new(FailsAfter {
            taken: Vec::new(),
            budget: 3,
        });
        assert_eq!(output.write_lines(b"ab\ncd\n"), Err(1));
        assert!(!output.line_unterminated);
    }
}
