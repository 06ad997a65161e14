//! The contract with the code `#[logged_model]` generates: the
//! [`LoggedModel`] trait it implements, and what its implementation calls
//! (re-exported in the crate's versioned private module).

use crate::fields::FieldRecorder;

/// What `#[logged_model]` knows about a model: its name and version, the
/// fields to log and where the annotated impl is. [`Logged`](crate::Logged)
/// needs it. Implemented by the attribute; do not implement it by hand.
pub trait LoggedModel {
    /// The model's input type.
    type Input;
    /// The model's output type.
    type Output;

    /// The model's qualified name (delegates to the model trait).
    fn model_qualified_name(model: &Self) -> &str;

    /// The model's version (delegates to the model trait).
    fn model_version(model: &Self) -> &str;

    /// The field lists and the annotated impl's location.
    #[doc(hidden)]
    fn log_spec() -> &'static LogSpec;

    /// Records the configured input fields of `input`.
    #[doc(hidden)]
    fn record_input<'a>(input: &'a Self::Input, fields: &mut FieldRecorder<'a>);

    /// Records the configured output fields of `output`.
    #[doc(hidden)]
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

/// What a listed field must be: implemented for every `serde::Serialize`
/// type, and for nothing else. `#[logged_model]` records each listed field
/// through it, so that a field of another type is a compile error at the
/// field's name that says what is missing.
///
/// ```
/// fn assert_loggable<T: logged_model::Loggable>() {}
/// assert_loggable::<Option<Vec<f64>>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be logged as a field: it does not implement `serde::Serialize`",
    label = "listed as a logged field, but not `serde::Serialize`",
    note = "derive or implement `serde::Serialize` for `{Self}`, or list one of its fields that is"
)]
pub trait Loggable {
    /// Records `self` under `key`.
    #[doc(hidden)]
    fn record_into<'a>(&'a self, key: &'static str, fields: &mut FieldRecorder<'a>);
}

#[diagnostic::do_not_recommend]
impl<T: serde::Serialize> Loggable for T {
    fn record_into<'a>(&'a self, key: &'static str, fields: &mut FieldRecorder<'a>) {
        fields.record(key, self);
    }
}
