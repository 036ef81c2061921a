#[vigil::main(crate = "::no_such_crate")]
async fn main() {}
