//! How a wrapped model reaches the line drain under its logger. The root
//! logger of a line drain carries a [`DrainLink`] among its values, which
//! writes nothing into records. When a model is wrapped,
//! [`PredictionSink::find`] looks for it, once, by serializing the logger's
//! values; from then on the model's records are captured and queued
//! through the [`PredictionSink`], and the writer thread formats them. A
//! model whose logger has no link (the slog-async drain, a drain of the
//! user's own) logs through slog, as does a record the sink cannot capture.

use crate::pipeline::event_clock::EventTime;
use crate::pipeline::queue::LineQueue;
use crate::record::caps::SizeCaps;
use crate::record::capture::Capture;
use crate::record::head::ProcessFields;
use crate::record::prediction_record::{PredictionEvent, PredictionPairs};
use crate::record::template::RecordTemplate;
use slog::{KV, Logger, Record, RecordLocation, Serializer};
use std::cell::RefCell;
use std::sync::Arc;

thread_local! {
    /// While a logger is searched for its link: where the link puts itself.
    static SEARCH: RefCell<Option<Option<DrainLink>>> = const { RefCell::new(None) };
}

/// The line drain's queue, among its root logger's values.
#[derive(Clone)]
pub(crate) struct DrainLink {
    queue: LineQueue,
    caps: SizeCaps,
    process: Arc<ProcessFields>,
}

impl DrainLink {
    pub(crate) fn new(queue: LineQueue, caps: SizeCaps, process: Arc<ProcessFields>) -> Self {
        DrainLink {
            queue,
            caps,
            process,
        }
    }
}

/// Writes nothing, except to a search, where it hands itself over.
impl KV for DrainLink {
    fn serialize(&self, _record: &Record<'_>, _serializer: &mut dyn Serializer) -> slog::Result {
        SEARCH.with(|search| {
            if let Ok(mut search) = search.try_borrow_mut() {
                if let Some(found) = search.as_mut() {
                    *found = Some(self.clone());
                }
            }
        });
        Ok(())
    }
}

/// Where a wrapped model's records go when its logger is a line drain's.
pub(crate) struct PredictionSink {
    queue: LineQueue,
    template: Arc<RecordTemplate>,
    /// A capture longer than this is formatted by its caller, and capped.
    limit: usize,
}

impl PredictionSink {
    /// The sink of `logger`'s line drain, with the template of the records
    /// a model logs at `location` with fields of `input_keys` and
    /// `output_keys`; `None` if the logger has no line drain, or values
    /// that fail.
    pub(crate) fn find(
        logger: &Logger,
        location: &'static RecordLocation,
        input_keys: &[&'static str],
        output_keys: &[&'static str],
        sample_rate: Option<f64>,
    ) -> Option<Self> {
        struct Nothing;
        impl Serializer for Nothing {
            fn emit_arguments(
                &mut self,
                _: slog::Key,
                _: &std::fmt::Arguments<'_>,
            ) -> slog::Result {
                Ok(())
            }
        }
        SEARCH.with(|search| search.replace(Some(None)));
        let searched = PredictionEvent::Requested.with_record(location, &(), |record| {
            logger.list().serialize(record, &mut Nothing)
        });
        let link = SEARCH.with(|search| search.replace(None)).flatten();
        searched.ok()?;
        let link = link?;
        let template = RecordTemplate::new(
            location,
            &link.process,
            logger.list(),
            input_keys,
            output_keys,
            sample_rate,
        )?;
        Some(PredictionSink {
            queue: link.queue,
            template: Arc::new(template),
            limit: link.caps.record_max,
        })
    }

    /// The template of the model's records.
    pub(crate) fn template(&self) -> &RecordTemplate {
        &self.template
    }

    /// Captures and queues a record; `false` if it could not be captured,
    /// and the caller must log it through slog. `fields` were captured as
    /// they were recorded; the rest is written straight into the channel.
    pub(crate) fn log<F>(
        &self,
        event: PredictionEvent,
        time: EventTime,
        pairs: &PredictionPairs<'_, F>,
        fields: &[u8],
    ) -> bool {
        match Capture::new(event, time.to_nanos(), pairs, fields, self.limit) {
            Some(capture) => {
                self.queue.push_captured(&self.template, &capture);
                true
            }
            None => false,
        }
    }
}
