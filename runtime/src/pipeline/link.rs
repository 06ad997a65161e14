//! How a wrapped model's records reach the line drain's channel. The
//! pipeline of a line drain holds a [`DrainLink`]; when a model is wrapped
//! with the pipeline's logger, [`PredictionSink::new`] makes the model's
//! template from it, and from then on the model's records are captured and
//! queued through the [`PredictionSink`], and the writer thread formats
//! them. A model whose pipeline has no link (the slog-async drain) logs
//! through slog, as does a record the sink cannot capture.

use crate::pipeline::event_clock::EventTime;
use crate::pipeline::queue::LineQueue;
use crate::record::caps::SizeCaps;
use crate::record::capture::Capture;
use crate::record::head::ProcessFields;
use crate::record::prediction_record::{PredictionEvent, PredictionPairs};
use crate::record::template::RecordTemplate;
use slog::{Logger, RecordLocation};
use std::sync::Arc;

/// The line drain's capture path, which the pipeline hands to every model
/// wrapped with its logger.
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

/// Where a wrapped model's records go when its logger is a line drain's.
/// Dropped with its model, it retires the model's template: the buffers
/// that hold it may reuse its place.
pub(crate) struct PredictionSink {
    queue: LineQueue,
    template: Arc<RecordTemplate>,
    /// A capture longer than this is formatted by its caller, and capped.
    limit: usize,
}

impl PredictionSink {
    /// The sink of `link`'s line drain for the records a model logs
    /// through `logger` (a child of the pipeline's root logger, carrying the
    /// model's keys) at `location` with fields of `input_keys` and
    /// `output_keys`; `None` if the logger's values fail.
    pub(crate) fn new(
        link: &DrainLink,
        logger: &Logger,
        location: &'static RecordLocation,
        input_keys: &[&'static str],
        output_keys: &[&'static str],
        sample_rate: Option<f64>,
    ) -> Option<Self> {
        let template = RecordTemplate::new(
            location,
            &link.process,
            logger.list(),
            input_keys,
            output_keys,
            sample_rate,
        )?;
        Some(PredictionSink {
            queue: link.queue.clone(),
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

impl Drop for PredictionSink {
    fn drop(&mut self) {
        self.template.retire();
    }
}
