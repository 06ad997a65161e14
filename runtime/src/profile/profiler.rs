//! The profiler thread of a logger: every 100 ms it collects the values
//! the models' callers buffered and sketches them into the current window;
//! every profile interval (`LOG_PROFILE_INTERVAL`, 60 s by default), and
//! once more when the logger's guard shuts the pipeline down, it writes one
//! "Model profile." record per model: the window, the predictions made,
//! logged, sampled out and failed in it (from the model's exact counters),
//! and each field's sketches.

use super::collector::Collector;
use super::sketch::{FieldSketch, KLL_K};
use super::value;
use crate::keys;
use crate::prediction_stats::{PredictionCounters, PredictionStats};
use crate::record::timestamp;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// The message of a profile record.
pub const PROFILE_MESSAGE: &str = "Model profile.";

/// The most bytes a profile's fields take in its record: the record stays
/// under the default `LOG_RECORD_MAX_BYTES` (16,000), and under the 16 KiB
/// a container runtime keeps on one log line.
const FIELDS_BUDGET: usize = 14_000;

/// How often the callers' buffers are collected.
const COLLECT_EVERY: Duration = Duration::from_millis(100);

/// A profiled field: its key, whether it is an input or an output, and
/// whether its values are sketched or only counted (redacted, hashed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProfiledField {
    pub(crate) key: &'static str,
    pub(crate) role: &'static str,
}

/// One model's profile in the making.
struct ModelProfileState {
    collector: Arc<Collector>,
    /// Outcomes its outcome loggers wrote, ever.
    outcomes: Arc<AtomicU64>,
    fields: Vec<ProfiledField>,
    stats: Arc<PredictionCounters>,
    logger: slog::Logger,
    window: Window,
}

struct Window {
    start: SystemTime,
    started: Instant,
    stats_at_start: PredictionStats,
    outcomes_at_start: u64,
    sketches: Vec<FieldSketch>,
}

impl Window {
    fn new(stats: &PredictionCounters, outcomes: &AtomicU64, fields: usize) -> Self {
        Window {
            start: SystemTime::now(),
            started: Instant::now(),
            stats_at_start: stats.snapshot(),
            outcomes_at_start: outcomes.load(Ordering::Relaxed),
            sketches: vec![FieldSketch::default(); fields],
        }
    }
}

struct State {
    models: Vec<ModelProfileState>,
    /// Each model's count of outcomes, by qualified name: its outcome
    /// loggers count into it, made before or after the model is wrapped.
    outcomes: HashMap<String, Arc<AtomicU64>>,
    stopping: bool,
    thread: Option<JoinHandle<()>>,
}

/// A logger's profiles: the models that registered, and the thread that
/// writes their profiles (started by the first).
pub(crate) struct Profiles {
    interval: Duration,
    state: Mutex<State>,
    wake: Condvar,
}

impl Profiles {
    /// Profiles written every `interval`.
    pub(crate) fn new(interval: Duration) -> Arc<Self> {
        Arc::new(Profiles {
            interval,
            state: Mutex::new(State {
                models: Vec::new(),
                outcomes: HashMap::new(),
                stopping: false,
                thread: None,
            }),
            wake: Condvar::new(),
        })
    }

    /// The counter of the outcomes of the model named `model`.
    pub(crate) fn outcome_counter(&self, model: &str) -> Arc<AtomicU64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(state.outcomes.entry(model.to_owned()).or_default())
    }

    /// Profiles a model from now on; its records go through `logger`.
    pub(crate) fn register(
        self: &Arc<Self>,
        model: &str,
        collector: Arc<Collector>,
        fields: Vec<ProfiledField>,
        stats: Arc<PredictionCounters>,
        logger: slog::Logger,
    ) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.stopping {
            return;
        }
        let outcomes = Arc::clone(state.outcomes.entry(model.to_owned()).or_default());
        let window = Window::new(&stats, &outcomes, fields.len());
        state.models.push(ModelProfileState {
            collector,
            outcomes,
            fields,
            stats,
            logger,
            window,
        });
        if state.thread.is_none() {
            let profiles = Arc::clone(self);
            state.thread = std::thread::Builder::new()
                .name("logged-model-profiler".to_owned())
                .spawn(move || profiles.run())
                .ok();
        }
    }

    fn run(&self) {
        let mut spare = Vec::new();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let stopping = state.stopping;
            for model in &mut state.models {
                collect(model, &mut spare);
                if stopping || model.window.started.elapsed() >= self.interval {
                    write(model);
                }
            }
            if stopping {
                return;
            }
            state = self
                .wake
                .wait_timeout(state, COLLECT_EVERY)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Writes the last window of every model and stops the thread; the
    /// logger's guard calls it before it shuts the pipeline down.
    pub(crate) fn finish(&self) {
        let thread = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.stopping = true;
            state.thread.take()
        };
        self.wake.notify_all();
        if let Some(thread) = thread {
            // A panic of the profiler's own thread ends its profiles only.
            let _ = thread.join();
        }
    }
}

/// Sketches what the model's callers buffered since the last time.
fn collect(model: &mut ModelProfileState, spare: &mut Vec<u8>) {
    let sketches = &mut model.window.sketches;
    model.collector.collect(spare, |bytes| {
        for (field, value) in value::decode(bytes) {
            if let Some(sketch) = sketches.get_mut(usize::from(field)) {
                sketch.update(&value);
            }
        }
    });
}

/// Writes the model's window as a record and starts the next one. A window
/// in which nothing happened writes nothing.
fn write(model: &mut ModelProfileState) {
    let next = Window::new(&model.stats, &model.outcomes, model.fields.len());
    let window = std::mem::replace(&mut model.window, next);
    let now = model.window.stats_at_start.clone();
    let before = &window.stats_at_start;
    let made = now.made() - before.made();
    let lost = model.collector.take_lost();
    let outcomes = model.window.outcomes_at_start - window.outcomes_at_start;
    if made == 0 && lost == 0 && outcomes == 0 {
        return;
    }
    let fields = fitting_fields(&model.fields, &window.sketches);
    let profile = json!({
        "window": {
            "start": rfc3339(window.start),
            "end": rfc3339(model.window.start),
        },
        "predictions": {
            "made": made,
            "logged": now.logged() - before.logged(),
            "sampled_out": now.sampled_out - before.sampled_out,
            "failed": now.failed - before.failed,
            "unprofiled": lost,
            "outcomes": outcomes,
        },
        "fields": fields,
    });
    slog::info!(model.logger, "{}", PROFILE_MESSAGE; keys::MODEL_PROFILE => slog::Serde(profile));
}

/// The fields' sketches in at most [`FIELDS_BUDGET`] bytes of JSON: at
/// [`KLL_K`] if they fit, else with the quantile sketches remade at half
/// the `k`, and half again, down to 16 (a rank error of about 10 %); past
/// that, the fields' counts alone, each marked `"sketches": "omitted: ..."`.
fn fitting_fields(fields: &[ProfiledField], sketches: &[FieldSketch]) -> Map<String, Value> {
    let mut k = KLL_K;
    loop {
        let mut json = Map::new();
        for (field, sketch) in fields.iter().zip(sketches) {
            let sketch = if k == KLL_K {
                sketch.to_json(field.role)
            } else {
                sketch.with_kll_k(k).to_json(field.role)
            };
            json.insert(field.key.to_owned(), sketch);
        }
        let size = Value::Object(json.clone()).to_string().len();
        if size <= FIELDS_BUDGET {
            return json;
        }
        if k <= 16 {
            // Too many fields for any sketch to fit: their counts only,
            // said in the record, rather than a line the caps would cut.
            return fields
                .iter()
                .zip(sketches)
                .map(|(field, sketch)| {
                    let mut counts = sketch.counts_json(field.role);
                    counts.insert("sketches".to_owned(), json!("omitted: the record's size"));
                    (field.key.to_owned(), Value::Object(counts))
                })
                .collect();
        }
        k /= 2;
    }
}

fn rfc3339(time: SystemTime) -> String {
    String::from_utf8_lossy(&timestamp::format_rfc3339_micros(time)).into_owned()
}
