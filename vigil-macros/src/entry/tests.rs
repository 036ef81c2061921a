//! Unit tests of the entry-point attributes' expansion and option parsing.

use super::options::*;
use super::*;
use syn::LitStr;

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
    assert!(
        contains(
            &out,
            "# [:: core :: prelude :: v1 :: test] fn t () -> u8 { :: core :: unreachable ! () }"
        ),
        "{out}"
    );
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
