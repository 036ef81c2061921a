#[vigil::main(crate = "not a path")]
async fn main() {}

#[vigil::main(crate = 5)]
async fn not_a_string() {}
