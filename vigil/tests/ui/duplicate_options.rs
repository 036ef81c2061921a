#[vigil::main(flavor = "current_thread", flavor = "multi_thread")]
async fn main() {}

#[vigil::test(flavor = "multi_thread", worker_threads = 1, worker_threads = 2)]
async fn twice() {}

#[vigil::test(crate = "vigil", crate = "::vigil")]
async fn crate_twice() {}
