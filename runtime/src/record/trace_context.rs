//! [`TraceContext`]: the W3C Trace Context of the work a record belongs to,
//! so that the on-call engineer can go from a trace to its prediction
//! records and back. It travels in the same scope as the correlation id
//! ([`correlation`](crate::correlation)), and records written inside it carry
//! `trace.id`, `span.id` and, when the span continues a caller's trace,
//! `parent.id`.

use crate::keys;
use crate::record::head::{PairSink, fixed_key};
use std::cell::Cell;
use std::fmt;

/// A trace and the span of the current work in it.
///
/// ```
/// use logged_model::TraceContext;
///
/// // A caller's `traceparent` header (the W3C specification's example):
/// let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// let context = TraceContext::continue_from(header).expect("valid");
/// assert_eq!(context.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(context.parent_id().as_deref(), Some("00f067aa0ba902b7"));
/// assert_ne!(context.span_id(), "00f067aa0ba902b7", "a new span of its own");
/// assert!(TraceContext::continue_from("00-0000-bad").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    parent_id: Option<[u8; 8]>,
    flags: u8,
}

/// A `traceparent` header that the W3C Trace Context specification does
/// not accept; the specification says to start a new trace instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a valid traceparent: expected 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>, ids not all zero"
)]
pub struct InvalidTraceparent(pub String);

impl TraceContext {
    /// A new trace, with a new span: for work that no caller traced.
    pub fn new_root() -> Self {
        // Never all zero, as the specification requires: a version 4
        // UUID's seventh byte holds its version, 4.
        let trace_id = uuid::Uuid::new_v4().into_bytes();
        TraceContext {
            trace_id,
            span_id: new_span_id(),
            parent_id: None,
            flags: 0,
        }
    }

    /// A new span in the trace of a caller's `traceparent` header (version
    /// `00` as the W3C specification defines it; a later version is read by
    /// its first four fields, as the specification asks), its parent the
    /// caller's span.
    pub fn continue_from(traceparent: &str) -> Result<Self, InvalidTraceparent> {
        let invalid = || InvalidTraceparent(traceparent.to_owned());
        let text = traceparent.trim();
        let bytes = text.as_bytes();
        if bytes.len() < 55 {
            return Err(invalid());
        }
        let version = hex_bytes::<1>(&text[0..2]).ok_or_else(invalid)?[0];
        // Version ff is forbidden; version 00 is exactly 55 characters; a
        // later version may carry more fields after a dash.
        if version == 0xff
            || (version == 0 && bytes.len() != 55)
            || (version > 0 && bytes.len() > 55 && bytes[55] != b'-')
        {
            return Err(invalid());
        }
        if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return Err(invalid());
        }
        let trace_id = hex_bytes::<16>(&text[3..35]).ok_or_else(invalid)?;
        let parent_id = hex_bytes::<8>(&text[36..52]).ok_or_else(invalid)?;
        let flags = hex_bytes::<1>(&text[53..55]).ok_or_else(invalid)?[0];
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return Err(invalid());
        }
        Ok(TraceContext {
            trace_id,
            span_id: new_span_id(),
            parent_id: Some(parent_id),
            flags,
        })
    }

    /// Continues the caller's trace, or starts a new one when the header is
    /// absent or invalid (never an error: the specification's rule).
    pub fn from_header(traceparent: Option<&str>) -> Self {
        traceparent
            .and_then(|header| Self::continue_from(header).ok())
            .unwrap_or_else(Self::new_root)
    }

    /// The trace id: 32 lower-case hex digits.
    pub fn trace_id(&self) -> String {
        hex(&self.trace_id)
    }

    /// This span's id: 16 lower-case hex digits.
    pub fn span_id(&self) -> String {
        hex(&self.span_id)
    }

    /// The caller's span, when this one continues a caller's trace.
    pub fn parent_id(&self) -> Option<String> {
        self.parent_id.as_ref().map(|id| hex(id))
    }

    /// The `traceparent` header that passes this span on to a callee.
    pub fn to_traceparent(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.trace_id(),
            self.span_id(),
            self.flags
        )
    }
}

impl TraceContext {
    /// Writes `trace.id`, `span.id` and, when there is one, `parent.id`.
    pub(crate) fn write_ids<S: PairSink + ?Sized>(&self, sink: &mut S) -> slog::Result {
        sink.plain_text(fixed_key!(keys::TRACE_ID), &self.trace_id())?;
        sink.plain_text(fixed_key!(keys::SPAN_ID), &self.span_id())?;
        if let Some(parent) = self.parent_id() {
            sink.plain_text(fixed_key!(keys::PARENT_ID), &parent)?;
        }
        Ok(())
    }

    /// The bytes a captured record carries: trace id, span id, whether there
    /// is a parent, the parent id, the flags.
    pub(crate) const WIRE_LENGTH: usize = 34;

    /// The context as [`Self::WIRE_LENGTH`] bytes.
    pub(crate) fn to_wire(self) -> [u8; Self::WIRE_LENGTH] {
        let mut wire = [0; Self::WIRE_LENGTH];
        wire[..16].copy_from_slice(&self.trace_id);
        wire[16..24].copy_from_slice(&self.span_id);
        if let Some(parent) = self.parent_id {
            wire[24] = 1;
            wire[25..33].copy_from_slice(&parent);
        }
        wire[33] = self.flags;
        wire
    }

    /// The context [`Self::to_wire`] wrote.
    pub(crate) fn from_wire(wire: &[u8; Self::WIRE_LENGTH]) -> Self {
        let mut context = TraceContext {
            trace_id: [0; 16],
            span_id: [0; 8],
            parent_id: None,
            flags: wire[33],
        };
        context.trace_id.copy_from_slice(&wire[..16]);
        context.span_id.copy_from_slice(&wire[16..24]);
        if wire[24] == 1 {
            let mut parent = [0; 8];
            parent.copy_from_slice(&wire[25..33]);
            context.parent_id = Some(parent);
        }
        context
    }
}

/// Writes `trace.id`, `span.id` and, when there is one, `parent.id`, so a
/// record of your own can carry the trace: `slog::info!(logger, "..."; trace)`.
impl slog::KV for TraceContext {
    fn serialize(
        &self,
        _record: &slog::Record<'_>,
        serializer: &mut dyn slog::Serializer,
    ) -> slog::Result {
        self.write_ids(serializer)
    }
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceContext")
            .field("trace_id", &self.trace_id())
            .field("span_id", &self.span_id())
            .field("parent_id", &self.parent_id())
            .finish()
    }
}

/// Eight random bytes, never all zero (the specification forbids it): the
/// first eight of a version 4 UUID, whose seventh byte holds its version, 4.
fn new_span_id() -> [u8; 8] {
    let random = uuid::Uuid::new_v4().into_bytes();
    let mut id = [0; 8];
    id.copy_from_slice(&random[..8]);
    id
}

/// `N` bytes from `2 × N` lower-case hex digits (the specification's only form).
fn hex_bytes<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let value = |digit: u8| match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    };
    let mut bytes = [0; N];
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = value(digits[2 * index])? << 4 | value(digits[2 * index + 1])?;
    }
    Some(bytes)
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|byte| [HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]])
        .map(char::from)
        .collect()
}

thread_local! {
    static CURRENT_TRACE: Cell<Option<TraceContext>> = const { Cell::new(None) };
}

/// The trace context in scope on this thread, if any.
pub fn current_trace() -> Option<TraceContext> {
    CURRENT_TRACE.with(Cell::get)
}

/// Runs `f` with `trace` as the trace context (records written inside carry
/// its `trace.id`, `span.id` and `parent.id`), then restores the one before,
/// also when `f` panics. The correlation id in scope is kept.
pub fn trace_scope<R>(trace: TraceContext, f: impl FnOnce() -> R) -> R {
    let _restore = TraceGuard::enter(Some(trace));
    f()
}

/// Restores the previous trace context when dropped.
pub(crate) struct TraceGuard {
    previous: Option<TraceContext>,
}

impl TraceGuard {
    pub(crate) fn enter(trace: Option<TraceContext>) -> Self {
        TraceGuard {
            previous: CURRENT_TRACE.with(|current| current.replace(trace)),
        }
    }
}

impl Drop for TraceGuard {
    fn drop(&mut self) {
        CURRENT_TRACE.with(|current| current.set(self.previous));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_never_all_zero_and_differ() {
        let (first, second) = (TraceContext::new_root(), TraceContext::new_root());
        for trace in [first, second] {
            // The version nibble of the UUID they come from: never zero.
            assert_eq!(&trace.trace_id()[12..13], "4", "{}", trace.trace_id());
            assert_eq!(&trace.span_id()[12..13], "4", "{}", trace.span_id());
            assert_ne!(trace.trace_id(), "0".repeat(32));
        }
        assert_ne!(first.trace_id(), second.trace_id());
        assert_ne!(first.span_id(), second.span_id());
    }

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_specifications_example_is_continued() {
        let context = TraceContext::continue_from(VALID).expect("valid");
        assert_eq!(context.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(context.parent_id().as_deref(), Some("00f067aa0ba902b7"));
        let passed_on = context.to_traceparent();
        assert!(passed_on.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(passed_on.ends_with("-01"));
        assert_eq!(
            TraceContext::continue_from(&passed_on).map(|c| c.trace_id()),
            Ok(context.trace_id())
        );
    }

    #[test]
    fn invalid_headers_are_refused() {
        for header in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", // no flags
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // short trace id
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", // upper case
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero parent id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // forbidden version
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // version 00 with more
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", // separators
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01", // bad hex
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // bad version
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", // bad flags
        ] {
            assert!(TraceContext::continue_from(header).is_err(), "{header:?}");
            let started = TraceContext::from_header(Some(header));
            assert_eq!(started.parent_id(), None, "{header:?} starts a new trace");
        }
    }

    #[test]
    fn debug_shows_the_ids_as_hex() {
        let continued =
            TraceContext::continue_from(VALID).unwrap_or_else(|_| TraceContext::new_root());
        let shown = format!("{continued:?}");
        assert!(
            shown.starts_with(
                "TraceContext { trace_id: \"4bf92f3577b34da6a3ce929d0e0e4736\", span_id: \""
            ),
            "{shown}"
        );
        assert!(
            shown.ends_with(", parent_id: Some(\"00f067aa0ba902b7\") }"),
            "{shown}"
        );
    }

    #[test]
    fn each_separator_must_be_a_dash() {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(TraceContext::continue_from(valid).is_ok());
        for position in [2, 35, 52] {
            let mut header = valid.to_owned();
            header.replace_range(position..position + 1, "_");
            assert!(TraceContext::continue_from(&header).is_err(), "{header}");
        }
    }

    #[test]
    fn a_later_version_may_end_after_the_flags_or_go_on_after_a_dash() {
        let exact = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(
            TraceContext::continue_from(exact).is_ok(),
            "the four fields alone"
        );
        let run_on = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x";
        assert!(
            TraceContext::continue_from(run_on).is_err(),
            "more after the flags, with no dash"
        );
    }

    #[test]
    fn a_later_version_is_read_by_its_first_fields() {
        let future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next";
        let context = TraceContext::continue_from(future).expect("read");
        assert_eq!(context.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn the_wire_form_gives_back_the_same_context() {
        let continued =
            TraceContext::continue_from(VALID).unwrap_or_else(|_| TraceContext::new_root());
        for context in [continued, TraceContext::new_root()] {
            assert_eq!(TraceContext::from_wire(&context.to_wire()), context);
        }
    }

    #[test]
    fn a_new_root_has_ids_that_are_not_zero() {
        let root = TraceContext::new_root();
        assert_eq!(root.trace_id().len(), 32);
        assert_ne!(root.trace_id(), "0".repeat(32));
        assert_eq!(root.span_id().len(), 16);
        assert_eq!(root.parent_id(), None);
    }
}
