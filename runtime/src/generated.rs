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
    /// What became of a prediction (`outcome = ...`; `()` when not given).
    type Outcome;

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

    /// Records the input fields profiled but not logged.
    #[doc(hidden)]
    fn record_profile_input<'a>(input: &'a Self::Input, fields: &mut FieldRecorder<'a>);

    /// Records the configured outcome fields of `outcome`.
    #[doc(hidden)]
    fn record_outcome<'a>(outcome: &'a Self::Outcome, fields: &mut FieldRecorder<'a>);

    /// Each logged field's key and Elasticsearch type (`None`: left to
    /// dynamic mapping); see [`IndexMapping`](crate::mapping::IndexMapping).
    #[doc(hidden)]
    fn field_types() -> Vec<(&'static str, Option<&'static str>)>;
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
    /// The keys of `outcome_fields`, in order.
    pub outcome_keys: &'static [&'static str],
    /// The keys of `profile_fields`, in order.
    pub profile_keys: &'static [&'static str],
    /// The keys of the fields listed as `field(hash)`.
    pub hashed_keys: &'static [&'static str],
    /// The `sample_rate = ...` argument.
    pub sample_rate: Option<f64>,
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

    /// Records the keyed hash of `self` under `key`.
    #[doc(hidden)]
    fn record_hashed_into(&self, key: &'static str, fields: &mut FieldRecorder<'_>);
}

#[diagnostic::do_not_recommend]
impl<T: serde::Serialize> Loggable for T {
    fn record_into<'a>(&'a self, key: &'static str, fields: &mut FieldRecorder<'a>) {
        fields.record(key, self);
    }

    fn record_hashed_into(&self, key: &'static str, fields: &mut FieldRecorder<'_>) {
        fields.record_hashed(key, self);
    }
}

/// Which values are [`Sensitive`](crate::Sensitive): the generated code asks
/// of every field logged in the clear, and a sensitive one does not compile.
/// Method resolution picks [`SensitiveProbe`] for a `Sensitive<T>` or an
/// `Option<Sensitive<T>>` field, and [`PlainProbe`] (one reference further
/// away) for any other.
#[doc(hidden)]
pub struct Probe<T: ?Sized>(std::marker::PhantomData<T>);

/// The probe of a field's type.
#[doc(hidden)]
pub fn probe<T: ?Sized>(_field: &T) -> Probe<T> {
    Probe(std::marker::PhantomData)
}

/// What a probe finds: a value that may be logged in the clear.
#[doc(hidden)]
pub struct Plain;

/// What a probe finds: a sensitive value of type `T`. (It names the field's
/// type so that a field that does not exist, whose type is an error, gives
/// rustc's "no field" error alone.)
#[doc(hidden)]
pub struct SensitiveValue<T: ?Sized>(std::marker::PhantomData<T>);

#[doc(hidden)]
pub trait SensitiveProbe {
    type Field: ?Sized;
    fn kind(&self) -> SensitiveValue<Self::Field> {
        SensitiveValue(std::marker::PhantomData)
    }
}

impl<T> SensitiveProbe for Probe<crate::Sensitive<T>> {
    type Field = crate::Sensitive<T>;
}

impl<T> SensitiveProbe for Probe<Option<crate::Sensitive<T>>> {
    type Field = Option<crate::Sensitive<T>>;
}

#[doc(hidden)]
pub trait PlainProbe {
    fn kind(&self) -> Plain {
        Plain
    }
}

impl<T: ?Sized> PlainProbe for &Probe<T> {}

/// Implemented only by what a probe finds for a plain value.
#[diagnostic::on_unimplemented(
    message = "this field is `Sensitive`: it cannot be logged in the clear",
    label = "a `Sensitive` value, listed without a mode",
    note = "list it as `field(redact)` to log a fixed marker, or `field(hash)` to log a keyed hash"
)]
#[doc(hidden)]
pub trait LoggableInTheClear {
    /// Compiles only for a field that may be logged in the clear.
    fn assert_clear(self);
}

#[diagnostic::do_not_recommend]
impl LoggableInTheClear for Plain {
    fn assert_clear(self) {}
}

/// Implemented by nothing. A sensitive value needs it to be logged in the
/// clear, so it never is; but for a field that does not exist, whose type
/// rustc leaves unknown, the requirement stays undecided instead of failing,
/// and rustc's "no field" error stands alone.
#[doc(hidden)]
pub trait NeverInTheClear {}

#[diagnostic::do_not_recommend]
impl<T: NeverInTheClear + ?Sized> LoggableInTheClear for SensitiveValue<T> {
    fn assert_clear(self) {}
}
