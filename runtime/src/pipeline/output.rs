//! [`Output`]: where the writer thread's lines go, the end of both drains:
//! the user's writer (standard output by default), the OTLP exporter, or
//! both. Each call says what it delivered; the writer counts it.

#[cfg(feature = "otlp")]
use crate::otlp::exporter::{Exported, OtlpExporter};
use crate::pipeline::line_writer::LineWriter;
use std::io::Write;

/// What one call delivered: the lines the primary output lost (the writer
/// when there is one, else the exporter), and what the exporter did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// Lines the primary output did not take.
    pub(crate) lost: u64,
    /// Records the OTLP receiver accepted.
    pub(crate) exported: u64,
    /// Records the OTLP receiver refused or did not get in time.
    pub(crate) export_failed: u64,
}

impl Delivery {
    /// Whether the primary output took every line.
    pub(crate) fn is_ok(&self) -> bool {
        self.lost == 0
    }
}

/// The writer thread's output.
pub(crate) enum Output<W: Write> {
    /// Lines to the user's writer.
    Lines(LineWriter<W>),
    /// Records over OTLP only.
    #[cfg(feature = "otlp")]
    Otlp(OtlpExporter),
    /// Lines to the user's writer, then the same records over OTLP.
    #[cfg(feature = "otlp")]
    Both(LineWriter<W>, OtlpExporter),
}

impl<W: Write> Output<W> {
    /// Lines to `writer`.
    pub(crate) fn lines(writer: W) -> Self {
        Output::Lines(LineWriter::new(writer))
    }

    /// Delivers `lines` (whole lines, each ending in `\n`).
    pub(crate) fn write_lines(&mut self, lines: &[u8]) -> Delivery {
        match self {
            Output::Lines(writer) => Delivery {
                lost: writer.write_lines(lines).err().unwrap_or(0),
                ..Delivery::default()
            },
            #[cfg(feature = "otlp")]
            Output::Otlp(exporter) => {
                let Exported { exported, failed } = exporter.export_lines(lines);
                Delivery {
                    lost: failed,
                    exported,
                    export_failed: failed,
                }
            }
            #[cfg(feature = "otlp")]
            Output::Both(writer, exporter) => {
                let lost = writer.write_lines(lines).err().unwrap_or(0);
                let Exported { exported, failed } = exporter.export_lines(lines);
                Delivery {
                    lost,
                    exported,
                    export_failed: failed,
                }
            }
        }
    }
}
