//! Implementation of `vigil::join!` and `vigil::try_join!`.
//!
//! Both macros are `macro_rules!` wrappers in `vigil` that forward here with
//! the path of the vigil crate (`$crate`) in a leading brace group:
//!
//! ```text
//! join_impl!({ $crate } biased; a, b, c)
//! ```
//!
//! The expansion stores every future on the stack of the enclosing `async`
//! block (pinned with `core::pin::pin!`, no allocation and no `unsafe`), each
//! in a `MaybeDone` slot that keeps its output once it completes, and polls
//! them from a `core::future::poll_fn` closure:
//!
//! ```text
//! {
//!     // One tuple first, so that temporaries in the expressions live as
//!     // long as the futures (temporary lifetime extension).
//!     let init = (a, b);
//!     let mut f0 = pin!(MaybeDone::new(IntoFuture::into_future(init.0)));
//!     let mut f1 = pin!(MaybeDone::new(IntoFuture::into_future(init.1)));
//!     let mut next_start = 0;
//!     poll_fn(|cx| {
//!         // Rotate the first future polled each time (not with `biased;`).
//!         let start = next_start;
//!         next_start = (next_start + 1) % 2;
//!         let mut done = true;
//!         for i in 0..2 {
//!             match (start + i) % 2 {
//!                 0 => done &= f0.as_mut().poll_ready(cx),
//!                 1 => done &= f1.as_mut().poll_ready(cx),
//!                 _ => unreachable!(),
//!             }
//!         }
//!         if !done { return Poll::Pending; }
//!         Poll::Ready((f0.as_mut().take_output(), f1.as_mut().take_output()))
//!     }).await
//! }
//! ```
//!
//! `try_join!` is the same with `poll_try`, which hands back the error of a
//! future that completes with `Err`; the closure then returns it at once and
//! the block's end drops the other futures.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Index, Token};

use crate::CratePath;

/// Which macro is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `join!`: wait for every future.
    Join,
    /// `try_join!`: wait for every `Ok`, or the first `Err`.
    TryJoin,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Join => "join!",
            Kind::TryJoin => "try_join!",
        }
    }
}

/// The parsed input: `{ crate } (biased;)? expr, expr, ...`.
struct Input {
    krate: TokenStream,
    biased: bool,
    futures: Vec<Expr>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let CratePath(krate) = input.parse()?;
        let biased = crate::parse_biased(input)?;
        let futures = Punctuated::<Expr, Token![,]>::parse_terminated(input)?;
        Ok(Input {
            krate,
            biased,
            futures: futures.into_iter().collect(),
        })
    }
}

/// Expands `join!` or `try_join!`; never panics (parse errors become
/// `compile_error!`s).
pub(crate) fn expand(kind: Kind, input: TokenStream) -> TokenStream {
    match Input::parse.parse2(input) {
        Ok(input) => emit(kind, input),
        Err(error) => {
            let message = format!("vigil::{}: {error}", kind.name());
            syn::Error::new(error.span(), message).to_compile_error()
        }
    }
}

fn emit(kind: Kind, input: Input) -> TokenStream {
    let Input {
        krate,
        biased,
        futures,
    } = input;

    if futures.is_empty() {
        // Still an `.await`, so that the macro is only usable in async code,
        // as with any number of futures.
        return match kind {
            Kind::Join => quote! { ::core::future::ready(()).await },
            Kind::TryJoin => quote! {
                ::core::future::ready(::core::result::Result::Ok(())).await
            },
        };
    }

    let span = Span::mixed_site();
    let init = Ident::new("__vigil_init", span);
    let cx = Ident::new("__vigil_cx", span);
    let next_start = Ident::new("__vigil_next_start", span);
    let start = Ident::new("__vigil_start", span);
    let done = Ident::new("__vigil_done", span);
    let index = Ident::new("__vigil_i", span);
    let error = Ident::new("__vigil_error", span);

    let count = futures.len() as u32;
    let slots: Vec<Ident> = (0..futures.len())
        .map(|i| format_ident!("__vigil_future_{}", i, span = span))
        .collect();
    let fields = (0..futures.len()).map(Index::from);
    let numbers = 0..count;

    let maybe_done = quote! { #krate::__private::MaybeDone };
    let ready = quote! { ::core::task::Poll::Ready };
    let pending = quote! { ::core::task::Poll::Pending };

    let poll_each = slots.iter().zip(&futures).map(|(slot, future)| match kind {
        Kind::Join => quote! {
            #done &= #maybe_done::poll_ready(#slot.as_mut(), #cx);
        },
        Kind::TryJoin => {
            // `poll_try` (and `take_ok`) need an output of `Result<T, E>`:
            // as methods named with the expression's span, a future with
            // some other output is reported on that expression rather than
            // on the whole macro.
            let poll_try = Ident::new("poll_try", future.span());
            let poll_try = quote! { #slot.as_mut().#poll_try(#cx) };
            quote! {
            match #poll_try {
                ::core::result::Result::Ok(finished) => #done &= finished,
                ::core::result::Result::Err(#error) => {
                    return #ready(::core::result::Result::Err(#error));
                }
            }
            }
        }
    });
    let outputs = slots.iter().zip(&futures).map(|(slot, future)| match kind {
        Kind::Join => quote! { #maybe_done::take_output(#slot.as_mut()) },
        Kind::TryJoin => {
            let take_ok = Ident::new("take_ok", future.span());
            quote! { #slot.as_mut().#take_ok() }
        }
    });
    let result = match kind {
        Kind::Join => quote! { ( #(#outputs,)* ) },
        Kind::TryJoin => quote! { ::core::result::Result::Ok(( #(#outputs,)* )) },
    };

    // Which future is polled first: always the first one with `biased;`,
    // otherwise the next one each time (so that a future that is always ready
    // and slow to poll cannot keep the others waiting for their turn).
    // (One future has nothing to rotate.)
    let biased = biased || count == 1;
    let choose_start = if biased {
        quote! { let #start: u32 = 0; }
    } else {
        quote! {
            let #start: u32 = #next_start;
            #next_start = (#next_start + 1) % #count;
        }
    };
    let declare_next_start = (!biased).then(|| quote! { let mut #next_start: u32 = 0; });

    quote! {
        {
            let #init = ( #(#futures,)* );
            #(
                let mut #slots = ::core::pin::pin!(#maybe_done::new(
                    ::core::future::IntoFuture::into_future(#init.#fields)
                ));
            )*
            #declare_next_start
            ::core::future::poll_fn(|#cx: &mut ::core::task::Context<'_>| {
                #choose_start
                let mut #done = true;
                for #index in 0..#count {
                    #[allow(clippy::modulo_one, clippy::identity_op)]
                    match (#start + #index) % #count {
                        #( #numbers => { #poll_each } )*
                        _ => ::core::unreachable!(),
                    }
                }
                if !#done {
                    return #pending;
                }
                #ready(#result)
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(kind: Kind, input: &str) -> String {
        expand(kind, input.parse().expect("tokenizes")).to_string()
    }

    #[test]
    fn empty_join_is_an_await_of_unit() {
        let out = expand_str(Kind::Join, "{ ::vigil }");
        assert!(out.contains("ready (())"), "{out}");
        assert!(out.contains(". await"), "{out}");
        let out = expand_str(Kind::TryJoin, "{ ::vigil } biased;");
        assert!(out.contains("Ok (())"), "{out}");
    }

    #[test]
    fn one_pinned_slot_per_future() {
        let out = expand_str(Kind::Join, "{ ::vigil } a, b, c,");
        assert_eq!(out.matches("pin :: pin !").count(), 3, "{out}");
        assert_eq!(out.matches("take_output").count(), 3, "{out}");
        assert!(out.contains("__vigil_next_start"), "{out}");
    }

    #[test]
    fn biased_does_not_rotate() {
        let out = expand_str(Kind::Join, "{ ::vigil } biased; a, b");
        assert!(!out.contains("__vigil_next_start"), "{out}");
        let out = expand_str(Kind::TryJoin, "{ ::vigil } a");
        assert!(!out.contains("__vigil_next_start"), "{out}");
    }

    #[test]
    fn try_join_returns_the_error_early() {
        let out = expand_str(Kind::TryJoin, "{ ::vigil } a, b");
        assert_eq!(out.matches("poll_try").count(), 2, "{out}");
        assert!(out.contains("Err (__vigil_error)"), "{out}");
    }

    #[test]
    fn the_crate_path_is_used_as_given() {
        let out = expand_str(Kind::Join, "{ my::reexport } a");
        assert!(
            out.contains("my :: reexport :: __private :: MaybeDone"),
            "{out}"
        );
    }

    #[test]
    fn parse_errors_become_compile_errors() {
        let out = expand_str(Kind::Join, "{ ::vigil } a b");
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("vigil::join!"), "{out}");
        let out = expand_str(Kind::TryJoin, "a, b");
        assert!(out.contains("compile_error"), "{out}");
    }
}
