//! A typed view of the item under the attribute: an `impl Model for T` or
//! `impl AsyncModel for T` block. The view borrows the parsed item so that
//! later errors and the generated code can point at the user's own tokens.

use crate::errors::Errors;
use syn::spanned::Spanned;
use syn::{Item, ItemImpl, Path};

/// The traits the attribute accepts, by the last segment of their path.
const MODEL_TRAITS: [&str; 2] = ["Model", "AsyncModel"];

const PLACEMENT_HELP: &str = "`#[logged_model]` goes on an `impl Model for YourModel` or `impl AsyncModel for YourModel` block";

/// The annotated model implementation.
pub struct ModelImpl<'a> {
    pub item: &'a ItemImpl,
    /// The trait as the user wrote it (`Model`, `logged_model::AsyncModel`, ...).
    pub trait_path: &'a Path,
}

/// Checks that `item` is a model implementation and returns a view of it.
pub fn model_impl<'a>(item: &'a Item, errors: &mut Errors) -> Option<ModelImpl<'a>> {
    let Item::Impl(item_impl) = item else {
        errors.push(syn::Error::new(
            item_keyword_span(item),
            format!("{PLACEMENT_HELP}, not on this item"),
        ));
        return None;
    };
    let Some((negation, trait_path, _for)) = &item_impl.trait_ else {
        errors.spanned(
            &item_impl.self_ty,
            format!("{PLACEMENT_HELP}; this is an inherent impl with no trait"),
        );
        return None;
    };
    if let Some(negation) = negation {
        errors.spanned(
            negation,
            format!("{PLACEMENT_HELP}; a negative impl has nothing to log"),
        );
        return None;
    }
    let trait_name = trait_path
        .segments
        .last()
        .map(|segment| segment.ident.to_string());
    if !trait_name.is_some_and(|name| MODEL_TRAITS.contains(&name.as_str())) {
        errors.spanned(
            trait_path,
            format!("{PLACEMENT_HELP}; this implements another trait"),
        );
        return None;
    }
    Some(ModelImpl {
        item: item_impl,
        trait_path,
    })
}

/// The span of the keyword that says what kind of item this is, so that the
/// error underlines `fn` or `struct` rather than the whole body.
fn item_keyword_span(item: &Item) -> proc_macro2::Span {
    match item {
        Item::Fn(item) => item.sig.fn_token.span,
        Item::Struct(item) => item.struct_token.span,
        Item::Enum(item) => item.enum_token.span,
        Item::Trait(item) => item.trait_token.span,
        Item::Mod(item) => item.mod_token.span,
        other => other.span(),
    }
}
