#[vigil::main]
struct Main;

fn main() {}
