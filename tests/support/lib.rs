//! What the integration tests, examples and benchmarks share: small models
//! of the shape of a real one, and a logger whose output a test can read.

pub mod models;

use logged_model::{CapturedOutput, DrainKind, LogGuard, LoggerBuilder};
use serde_json::{Map, Value};

/// A JSON log record.
pub type JsonRecord = Map<String, Value>;

/// A logger writing into memory, its guard, and the memory to read.
pub struct Captured {
    /// The root logger.
    pub logger: logged_model::Logger,
    /// Drop it (or call [`Captured::finish`]) before reading the output.
    pub guard: LogGuard,
    /// Where the lines go.
    pub output: CapturedOutput,
}

impl Captured {
    /// A logger built by `builder`, writing into memory.
    pub fn with(builder: LoggerBuilder) -> Self {
        let output = CapturedOutput::default();
        let (logger, guard) = builder
            .build_with_writer(output.clone())
            .expect("the test's logger configuration is valid");
        Captured {
            logger,
            guard,
            output,
        }
    }

    /// A logger with the default configuration.
    pub fn new() -> Self {
        Self::with(LoggerBuilder::new())
    }

    /// A logger with the default configuration on `drain`.
    pub fn on(drain: DrainKind) -> Self {
        Self::with(LoggerBuilder::new().drain(drain))
    }

    /// Flushes every record and returns them parsed, panicking (failing the
    /// test) on any line that is not a JSON object; but for the "Model
    /// profile." records the profiler writes at shutdown, which
    /// [`finish_all`](Self::finish_all) keeps.
    pub fn finish(self) -> Vec<JsonRecord> {
        without_profiles(self.finish_all())
    }

    /// Like [`finish`](Self::finish), with the profile records.
    pub fn finish_all(self) -> Vec<JsonRecord> {
        drop(self.logger);
        drop(self.guard);
        self.output.records().expect("every line is a JSON object")
    }
}

impl Default for Captured {
    fn default() -> Self {
        Self::new()
    }
}

/// A Python interpreter with `packages` (pinned PyPI requirements), in a
/// virtual environment made on first use under the workspace's `target/`
/// directory (`target/python/<name>`), for reading what the project emits
/// with a reader that is not its own. Needs Python 3 with `venv` and PyPI.
pub fn python_with(name: &str, packages: &[&str]) -> std::path::PathBuf {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/python")
        .join(name);
    let python = venv.join("bin/python");
    let ready = venv.join(".installed");
    // Tests of one binary run in threads: one installs, the others wait.
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _installing = INSTALLING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if ready.exists() {
        return python;
    }
    let created = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("Python 3 runs (needed to read the output with an independent reader)");
    assert!(
        created.success(),
        "python3 -m venv {} failed",
        venv.display()
    );
    let installed = std::process::Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(packages)
        .status()
        .expect("pip runs");
    assert!(installed.success(), "pip install {packages:?} failed");
    std::fs::write(&ready, packages.join("\n")).expect("a marker file");
    python
}

/// `records` but for the profile records.
pub fn without_profiles(records: Vec<JsonRecord>) -> Vec<JsonRecord> {
    records
        .into_iter()
        .filter(|record| record["message"] != logged_model::profile::PROFILE_MESSAGE)
        .collect()
}

/// The records whose `message` is `message`.
pub fn with_message<'a>(records: &'a [JsonRecord], message: &str) -> Vec<&'a JsonRecord> {
    records
        .iter()
        .filter(|record| record["message"] == message)
        .collect()
}

/// Defines the tests given once for each drain, in modules `line` and
/// `slog_async`, each with a constant `DRAIN` to build loggers with.
#[macro_export]
macro_rules! on_both_drains {
    ($($item:item)*) => {
        mod line {
            #[allow(unused_imports)]
            use super::*;
            const DRAIN: logged_model::DrainKind = logged_model::DrainKind::Line;
            $($item)*
        }
        mod slog_async {
            #[allow(unused_imports)]
            use super::*;
            const DRAIN: logged_model::DrainKind = logged_model::DrainKind::SlogAsync;
            $($item)*
        }
    };
}
