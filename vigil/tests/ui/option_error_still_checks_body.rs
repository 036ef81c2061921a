// A bad option is reported, and the function is still expanded with the
// defaults, so errors in the body are reported too.

#[vigil::main(flavor = "multi-thread")]
async fn main() {
    let x: u8 = "not a number";
    let _ = x;
}
