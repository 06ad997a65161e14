//! Writes the generated code: the user's impl block, untouched, followed by
//! an implementation of `logged_model::LoggedModel` that reads the chosen
//! fields. The real logic lives in the runtime; this code only calls it,
//! through the runtime's versioned private module.

use crate::args::{self, FieldMode, FieldPath};
use crate::errors::Errors;
use crate::item::{self, ModelImpl};
use crate::validate::{self, ValidFields};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::Item;
use syn::spanned::Spanned;

/// The runtime's module for generated code, named after this crate's
/// version: a macro crate of one version never links to a runtime of another.
const PRIVATE_MODULE: &str = concat!(
    "__private_v",
    env!("CARGO_PKG_VERSION_MAJOR"),
    "_",
    env!("CARGO_PKG_VERSION_MINOR"),
    "_",
    env!("CARGO_PKG_VERSION_PATCH")
);

/// Parses, validates and expands one `#[logged_model(...)]` use.
pub fn logged_model(attr: TokenStream, item_tokens: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = args::parse(attr, &mut errors);
    let item: Item = match syn::parse2(item_tokens.clone()) {
        Ok(item) => item,
        // rustc reports the item's own syntax errors when it reads it back.
        Err(_) => {
            let reported = errors.to_compile_errors();
            return quote!(#item_tokens #reported);
        }
    };
    let fields = validate::fields(&args, &mut errors);
    let generated = item::model_impl(&item, &mut errors)
        .map(|model| logged_model_impl(&model, &args, &fields))
        .unwrap_or_default();
    // The item and the code for the fields that passed are still emitted, so
    // one mistake does not cascade into errors about a missing impl.
    let reported = errors.to_compile_errors();
    quote! {
        #item
        #generated
        #reported
    }
}

/// Paths into the runtime: `::logged_model` unless `crate = ...` says otherwise.
struct Runtime {
    krate: TokenStream,
    private: TokenStream,
}

impl Runtime {
    fn of(args: &args::Args) -> Self {
        let krate = match args.krate.get() {
            Some(path) => quote!(#path),
            None => quote!(::logged_model),
        };
        let module = Ident::new(PRIVATE_MODULE, Span::call_site());
        let private = quote!(#krate::#module);
        Runtime { krate, private }
    }
}

fn logged_model_impl(
    model: &ModelImpl<'_>,
    args: &args::Args,
    fields: &ValidFields<'_>,
) -> TokenStream {
    let runtime = Runtime::of(args);
    let Runtime { krate, private } = &runtime;
    let item = model.item;
    let trait_path = model.trait_path;
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let logger_name = match args.name.get() {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    let input_keys = fields.input.iter().map(|field| &field.key);
    let output_keys = fields.output.iter().map(|field| &field.key);
    let outcome_keys = fields.outcome.iter().map(|field| &field.key);
    let profile_keys = fields.profile.iter().map(|field| &field.key);
    let hashed_keys = fields
        .input
        .iter()
        .chain(&fields.output)
        .chain(&fields.outcome)
        .filter(|field| field.mode == FieldMode::Hash)
        .map(|field| &field.key);
    let sample_rate = match fields.sample_rate {
        Some(rate) => quote!(::core::option::Option::Some(#rate)),
        None => quote!(::core::option::Option::None),
    };
    let input = Ident::new("__logged_model_input", Span::call_site());
    let output = Ident::new("__logged_model_output", Span::call_site());
    let outcome_types = fields
        .outcome
        .iter()
        .map(|field| field_type(&runtime, field, quote!(Self::Outcome)));
    let recorder = Ident::new("__logged_model_fields", Span::call_site());
    let outcome = Ident::new("__logged_model_outcome", Span::call_site());
    let outcome_type = match args.outcome.get() {
        Some((_, outcome_type)) => quote!(#outcome_type),
        None => quote!(()),
    };
    let record_outcomes = fields
        .outcome
        .iter()
        .map(|field| record_field(&runtime, field, &outcome, &recorder));
    let record_inputs = fields
        .input
        .iter()
        .map(|field| record_field(&runtime, field, &input, &recorder));
    let record_outputs = fields
        .output
        .iter()
        .map(|field| record_field(&runtime, field, &output, &recorder));
    let record_profile_inputs = fields
        .profile
        .iter()
        .map(|field| record_field(&runtime, field, &input, &recorder));
    let input_types = fields
        .input
        .iter()
        .map(|field| field_type(&runtime, field, quote!(Self::Input)));
    let output_types = fields
        .output
        .iter()
        .map(|field| field_type(&runtime, field, quote!(Self::Output)));
    let location = quote_spanned! {item.impl_token.span()=>
        #private::RecordLocation {
            file: ::core::file!(),
            line: ::core::line!(),
            column: ::core::column!(),
            function: "predict",
            module: ::core::module_path!(),
        }
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::LoggedModel for #self_ty #where_clause {
            type Input = <Self as #trait_path>::Input;
            type Output = <Self as #trait_path>::Output;
            type Outcome = #outcome_type;

            fn model_qualified_name(model: &Self) -> &str {
                <Self as #trait_path>::qualified_name(model)
            }

            fn model_version(model: &Self) -> &str {
                <Self as #trait_path>::version(model)
            }

            fn log_spec() -> &'static #private::LogSpec {
                static SPEC: #private::LogSpec = #private::LogSpec {
                    logger_name: #logger_name,
                    input_keys: &[#(#input_keys),*],
                    output_keys: &[#(#output_keys),*],
                    outcome_keys: &[#(#outcome_keys),*],
                    profile_keys: &[#(#profile_keys),*],
                    hashed_keys: &[#(#hashed_keys),*],
                    sample_rate: #sample_rate,
                    location: #location,
                };
                &SPEC
            }

            fn record_input<'__logged_model>(
                #input: &'__logged_model Self::Input,
                #recorder: &mut #private::FieldRecorder<'__logged_model>,
            ) {
                #(#record_inputs)*
            }

            fn record_output<'__logged_model>(
                #output: &'__logged_model Self::Output,
                #recorder: &mut #private::FieldRecorder<'__logged_model>,
            ) {
                #(#record_outputs)*
            }

            fn record_profile_input<'__logged_model>(
                #input: &'__logged_model Self::Input,
                #recorder: &mut #private::FieldRecorder<'__logged_model>,
            ) {
                #(#record_profile_inputs)*
            }

            fn record_outcome<'__logged_model>(
                #outcome: &'__logged_model Self::Outcome,
                #recorder: &mut #private::FieldRecorder<'__logged_model>,
            ) {
                #(#record_outcomes)*
            }

            fn field_types() -> ::std::vec::Vec<(&'static str, ::core::option::Option<&'static str>)> {
                #[allow(unused_imports)]
                use #private::{DynamicEsType as _, KnownEsType as _};
                ::std::vec![#(#input_types,)* #(#output_types,)* #(#outcome_types,)*]
            }
        }
    }
}

/// One field access, spanned at the name the user wrote so that rustc's own
/// "no field" and "not `Serialize`" errors point at it. Every token of the
/// call carries that span, or rustc would underline the whole attribute.
fn record_field(
    runtime: &Runtime,
    field: &FieldPath,
    value: &Ident,
    recorder: &Ident,
) -> TokenStream {
    let span = field.written.span();
    let krate = respanned(runtime.krate.clone(), span);
    let key = proc_macro2::Literal::string(&field.key);
    let key = respanned(quote!(#key), span);
    let segments = &field.segments;
    // Located at the user's field for error messages, but resolved where
    // the generated parameters are, so that an attribute written inside a
    // `macro_rules!` expansion still names them (hygiene).
    let local = Span::call_site().located_at(span);
    let value = Ident::new(&value.to_string(), local);
    let recorder = Ident::new(&recorder.to_string(), local);
    let private = respanned(runtime.private.clone(), span);
    let access = quote_spanned!(span=> &(*#value) #(.#segments)*);
    match field.mode {
        FieldMode::Plain => quote_spanned! {span=>
            {
                #[allow(unused_imports)]
                use #private::{PlainProbe as _, SensitiveProbe as _};
                #private::LoggableInTheClear::assert_clear((&#private::probe(#access)).kind());
            }
            #krate::Loggable::record_into(#access, #key, #recorder);
        },
        FieldMode::Redact => quote_spanned! {span=>
            #private::FieldRecorder::record_redacted(#recorder, #key, #access);
        },
        FieldMode::Hash => quote_spanned! {span=>
            #krate::Loggable::record_hashed_into(#access, #key, #recorder);
        },
    }
}

/// `(key, Some("type"))` for one field: the type given in the attribute,
/// `keyword` for a redacted or hashed field, or the type of the field's Rust
/// type, found by the probe (`None` for a type with no `EsType`).
fn field_type(runtime: &Runtime, field: &FieldPath, owner: TokenStream) -> TokenStream {
    let key = &field.key;
    if let Some(es_type) = &field.es_type {
        return quote!((#key, ::core::option::Option::Some(#es_type)));
    }
    if field.mode != FieldMode::Plain {
        return quote!((#key, ::core::option::Option::Some("keyword")));
    }
    let private = &runtime.private;
    let segments = &field.segments;
    // Spanned at the field, like its recording; an unknown field's error is
    // reported there once.
    let span = field.written.span();
    let value = Ident::new("__logged_model_value", Span::call_site().located_at(span));
    let private = respanned(private.clone(), span);
    quote_spanned! {span=>
        (#key, (&#private::TypeProbe::of(|#value: &#owner| &(*#value) #(.#segments)*)).es_type())
    }
}

/// `tokens` with every span set to `span`, so that an error about the call
/// they are part of points at the user's field, not at the whole attribute.
fn respanned(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respanned(group.stream(), span));
                inner.set_span(span);
                token = proc_macro2::TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}
