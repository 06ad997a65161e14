//! [`CapturedOutput`]: an in-memory output for tests that read the records.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// An output that keeps every byte in memory. Clones share the bytes, so a
/// test can hand one clone to the logger and read the other.
///
/// ```
/// use logged_model::{CapturedOutput, LoggerBuilder};
///
/// let output = CapturedOutput::default();
/// let (logger, guard) = LoggerBuilder::new().build_with_writer(output.clone())?;
/// slog::info!(logger, "Hello.");
/// drop(guard);
/// let records = output.records()?;
/// assert_eq!(records[0]["message"], "Hello.");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct CapturedOutput {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl CapturedOutput {
    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap_or_else(PoisonError::into_inner))
            .into_owned()
    }

    /// The lines written so far, without their line endings.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// Every line parsed as a JSON object.
    pub fn records(
        &self,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, serde_json::Error> {
        self.lines()
            .iter()
            .map(|line| serde_json::from_str(line))
            .collect()
    }
}

impl CapturedOutput {
    /// Moves everything written so far into `out`, leaving this empty.
    pub(crate) fn take_into(&self, out: &mut Vec<u8>) {
        let mut bytes = self.bytes.lock().unwrap_or_else(PoisonError::into_inner);
        out.clear();
        out.extend_from_slice(&bytes);
        bytes.clear();
    }
}

impl Write for CapturedOutput {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
