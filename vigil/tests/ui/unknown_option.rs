#[vigil::main(flavour = "multi_thread")]
async fn main() {}

#[vigil::test(start_pause = true)]
async fn start_paused() {}

#[vigil::test(flavor = "multi_thread", threads = 2)]
async fn threads() {}

#[vigil::test(multi_thread)]
async fn bare_word() {}
