#[vigil::main(flavor = "multi_threaded")]
async fn main() {}

#[vigil::test(flavor = "single_thread")]
async fn unknown_flavor() {}

#[vigil::test(flavor = current_thread)]
async fn not_a_string() {}

#[vigil::test(flavor)]
async fn missing_value() {}
