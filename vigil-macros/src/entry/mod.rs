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
//!
//! The attribute's options are read in [`options`]; this file turns the
//! function and the resolved [`Config`] into the expansion.

mod options;
#[cfg(test)]
mod tests;

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, ReturnType, Signature, Type, Visibility};

use options::{parse_config, Config, Flavor};

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
