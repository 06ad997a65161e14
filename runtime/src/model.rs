//! The contracts a model implements: [`Model`] for synchronous prediction and
//! [`AsyncModel`] for prediction that awaits (a model that enriches its input
//! from a database, say).

use std::fmt::Display;
use std::future::Future;

/// A model that predicts synchronously.
///
/// Annotate the implementation with [`#[logged_model]`](crate::logged_model)
/// and wrap the model in [`Logged`](crate::Logged) to log every prediction.
///
/// ```
/// use logged_model::Model;
///
/// struct Doubler;
///
/// impl Model for Doubler {
///     type Input = f64;
///     type Output = f64;
///     type Error = std::convert::Infallible;
///
///     fn qualified_name(&self) -> &str { "doubler" }
///     fn version(&self) -> &str { "1.0.0" }
///     fn predict(&self, input: &f64) -> Result<f64, Self::Error> { Ok(input * 2.0) }
/// }
///
/// assert_eq!(Doubler.predict(&2.0), Ok(4.0));
/// ```
pub trait Model {
    /// What the model reads.
    type Input;
    /// What the model predicts.
    type Output;
    /// Why a prediction failed; its `Display` text is logged as `error_info`.
    type Error: Display;

    /// The model's stable, machine-readable name, e.g. `"credit_risk_model"`.
    fn qualified_name(&self) -> &str;

    /// The model's version, e.g. `"0.1.0"`.
    fn version(&self) -> &str;

    /// Makes one prediction.
    fn predict(&self, input: &Self::Input) -> Result<Self::Output, Self::Error>;
}

/// A model whose prediction is asynchronous.
///
/// The same attribute and the same records as [`Model`]; the logged duration
/// covers the whole await. Implement `predict` with `async fn`:
///
/// ```
/// use logged_model::AsyncModel;
///
/// struct Lookup;
///
/// impl AsyncModel for Lookup {
///     type Input = u32;
///     type Output = String;
///     type Error = std::convert::Infallible;
///
///     fn qualified_name(&self) -> &str { "lookup" }
///     fn version(&self) -> &str { "1.0.0" }
///     async fn predict(&self, input: &u32) -> Result<String, Self::Error> {
///         Ok(format!("customer {input}"))
///     }
/// }
/// ```
pub trait AsyncModel {
    /// What the model reads.
    type Input;
    /// What the model predicts.
    type Output;
    /// Why a prediction failed; its `Display` text is logged as `error_info`.
    type Error: Display;

    /// The model's stable, machine-readable name, e.g. `"credit_risk_model"`.
    fn qualified_name(&self) -> &str;

    /// The model's version, e.g. `"0.1.0"`.
    fn version(&self) -> &str;

    /// Makes one prediction. The future must be `Send` so that a
    /// multi-threaded runtime can move it between threads.
    fn predict(
        &self,
        input: &Self::Input,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;
}
