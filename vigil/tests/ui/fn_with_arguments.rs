#[vigil::main]
async fn run(a: u8, b: u8) -> u8 {
    a + b
}

#[vigil::test]
async fn takes_one(x: u32) {
    let _ = x;
}

#[vigil::test]
async fn generic<T: Default>() {
    let _ = T::default();
}

fn main() {}
