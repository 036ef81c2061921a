#[vigil::main]
fn main() {}
