//! Procedural macros for the `vigil` async runtime.
//!
//! This crate provides two attribute macros, normally used through the
//! re-exports in the `vigil` crate (enabled by its default `macros` feature):
//!
//! * [`#[vigil::main]`](macro@main) turns an `async fn main()` into an ordinary
//!   `fn main()` that builds a runtime and drives the body to completion on it.
//! * [`#[vigil::test]`](macro@test) does the same for a test function and marks
//!   the result as a `#[test]`, so every test gets a fresh runtime of its own.
//!
//! Do not depend on this crate directly: its expansion refers to the `vigil`
//! crate (`::vigil::runtime::Builder`), so it only works where `vigil` is a
//! dependency. If `vigil` is renamed or re-exported under another path, tell the
//! macro where to find it with the `crate` option.
//!
//! ```ignore
//! #[vigil::main]
//! async fn main() {
//!     println!("running inside the vigil runtime");
//! }
//! ```
//!
//! # Options
//!
//! Both macros take the same comma-separated `name = value` options:
//!
//! | option           | value                                  | default                                              |
//! |------------------|----------------------------------------|------------------------------------------------------|
//! | `flavor`         | `"multi_thread"` or `"current_thread"` | `"multi_thread"` for `main`, `"current_thread"` for `test` |
//! | `worker_threads` | integer literal greater than zero      | the runtime's own default; only with `"multi_thread"` |
//! | `start_paused`   | `true` or `false`                      | `false`; `true` needs vigil's `test-util` feature and `"current_thread"` |
//! | `crate`          | path to the vigil crate, as a string   | `"::vigil"`                                          |
//!
//! `crate` also accepts a bare path (`crate = ::my_reexport::vigil`).
//!
//! # Errors
//!
//! The macros never panic; every problem becomes a compile error on the
//! offending tokens:
//!
//! * an unknown option (on its name; close misspellings get a suggestion),
//!   an option given twice (on the second name), an option without a value;
//! * a `flavor` that is not `"current_thread"` or `"multi_thread"`, a
//!   `worker_threads` that is not an integer literal greater than zero, a
//!   `crate` that is not a path (on the value);
//! * `worker_threads` with the `current_thread` flavor, including
//!   `#[vigil::test]`'s default flavor (on `worker_threads`);
//! * `start_paused` that is not `true`/`false` (on the value), or `true`
//!   with the `multi_thread` flavor (on `start_paused`);
//! * a function without `async` (on `fn`), with arguments (on the arguments)
//!   or with generic parameters (on the generics);
//! * for `#[vigil::test]`, a second test attribute such as `#[test]` (on that
//!   attribute).
//!
//! After an error in the options the function is still expanded with the
//! default for each bad option, so errors in the body keep being reported.
//!
//! # Expansion
//!
//! ```ignore
//! #[vigil::main(worker_threads = 4)]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     do_work().await?;
//!     Ok(())
//! }
//! ```
//!
//! expands to (modulo hygiene and lint attributes)
//!
//! ```ignore
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let body = async move {
//!         // Never runs; fixes the async block's output type to the declared
//!         // return type before the user's statements are checked.
//!         if false {
//!             let never: Result<(), Box<dyn std::error::Error>> = loop {};
//!             return never;
//!         }
//!         do_work().await?;
//!         Ok(())
//!     };
//!     let runtime = ::vigil::runtime::Builder::new_multi_thread()
//!         .enable_all()
//!         .worker_threads(4)
//!         .build()
//!         .expect("failed to build the vigil runtime");
//!     runtime.block_on(body)
//! }
//! ```
//!
//! Because the output type is fixed up front, `?` conversions and `.into()`
//! in the body infer the declared return type, and a mismatched tail
//! expression or `return` is reported at the user's expression. (This is
//! skipped when the return type is `!` or mentions `impl Trait`, which cannot
//! be written in a `let`.) A `#![inner]` attribute at the top of the body is
//! moved onto the generated function, where it has the same effect.
//!
//! The body's tokens are kept as written, so type errors and other diagnostics
//! about user code point into the user's code.

//!
//! It also implements `vigil::select!`, `vigil::join!` and
//! `vigil::try_join!`. Those are `macro_rules!` macros in `vigil` (documented
//! there) that forward to the hidden function-like macros here, passing the
//! path of the vigil crate along as `$crate`, so they work under any name
//! vigil is imported as, and inside vigil itself.

mod entry;
mod join;
mod select;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use syn::parse::{Parse, ParseStream};
use syn::Token;

/// Runs an `async fn` (usually `main`) to completion on a new vigil runtime.
///
/// The function must be `async` and take no arguments. It may return any type,
/// for example `()` or `Result<(), E>`; the generated synchronous function has
/// the same name, visibility, attributes and return type. The default runtime
/// flavor is `multi_thread`.
///
/// # Options
///
/// * `flavor = "multi_thread"` (default) or `flavor = "current_thread"`:
///   which scheduler to build.
/// * `worker_threads = N`: number of worker threads (an integer literal
///   greater than zero). Only valid with the `multi_thread` flavor.
/// * `start_paused = true`: the runtime's clock starts paused (see
///   `vigil::time::pause`; needs vigil's `test-util` feature and the
///   `current_thread` flavor).
/// * `crate = "path"`: where to find the vigil crate, if it is not
///   reachable as `::vigil` (for example when it is re-exported by another
///   crate).
///
/// # Examples
///
/// ```ignore
/// #[vigil::main]
/// async fn main() {
///     let handle = vigil::runtime::Handle::current();
///     println!("{handle:?}");
/// }
/// ```
///
/// A single-threaded runtime, and a fallible `main`:
///
/// ```ignore
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let n: u32 = "42".parse()?;
///     assert_eq!(n, 42);
///     Ok(())
/// }
/// ```
///
/// A fixed number of worker threads:
///
/// ```ignore
/// #[vigil::main(flavor = "multi_thread", worker_threads = 2)]
/// async fn main() {}
/// ```
///
/// Using vigil through a re-export:
///
/// ```ignore
/// #[vigil::main(crate = "my_framework::vigil")]
/// async fn main() {}
/// ```
///
/// # Expansion
///
/// ```ignore
/// #[vigil::main(flavor = "current_thread")]
/// async fn main() { body }
/// // becomes, roughly (see the crate docs for the full shape)
/// fn main() {
///     let body = async move { body };
///     let runtime = ::vigil::runtime::Builder::new_current_thread()
///         .enable_all()
///         .build()
///         .expect("failed to build the vigil runtime");
///     runtime.block_on(body)
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Main, args.into(), item.into()).into()
}

/// Turns an `async fn` into a `#[test]` that runs on its own vigil runtime.
///
/// The function must be `async` and take no arguments. It may return `()` or
/// anything the test harness accepts, such as `Result<(), E>`, so `?` works in
/// the body. A fresh runtime is built for every test. The default runtime
/// flavor is `current_thread`.
///
/// The generated function carries `#[::core::prelude::v1::test]`, placed before
/// the function's own attributes, so `#[should_panic]` and `#[ignore]` work as
/// usual. Do not add `#[test]` yourself: a second test attribute (any attribute
/// whose path ends in `test`, such as `#[test]` or `#[vigil::test]`) is reported
/// as an error pointing at it, since the test would otherwise be registered
/// twice or wrapped twice.
///
/// # Options
///
/// Same as [`macro@main`]: `flavor = "current_thread"` (default) or
/// `flavor = "multi_thread"`, `worker_threads = N` (only with
/// `"multi_thread"`), `start_paused = true` (only with `"current_thread"`
/// and vigil's `test-util` feature), and `crate = "path"`.
///
/// # Examples
///
/// ```ignore
/// #[vigil::test]
/// async fn runs_on_current_thread() {
///     assert_eq!(1 + 1, 2);
/// }
///
/// #[vigil::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn runs_on_two_workers() -> Result<(), std::num::ParseIntError> {
///     let n: u8 = "7".parse()?;
///     assert_eq!(n, 7);
///     Ok(())
/// }
///
/// #[vigil::test]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     panic!("boom");
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Test, args.into(), item.into()).into()
}

/// The engine of `vigil::select!`; use that macro, not this one.
///
/// The input is the path of the vigil crate in braces, then the body of a
/// `select!`: `select_impl!({ ::vigil } v = fut => v, else => 0)`.
#[doc(hidden)]
#[proc_macro]
pub fn select_impl(input: TokenStream) -> TokenStream {
    select::expand(input.into()).into()
}

/// The engine of `vigil::join!`; use that macro, not this one.
///
/// The input is the path of the vigil crate in braces, then the body of a
/// `join!`: `join_impl!({ ::vigil } a, b)`.
#[doc(hidden)]
#[proc_macro]
pub fn join_impl(input: TokenStream) -> TokenStream {
    join::expand(join::Kind::Join, input.into()).into()
}

/// The engine of `vigil::try_join!`; use that macro, not this one.
///
/// The input is the path of the vigil crate in braces, then the body of a
/// `try_join!`: `try_join_impl!({ ::vigil } a, b)`.
#[doc(hidden)]
#[proc_macro]
pub fn try_join_impl(input: TokenStream) -> TokenStream {
    join::expand(join::Kind::TryJoin, input.into()).into()
}

/// The leading `{ path }` of the function-like macros' input: where the
/// vigil crate is (`$crate` when called from vigil's wrappers), kept as
/// tokens so that `$crate` passes through untouched.
struct CratePath(TokenStream2);

impl Parse for CratePath {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let content;
        syn::braced!(content in input);
        Ok(CratePath(content.parse()?))
    }
}

/// Parses an optional leading `biased;`.
fn parse_biased(input: ParseStream<'_>) -> syn::Result<bool> {
    let biased = input.peek(syn::Ident) && input.peek2(Token![;]) && {
        let fork = input.fork();
        fork.parse::<syn::Ident>()? == "biased"
    };
    if biased {
        input.parse::<syn::Ident>()?;
        input.parse::<Token![;]>()?;
    }
    Ok(biased)
}
