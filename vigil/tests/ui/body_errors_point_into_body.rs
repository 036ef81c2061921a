// Errors in the user's code must be reported at the user's tokens, not at
// the attribute. (`#[vigil::test]` functions are not compiled outside of
// `cargo test`, so these use `#[vigil::main]` on ordinary functions.)

#[vigil::main]
async fn main() -> Result<(), String> {
    let n: u8 = "not a number";
    Ok(n)
}

#[vigil::main(flavor = "current_thread")]
async fn wrong_tail() {
    42
}

#[vigil::main]
async fn wrong_return() -> Result<(), String> {
    if true {
        return Ok(5u8);
    }
    Ok(())
}

#[derive(Debug)]
struct MyError;

#[vigil::main]
async fn question_mark_needs_from() -> Result<(), MyError> {
    let _ = "x".parse::<u8>()?;
    Ok(())
}

#[vigil::main]
async fn unknown_return_type() -> Result<(), Strin> {
    Ok(())
}
