//! [`RecordTemplate`]: what every prediction record of one wrapped model
//! has in common, made once when the model is wrapped: for each of the
//! three records, everything between `@timestamp` and the record's own
//! pairs (level, message, origin, host, process, then the logger's values:
//! environment fields, the model's keys, any the user added) rendered as
//! JSON; the logger's values alone, for a record that must be replaced;
//! the sample rate; and the keys of the logged fields, which a captured
//! record refers to by index.

use crate::record::head::ProcessFields;
use crate::record::json_line;
use crate::record::prediction_record::PredictionEvent;
use slog::{OwnedKVList, RecordLocation};
use std::sync::atomic::{AtomicBool, Ordering};

/// The constant part of a model's prediction records.
pub(crate) struct RecordTemplate {
    location: &'static RecordLocation,
    /// After `@timestamp`, for each event, in the order of [`Self::constant_part`].
    constant_parts: [Box<[u8]>; 3],
    values: Box<[u8]>,
    keys: Box<[&'static str]>,
    /// `,"key":` for each of `keys`, as the line drain writes it.
    keys_json: Box<[Box<[u8]>]>,
    /// Where the output fields' keys start in `keys`.
    output_keys_at: usize,
    sample_rate: Option<f64>,
    /// Its model is gone: no record of it will come any more.
    retired: AtomicBool,
}

impl RecordTemplate {
    /// The template of the records logged at `location` through a logger
    /// with `values`, whose fields have `keys`. The values are read now, for
    /// all the records: `None` if one of them fails (each record then
    /// reports the failure, formatted by its caller).
    pub(crate) fn new(
        location: &'static RecordLocation,
        process: &ProcessFields,
        values: &OwnedKVList,
        input_keys: &[&'static str],
        output_keys: &[&'static str],
        sample_rate: Option<f64>,
    ) -> Option<Self> {
        let events = [
            PredictionEvent::Requested,
            PredictionEvent::Created,
            PredictionEvent::Exception,
        ];
        let mut constant_parts = Vec::with_capacity(events.len());
        for event in events {
            let part = event.with_record(location, &(), |record| {
                json_line::render_constant_part(record, process, values)
            });
            constant_parts.push(part.ok()?.into_boxed_slice());
        }
        let values = PredictionEvent::Requested.with_record(location, &(), |record| {
            json_line::render_values(record, values)
        });
        Some(RecordTemplate {
            location,
            constant_parts: constant_parts.try_into().ok()?,
            values: values.ok()?.into_boxed_slice(),
            keys: input_keys.iter().chain(output_keys).copied().collect(),
            keys_json: input_keys
                .iter()
                .chain(output_keys)
                .map(|key| json_line::render_key(key))
                .collect(),
            output_keys_at: input_keys.len(),
            sample_rate,
            retired: AtomicBool::new(false),
        })
    }

    /// Where the records are logged from: `log.origin`.
    pub(crate) fn location(&self) -> &'static RecordLocation {
        self.location
    }

    /// What follows `@timestamp` in `event`'s lines, up to the record's own
    /// pairs.
    pub(crate) fn constant_part(&self, event: PredictionEvent) -> &[u8] {
        let index = match event {
            PredictionEvent::Requested => 0,
            PredictionEvent::Created => 1,
            PredictionEvent::Exception => 2,
        };
        &self.constant_parts[index]
    }

    /// The logger's values, as the line drain writes them.
    pub(crate) fn values(&self) -> &[u8] {
        &self.values
    }

    /// The keys of the logged fields.
    pub(crate) fn keys(&self) -> &[&'static str] {
        &self.keys
    }

    /// `,"key":` for each of [`Self::keys`].
    pub(crate) fn keys_json(&self) -> &[Box<[u8]>] {
        &self.keys_json
    }

    /// Where the keys of `event`'s fields start in [`Self::keys`]: the
    /// record of a success has the output fields, the others the input's.
    pub(crate) fn first_key(&self, event: PredictionEvent) -> usize {
        match event {
            PredictionEvent::Created => self.output_keys_at,
            PredictionEvent::Requested | PredictionEvent::Exception => 0,
        }
    }

    /// The `sample_rate` the records carry.
    /// Says that its model is gone: no record of it will come any more.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Release);
    }

    /// Whether its model is gone.
    pub(crate) fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }

    /// The sample rate its records carry.
    pub(crate) fn sample_rate(&self) -> Option<f64> {
        self.sample_rate
    }
}
