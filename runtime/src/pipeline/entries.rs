//! [`Entries`]: what waits in the line drain's channel, in order: finished
//! lines (records formatted by their caller, and the drain's own reports)
//! and captured prediction records, framed one after another in one byte
//! buffer, with the templates the captured records refer to. A batch of
//! entries holds its templates, so a template lives as long as a record
//! that needs it, and a record costs no reference count.

use crate::record::template::RecordTemplate;
use std::sync::Arc;

const LINE: u8 = 0;
const CAPTURED: u8 = 1;

/// Finished lines and captured records, in the order they came.
#[derive(Default)]
pub(crate) struct Entries {
    /// Each entry: its kind, its length (8 bytes), for a captured record
    /// the index of its template (4 bytes), then its bytes.
    bytes: Vec<u8>,
    templates: Vec<Arc<RecordTemplate>>,
    /// Entries appended: each is one record.
    records: usize,
}

/// One entry.
pub(crate) enum Entry<'a> {
    /// A line, written as it is.
    Line(&'a [u8]),
    /// A captured record, formatted by the writer with its template.
    Captured {
        template: &'a RecordTemplate,
        capture: &'a [u8],
    },
}

impl Entries {
    /// Appends a finished line.
    pub(crate) fn push_line(&mut self, line: &[u8]) {
        self.push_line_with(|out| out.extend_from_slice(line));
    }

    /// Appends the line `write` appends to the buffer it is given.
    pub(crate) fn push_line_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.records += 1;
        self.bytes.push(LINE);
        let length_at = self.bytes.len();
        self.bytes.extend_from_slice(&[0; 8]);
        write(&mut self.bytes);
        let length = (self.bytes.len() - length_at - 8) as u64;
        self.bytes[length_at..length_at + 8].copy_from_slice(&length.to_le_bytes());
    }

    /// Appends a captured record of `template`: the `length` bytes that
    /// `write` appends.
    pub(crate) fn push_captured(
        &mut self,
        template: &Arc<RecordTemplate>,
        length: usize,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        // Batches hold the templates of a few models: a short search.
        let index = match self
            .templates
            .iter()
            .rposition(|known| Arc::ptr_eq(known, template))
        {
            Some(index) => index,
            None => {
                self.templates.push(Arc::clone(template));
                self.templates.len() - 1
            }
        };
        self.records += 1;
        self.bytes.reserve(1 + 8 + 4 + length);
        self.bytes.push(CAPTURED);
        self.bytes.extend_from_slice(&(length as u64).to_le_bytes());
        self.bytes
            .extend_from_slice(&u32::try_from(index).unwrap_or(u32::MAX).to_le_bytes());
        let start = self.bytes.len();
        write(&mut self.bytes);
        debug_assert_eq!(
            self.bytes.len() - start,
            length,
            "a capture of the length it said"
        );
    }

    /// How many entries (records) there are.
    pub(crate) fn records(&self) -> usize {
        self.records
    }

    /// The entries, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Entry<'_>> + '_ {
        let mut rest = &self.bytes[..];
        std::iter::from_fn(move || {
            let (&kind, after_kind) = rest.split_first()?;
            let (length, after_length) = after_kind.split_at_checked(8)?;
            let length = usize::try_from(u64::from_le_bytes(length.try_into().ok()?)).ok()?;
            let (entry, after) = if kind == CAPTURED {
                let (index, after_index) = after_length.split_at_checked(4)?;
                let index = u32::from_le_bytes(index.try_into().ok()?) as usize;
                let (capture, after) = after_index.split_at_checked(length)?;
                let template = self.templates.get(index)?;
                (Entry::Captured { template, capture }, after)
            } else {
                let (line, after) = after_length.split_at_checked(length)?;
                (Entry::Line(line), after)
            };
            rest = after;
            Some(entry)
        })
    }

    /// Empties the entries, keeping the buffer unless it grew beyond
    /// `retained` bytes, so a burst does not keep its memory.
    pub(crate) fn clear(&mut self, retained: usize) {
        self.bytes.clear();
        self.templates.clear();
        self.records = 0;
        if self.bytes.capacity() > retained {
            self.bytes = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Arc<RecordTemplate> {
        static LOCATION: slog::RecordLocation = slog::RecordLocation {
            file: "model.rs",
            line: 1,
            column: 0,
            function: "",
            module: "",
        };
        let values = slog::OwnedKVList::from(slog::o!("k" => "v"));
        Arc::new(
            RecordTemplate::new(
                &LOCATION,
                &crate::record::head::ProcessFields::of_this_process(),
                &values,
                &["f"],
                &[],
                None,
            )
            .expect("renders"),
        )
    }

    #[test]
    fn entries_come_back_in_order_with_their_templates() {
        let (first, second) = (template(), template());
        let mut entries = Entries::default();
        entries.push_line(b"one\n");
        let bytes = |bytes: &'static [u8]| {
            (bytes.len(), move |out: &mut Vec<u8>| {
                out.extend_from_slice(bytes)
            })
        };
        let (length, write) = bytes(b"a");
        entries.push_captured(&first, length, write);
        let (length, write) = bytes(b"bb");
        entries.push_captured(&second, length, write);
        entries.push_line_with(|out| out.extend_from_slice(b"two\n"));
        entries.push_captured(&first, 0, |_| {});
        let read: Vec<_> = entries
            .iter()
            .map(|entry| match entry {
                Entry::Line(line) => (line.to_vec(), None),
                Entry::Captured { template, capture } => (
                    capture.to_vec(),
                    Some(if std::ptr::eq(template, &*first) {
                        1
                    } else {
                        2
                    }),
                ),
            })
            .collect();
        assert_eq!(
            read,
            [
                (b"one\n".to_vec(), None),
                (b"a".to_vec(), Some(1)),
                (b"bb".to_vec(), Some(2)),
                (b"two\n".to_vec(), None),
                (Vec::new(), Some(1)),
            ]
        );
        assert_eq!(
            entries.templates.len(),
            2,
            "a template is held once per batch"
        );
        assert_eq!(entries.records(), 5);
        entries.clear(0);
        assert!(entries.iter().next().is_none() && entries.templates.is_empty());
        assert_eq!(entries.records(), 0);
        assert_eq!(Arc::strong_count(&first), 1);
    }
}
