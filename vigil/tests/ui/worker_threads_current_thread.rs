#[vigil::main(flavor = "current_thread", worker_threads = 2)]
async fn main() {}

// `#[vigil::test]` defaults to `current_thread`.
#[vigil::test(worker_threads = 2)]
async fn test_default_flavor() {}
