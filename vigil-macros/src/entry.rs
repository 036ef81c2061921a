//! Implementation of `#[vigil::main]` and `#[vigil::test]`.
//!
//! Everything here works on `proc_macro2` types so it can be unit tested
//! outside of a macro invocation. The entry point is [`expand`], which never
//! panics: every problem is turned into a `compile_error!` carrying the span of
//! the offending tokens.
//!
//! Error recovery:
//!
//! * Problems with the attribute's options (unknown option, bad value,
//!   duplicates, `worker_threads` with `current_thread`, ...) are reported and
//!   the function is still expanded, using the default for each bad option.
//!   That keeps the body type-checked (and IDE support working) while the
//!   options are being typed.
//! * A second test attribute is reported and dropped; expansion goes on.
//! * A function that is not `async` is reported and emitted unchanged (plus
//!   the test attribute for `#[vigil::test]`), so `main`/the test still exist.
//! * A function with arguments or generic parameters is reported and replaced
//!   by a stub with the same name, attributes and return type, so that the
//!   compiler does not pile further errors about `main`'s or a test's
//!   signature on top of ours.
//! * An item that is not a function at all is reported and emitted unchanged.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, Lit, LitInt, LitStr, Path, ReturnType, Signature, Token, Type, Visibility,
};

/// Which attribute is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[vigil::main]`
    Main,
    /// `#[vigil::test]`
    Test,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[vigil::main]",
            Kind::Test => "#[vigil::test]",
        }
    }

    fn default_flavor(self) -> Flavor {
        match self {
            Kind::Main => Flavor::MultiThread,
            Kind::Test => Flavor::CurrentThread,
        }
    }
}

/// The runtime flavor to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
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
const OPTIONS: [&str; 4] = [
    OPTION_FLAVOR,
    OPTION_WORKER_THREADS,
    OPTION_START_PAUSED,
    OPTION_CRATE,
];

/// The resolved configuration of one macro invocation.
struct Config {
    flavor: Flavor,
    /// Already normalised to a `usize`-suffixed literal carrying the user's span.
    worker_threads: Option<LitInt>,
    /// `start_paused = true` (needs vigil's `test-util` feature).
    start_paused: bool,
    crate_path: Path,
}

/// Accumulates errors so that several can be reported at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(existing) => existing.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    fn append(&mut self, other: Errors) {
        if let Some(error) = other.0 {
            self.push(error);
        }
    }

    fn to_compile_error(&self) -> TokenStream {
        self.0
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }
}

/// Expands `#[vigil::main]` / `#[vigil::test]` with the given attribute
/// arguments on the given item.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let config = parse_config(kind, args, &mut errors);

    let mut func = match syn::parse2::<AsyncFn>(item.clone()) {
        Ok(func) => func,
        Err(error) => {
            errors.push(syn::Error::new(
                error.span(),
                format!(
                    "{} can only be applied to an `async fn`: {error}",
                    kind.attr()
                ),
            ));
            let mut out = errors.to_compile_error();
            out.extend(item);
            return out;
        }
    };

    if kind == Kind::Test {
        func.attrs.retain(|attr| {
            if is_test_attribute(attr) {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "second test attribute is supplied: `#[vigil::test]` already marks \
                     the function as a test, remove this attribute",
                ));
                false
            } else {
                true
            }
        });
    }

    let mut missing_async = Errors::default();
    if func.sig.asyncness.is_none() {
        missing_async.push(syn::Error::new_spanned(
            func.sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        ));
    }

    let mut bad_signature = Errors::default();
    if !func.sig.inputs.is_empty() || func.sig.variadic.is_some() {
        let message = if kind == Kind::Main && func.sig.ident == "main" {
            "the `main` function cannot accept arguments; \
             use `std::env::args()` to read command-line arguments"
                .to_owned()
        } else {
            format!(
                "functions annotated with `{}` cannot take arguments",
                kind.attr()
            )
        };
        let mut tokens = func.sig.inputs.to_token_stream();
        func.sig.variadic.to_tokens(&mut tokens);
        bad_signature.push(syn::Error::new_spanned(tokens, message));
    }
    if !func.sig.generics.params.is_empty() || func.sig.generics.where_clause.is_some() {
        bad_signature.push(syn::Error::new_spanned(
            &func.sig.generics,
            format!(
                "functions annotated with `{}` cannot have generic parameters",
                kind.attr()
            ),
        ));
    }

    let body = if !bad_signature.is_empty() {
        errors.append(missing_async);
        errors.append(bad_signature);
        emit_stub(kind, func)
    } else if !missing_async.is_empty() {
        errors.append(missing_async);
        emit_unchanged(kind, func)
    } else {
        emit_runtime(kind, &config, func)
    };

    let mut out = errors.to_compile_error();
    out.extend(body);
    out
}

/// An `fn` item whose body is kept as raw tokens (not parsed), so that syntax
/// errors and half-written code in the body are left for rustc to report with
/// their original spans.
struct AsyncFn {
    attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    /// `#![...]` attributes at the start of the body.
    inner_attrs: Vec<Attribute>,
    /// The rest of the body, without its braces.
    stmts: TokenStream,
    /// The span of the body's braces.
    brace_span: Span,
}

impl AsyncFn {
    /// The body as written: `{ #![inner] stmts }`.
    fn block(&self) -> Group {
        let inner_attrs = &self.inner_attrs;
        let stmts = &self.stmts;
        self.braced(quote! { #(#inner_attrs)* #stmts })
    }

    /// `tokens` in braces carrying the span of the original body's braces.
    fn braced(&self, tokens: TokenStream) -> Group {
        let mut group = Group::new(Delimiter::Brace, tokens);
        group.set_span(self.brace_span);
        group
    }
}

impl Parse for AsyncFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let content;
        let brace = syn::braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let stmts = content.parse()?;
        Ok(AsyncFn {
            attrs,
            vis,
            sig,
            inner_attrs,
            stmts,
            brace_span: brace.span.join(),
        })
    }
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

fn parse_config(kind: Kind, args: TokenStream, errors: &mut Errors) -> Config {
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

/// Whether `attr` would make the function a test on its own: `#[test]`,
/// `#[core::prelude::v1::test]`, `#[vigil::test]`, `#[other_runtime::test]`...
fn is_test_attribute(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "test")
}

fn test_attribute(kind: Kind) -> Option<TokenStream> {
    (kind == Kind::Test).then(|| quote! { #[::core::prelude::v1::test] })
}

/// The normal expansion: a synchronous function that builds a runtime and
/// blocks on the original body.
fn emit_runtime(kind: Kind, config: &Config, func: AsyncFn) -> TokenStream {
    let test_attr = test_attribute(kind);
    let krate = &config.crate_path;
    let constructor = match config.flavor {
        Flavor::CurrentThread => quote! { new_current_thread },
        Flavor::MultiThread => quote! { new_multi_thread },
    };
    let worker_threads = config
        .worker_threads
        .as_ref()
        .map(|n| quote! { .worker_threads(#n) });
    let start_paused = config.start_paused.then(|| quote! { .start_paused(true) });

    let body_ident = Ident::new("body", Span::mixed_site());
    let runtime_ident = Ident::new("runtime", Span::mixed_site());

    // Fix the async block's output type before rustc checks the user's
    // statements: a `return` of a value of the declared type that never runs.
    // The first `return` in an async block decides its output type, so the
    // user's tail expression, `return`s and `?`s are all checked against the
    // declared type, which both drives inference (`?` error conversions,
    // `.into()`, `Default::default()`) and puts type errors on the user's
    // tokens rather than on the attribute. The `return` carries the span of
    // the declared return type, so rustc's "return type inferred to be ..
    // here" note points at it.
    let pin_output = output_type(&func.sig).map(|(output, span)| {
        let span = Span::mixed_site().located_at(span);
        let never = Ident::new("__vigil_never", span);
        quote_spanned! {span=>
            #[allow(
                unreachable_code,
                clippy::diverging_sub_expression,
                clippy::empty_loop,
                clippy::needless_return
            )]
            if false {
                let #never: #output = loop {};
                return #never;
            }
        }
    });
    let body = func.braced({
        let stmts = &func.stmts;
        quote! { #pin_output #stmts }
    });

    let AsyncFn {
        mut attrs,
        vis,
        mut sig,
        inner_attrs,
        ..
    } = func;
    sig.asyncness = None;
    // `#![attr]` at the top of the body applies to the whole function, same as
    // an outer attribute; it is moved out because the body now sits inside an
    // async block, where inner attributes are not allowed.
    attrs.extend(inner_attrs.into_iter().map(|mut attr| {
        attr.style = syn::AttrStyle::Outer;
        attr
    }));

    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            let #body_ident = async move #body;
            #[allow(clippy::expect_used)]
            let #runtime_ident = #krate::runtime::Builder::#constructor()
                .enable_all()
                #worker_threads
                #start_paused
                .build()
                .expect("failed to build the vigil runtime");
            #runtime_ident.block_on(#body_ident)
        }
    }
}

/// The declared output type and the span to blame for it, if it can be
/// written in a `let` type annotation: `impl Trait` cannot, and `!` is not
/// stable there.
fn output_type(sig: &Signature) -> Option<(TokenStream, Span)> {
    match &sig.output {
        ReturnType::Default => Some((quote! { () }, sig.paren_token.span.close())),
        ReturnType::Type(_, ty) => match &**ty {
            Type::Never(_) => None,
            ty if mentions_impl(ty.to_token_stream()) => None,
            ty => Some((ty.to_token_stream(), ty.span())),
        },
    }
}

fn mentions_impl(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == "impl",
        TokenTree::Group(group) => mentions_impl(group.stream()),
        _ => false,
    })
}

/// Recovery for a function that is not `async`: emit it as written.
fn emit_unchanged(kind: Kind, func: AsyncFn) -> TokenStream {
    let body = func.block();
    let AsyncFn {
        attrs, vis, sig, ..
    } = func;
    let test_attr = test_attribute(kind);
    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig #body
    }
}

/// Recovery for a function with a signature we cannot run: keep its name,
/// attributes and return type, drop what is wrong, never run the body.
fn emit_stub(kind: Kind, func: AsyncFn) -> TokenStream {
    let AsyncFn {
        attrs,
        vis,
        mut sig,
        ..
    } = func;
    sig.asyncness = None;
    sig.inputs = Punctuated::new();
    sig.variadic = None;
    sig.generics = syn::Generics::default();
    let test_attr = test_attribute(kind);
    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            ::core::unreachable!()
        }
    }
}

/// The candidate closest to `input`, if it is close enough to be a likely typo.
fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input = input.to_lowercase().replace('-', "_");
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(&input, candidate), candidate))
        .filter(|&(distance, _)| distance <= 2)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance between two strings, by `char`.
fn edit_distance(a: &str, b: &str) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: Kind, args: &str, item: &str) -> String {
        let args: TokenStream = args.parse().expect("args tokenize");
        let item: TokenStream = item.parse().expect("item tokenizes");
        expand(kind, args, item).to_string()
    }

    /// The `compile_error!` messages in an expansion, in order.
    fn errors(kind: Kind, args: &str, item: &str) -> Vec<String> {
        let args: TokenStream = args.parse().expect("args tokenize");
        let item: TokenStream = item.parse().expect("item tokenizes");
        let mut found = Vec::new();
        collect_errors(expand(kind, args, item), &mut found);
        found
    }

    fn collect_errors(tokens: TokenStream, found: &mut Vec<String>) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            if let TokenTree::Ident(ident) = tree {
                if ident == "compile_error" {
                    if let Some(TokenTree::Group(group)) = trees.get(i + 2) {
                        if let Some(TokenTree::Literal(lit)) = group.stream().into_iter().next() {
                            let lit: LitStr = syn::parse2(lit.into_token_stream())
                                .expect("compile_error! takes a string");
                            found.push(lit.value());
                        }
                    }
                }
            }
        }
    }

    fn squash(s: &str) -> String {
        s.split_whitespace().collect()
    }

    fn contains(haystack: &str, needle: &str) -> bool {
        squash(haystack).contains(&squash(needle))
    }

    #[test]
    fn main_defaults_to_multi_thread() {
        let out = run(Kind::Main, "", "async fn main() { println!(\"hi\"); }");
        assert!(contains(&out, "fn main ()"), "{out}");
        assert!(!contains(&out, "async fn"), "{out}");
        assert!(
            contains(
                &out,
                ":: vigil :: runtime :: Builder :: new_multi_thread ()"
            ),
            "{out}"
        );
        assert!(contains(&out, ". enable_all ()"), "{out}");
        assert!(
            contains(&out, "expect (\"failed to build the vigil runtime\")"),
            "{out}"
        );
        assert!(
            contains(&out, "return __vigil_never ; } println ! (\"hi\") ; } ;"),
            "{out}"
        );
        assert!(!contains(&out, "worker_threads"), "{out}");
        assert!(!contains(&out, "test"), "{out}");
        assert!(errors(Kind::Main, "", "async fn main() {}").is_empty());
    }

    #[test]
    fn test_defaults_to_current_thread_and_adds_test_attribute() {
        let out = run(Kind::Test, "", "async fn it_works() {}");
        assert!(
            contains(&out, "# [:: core :: prelude :: v1 :: test] fn it_works ()"),
            "{out}"
        );
        assert!(contains(&out, "Builder :: new_current_thread ()"), "{out}");
        assert!(errors(Kind::Test, "", "async fn it_works() {}").is_empty());
    }

    #[test]
    fn flavor_and_worker_threads() {
        let out = run(
            Kind::Test,
            "flavor = \"multi_thread\", worker_threads = 2",
            "async fn t() {}",
        );
        assert!(
            contains(
                &out,
                "new_multi_thread () . enable_all () . worker_threads (2usize) . build ()"
            ),
            "{out}"
        );
        let out = run(
            Kind::Main,
            "flavor = \"current_thread\"",
            "async fn main() {}",
        );
        assert!(contains(&out, "new_current_thread ()"), "{out}");
        let out = run(Kind::Main, "worker_threads = 3usize,", "async fn main() {}");
        assert!(
            contains(
                &out,
                "new_multi_thread () . enable_all () . worker_threads (3usize)"
            ),
            "{out}"
        );
    }

    #[test]
    fn crate_option() {
        let out = run(Kind::Main, "crate = \"my::rt\"", "async fn main() {}");
        assert!(contains(&out, "my :: rt :: runtime :: Builder"), "{out}");
        assert!(!contains(&out, ":: vigil"), "{out}");
        let out = run(Kind::Main, "crate = ::other", "async fn main() {}");
        assert!(contains(&out, ":: other :: runtime :: Builder"), "{out}");
        assert_eq!(
            errors(Kind::Main, "crate = \"not a path\"", "async fn main() {}"),
            ["the `crate` option expects a path such as `\"::vigil\"`, found `\"not a path\"`"]
        );
        assert_eq!(
            errors(Kind::Main, "crate = 5", "async fn main() {}"),
            ["the `crate` option expects a path in a string literal, e.g. `crate = \"::vigil\"`"]
        );
    }

    #[test]
    fn keeps_attributes_visibility_and_return_type() {
        let out = run(
            Kind::Main,
            "",
            "/// docs\n#[allow(unused)] pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> { Ok(()) }",
        );
        assert!(contains(&out, "# [doc = \" docs\"] # [allow (unused)] pub (crate) fn run () -> Result < () , Box < dyn std :: error :: Error >>"), "{out}");
        assert!(
            contains(
                &out,
                "let body = async move { # [allow (unreachable_code , clippy :: diverging_sub_expression , \
                 clippy :: empty_loop , clippy :: needless_return)] if false { \
                 let __vigil_never : Result < () , Box < dyn std :: error :: Error >> = loop { } ; \
                 return __vigil_never ; } Ok (()) } ;"
            ),
            "{out}"
        );
        assert!(contains(&out, "runtime . block_on (body)"), "{out}");
    }

    #[test]
    fn unit_output_is_pinned_too() {
        let out = run(Kind::Test, "", "async fn t() { work().await }");
        assert!(
            contains(
                &out,
                "let __vigil_never : () = loop { } ; return __vigil_never ; } work () . await }"
            ),
            "{out}"
        );
    }

    #[test]
    fn inner_attributes_move_to_the_function() {
        let out = run(
            Kind::Main,
            "",
            "#[inline] async fn main() { #![allow(unused)] //! inner doc\n let x = 1; }",
        );
        assert!(
            contains(
                &out,
                "# [inline] # [allow (unused)] # [doc = \" inner doc\"] fn main ()"
            ),
            "{out}"
        );
        assert!(contains(&out, "} let x = 1 ; } ;"), "{out}");
        assert!(!contains(&out, "#!"), "{out}");
    }

    #[test]
    fn unnameable_outputs_are_not_pinned() {
        for item in [
            "async fn f() -> impl std::fmt::Debug { 1 }",
            "async fn f() -> Box<impl std::fmt::Debug> { Box::new(1) }",
            "async fn f() -> ! { loop {} }",
        ] {
            let out = run(Kind::Main, "", item);
            assert!(!contains(&out, "__vigil_never"), "{out}");
            assert!(contains(&out, "runtime . block_on (body)"), "{out}");
        }
        let out = run(Kind::Main, "", "async fn f() -> impl Sized { 1 }");
        assert!(contains(&out, "let body = async move { 1 } ;"), "{out}");
    }

    #[test]
    fn missing_async() {
        let item = "fn main() { body() }";
        assert_eq!(
            errors(Kind::Main, "", item),
            ["the `async` keyword is missing from the function declaration"]
        );
        let out = run(Kind::Main, "", item);
        assert!(contains(&out, "fn main () { body () }"), "{out}");
        assert!(!contains(&out, "Builder"), "{out}");
        let out = run(Kind::Test, "", "fn t() {}");
        assert!(
            contains(&out, "# [:: core :: prelude :: v1 :: test] fn t () { }"),
            "{out}"
        );
    }

    #[test]
    fn arguments_and_generics() {
        assert_eq!(
            errors(Kind::Main, "", "async fn main(args: Vec<String>) {}"),
            ["the `main` function cannot accept arguments; use `std::env::args()` to read command-line arguments"]
        );
        assert_eq!(
            errors(Kind::Main, "", "async fn run(x: u8) {}"),
            ["functions annotated with `#[vigil::main]` cannot take arguments"]
        );
        assert_eq!(
            errors(Kind::Test, "", "async fn t(x: u8, y: u8) {}"),
            ["functions annotated with `#[vigil::test]` cannot take arguments"]
        );
        assert_eq!(
            errors(Kind::Test, "", "async fn t<T>() {}"),
            ["functions annotated with `#[vigil::test]` cannot have generic parameters"]
        );
        assert_eq!(
            errors(Kind::Test, "", "fn t(x: u8) {}"),
            [
                "the `async` keyword is missing from the function declaration",
                "functions annotated with `#[vigil::test]` cannot take arguments"
            ]
        );
        let out = run(Kind::Test, "", "async fn t(x: u8) -> u8 { x }");
        assert!(contains(&out, "# [:: core :: prelude :: v1 :: test] fn t () -> u8 { :: core :: unreachable ! () }"), "{out}");
    }

    #[test]
    fn second_test_attribute() {
        for attr in ["#[test]", "#[core::prelude::v1::test]", "#[vigil::test]"] {
            let item = format!("{attr} async fn t() {{}}");
            assert_eq!(
                errors(Kind::Test, "", &item),
                ["second test attribute is supplied: `#[vigil::test]` already marks the function as a test, remove this attribute"],
                "{attr}"
            );
            let out = run(Kind::Test, "", &item);
            assert_eq!(squash(&out).matches("test]fn").count(), 1, "{out}");
            assert!(!squash(&out).contains("]#["), "{out}");
            assert!(contains(&out, "Builder :: new_current_thread"), "{out}");
        }
        // `#[vigil::main]` does not care.
        assert!(errors(Kind::Main, "", "#[test] async fn t() {}").is_empty());
        // Other attributes are fine.
        assert!(errors(Kind::Test, "", "#[should_panic] #[ignore] async fn t() {}").is_empty());
    }

    #[test]
    fn unknown_options() {
        assert_eq!(
            errors(Kind::Test, "flavour = \"multi_thread\"", "async fn t() {}"),
            ["unknown option `flavour`; the valid options are `flavor`, `worker_threads`, `start_paused` and `crate` (did you mean `flavor`?)"]
        );
        assert_eq!(
            errors(Kind::Test, "multi_thread", "async fn t() {}"),
            ["unknown option `multi_thread`; the valid options are `flavor`, `worker_threads`, `start_paused` and `crate`"]
        );
        // Expansion still happens with defaults.
        let out = run(Kind::Test, "bogus = 1", "async fn t() {}");
        assert!(contains(&out, "new_current_thread"), "{out}");
    }

    #[test]
    fn start_paused() {
        let out = run(Kind::Test, "start_paused = true", "async fn t() {}");
        assert!(contains(&out, ". start_paused (true) . build ()"), "{out}");
        let out = run(Kind::Test, "start_paused = false", "async fn t() {}");
        assert!(!contains(&out, "start_paused"), "{out}");
        assert_eq!(
            errors(Kind::Test, "start_paused = 1", "async fn t() {}"),
            ["the `start_paused` option expects `true` or `false`"]
        );
        assert_eq!(
            errors(
                Kind::Test,
                "flavor = \"multi_thread\", start_paused = true",
                "async fn t() {}"
            ),
            ["the `start_paused` option needs the `current_thread` flavor: a paused clock is only available on a current-thread runtime"]
        );
    }

    #[test]
    fn bad_flavor() {
        assert_eq!(
            errors(Kind::Main, "flavor = \"multi_threaded\"", "async fn main() {}"),
            ["unknown runtime flavor `multi_threaded`; expected `\"current_thread\"` or `\"multi_thread\"` (did you mean `\"multi_thread\"`?)"]
        );
        assert_eq!(
            errors(Kind::Main, "flavor = \"single\"", "async fn main() {}"),
            ["unknown runtime flavor `single`; expected `\"current_thread\"` or `\"multi_thread\"`"]
        );
        assert_eq!(
            errors(Kind::Main, "flavor = multi_thread", "async fn main() {}"),
            ["the `flavor` option expects a string literal: `\"current_thread\"` or `\"multi_thread\"`"]
        );
        assert_eq!(
            errors(Kind::Main, "flavor", "async fn main() {}"),
            ["the `flavor` option needs a value: `flavor = ...`"]
        );
        // A bad flavor does not also produce a `worker_threads` complaint.
        assert_eq!(
            errors(
                Kind::Test,
                "flavor = \"x\", worker_threads = 2",
                "async fn t() {}"
            )
            .len(),
            1
        );
    }

    #[test]
    fn bad_worker_threads() {
        let zero = errors(Kind::Main, "worker_threads = 0", "async fn main() {}");
        assert_eq!(
            zero,
            ["the `worker_threads` option must be greater than zero"]
        );
        for value in ["\"2\"", "2.5", "-1", "N"] {
            assert_eq!(
                errors(Kind::Main, &format!("worker_threads = {value}"), "async fn main() {}"),
                ["the `worker_threads` option expects an integer literal greater than zero, e.g. `worker_threads = 4`"],
                "{value}"
            );
        }
        assert_eq!(
            errors(Kind::Main, "worker_threads = 2u8", "async fn main() {}"),
            ["the `worker_threads` option is a `usize`, not `u8`"]
        );
        assert_eq!(
            errors(
                Kind::Main,
                "worker_threads = 99999999999999999999999",
                "async fn main() {}"
            ),
            ["invalid `worker_threads` value: number too large to fit in target type"]
        );
    }

    #[test]
    fn worker_threads_with_current_thread() {
        assert_eq!(
            errors(
                Kind::Main,
                "flavor = \"current_thread\", worker_threads = 2",
                "async fn main() {}"
            ),
            ["the `worker_threads` option cannot be used with the `current_thread` flavor, which runs everything on the calling thread; use `flavor = \"multi_thread\"` or remove `worker_threads`"]
        );
        assert_eq!(
            errors(Kind::Test, "worker_threads = 2", "async fn t() {}"),
            ["the `worker_threads` option requires the `multi_thread` flavor, but `#[vigil::test]` defaults to `current_thread`; add `flavor = \"multi_thread\"`"]
        );
        let out = run(Kind::Test, "worker_threads = 2", "async fn t() {}");
        assert!(!contains(&out, ". worker_threads"), "{out}");
    }

    #[test]
    fn duplicate_options() {
        assert_eq!(
            errors(
                Kind::Main,
                "flavor = \"current_thread\", flavor = \"multi_thread\"",
                "async fn main() {}"
            ),
            ["duplicate option `flavor`: each option may be given only once"]
        );
        assert_eq!(
            errors(
                Kind::Main,
                "worker_threads = 1, crate = \"a\", worker_threads = 2, crate = \"b\"",
                "async fn main() {}"
            ),
            [
                "duplicate option `worker_threads`: each option may be given only once",
                "duplicate option `crate`: each option may be given only once"
            ]
        );
        // The first occurrence wins.
        let out = run(
            Kind::Main,
            "worker_threads = 1, worker_threads = 2",
            "async fn main() {}",
        );
        assert!(contains(&out, "worker_threads (1usize)"), "{out}");
    }

    #[test]
    fn several_errors_are_reported_together() {
        assert_eq!(
            errors(Kind::Main, "bogus = 1, worker_threads = 0", "fn main() {}").len(),
            3
        );
    }

    #[test]
    fn syntax_errors_do_not_panic() {
        for args in ["=", "flavor =", "flavor = \"x\" \"y\"", ", ,", "crate = "] {
            assert_eq!(
                errors(Kind::Main, args, "async fn main() {}").len(),
                1,
                "{args}"
            );
        }
        let out = run(Kind::Main, "", "struct NotAFunction;");
        assert!(contains(&out, "struct NotAFunction ;"), "{out}");
        assert_eq!(
            errors(Kind::Main, "", "struct NotAFunction;"),
            ["#[vigil::main] can only be applied to an `async fn`: expected `fn`"]
        );
        assert_eq!(errors(Kind::Main, "", "").len(), 1);
    }

    #[test]
    fn edit_distance_works() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("flavor", "flavour"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(closest("Worker-Threads", OPTIONS), Some("worker_threads"));
        assert_eq!(closest("zzz", OPTIONS), None);
    }
}
