#[vigil::test]
fn not_async() {}

#[vigil::test(flavor = "multi_thread")]
pub fn also_not_async() -> Result<(), String> {
    Ok(())
}

fn main() {}
