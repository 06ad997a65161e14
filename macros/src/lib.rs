//! The `#[logged_model]` attribute of [logged-model](https://docs.rs/logged-model).
//!
//! Depend on the `logged-model` crate, which re-exports the attribute; this
//! crate only turns the attribute into code that calls the runtime.
//!
//! The work happens in steps, each in its own module: `args` reads the
//! attribute's syntax, `item` takes a typed view of the annotated `impl`
//! block, `validate` applies the semantic rules, and `expand` writes the
//! generated code. Every mistake found on the way is collected in
//! `errors::Errors` so that a user sees all of them in one build.

mod args;
mod errors;
mod expand;
mod item;
mod keys;
mod validate;

use proc_macro::TokenStream;

/// Generates the logging decorator's view of a model implementation.
///
/// See the `logged-model` crate for the full reference and examples.
#[proc_macro_attribute]
pub fn logged_model(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::logged_model(attr.into(), item.into()).into()
}

/// Expands to the key constants of `logged_model::keys` and their list,
/// so that the runtime's names and the attribute's checks share one table.
#[doc(hidden)]
#[proc_macro]
pub fn __define_keys(_input: TokenStream) -> TokenStream {
    keys::define().into()
}
