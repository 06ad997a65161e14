//! The semantic rules on field names: each is a rule with its own message,
//! reported at the token the user wrote.

use crate::args::{Args, FieldList, FieldPath};
use crate::errors::Errors;
use crate::keys::{ES_TYPES, is_reserved};
use std::collections::HashSet;

/// The field lists after validation: only entries that passed every rule.
pub struct ValidFields<'a> {
    pub input: Vec<&'a FieldPath>,
    pub output: Vec<&'a FieldPath>,
    pub outcome: Vec<&'a FieldPath>,
    /// Input fields profiled but not logged.
    pub profile: Vec<&'a FieldPath>,
    /// The `sample_rate` argument's value, when it is a number from 0 to 1.
    pub sample_rate: Option<f64>,
}

/// Applies every rule to `args`, records each violation and returns the
/// entries that passed, so that the generated code stays close to the intent.
pub fn fields<'a>(args: &'a Args, errors: &mut Errors) -> ValidFields<'a> {
    if let Some(name) = args.name.get() {
        if name.value().trim().is_empty() {
            errors.spanned(name, "the logger name must not be empty; leave `name` out to use \"<qualified_name>_logger\"");
        }
    }
    let input = list_fields(args.input_fields.get(), errors);
    let profile = profile_fields(args, &input, errors);
    ValidFields {
        input,
        output: list_fields(args.output_fields.get(), errors),
        outcome: outcome_fields(args, errors),
        profile,
        sample_rate: args
            .sample_rate
            .get()
            .and_then(|literal| sample_rate(literal, errors)),
    }
}

/// The outcome fields, which need the outcome's type.
fn outcome_fields<'a>(args: &'a Args, errors: &mut Errors) -> Vec<&'a FieldPath> {
    match (args.outcome_fields.get(), args.outcome.get()) {
        (Some(list), None) => {
            errors.spanned(
                &list.argument,
                "`outcome_fields` are fields of the outcome's type: name it too, as in `outcome = CreditOutcome, outcome_fields = [creditability]`",
            );
            Vec::new()
        }
        (list, _) => list_fields(list, errors),
    }
}

/// The fields profiled but not logged: a field logged already is profiled
/// already.
fn profile_fields<'a>(
    args: &'a Args,
    input: &[&FieldPath],
    errors: &mut Errors,
) -> Vec<&'a FieldPath> {
    list_fields(args.profile_fields.get(), errors)
        .into_iter()
        .filter(|field| {
            let logged = input.iter().any(|logged| logged.key == field.key);
            if logged {
                errors.spanned(
                    &field.written,
                    format!(
                        "`{}` is in `input_fields` already, and every logged field is profiled; leave it out of `profile_fields`",
                        field.key
                    ),
                );
            }
            !logged
        })
        .collect()
}

/// The rate, if it is a number from 0 to 1.
fn sample_rate(literal: &syn::Lit, errors: &mut Errors) -> Option<f64> {
    let value = match literal {
        syn::Lit::Float(float) => float.base10_parse::<f64>().ok(),
        syn::Lit::Int(int) => int.base10_parse::<u8>().ok().map(f64::from),
        _ => None,
    };
    match value {
        Some(rate) if (0.0..=1.0).contains(&rate) => Some(rate),
        _ => {
            errors.spanned(
                literal,
                "`sample_rate` is the share of predictions logged: a number from 0 to 1, as in `sample_rate = 0.1`",
            );
            None
        }
    }
}

fn list_fields<'a>(list: Option<&'a FieldList>, errors: &mut Errors) -> Vec<&'a FieldPath> {
    let Some(list) = list else {
        return Vec::new();
    };
    let argument = list.argument.to_string();
    let mut seen = HashSet::new();
    let mut valid = Vec::new();
    for field in &list.fields {
        if is_reserved(&field.key) {
            errors.spanned(
                &field.written,
                format!(
                    "`{}` cannot be logged as a field: logged-model writes its own `{}` key on every prediction record; leave it out of `{argument}` or log a field with another name",
                    field.key, field.key
                ),
            );
        } else if let Some(es_type) = field
            .es_type
            .as_ref()
            .filter(|es_type| !ES_TYPES.contains(&es_type.value().as_str()))
        {
            errors.spanned(
                es_type,
                format!(
                    "`{}` is not an Elasticsearch type this crate maps; use one of {}",
                    es_type.value(),
                    ES_TYPES.join(", ")
                ),
            );
        } else if !seen.insert(field.key.as_str()) {
            errors.spanned(
                &field.written,
                format!(
                    "`{}` is listed twice in `{argument}`; remove one",
                    field.key
                ),
            );
        } else {
            valid.push(field);
        }
    }
    valid
}
