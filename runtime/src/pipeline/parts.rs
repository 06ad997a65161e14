//! What every drain is built from (its configuration, checked, and what its
//! caller side and its writer share), and the [`Pipeline`] it hands back.

use crate::config::Overflow;
use crate::pipeline::link::DrainLink;
use crate::pipeline::log_output::LogOutput;
use crate::pipeline::losses::LossCounters;
use crate::pipeline::room::Patience;
use crate::record::caps::SizeCaps;
use crate::record::constant_values::ConstantValues;
use crate::record::head::ProcessFields;
use slog::{Level, OwnedKVList};
use std::sync::Arc;

/// What every drain is built from: the configuration, checked.
pub(crate) struct DrainConfig {
    pub(crate) level: Level,
    pub(crate) overflow: Overflow,
    /// In `block` mode, the longest a caller waits for room; `None`: no limit.
    pub(crate) block_timeout: Option<std::time::Duration>,
    pub(crate) channel_size: usize,
    /// The environment fields, on every record.
    pub(crate) env_fields: ConstantValues,
    /// The size caps on every line.
    pub(crate) caps: SizeCaps,
}

impl DrainConfig {
    /// How long a caller waits for room.
    pub(crate) fn patience(&self) -> Patience {
        match (self.overflow, self.block_timeout) {
            (Overflow::Drop, _) => Patience::None,
            (Overflow::Block, None) => Patience::Unlimited,
            (Overflow::Block, Some(timeout)) => Patience::Limited(timeout),
        }
    }
}

/// What both drains share between their caller side and their writer.
pub(crate) struct Shared {
    /// The host and process keys.
    pub(crate) process: Arc<ProcessFields>,
    /// What was lost, counted once.
    pub(crate) losses: Arc<LossCounters>,
    /// The environment fields, for the records the drain writes itself.
    pub(crate) root_values: OwnedKVList,
    /// The size caps on every line.
    pub(crate) caps: SizeCaps,
}

/// What a built drain hands to everything that logs through it: the
/// capture path of the line drain, and the output's handle (its room,
/// state and losses). Built once with the root logger, and passed on with
/// it, so that nothing has to be searched for.
#[derive(Clone)]
pub(crate) struct Pipeline {
    /// The line drain's capture path; `None` for the slog-async drain.
    pub(crate) link: Option<DrainLink>,
    /// The channel's room and state, and the losses.
    pub(crate) output: LogOutput,
}
