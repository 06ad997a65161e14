//! The link between the attribute and the decorator: `#[logged_model]`
//! implements [`LoggedFields`] for the model, and [`Logged`](crate::Logged)
//! calls it to read the chosen fields.

use crate::fields::FieldRecorder;

/// What `#[logged_model]` knows about a model: which fields to log and where
/// the annotated impl is. Implemented by the attribute; do not implement it
/// by hand.
pub trait LoggedFields {
    /// The model's input type.
    type Input;
    /// The model's output type.
    type Output;

    /// The model's qualified name (delegates to the model trait).
    fn model_qualified_name(model: &Self) -> &str;

    /// The model's version (delegates to the model trait).
    fn model_version(model: &Self) -> &str;

    /// The field lists and the annotated impl's location.
    fn log_spec() -> &'static LogSpec;

    /// Records the configured input fields of `input`.
    fn record_input<'a>(input: &'a Self::Input, fields: &mut FieldRecorder<'a>);

    /// Records the configured output fields of `output`.
    fn record_output<'a>(output: &'a Self::Output, fields: &mut FieldRecorder<'a>);
}

/// The attribute's arguments, as the generated code hands them over.
#[doc(hidden)]
pub struct LogSpec {
    /// The `name = "..."` argument.
    pub logger_name: Option<&'static str>,
    /// The keys of `input_fields`, in order.
    pub input_keys: &'static [&'static str],
    /// The keys of `output_fields`, in order.
    pub output_keys: &'static [&'static str],
    /// Where the annotated impl is: the records' `log.origin`.
    pub location: slog::RecordLocation,
}
