//! Reads the attribute's arguments into a typed representation, once.
//!
//! The input is split at top-level commas and every argument is read on its
//! own, so one malformed argument does not hide the mistakes in the others.
//! Each argument's name is matched to an [`ArgumentName`] in one place and
//! stored in its [`Slot`], which reports "given twice" for all of them. Only
//! syntax is checked here; the rules about names live in `validate`.

use crate::errors::Errors;
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Ident, LitStr};

/// The arguments every user may write, in the order the docs list them:
/// "`input_fields = [...]`, ... and `crate = path`".
pub fn valid_arguments() -> String {
    let forms: Vec<String> = ArgumentName::ALL
        .iter()
        .map(|name| format!("`{}`", name.form()))
        .collect();
    match forms.split_last() {
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The names an argument can have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ArgumentName {
    InputFields,
    OutputFields,
    Outcome,
    OutcomeFields,
    ProfileFields,
    Name,
    SampleRate,
    Crate,
}

impl ArgumentName {
    const ALL: [ArgumentName; 8] = [
        ArgumentName::InputFields,
        ArgumentName::OutputFields,
        ArgumentName::Outcome,
        ArgumentName::OutcomeFields,
        ArgumentName::ProfileFields,
        ArgumentName::Name,
        ArgumentName::SampleRate,
        ArgumentName::Crate,
    ];

    fn keyword(self) -> &'static str {
        match self {
            ArgumentName::InputFields => "input_fields",
            ArgumentName::OutputFields => "output_fields",
            ArgumentName::Outcome => "outcome",
            ArgumentName::OutcomeFields => "outcome_fields",
            ArgumentName::ProfileFields => "profile_fields",
            ArgumentName::Name => "name",
            ArgumentName::SampleRate => "sample_rate",
            ArgumentName::Crate => "crate",
        }
    }

    fn of(ident: &Ident) -> Option<Self> {
        let written = ident.unraw().to_string();
        Self::ALL.into_iter().find(|name| name.keyword() == written)
    }

    /// Its short form, for the list of valid arguments.
    fn form(self) -> &'static str {
        match self {
            ArgumentName::InputFields => "input_fields = [...]",
            ArgumentName::OutputFields => "output_fields = [...]",
            ArgumentName::Outcome => "outcome = Type",
            ArgumentName::OutcomeFields => "outcome_fields = [...]",
            ArgumentName::ProfileFields => "profile_fields = [...]",
            ArgumentName::Name => "name = \"...\"",
            ArgumentName::SampleRate => "sample_rate = 0.1",
            ArgumentName::Crate => "crate = path",
        }
    }

    /// A correct use, for error messages.
    fn example(self) -> &'static str {
        match self {
            ArgumentName::InputFields => "input_fields = [duration_in_month, credit_amount]",
            ArgumentName::OutputFields => "output_fields = [credit_risk]",
            ArgumentName::Outcome => "outcome = CreditOutcome",
            ArgumentName::OutcomeFields => "outcome_fields = [creditability]",
            ArgumentName::ProfileFields => "profile_fields = [age_in_years, purpose]",
            ArgumentName::Name => "name = \"credit_risk_logger\"",
            ArgumentName::SampleRate => "sample_rate = 0.1",
            ArgumentName::Crate => "crate = my_renamed_logged_model",
        }
    }
}

/// One argument's value: set at most once.
pub struct Slot<T>(Option<T>);

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot(None)
    }
}

impl<T> Slot<T> {
    /// Whether the argument was given already; reported at `name` if so.
    fn is_taken(&self, name: &Ident, errors: &mut Errors) -> bool {
        if self.0.is_some() {
            errors.spanned(
                name,
                format!("`{}` is given twice; write it once", name.unraw()),
            );
        }
        self.0.is_some()
    }

    fn set(&mut self, value: T) {
        self.0 = Some(value);
    }

    pub fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

/// The attribute's arguments as written.
#[derive(Default)]
pub struct Args {
    pub input_fields: Slot<FieldList>,
    pub output_fields: Slot<FieldList>,
    /// The outcome type, `outcome = CreditOutcome`.
    pub outcome: Slot<(Ident, syn::Type)>,
    pub outcome_fields: Slot<FieldList>,
    /// Input fields profiled but not logged.
    pub profile_fields: Slot<FieldList>,
    pub name: Slot<LitStr>,
    /// The share of predictions logged, as written (checked in `validate`).
    pub sample_rate: Slot<syn::Lit>,
    /// The path of the runtime crate, for users who renamed the dependency.
    pub krate: Slot<syn::Path>,
}

/// `input_fields = [...]` or `output_fields = [...]`.
pub struct FieldList {
    /// The argument's name, as written, for error messages.
    pub argument: Ident,
    pub fields: Vec<FieldPath>,
}

/// One entry of a field list: `amount`, `applicant.income` or `"amount"`.
pub struct FieldPath {
    /// The key the value is logged under: the path joined with dots.
    pub key: String,
    /// The accessors, each carrying the span of the token the user wrote.
    pub segments: Vec<Segment>,
    /// The tokens the user wrote for the path, for errors about the whole entry.
    pub written: TokenStream,
    /// How the value is logged.
    pub mode: FieldMode,
    /// The Elasticsearch type the author gave, `field(type = "keyword")`.
    pub es_type: Option<LitStr>,
}

/// How a field's value is logged: `field`, `field(redact)`, `field(hash)`.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldMode {
    /// As it is.
    #[default]
    Plain,
    /// As the redaction marker.
    Redact,
    /// As its keyed hash.
    Hash,
}

impl FieldMode {
    /// The modes a user may write, for error messages.
    pub const VALID: &'static str = "`redact` (a fixed marker) and `hash` (a keyed hash)";

    fn of(ident: &Ident) -> Option<Self> {
        match ident.unraw().to_string().as_str() {
            "redact" => Some(FieldMode::Redact),
            "hash" => Some(FieldMode::Hash),
            _ => None,
        }
    }
}

/// One step of a field path.
pub enum Segment {
    Named(Ident),
    Index(syn::Index),
}

impl ToTokens for Segment {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Segment::Named(ident) => ident.to_tokens(tokens),
            Segment::Index(index) => index.to_tokens(tokens),
        }
    }
}

/// Reads `attr` into [`Args`], recording every syntax error in `errors`.
pub fn parse(attr: TokenStream, errors: &mut Errors) -> Args {
    let mut args = Args::default();
    for argument in split_at_commas(attr, errors) {
        parse_argument(&argument, &mut args, errors);
    }
    args
}

fn parse_argument(tokens: &[TokenTree], args: &mut Args, errors: &mut Errors) {
    let Some(TokenTree::Ident(ident)) = tokens.first() else {
        errors.spanned(
            tokens_of(tokens),
            format!(
                "expected an argument name; valid arguments are {}",
                valid_arguments()
            ),
        );
        return;
    };
    let Some(name) = ArgumentName::of(ident) else {
        errors.spanned(
            ident,
            format!(
                "unknown argument `{}`; valid arguments are {}",
                ident.unraw(),
                valid_arguments()
            ),
        );
        return;
    };
    let example = name.example();
    let value = match tokens.get(1) {
        Some(TokenTree::Punct(eq)) if eq.as_char() == '=' => &tokens[2..],
        _ => {
            errors.spanned(
                ident,
                format!("expected `=` after `{}`, as in `{example}`", name.keyword()),
            );
            return;
        }
    };
    if value.is_empty() {
        errors.spanned(
            &tokens[1],
            format!("expected a value after `=`, as in `{example}`"),
        );
        return;
    }
    match name {
        ArgumentName::InputFields
        | ArgumentName::OutputFields
        | ArgumentName::OutcomeFields
        | ArgumentName::ProfileFields => {
            let slot = match name {
                ArgumentName::InputFields => &mut args.input_fields,
                ArgumentName::OutputFields => &mut args.output_fields,
                ArgumentName::ProfileFields => &mut args.profile_fields,
                _ => &mut args.outcome_fields,
            };
            if !slot.is_taken(ident, errors) {
                if let Some(list) = parse_field_list(ident, value, example, errors) {
                    slot.set(list);
                }
            }
        }
        ArgumentName::Name => {
            if !args.name.is_taken(ident, errors) {
                match syn::parse2::<LitStr>(tokens_of(value)) {
                    Ok(literal) => args.name.set(literal),
                    Err(_) => errors.spanned(
                        tokens_of(value),
                        format!("expected a string literal, as in `{example}`"),
                    ),
                }
            }
        }
        ArgumentName::Outcome => {
            if !args.outcome.is_taken(ident, errors) {
                match syn::parse2::<syn::Type>(tokens_of(value)) {
                    Ok(outcome) => args.outcome.set((ident.clone(), outcome)),
                    Err(_) => errors.spanned(
                        tokens_of(value),
                        format!("expected the outcome's type, as in `{example}`"),
                    ),
                }
            }
        }
        ArgumentName::SampleRate => {
            if !args.sample_rate.is_taken(ident, errors) {
                match syn::parse2::<syn::Lit>(tokens_of(value)) {
                    Ok(literal @ (syn::Lit::Float(_) | syn::Lit::Int(_))) => {
                        args.sample_rate.set(literal)
                    }
                    _ => errors.spanned(
                        tokens_of(value),
                        format!("expected a number from 0 to 1, as in `{example}`"),
                    ),
                }
            }
        }
        ArgumentName::Crate => {
            if !args.krate.is_taken(ident, errors) {
                match syn::parse2::<syn::Path>(tokens_of(value)) {
                    Ok(path) => args.krate.set(path),
                    Err(_) => errors.spanned(
                        tokens_of(value),
                        format!("expected the path of the logged-model crate, as in `{example}`"),
                    ),
                }
            }
        }
    }
}

fn parse_field_list(
    argument: &Ident,
    value: &[TokenTree],
    example: &str,
    errors: &mut Errors,
) -> Option<FieldList> {
    let group = match value {
        [TokenTree::Group(group)] if group.delimiter() == Delimiter::Bracket => group,
        _ => {
            errors.spanned(
                tokens_of(value),
                format!("expected a list of field names in square brackets, as in `{example}`"),
            );
            return None;
        }
    };
    let fields = split_at_commas(group.stream(), errors)
        .iter()
        .filter_map(|entry| parse_field_path(entry, errors))
        .collect();
    Some(FieldList {
        argument: argument.clone(),
        fields,
    })
}

/// A field entry: a path, then optional settings in parentheses.
fn parse_field_path(tokens: &[TokenTree], errors: &mut Errors) -> Option<FieldPath> {
    let (tokens, options) = match tokens.split_last() {
        Some((TokenTree::Group(group), path)) if group.delimiter() == Delimiter::Parenthesis => {
            (path, parse_options(group, errors)?)
        }
        _ => (tokens, FieldOptions::default()),
    };
    let mut path = parse_path(tokens, errors)?;
    path.mode = options.mode;
    path.es_type = options.es_type;
    Some(path)
}

/// What the parentheses after a field say.
#[derive(Default)]
struct FieldOptions {
    mode: FieldMode,
    es_type: Option<LitStr>,
}

/// `(redact)`, `(hash)`, `(type = "keyword")`, or a mode and a type.
fn parse_options(group: &proc_macro2::Group, errors: &mut Errors) -> Option<FieldOptions> {
    let mut options = FieldOptions::default();
    let mut mode_given = false;
    let parts = split_at_commas(group.stream(), errors);
    if parts.is_empty() {
        errors.spanned(group, format!("expected a mode in the parentheses, as in `applicant_id(hash)`; valid modes are {}", FieldMode::VALID));
        return None;
    }
    let mut valid = true;
    for part in &parts {
        match part.as_slice() {
            [TokenTree::Ident(ident)] if ident == "type" => {
                errors.spanned(
                    ident,
                    "expected `type = \"...\"`, as in `credit_risk(type = \"keyword\")`",
                );
                valid = false;
            }
            [TokenTree::Ident(ident), TokenTree::Punct(eq), value @ ..]
                if ident == "type" && eq.as_char() == '=' =>
            {
                match syn::parse2::<LitStr>(tokens_of(value)) {
                    Ok(es_type) if options.es_type.is_none() => options.es_type = Some(es_type),
                    Ok(_) => {
                        errors.spanned(ident, "`type` is given twice; write it once");
                        valid = false;
                    }
                    Err(_) => {
                        errors.spanned(
                            tokens_of(value),
                            "expected a string literal, as in `credit_risk(type = \"keyword\")`",
                        );
                        valid = false;
                    }
                }
            }
            [TokenTree::Ident(ident)] => match FieldMode::of(ident) {
                Some(_) if mode_given => {
                    errors.spanned(
                        ident,
                        format!("a field has one mode; valid modes are {}", FieldMode::VALID),
                    );
                    valid = false;
                }
                Some(mode) => {
                    options.mode = mode;
                    mode_given = true;
                }
                None => {
                    errors.spanned(
                        ident,
                        format!(
                            "unknown mode `{}`; valid modes are {}",
                            ident.unraw(),
                            FieldMode::VALID
                        ),
                    );
                    valid = false;
                }
            },
            _ => {
                errors.spanned(
                    tokens_of(part),
                    format!(
                        "expected a mode (valid modes are {}) or `type = \"...\"`",
                        FieldMode::VALID
                    ),
                );
                valid = false;
            }
        }
    }
    valid.then_some(options)
}

fn parse_path(tokens: &[TokenTree], errors: &mut Errors) -> Option<FieldPath> {
    let written = tokens_of(tokens);
    if let [TokenTree::Literal(literal)] = tokens {
        if let Ok(string) = syn::parse2::<LitStr>(literal.to_token_stream()) {
            return parse_string_path(&string, errors);
        }
    }
    let mut segments = Vec::new();
    let mut expect_segment = true;
    for token in tokens {
        match (expect_segment, token) {
            (true, TokenTree::Ident(ident)) => segments.push(Segment::Named(ident.clone())),
            (true, TokenTree::Literal(literal)) => {
                // Tuple fields. `a.0.1` arrives as `a`, `.`, `0.1`: one literal, two indexes.
                let text = literal.to_string();
                if text.is_empty() || !text.split('.').all(is_index) {
                    return field_syntax_error(token, errors);
                }
                segments.extend(
                    text.split('.')
                        .map(|index| index_segment(index, literal.span())),
                );
            }
            (false, TokenTree::Punct(dot)) if dot.as_char() == '.' => {}
            _ => return field_syntax_error(token, errors),
        }
        expect_segment = !expect_segment;
    }
    if expect_segment {
        // Empty, or ending in a dot.
        return field_syntax_error(&written, errors);
    }
    let key = segments
        .iter()
        .map(|segment| match segment {
            Segment::Named(ident) => ident.unraw().to_string(),
            Segment::Index(index) => index.index.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".");
    Some(FieldPath {
        key,
        segments,
        written,
        mode: FieldMode::Plain,
        es_type: None,
    })
}

fn parse_string_path(literal: &LitStr, errors: &mut Errors) -> Option<FieldPath> {
    let key = literal.value();
    let span = literal.span();
    let mut segments = Vec::new();
    for part in key.split('.') {
        let segment = if is_index(part) {
            index_segment(part, span)
        } else if is_identifier(part) {
            match syn::parse_str::<Ident>(part) {
                Ok(_) => Segment::Named(Ident::new(part, span)),
                Err(_) if can_be_raw(part) => Segment::Named(Ident::new_raw(part, span)),
                Err(_) => {
                    errors.spanned(
                        literal,
                        format!("`{part}` in \"{key}\" cannot name a field"),
                    );
                    return None;
                }
            }
        } else {
            errors.spanned(
                literal,
                format!(
                    "\"{key}\" is not a field path; write field names joined by dots, as in \"applicant.income\""
                ),
            );
            return None;
        };
        segments.push(segment);
    }
    Some(FieldPath {
        key,
        segments,
        written: literal.to_token_stream(),
        mode: FieldMode::Plain,
        es_type: None,
    })
}

fn field_syntax_error(tokens: impl ToTokens, errors: &mut Errors) -> Option<FieldPath> {
    errors.spanned(
        tokens,
        "expected a field name (`amount`), a dotted path (`applicant.income`) or a string literal (`\"amount\"`)",
    );
    None
}

fn index_segment(text: &str, span: Span) -> Segment {
    // `is_index` has checked the digits; an index too large for a `u32`
    // cannot name a tuple field, so it becomes one that rustc reports missing.
    let index = text.parse().unwrap_or(u32::MAX);
    Segment::Index(syn::Index { index, span })
}

fn is_index(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(first) if first == '_' || first.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
        && text != "_"
}

fn can_be_raw(text: &str) -> bool {
    !matches!(text, "self" | "Self" | "super" | "crate")
}

/// Splits a token stream at its top-level commas. Commas inside brackets
/// belong to the group and are left alone. A comma with nothing before it
/// is an error; a trailing comma is allowed.
fn split_at_commas(stream: TokenStream, errors: &mut Errors) -> Vec<Vec<TokenTree>> {
    let mut parts = Vec::new();
    let mut current = Vec::new();
    for token in stream {
        match &token {
            TokenTree::Punct(comma) if comma.as_char() == ',' => {
                if current.is_empty() {
                    errors.spanned(comma, "unexpected `,`");
                } else {
                    parts.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(token),
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

fn tokens_of(tokens: &[TokenTree]) -> TokenStream {
    tokens.iter().cloned().collect()
}
