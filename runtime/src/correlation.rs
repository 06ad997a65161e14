//! The correlation id: an id the caller supplies for the current request or
//! job (an HTTP `X-Request-ID`, a batch job's id) that every prediction made
//! on its behalf carries as `correlation_id`.
//!
//! The id is scoped, not passed as an argument, so models keep their
//! signature. [`scope`] sets it for a synchronous closure; for async code,
//! [`WithCorrelationId::with_correlation_id`] attaches it to a future, which
//! sets it around every poll, whichever thread polls it. To carry the id to a
//! thread you spawn, read it with [`current`] and enter a [`scope`] there.
//!
//! ```
//! use logged_model::correlation::{self, CorrelationId};
//!
//! assert_eq!(correlation::current(), None);
//! correlation::scope("req-42", || {
//!     assert_eq!(correlation::current(), Some(CorrelationId::from("req-42")));
//! });
//! assert_eq!(correlation::current(), None);
//! ```

use crate::record::trace_context::{TraceContext, TraceGuard};
/// The trace context's scope, beside the correlation id's.
pub use crate::record::trace_context::{current_trace, trace_scope};
use pin_project_lite::pin_project;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// An id that ties a prediction's records to the request or job behind it.
/// Cloning it is cheap.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CorrelationId(Arc<str>);

impl CorrelationId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for CorrelationId {
    fn from(id: &str) -> Self {
        CorrelationId(Arc::from(id))
    }
}

impl From<String> for CorrelationId {
    fn from(id: String) -> Self {
        CorrelationId(Arc::from(id))
    }
}

thread_local! {
    static CURRENT: RefCell<Option<CorrelationId>> = const { RefCell::new(None) };
}

/// The correlation id in scope on this thread, if any.
pub fn current() -> Option<CorrelationId> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Runs `f` with `id` as the correlation id, then restores the one before,
/// also when `f` panics.
pub fn scope<R>(id: impl Into<CorrelationId>, f: impl FnOnce() -> R) -> R {
    let _restore = ScopeGuard::enter(Some(id.into()));
    f()
}

/// Restores the previous correlation id when dropped.
struct ScopeGuard {
    previous: Option<CorrelationId>,
}

impl ScopeGuard {
    fn enter(id: Option<CorrelationId>) -> Self {
        let previous = CURRENT.with(|current| current.replace(id));
        ScopeGuard { previous }
    }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// Attaches a correlation id to a future.
///
/// ```
/// use logged_model::correlation::{self, WithCorrelationId};
///
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let id = block_on(async { correlation::current() }.with_correlation_id("job-7"));
/// assert_eq!(id.map(|id| id.to_string()), Some("job-7".to_string()));
/// ```
pub trait WithCorrelationId: Future + Sized {
    /// Wraps the future so that `id` is in scope whenever it is polled.
    fn with_correlation_id(self, id: impl Into<CorrelationId>) -> Correlated<Self> {
        Correlated {
            inner: self,
            id: Some(id.into()),
            trace: None,
        }
    }

    /// Wraps the future so that `trace` is the trace context whenever it is
    /// polled.
    fn with_trace_context(self, trace: TraceContext) -> Correlated<Self> {
        Correlated {
            inner: self,
            id: None,
            trace: Some(trace),
        }
    }
}

impl<F: Future> WithCorrelationId for F {}

pin_project! {
    /// A future with a correlation id or a trace context in scope while it
    /// is polled; made by [`WithCorrelationId::with_correlation_id`] or
    /// [`WithCorrelationId::with_trace_context`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Correlated<F> {
        #[pin]
        inner: F,
        id: Option<CorrelationId>,
        trace: Option<TraceContext>,
    }
}

impl<F: Future> Future for Correlated<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _id = this
            .id
            .as_ref()
            .map(|id| ScopeGuard::enter(Some(id.clone())));
        let _trace = this.trace.map(|trace| TraceGuard::enter(Some(trace)));
        this.inner.poll(cx)
    }
}
