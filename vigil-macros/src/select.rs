//! Implementation of `vigil::select!`.
//!
//! `select!` is a `macro_rules!` wrapper in `vigil` that forwards here with
//! the path of the vigil crate (`$crate`) in a leading brace group:
//!
//! ```text
//! select_impl!({ $crate } biased; Some(v) = rx.recv(), if open => v, else => 0)
//! ```
//!
//! For two branches `p0 = e0, if c0 => h0` and `p1 = e1 => h1` and an
//! `else => h_else` the expansion is, in outline:
//!
//! ```text
//! {
//!     enum Out<T0, T1> { Branch0(T0), Branch1(T1), Disabled }
//!     let out = {
//!         let mut disabled: u64 = 0;
//!         if !(c0) { disabled |= 1 << 0; }            // preconditions first,
//!         let init = (e0, e1);                        // then every future, in order
//!         let mut f0 = pin!(IntoFuture::into_future(init.0));
//!         let mut f1 = pin!(IntoFuture::into_future(init.1));
//!         poll_fn(|cx| {
//!             ready!(poll_budget_available(cx));
//!             let start = random_below(2);           // `0` with `biased;`
//!             let mut pending = false;
//!             for i in 0..2 {
//!                 match (start + i) % 2 {
//!                     0 => {
//!                         if disabled & (1 << 0) != 0 { continue; }
//!                         let value = match f0.as_mut().poll(cx) {
//!                             Ready(value) => value,
//!                             Pending => { pending = true; continue; }
//!                         };
//!                         disabled |= 1 << 0;
//!                         match &value { p0_without_ref_mut_and_amp => {} _ => continue }
//!                         return Ready(Out::Branch0(value));
//!                     }
//!                     1 => { /* the same with f1 and p1 */ }
//!                     _ => unreachable!(),
//!                 }
//!             }
//!             if pending { Pending } else { Ready(Out::Disabled) }
//!         }).await
//!     };                                              // the futures are dropped here
//!     match out {
//!         Out::Branch0(p0) => h0,
//!         Out::Branch1(p1) => h1,
//!         Out::Disabled => h_else,                    // or a panic without `else`
//!         _ => unreachable!(),
//!     }
//! }
//! ```
//!
//! The handlers run in the `match` after the `.await`, in the caller's own
//! context, so `return`, `break`, `continue` and `?` in a handler act on the
//! code around the `select!`, and the futures (with whatever they borrowed)
//! are already gone when a handler runs.
//!
//! Every identifier the expansion introduces has `Span::mixed_site()`
//! hygiene, so the user's expressions and handlers can neither see nor
//! shadow them.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::parse::{Parse, ParseStream, Parser};
use syn::{token, Block, Expr, ExprBlock, Index, Pat, Token};

use crate::CratePath;

/// The most branches one `select!` may have: the disabled set is a `u64`.
pub(crate) const MAX_BRANCHES: usize = 64;

/// `<pattern> = <future> (, if <precondition>)? => <handler>`
struct Branch {
    pattern: Pat,
    future: Expr,
    precondition: Option<Expr>,
    handler: Expr,
}

/// The parsed input: `{ crate } (biased;)? branches... (else => expr)?`.
struct Input {
    krate: TokenStream,
    biased: bool,
    branches: Vec<Branch>,
    otherwise: Option<Expr>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let CratePath(krate) = input.parse()?;
        let biased = crate::parse_biased(input)?;
        let mut branches = Vec::new();
        let mut otherwise = None;
        while !input.is_empty() {
            if input.peek(Token![else]) {
                let else_token: Token![else] = input.parse()?;
                if otherwise.is_some() {
                    return Err(syn::Error::new(
                        else_token.span,
                        "a second `else` branch: `select!` takes at most one",
                    ));
                }
                input.parse::<Token![=>]>()?;
                otherwise = Some(parse_handler(input)?);
                continue;
            }
            let pattern = Pat::parse_multi_with_leading_vert(input)?;
            input.parse::<Token![=]>()?;
            let future: Expr = input.parse()?;
            let precondition = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(input.parse()?)
            } else {
                None
            };
            input.parse::<Token![=>]>()?;
            let handler = parse_handler(input)?;
            branches.push(Branch {
                pattern,
                future,
                precondition,
                handler,
            });
        }
        Ok(Input {
            krate,
            biased,
            branches,
            otherwise,
        })
    }
}

/// A branch's handler and the comma after it: a block needs no comma, any
/// other expression needs one unless it is the last thing in the macro.
fn parse_handler(input: ParseStream<'_>) -> syn::Result<Expr> {
    if input.peek(token::Brace) {
        let block: Block = input.parse()?;
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
        return Ok(Expr::Block(ExprBlock {
            attrs: Vec::new(),
            label: None,
            block,
        }));
    }
    let handler: Expr = input.parse()?;
    if !input.is_empty() {
        input.parse::<Token![,]>().map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected `,` after a handler that is not a block",
            )
        })?;
    }
    Ok(handler)
}

/// Expands `select!`; never panics (problems become `compile_error!`s).
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input = match Input::parse.parse2(input) {
        Ok(input) => input,
        Err(error) => {
            let message = format!("vigil::select!: {error}");
            return syn::Error::new(error.span(), message).to_compile_error();
        }
    };
    if input.branches.is_empty() {
        return match input.otherwise {
            Some(otherwise) => quote! { { #otherwise } },
            None => syn::Error::new(
                Span::call_site(),
                "vigil::select! needs at least one branch: `<pattern> = <future> => <handler>,`",
            )
            .to_compile_error(),
        };
    }
    if input.branches.len() > MAX_BRANCHES {
        let extra = &input.branches[MAX_BRANCHES];
        return syn::Error::new_spanned(
            &extra.pattern,
            format!(
                "vigil::select! takes at most {MAX_BRANCHES} branches; \
                 this is branch number {}",
                MAX_BRANCHES + 1
            ),
        )
        .to_compile_error();
    }
    emit(input)
}

fn emit(input: Input) -> TokenStream {
    let Input {
        krate,
        biased,
        branches,
        otherwise,
    } = input;
    let support = quote! { #krate::__private };

    let span = Span::mixed_site();
    let out_enum = Ident::new("__VigilSelectOutput", span);
    let disabled_variant = Ident::new("Disabled", span);
    let out = Ident::new("__vigil_output", span);
    let disabled = Ident::new("__vigil_disabled", span);
    let init = Ident::new("__vigil_init", span);
    let cx = Ident::new("__vigil_cx", span);
    let start = Ident::new("__vigil_start", span);
    let index = Ident::new("__vigil_i", span);
    let pending = Ident::new("__vigil_pending", span);
    let value = Ident::new("__vigil_value", span);

    let count = branches.len() as u32;
    let type_params: Vec<Ident> = (0..branches.len())
        .map(|i| format_ident!("T{}", i, span = span))
        .collect();
    let variants: Vec<Ident> = (0..branches.len())
        .map(|i| format_ident!("Branch{}", i, span = span))
        .collect();
    let slots: Vec<Ident> = (0..branches.len())
        .map(|i| format_ident!("__vigil_future_{}", i, span = span))
        .collect();

    let preconditions = branches.iter().enumerate().filter_map(|(i, branch)| {
        let condition = branch.precondition.as_ref()?;
        let i = i as u32;
        Some(quote! {
            if !(#condition) {
                #disabled |= 1u64 << #i;
            }
        })
    });
    let futures = branches.iter().map(|branch| &branch.future);
    let fields = (0..branches.len()).map(Index::from);

    let poll_arms = branches.iter().enumerate().map(|(i, branch)| {
        let number = i as u32;
        let slot = &slots[i];
        let variant = &variants[i];
        let mut check = branch.pattern.clone();
        clean_pattern(&mut check);
        quote! {
            #number => {
                if #disabled & (1u64 << #number) != 0 {
                    continue;
                }
                let #value = match ::core::future::Future::poll(#slot.as_mut(), #cx) {
                    ::core::task::Poll::Ready(#value) => #value,
                    ::core::task::Poll::Pending => {
                        #pending = true;
                        continue;
                    }
                };
                // Finished: never polled again, whether it matches or not.
                #disabled |= 1u64 << #number;
                #[allow(unused_variables, clippy::match_single_binding)]
                match &#value {
                    #check => {}
                    #[allow(unreachable_patterns)]
                    _ => continue,
                }
                return ::core::task::Poll::Ready(#out_enum::#variant(#value));
            }
        }
    });

    let handler_arms = branches.iter().enumerate().map(|(i, branch)| {
        let variant = &variants[i];
        let pattern = &branch.pattern;
        let handler = &branch.handler;
        quote! {
            #[allow(unreachable_code)]
            #out_enum::#variant(#pattern) => #handler,
        }
    });
    let otherwise = otherwise
        .map(ToTokens::into_token_stream)
        .unwrap_or_else(|| {
            quote! {
                ::core::panic!(
                    "vigil::select!: every branch is disabled (its precondition was false, \
                     or its output did not match its pattern) and there is no `else` branch"
                )
            }
        });

    // (One branch needs no random number.)
    let choose_start = if biased || count == 1 {
        quote! { let #start: u32 = 0; }
    } else {
        quote! { let #start: u32 = #support::random_below(#count); }
    };

    quote! {
        {
            enum #out_enum<#(#type_params,)*> {
                #( #variants(#type_params), )*
                #disabled_variant,
            }

            // A block of its own: the futures, and what they borrow, are
            // dropped before any handler runs. (`mut` for patterns with
            // `ref mut` bindings.)
            #[allow(unused_mut)]
            let mut #out = {
                let mut #disabled: u64 = 0;
                #(#preconditions)*
                // One tuple first, so that temporaries in the expressions
                // live as long as the futures.
                let #init = ( #(#futures,)* );
                #(
                    let mut #slots = ::core::pin::pin!(
                        ::core::future::IntoFuture::into_future(#init.#fields)
                    );
                )*
                ::core::future::poll_fn(|#cx: &mut ::core::task::Context<'_>| {
                    // Out of budget: yield now (the task is woken) rather than
                    // let a branch that ignores the budget win every time.
                    if #support::poll_budget_available(#cx).is_pending() {
                        return ::core::task::Poll::Pending;
                    }
                    #choose_start
                    let mut #pending = false;
                    for #index in 0..#count {
                        #[allow(clippy::modulo_one, clippy::identity_op)]
                        match (#start + #index) % #count {
                            #(#poll_arms)*
                            _ => ::core::unreachable!(),
                        }
                    }
                    if #pending {
                        ::core::task::Poll::Pending
                    } else {
                        ::core::task::Poll::Ready(#out_enum::#disabled_variant)
                    }
                })
                .await
            };

            match #out {
                #(#handler_arms)*
                #out_enum::#disabled_variant => #otherwise,
                #[allow(unreachable_patterns)]
                _ => ::core::unreachable!("vigil::select!: a branch's output stopped matching its pattern"),
            }
        }
    }
}

/// Turns a branch's pattern into one that can be matched against a
/// reference to the output, to test whether it matches without moving
/// anything: `ref` and `mut` go from bindings (they would bind by value or
/// be rejected under the by-reference default binding mode), and `&` from
/// reference patterns (the default binding mode looks through references on
/// its own; the 2024 edition rejects an explicit `&` under it).
fn clean_pattern(pattern: &mut Pat) {
    match pattern {
        Pat::Ident(ident) => {
            ident.by_ref = None;
            ident.mutability = None;
            if let Some((_, sub)) = &mut ident.subpat {
                clean_pattern(sub);
            }
        }
        Pat::Reference(reference) => {
            let mut inner = (*reference.pat).clone();
            clean_pattern(&mut inner);
            *pattern = inner;
        }
        Pat::Or(or) => or.cases.iter_mut().for_each(clean_pattern),
        Pat::Paren(paren) => clean_pattern(&mut paren.pat),
        Pat::Slice(slice) => slice.elems.iter_mut().for_each(clean_pattern),
        Pat::Tuple(tuple) => tuple.elems.iter_mut().for_each(clean_pattern),
        Pat::TupleStruct(tuple) => tuple.elems.iter_mut().for_each(clean_pattern),
        Pat::Struct(strukt) => strukt
            .fields
            .iter_mut()
            .for_each(|field| clean_pattern(&mut field.pat)),
        Pat::Type(typed) => clean_pattern(&mut typed.pat),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(input: &str) -> String {
        expand(input.parse().expect("tokenizes")).to_string()
    }

    fn cleaned(pattern: &str) -> String {
        let mut pattern = Pat::parse_multi_with_leading_vert
            .parse_str(pattern)
            .expect("a pattern");
        clean_pattern(&mut pattern);
        pattern.into_token_stream().to_string()
    }

    #[test]
    fn clean_pattern_strips_ref_mut_and_amp() {
        assert_eq!(cleaned("mut x"), "x");
        assert_eq!(cleaned("Some(ref mut x)"), "Some (x)");
        assert_eq!(cleaned("&(a, mut b)"), "(a , b)");
        assert_eq!(cleaned("Some(&x) | None"), "Some (x) | None");
        assert_eq!(
            cleaned("Point { ref x, y: mut z @ 1..=3 }"),
            "Point { x , y : z @ 1 ..= 3 }"
        );
        assert_eq!(cleaned("[first, .., ref last]"), "[first , .. , last]");
        assert_eq!(cleaned("Ok::<_, ()>(_)"), "Ok :: < _ , () > (_)");
    }

    #[test]
    fn branches_with_and_without_commas() {
        let out = expand_str(
            "{ ::vigil } a = f => { 1 } b = g, if c => 2, Some(x) = h => { x } , else => 0",
        );
        assert!(!out.contains("compile_error"), "{out}");
        assert_eq!(out.matches("Branch2").count(), 3, "{out}");
        assert!(out.contains("if ! (c)"), "{out}");
        assert!(out.contains("random_below (3u32)"), "{out}");
    }

    #[test]
    fn biased_polls_in_order() {
        let out = expand_str("{ ::vigil } biased; a = f => 1, b = g => 2");
        assert!(!out.contains("random_below"), "{out}");
        assert!(out.contains("__vigil_start : u32 = 0"), "{out}");
    }

    #[test]
    fn one_branch_needs_no_random_start() {
        let out = expand_str("{ ::vigil } a = f => 1");
        assert!(!out.contains("random_below"), "{out}");
    }

    #[test]
    fn without_else_all_disabled_panics() {
        let out = expand_str("{ ::vigil } a = f => 1");
        assert!(out.contains("panic !"), "{out}");
    }

    #[test]
    fn only_else_is_the_else_expression() {
        let out = expand_str("{ ::vigil } else => 7");
        assert_eq!(out, "{ 7 }");
        let out = expand_str("{ ::vigil } biased; else => { 7 }");
        assert_eq!(out, "{ { 7 } }");
    }

    #[test]
    fn errors() {
        for (input, message) in [
            ("{ ::vigil }", "at least one branch"),
            ("{ ::vigil } biased;", "at least one branch"),
            ("{ ::vigil } a = f => 1 b = g => 2", "expected `,`"),
            (
                "{ ::vigil } a = f => 1, else => 2, else => 3",
                "a second `else`",
            ),
            ("{ ::vigil } a = f, b => 1", "expected `=>`"),
            ("{ ::vigil } a f => 1", "expected `=`"),
            ("a = f => 1", "expected curly braces"),
        ] {
            let out = expand_str(input);
            assert!(out.contains("compile_error"), "{input}: {out}");
            assert!(out.contains(message), "{input}: {out}");
        }
    }

    #[test]
    fn at_most_64_branches() {
        let branches = |n: usize| {
            let mut input = String::from("{ ::vigil } ");
            for i in 0..n {
                input.push_str(&format!("x{i} = f{i} => {i}, "));
            }
            input
        };
        let out = expand_str(&branches(MAX_BRANCHES));
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("1u64 << 63u32"), "{out}");
        let out = expand_str(&branches(MAX_BRANCHES + 1));
        assert!(out.contains("at most 64 branches"), "{out}");
    }
}
