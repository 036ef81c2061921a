//! The attribute's options: `flavor`, `worker_threads`, `start_paused` and
//! `crate`, parsed into a [`Config`], every problem reported through
//! [`Errors`] with a suggestion for a likely typo.

use super::{Errors, Kind};
use proc_macro2::{Ident, Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Lit, LitInt, LitStr, Path, Token};

/// The runtime flavor to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Flavor {
    const ALL: [Flavor; 2] = [Flavor::CurrentThread, Flavor::MultiThread];

    fn name(self) -> &'static str {
        match self {
            Flavor::CurrentThread => "current_thread",
            Flavor::MultiThread => "multi_thread",
        }
    }
}

const OPTION_FLAVOR: &str = "flavor";
const OPTION_WORKER_THREADS: &str = "worker_threads";
const OPTION_CRATE: &str = "crate";
const OPTION_START_PAUSED: &str = "start_paused";
pub(super) const OPTIONS: [&str; 4] = [
    OPTION_FLAVOR,
    OPTION_WORKER_THREADS,
    OPTION_START_PAUSED,
    OPTION_CRATE,
];

/// The resolved configuration of one macro invocation.
pub(super) struct Config {
    pub(super) flavor: Flavor,
    /// Already normalised to a `usize`-suffixed literal carrying the user's span.
    pub(super) worker_threads: Option<LitInt>,
    /// `start_paused = true` (needs vigil's `test-util` feature).
    pub(super) start_paused: bool,
    pub(super) crate_path: Path,
}

/// One `name = value` option. The name may be a keyword (`crate`).
struct RawOption {
    name: Ident,
    value: Expr,
}

impl Parse for RawOption {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = input.call(Ident::parse_any)?;
        let key = name.to_string();
        if !OPTIONS.contains(&key.as_str()) {
            // Reported here (rather than after parsing) only when the option is
            // also malformed; see `parse_config` for the usual case.
            if !input.peek(Token![=]) {
                return Err(unknown_option(&name));
            }
        } else if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                name.span(),
                format!("the `{key}` option needs a value: `{key} = ...`"),
            ));
        }
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        Ok(RawOption { name, value })
    }
}

fn unknown_option(name: &Ident) -> syn::Error {
    let key = name.to_string();
    let mut message = format!(
        "unknown option `{key}`; the valid options are `{OPTION_FLAVOR}`, \
         `{OPTION_WORKER_THREADS}`, `{OPTION_START_PAUSED}` and `{OPTION_CRATE}`"
    );
    if let Some(suggestion) = closest(&key, OPTIONS) {
        message.push_str(&format!(" (did you mean `{suggestion}`?)"));
    }
    syn::Error::new(name.span(), message)
}

pub(super) fn parse_config(kind: Kind, args: TokenStream, errors: &mut Errors) -> Config {
    let mut flavor = None;
    let mut flavor_failed = false;
    let mut worker_threads: Option<(Ident, LitInt)> = None;
    let mut start_paused: Option<(Ident, bool)> = None;
    let mut crate_path = None;

    match Punctuated::<RawOption, Token![,]>::parse_terminated.parse2(args) {
        Err(error) => errors.push(error),
        Ok(options) => {
            let mut seen: Vec<String> = Vec::new();
            for option in options {
                let key = option.name.to_string();
                if !OPTIONS.contains(&key.as_str()) {
                    errors.push(unknown_option(&option.name));
                    continue;
                }
                if seen.contains(&key) {
                    errors.push(syn::Error::new(
                        option.name.span(),
                        format!("duplicate option `{key}`: each option may be given only once"),
                    ));
                    continue;
                }
                seen.push(key.clone());
                let result = match key.as_str() {
                    OPTION_FLAVOR => parse_flavor(&option.value).map(|value| {
                        flavor = Some(value);
                    }),
                    OPTION_WORKER_THREADS => parse_worker_threads(&option.value).map(|value| {
                        worker_threads = Some((option.name.clone(), value));
                    }),
                    OPTION_START_PAUSED => parse_start_paused(&option.value).map(|value| {
                        start_paused = Some((option.name.clone(), value));
                    }),
                    _ => parse_crate_path(&option.value).map(|value| {
                        crate_path = Some(value);
                    }),
                };
                if let Err(error) = result {
                    flavor_failed |= key == OPTION_FLAVOR;
                    errors.push(error);
                }
            }
        }
    }

    let explicit_flavor = flavor.is_some();
    let flavor = flavor.unwrap_or_else(|| kind.default_flavor());
    if flavor == Flavor::CurrentThread && !flavor_failed {
        if let Some((name, _)) = &worker_threads {
            let message = if explicit_flavor {
                "the `worker_threads` option cannot be used with the `current_thread` \
                 flavor, which runs everything on the calling thread; use \
                 `flavor = \"multi_thread\"` or remove `worker_threads`"
                    .to_owned()
            } else {
                format!(
                    "the `worker_threads` option requires the `multi_thread` flavor, but \
                     `{}` defaults to `current_thread`; add `flavor = \"multi_thread\"`",
                    kind.attr()
                )
            };
            errors.push(syn::Error::new(name.span(), message));
            worker_threads = None;
        }
    }
    if flavor == Flavor::CurrentThread {
        worker_threads = None;
    }
    if let Some((name, true)) = &start_paused {
        if flavor == Flavor::MultiThread && !flavor_failed {
            errors.push(syn::Error::new(
                name.span(),
                "the `start_paused` option needs the `current_thread` flavor: a paused \
                 clock is only available on a current-thread runtime",
            ));
        }
    }

    Config {
        flavor,
        worker_threads: worker_threads.map(|(_, value)| value),
        start_paused: start_paused.is_some_and(|(_, value)| value),
        crate_path: crate_path.unwrap_or_else(default_crate_path),
    }
}

fn default_crate_path() -> Path {
    let mut path = Path::from(Ident::new("vigil", Span::call_site()));
    path.leading_colon = Some(Default::default());
    path
}

/// Looks through invisible groups (from `macro_rules!` fragments) and parens.
fn strip(mut expr: &Expr) -> &Expr {
    loop {
        match expr {
            Expr::Group(group) => expr = &group.expr,
            Expr::Paren(paren) => expr = &paren.expr,
            _ => return expr,
        }
    }
}

fn string_literal(expr: &Expr) -> Option<&LitStr> {
    match strip(expr) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit),
        _ => None,
    }
}

fn parse_flavor(value: &Expr) -> syn::Result<Flavor> {
    let Some(lit) = string_literal(value) else {
        return Err(syn::Error::new_spanned(
            value,
            "the `flavor` option expects a string literal: \
             `\"current_thread\"` or `\"multi_thread\"`",
        ));
    };
    let text = lit.value();
    if let Some(flavor) = Flavor::ALL.into_iter().find(|f| f.name() == text) {
        return Ok(flavor);
    }
    let mut message = format!(
        "unknown runtime flavor `{text}`; expected `\"current_thread\"` or `\"multi_thread\"`"
    );
    if let Some(suggestion) = closest(&text, Flavor::ALL.map(Flavor::name)) {
        message.push_str(&format!(" (did you mean `\"{suggestion}\"`?)"));
    }
    Err(syn::Error::new(lit.span(), message))
}

fn parse_worker_threads(value: &Expr) -> syn::Result<LitInt> {
    let lit = match strip(value) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(lit), ..
        }) => lit,
        _ => {
            return Err(syn::Error::new_spanned(
                value,
                "the `worker_threads` option expects an integer literal greater than zero, \
                 e.g. `worker_threads = 4`",
            ))
        }
    };
    if !matches!(lit.suffix(), "" | "usize") {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "the `worker_threads` option is a `usize`, not `{}`",
                lit.suffix()
            ),
        ));
    }
    match lit.base10_parse::<usize>() {
        Ok(0) => Err(syn::Error::new(
            lit.span(),
            "the `worker_threads` option must be greater than zero",
        )),
        Ok(n) => Ok(LitInt::new(&format!("{n}usize"), lit.span())),
        Err(error) => Err(syn::Error::new(
            lit.span(),
            format!("invalid `worker_threads` value: {error}"),
        )),
    }
}

fn parse_start_paused(value: &Expr) -> syn::Result<bool> {
    match strip(value) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Bool(lit),
            ..
        }) => Ok(lit.value),
        _ => Err(syn::Error::new_spanned(
            value,
            "the `start_paused` option expects `true` or `false`",
        )),
    }
}

fn parse_crate_path(value: &Expr) -> syn::Result<Path> {
    if let Some(lit) = string_literal(value) {
        return lit.parse::<Path>().map_err(|_| {
            syn::Error::new(
                lit.span(),
                format!(
                    "the `crate` option expects a path such as `\"::vigil\"`, found `{:?}`",
                    lit.value()
                ),
            )
        });
    }
    match strip(value) {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => Ok(path.path.clone()),
        _ => Err(syn::Error::new_spanned(
            value,
            "the `crate` option expects a path in a string literal, e.g. `crate = \"::vigil\"`",
        )),
    }
}

/// The candidate closest to `input`, if it is close enough to be a likely typo.
pub(super) fn closest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let input = input.to_lowercase().replace('-', "_");
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(&input, candidate), candidate))
        .filter(|&(distance, _)| distance <= 2)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance between two strings, by `char`.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            let insert = current[j] + 1;
            let delete = previous[j + 1] + 1;
            current.push(substitute.min(insert).min(delete));
        }
        previous = current;
    }
    previous[b.len()]
}
